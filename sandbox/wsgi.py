"""`gunicorn sandbox.wsgi` serves the sandbox alone (run `manage.py migrate sandbox` first)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django.setup()

from sandbox.standalone import application as _build  # noqa: E402  (needs the app registry)

application = _build()
