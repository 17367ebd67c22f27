#!/bin/sh
# The container's command. PYTHON lets the recipe scripts use a venv.
#   docker-entrypoint.sh          migrate (unless MIGRATE=false), then gunicorn on $PORT (the web service)
#   docker-entrypoint.sh migrate  migrate and exit (compose runs it once, before web and worker)
#   docker-entrypoint.sh worker   the background worker: task queue and periodic schedule
set -e
python=${PYTHON:-python}
case "${1:-web}" in
    migrate)
        exec "$python" manage.py migrate --noinput
        ;;
    worker)
        exec "$python" manage.py run_worker
        ;;
    web)
        if [ "${MIGRATE:-true}" != false ]; then
            "$python" manage.py migrate --noinput
        fi
        # gunicorn's workers add their counters up in /metrics through files in one directory: a new
        # one at each start unless one is given (compose gives each container a tmpfs).
        if [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
            PROMETHEUS_MULTIPROC_DIR=$(mktemp -d)
            export PROMETHEUS_MULTIPROC_DIR
        fi
        # LOG_FORMAT=json: gunicorn's own lines (start, access) are JSON objects too. The access line
        # ends with the request id the dashboard gave the request (its X-Request-Id).
        if [ "${LOG_FORMAT:-plain}" = json ]; then
            set -- --log-config-json scripts/gunicorn-json-logging.json
        else
            set --
        fi
        exec "$python" -m gunicorn dashboard.wsgi:application \
            --bind "0.0.0.0:${PORT:-8000}" \
            --workers "${WEB_CONCURRENCY:-2}" --threads "${GUNICORN_THREADS:-4}" \
            --timeout "${GUNICORN_TIMEOUT:-60}" --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
            --access-logformat '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s' "$@"
        ;;
    *)
        echo "usage: $0 [web|migrate|worker]" >&2
        exit 2
        ;;
esac
