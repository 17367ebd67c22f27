#!/usr/bin/env bash
# The Dockerfile's steps, runnable where Docker is not: a fresh venv with the pinned requirements,
# collectstatic, `check --deploy` with production-like settings (must print no warning), gunicorn
# on a free port through the same entrypoint, and a GET /healthz. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

python=$(scripts/find-python.sh)
# The Dockerfile's `pip install -r requirements.txt`, done by uv when there is one (same pinned packages
# into the same fresh venv, in seconds from uv's cache instead of minutes; the venv then needs no pip of
# its own, which saves seeding it); PIP_ONLY=1 uses pip itself.
uv=""
[ -n "${PIP_ONLY:-}" ] || uv=$(scripts/find-uv.sh "$root/.venv/bin/python") || uv=""
echo "== fresh venv with $python"
if [ -n "$uv" ]; then
    "$python" -m venv --without-pip "$work/venv"
    echo "== install requirements.txt with $uv"
    "$uv" pip install --quiet --python "$work/venv/bin/python" -r requirements.txt
else
    "$python" -m venv "$work/venv"
    echo "== install requirements.txt with pip"
    "$work/venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt 2>&1 | sed "/^WARNING: Location/d"
fi
# Only what requirements.txt brings: the fresh venv must not see the dev venv's packages.
"$work/venv/bin/python" -c "import importlib.util as u, sys; sys.exit(u.find_spec('pytest') is not None)" \
    || { echo "the fresh venv sees pytest: it is not isolated" >&2; exit 1; }

# Production-like settings, as the Dockerfile's ENV plus what an operator must supply.
export PYTHON="$work/venv/bin/python"
# HTTPS redirect, HSTS and secure cookies are production's defaults: no variable turns them on.
export DEBUG=false STAFFIFY_SANDBOX=false SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https" \
    ALLOWED_HOSTS=127.0.0.1,localhost
unset DJANGO_ALLOW_ASYNC_UNSAFE
export SECRET_KEY_FILE="$work/secret_key" STAFFIFY_API_KEY_FILE="$work/api_key"
"$PYTHON" -c "import secrets; print(secrets.token_urlsafe(50))" > "$SECRET_KEY_FILE"
"$PYTHON" -c "import secrets; print('sfy_live_' + secrets.token_hex(24))" > "$STAFFIFY_API_KEY_FILE"
export STAFFIFY_API_URL=https://api.staffifyai.com/v1
export DATABASE_URL="sqlite:///$work/db.sqlite3"
export STATIC_ROOT="$work/static"

echo "== collectstatic (as the Dockerfile's RUN line: throwaway secrets, production storage)"
SECRET_KEY_FILE= STAFFIFY_API_KEY_FILE= SECRET_KEY=collectstatic-only \
    STAFFIFY_API_KEY=sfy_live_000000000000000000000000000000000000000000000000 \
    "$PYTHON" manage.py collectstatic --noinput -v 0
echo "== check --deploy"
"$PYTHON" manage.py check --deploy --fail-level WARNING

port=$("$PYTHON" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
echo "== gunicorn on $port"
PORT=$port WEB_CONCURRENCY=1 scripts/docker-entrypoint.sh > "$work/gunicorn.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    if body=$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null); then
        echo "== GET /healthz: $body"
        [[ "$body" == *'"ok"'* ]] || { echo "unexpected health answer" >&2; exit 1; }
        # A static file is served by whitenoise from the collected, hashed files.
        login=$(curl -fsS -H "X-Forwarded-Proto: https" "http://127.0.0.1:$port/accounts/login/") \
            || { echo "the login page failed; gunicorn's log:" >&2; cat "$work/gunicorn.log" >&2; exit 1; }
        css=$(echo "$login" | grep -o '/static/css/app\.[0-9a-f]*\.css' | head -1)
        [ -n "$css" ] || { echo "the login page links no hashed stylesheet" >&2; exit 1; }
        curl -fsS -o /dev/null -H "X-Forwarded-Proto: https" "http://127.0.0.1:$port$css"
        echo "== hashed static file served: $css"
        echo "docker recipe: OK"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.2
done
echo "gunicorn did not answer /healthz; its log:" >&2
cat "$work/gunicorn.log" >&2
exit 1
