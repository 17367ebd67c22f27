# The dashboard in production: gunicorn behind your TLS proxy, pointed at the real Staffify API.
# Docker cannot run on our own machines, so scripts/docker-recipe.sh performs these same steps in a
# fresh venv (install, collectstatic, check --deploy, gunicorn, /healthz) and the test suite runs it.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    DEBUG=false \
    STAFFIFY_SANDBOX=false \
    SECURE_SSL_REDIRECT=true \
    SECURE_PROXY_SSL_HEADER_ENABLED=true \
    SECURE_HSTS_SECONDS=31536000 \
    SECURE_HSTS_PRELOAD=true

RUN groupadd --system app && useradd --system --gid app --home-dir /app --no-create-home app
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=app:app . .
# collectstatic with the production storage (hashed, compressed names and their manifest); settings
# need a secret and an API key to load, so throwaway ones are given at build time only.
RUN SECRET_KEY=collectstatic-only STAFFIFY_API_KEY=sfy_live_000000000000000000000000000000000000000000000000 \
    python manage.py collectstatic --noinput

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=4)"

CMD ["scripts/docker-entrypoint.sh"]
