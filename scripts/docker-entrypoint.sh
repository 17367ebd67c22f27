#!/bin/sh
# The container's command: migrate, then gunicorn on $PORT. PYTHON lets the recipe script use a venv.
set -e
python=${PYTHON:-python}
"$python" manage.py migrate --noinput
exec "$python" -m gunicorn dashboard.wsgi:application \
    --bind "0.0.0.0:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-2}" --threads "${GUNICORN_THREADS:-4}" \
    --timeout "${GUNICORN_TIMEOUT:-60}" --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
