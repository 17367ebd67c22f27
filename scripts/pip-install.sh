#!/usr/bin/env bash
# pip-install.sh PYTHON REQUIREMENTS: installs REQUIREMENTS into PYTHON's venv unless this exact
# file content was installed there before (a stamp named by its checksum; includes -r files).
#
# With uv (about ten times faster than pip, and its cache makes a second fresh venv take seconds):
# uv on PATH, else the venv's own uv (put there by pip the first time, from PyPI). When uv cannot be
# had or fails, pip does the install as before. PIP_ONLY=1 skips uv altogether.
# pipefail: the installer's own failure stays visible through the filter that drops this machine's noise.
set -eo pipefail
python=$1; reqs=$2
venv=$(dirname "$(dirname "$python")")
sum=$(cat "$reqs" $(sed -n 's/^-r //p' "$reqs") | cksum | cut -d' ' -f1)
stamp="$venv/.installed-$(basename "$reqs")-$sum"
[ -f "$stamp" ] && exit 0
echo "Installing $reqs into $venv"
uv=""
if [ -z "${PIP_ONLY:-}" ]; then
    uv=$(scripts/find-uv.sh "$python") || uv=""
fi
# --compile-bytecode: as pip does, so that no process compiles the packages again (where
# PYTHONDONTWRITEBYTECODE is set, each of the suite's hundred-odd Python processes would otherwise
# compile Django from source: 2.3 s of CPU to start instead of 0.8 s).
if [ -n "$uv" ] && "$uv" pip install --quiet --compile-bytecode --python "$python" -r "$reqs"; then
    :
else
    [ -n "$uv" ] && echo "uv failed; installing with pip instead" >&2
    "$python" -m pip install --quiet --disable-pip-version-check -r "$reqs" 2>&1 | sed "/^WARNING: Location/d"
fi
rm -f "$venv"/.installed-"$(basename "$reqs")"-*
touch "$stamp"
