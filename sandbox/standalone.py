"""The sandbox as its own WSGI application: only /sandbox/ URLs, none of the dashboard's middleware.

Used by `manage.py run_sandbox` and by `gunicorn sandbox.wsgi` for deployments and load tests.
"""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.urls import clear_url_caches, set_urlconf

URLCONF = "sandbox.standalone_urls"


def application() -> WSGIHandler:
    # Settings are process-wide; this process serves nothing but the sandbox, so it may change them.
    settings.ROOT_URLCONF = URLCONF
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
    clear_url_caches()
    set_urlconf(None)
    return WSGIHandler()
