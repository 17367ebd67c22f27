#!/usr/bin/env bash
# `make run`'s last step: the web server and the background worker side by side. Ctrl-C (SIGINT) or
# SIGTERM stops both; if either one exits, the other is stopped too, so nothing is left running.
# PYTHON names the interpreter (default .venv/bin/python), PORT the web port (default 8000).
set -u
# Job control: each child gets a process group of its own, so one signal to the group also reaches
# runserver's autoreloader child, and the children do not ignore signals as background jobs would.
set -m
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
port=${PORT:-8000}
# `make run`'s demo: DEBUG and the embedded sandbox unless the environment says otherwise (the app
# itself starts as production when nothing is set).
export DEBUG=${DEBUG:-true} STAFFIFY_SANDBOX=${STAFFIFY_SANDBOX:-true}

# The web server's and the worker's counters add up in /metrics through files in one directory
# (prometheus_client's multiprocess mode), new at each start.
metrics_dir=""
if [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    metrics_dir=$(mktemp -d "${TMPDIR:-/tmp}/staffify-metrics.XXXXXX")
    export PROMETHEUS_MULTIPROC_DIR="$metrics_dir"
fi

web=""
worker=""
stop() {
    trap '' INT TERM
    kill -TERM -- ${web:+"-$web"} ${worker:+"-$worker"} 2>/dev/null
    # The worker finishes the task in hand (a sync stopped here is taken over by the next one); past
    # 10 s whatever still runs is killed, so Ctrl-C never hangs.
    for _ in $(seq 100); do
        kill -0 -- ${web:+"-$web"} 2>/dev/null || kill -0 -- ${worker:+"-$worker"} 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- ${web:+"-$web"} ${worker:+"-$worker"} 2>/dev/null
    wait
    [ -z "$metrics_dir" ] || rm -rf "$metrics_dir"
    exit "$1"
}
trap 'stop 130' INT
trap 'stop 143' TERM

"$python" manage.py runserver "127.0.0.1:$port" &
web=$!
# The worker's first task is a sync, through the sandbox that this web server serves: start it once
# the server answers at all (any HTTP status; at most 30 s), so that the first sync does not find the
# port still closed and leave the list empty until the next one.
listening='
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass  # an answer all the same (503: the database is not ready): the server listens
'
for _ in $(seq 150); do
    "$python" -c "$listening" "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    kill -0 "$web" 2>/dev/null || break
    sleep 0.2
done
"$python" manage.py run_worker &
worker=$!

wait -n
status=$?
echo "run-all: the web server or the worker stopped (exit $status); stopping the other." >&2
stop "$status"
