#!/usr/bin/env bash
# docker-compose.yml's services, run where Docker is not: against the local PostgreSQL (a scratch
# database, dropped at the end) and Redis, `migrate` once, two gunicorn web instances and one worker
# through the same entrypoint, then checks that both instances answer /healthz and /readyz, that a
# hashed static file is cached for a year, that the worker ran its heartbeat task, and that /metrics
# answers Prometheus's token (and no one without it) on a web instance and on the worker; stops everything.
# PYTHON names the interpreter (default .venv/bin/python); POSTGRES_URL and REDIS_URL the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHON=${PYTHON:-.venv/bin/python}
postgres=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
redis=${REDIS_URL:-redis://127.0.0.1:6379/0}
work=$(mktemp -d)
database="compose_recipe_$$"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql -q "$postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$PYTHON" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
fail() { echo "compose recipe: $1" >&2; for log in "$work"/*.log; do echo "--- $log" >&2; tail -20 "$log" >&2; done; exit 1; }

echo "== scratch database $database, Redis at $redis"
psql -q "$postgres" -c "CREATE DATABASE $database" >/dev/null
redis-cli -u "$redis" ping >/dev/null 2>&1 || "$PYTHON" -c "import redis; redis.Redis.from_url('$redis').ping()"

# The services' environment (docker-compose.yml's x-app), with throwaway secrets.
export DATABASE_URL="${postgres%/*}/$database" CACHE_URL="$redis?key_prefix=$database"
export DEBUG=false STAFFIFY_SANDBOX=false SECURE_SSL_REDIRECT=true SECURE_PROXY_SSL_HEADER_ENABLED=true \
    ALLOWED_HOSTS=127.0.0.1,localhost STAFFIFY_API_URL=https://api.staffifyai.com/v1
export SECRET_KEY="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export STAFFIFY_API_KEY="sfy_live_$("$PYTHON" -c 'import secrets; print(secrets.token_hex(24))')"
export STATIC_ROOT="$work/static" WORKER_HEARTBEAT_SECONDS=2 LOG_FORMAT=json
export METRICS_TOKEN="$("$PYTHON" -c 'import secrets; print(secrets.token_hex(24))')"
unset DJANGO_ALLOW_ASYNC_UNSAFE TASKS_BACKEND

# The two are independent (the image's build step and the migrate service): side by side.
echo "== collectstatic (the image's build step) and migrate (the migrate service)"
"$PYTHON" manage.py collectstatic --noinput -v 0 > "$work/collectstatic.log" 2>&1 &
collect=$!
scripts/docker-entrypoint.sh migrate > "$work/migrate.log" 2>&1 || fail "migrate failed"
wait "$collect" || fail "collectstatic failed"

ports=()
for replica in 1 2; do
    port=$(free_port)
    ports+=("$port")
    echo "== web replica $replica on $port"
    # Each container has a tmpfs of its own for its processes' counters (PROMETHEUS_MULTIPROC_DIR).
    mkdir "$work/metrics-web$replica"
    MIGRATE=false PORT=$port WEB_CONCURRENCY=1 PROMETHEUS_MULTIPROC_DIR="$work/metrics-web$replica" \
        scripts/docker-entrypoint.sh web > "$work/web$replica.log" 2>&1 &
    pids+=($!)
done
echo "== worker"
mkdir "$work/metrics-worker"
worker_metrics=$(free_port)
PROMETHEUS_MULTIPROC_DIR="$work/metrics-worker" METRICS_PORT=$worker_metrics \
    scripts/docker-entrypoint.sh worker > "$work/worker.log" 2>&1 &
pids+=($!)

for port in "${ports[@]}"; do
    for attempt in $(seq 1 150); do
        if body=$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null); then break; fi
        [ "$attempt" = 150 ] && fail "the web instance on $port did not answer /healthz"
        sleep 0.2
    done
    [[ "$body" == *'"ok"'* ]] || fail "unexpected health answer on $port: $body"
    echo "== GET /healthz on $port: $body"
    ready=$(curl -sS "http://127.0.0.1:$port/readyz")
    [[ "$ready" == *'"status": "ready"'* ]] || fail "not ready on $port: $ready"
    echo "== GET /readyz on $port: $ready"
done

css_url=$(DJANGO_SETTINGS_MODULE=dashboard.settings "$PYTHON" -c "import django; django.setup(); from django.templatetags.static import static; print(static('css/app.css'))")
cache_control=$(curl -fsS -o /dev/null -D - -H "X-Forwarded-Proto: https" "http://127.0.0.1:${ports[0]}$css_url" \
    | tr -d '\r' | sed -n 's/^[Cc]ache-[Cc]ontrol: //p')
[[ "$cache_control" == *"immutable"* ]] || fail "$css_url is served with Cache-Control: $cache_control"
echo "== $css_url: Cache-Control: $cache_control"

for attempt in $(seq 1 60); do
    if status=$("$PYTHON" manage.py worker_status --max-age 30 2>&1); then break; fi
    [ "$attempt" = 60 ] && fail "the worker ran no heartbeat: $status"
    kill -0 "${pids[2]}" 2>/dev/null || fail "the worker stopped"
    sleep 1
done
echo "== worker: $status"

# /metrics, as the compose file's Prometheus scrapes it: the web's (its counters and the state), the
# worker's (its own counters); no answer without the token.
metrics() { curl -sS -o "$work/metrics.txt" -w '%{http_code}' "$@"; }
code=$(metrics "http://127.0.0.1:${ports[0]}/metrics")
[ "$code" = 401 ] || fail "/metrics without the token answered $code"
code=$(metrics -H "Authorization: Bearer $METRICS_TOKEN" "http://127.0.0.1:${ports[0]}/metrics")
[ "$code" = 200 ] && grep -q '^dashboard_requests_total{' "$work/metrics.txt" \
    && grep -q '^dashboard_worker_heartbeat_age_seconds ' "$work/metrics.txt" || fail "the web's /metrics: $code"
echo "== web /metrics: $(grep -c '^[a-z]' "$work/metrics.txt") samples"
for attempt in $(seq 1 30); do
    code=$(metrics -H "Authorization: Bearer $METRICS_TOKEN" "http://127.0.0.1:$worker_metrics/metrics" || true)
    if [ "$code" = 200 ] && grep -q '^dashboard_tasks_total{.*task="heartbeat"' "$work/metrics.txt"; then break; fi
    [ "$attempt" = 30 ] && fail "the worker's /metrics: $code"
    sleep 0.5
done
echo "== worker /metrics: $(grep '^dashboard_tasks_total{.*task="heartbeat"' "$work/metrics.txt")"
code=$(metrics "http://127.0.0.1:$worker_metrics/metrics")
[ "$code" = 401 ] || fail "the worker's /metrics without the token answered $code"

echo "== stopping"
for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && fail "process $pid did not stop on SIGTERM"
done
pids=()
echo "compose recipe: OK"
