#!/usr/bin/env bash
# The figure issue 7 names: `make test` from a fresh clone, installs apart, RUNS times in a row.
#   bench/suite_time.sh [RUNS]     (default 1; each run clones this checkout's HEAD into a temporary folder)
# Per run: the install (`make install-dev browser`) and `.ci/run` timed apart, the machine's busy and
# idle CPU seconds during `.ci/run` (from /proc/stat: the suite is bound by CPU), its pass lines, and
# whether it passed. Exits 1 when any run failed; the failed run's log is kept and named.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8, $5+$6}' /proc/stat; }
tick=$(getconf CLK_TCK)
failed=0
for run in $(seq 1 "$runs"); do
    work=$(mktemp -d)
    git clone -q . "$work/clone"
    started=$(date +%s.%N)
    (cd "$work/clone" && make install-dev browser) > "$work/install.log" 2>&1
    installed=$(date +%s.%N)
    read -r busy0 idle0 <<< "$(busy)"
    (cd "$work/clone" && .ci/run) > "$work/ci.log" 2>&1
    status=$?
    read -r busy1 idle1 <<< "$(busy)"
    ended=$(date +%s.%N)
    printf 'run %d: %s  install %.0f s  .ci/run %.0f s  CPU busy %d s, idle %d s\n' "$run" \
        "$([ $status = 0 ] && echo passed || echo FAILED)" "$(echo "$installed - $started" | bc)" \
        "$(echo "$ended - $installed" | bc)" $(((busy1 - busy0) / tick)) $(((idle1 - idle0) / tick))
    grep -E '^=+ .*(passed|failed|error).* in |^Success: no issues|^Found [0-9]+ error' "$work/ci.log" | sed 's/^=* /    /; s/ =*$//'
    if [ $status = 0 ]; then
        rm -rf "$work"
    else
        failed=1
        echo "    log: $work/ci.log"
    fi
done
exit $failed
