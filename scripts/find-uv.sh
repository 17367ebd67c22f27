#!/bin/sh
# find-uv.sh [PYTHON]: prints the path of a working uv, or fails quietly (callers then use pip).
# Order: $UV, uv on PATH, uv in PYTHON's venv; failing those, pip installs uv into PYTHON's venv
# (a wheel from PyPI with its binary inside; a few seconds). uv is only ever a faster installer here:
# nothing at run time needs it.
ok() { [ -n "$1" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }
for candidate in "${UV:-}" "$(command -v uv 2>/dev/null)"; do
    if ok "$candidate"; then echo "$candidate"; exit 0; fi
done
[ -n "${1:-}" ] || exit 1
venv_uv="$(dirname "$1")/uv"
if ok "$venv_uv"; then echo "$venv_uv"; exit 0; fi
"$1" -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 || exit 1
if ok "$venv_uv"; then echo "$venv_uv"; exit 0; fi
exit 1
