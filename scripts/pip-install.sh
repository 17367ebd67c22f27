#!/usr/bin/env bash
# pip-install.sh PYTHON REQUIREMENTS: installs REQUIREMENTS into PYTHON's venv unless this exact
# file content was installed there before (a stamp named by its checksum; includes -r files).
# pipefail: pip's own failure stays visible through the filter that drops this machine's noise.
set -eo pipefail
python=$1; reqs=$2
venv=$(dirname "$(dirname "$python")")
sum=$(cat "$reqs" $(sed -n 's/^-r //p' "$reqs") | cksum | cut -d' ' -f1)
stamp="$venv/.installed-$(basename "$reqs")-$sum"
[ -f "$stamp" ] && exit 0
echo "Installing $reqs into $venv"
"$python" -m pip install --quiet --disable-pip-version-check -r "$reqs" 2>&1 | sed "/^WARNING: Location/d"
rm -f "$venv"/.installed-"$(basename "$reqs")"-*
touch "$stamp"
