#!/bin/sh
# Prints the path of a Python 3.12 or newer, or explains what to install and fails.
# Order: $PYTHON, python3.13, python3.12, python3, python, then pyenv and uv installs.
# Each candidate is run, not just found: a pyenv shim for an unselected version fails and is skipped.
ok() { "$1" -c 'import sys, venv, ssl, sqlite3; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
for candidate in "${PYTHON:-}" python3.13 python3.12 python3 python; do
    [ -n "$candidate" ] || continue
    path=$(command -v "$candidate" 2>/dev/null) || continue
    if ok "$path"; then echo "$path"; exit 0; fi
done
for path in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 \
                   "$HOME"/.local/share/uv/python/cpython-3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
    if ok "$path"; then echo "$path"; exit 0; fi
done
echo "No Python 3.12 or newer found (with venv, ssl and sqlite3)." >&2
echo "Install one, then run make again:" >&2
echo "  Debian/Ubuntu: sudo apt-get install python3.12 python3.12-venv" >&2
echo "  macOS:         brew install python@3.13" >&2
echo "  pyenv:         pyenv install 3.13" >&2
echo "Or point PYTHON at one: make run PYTHON=/path/to/python3.13" >&2
exit 1
