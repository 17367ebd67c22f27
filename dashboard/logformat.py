"""The JSON log format under a name gunicorn's own logging can import (scripts/gunicorn-json-logging.json):
gunicorn configures its loggers before it loads the app, and importing this package first puts the
app's folder on the import path (dashboard/__init__.py)."""

from numbers_app.logs import JsonFormatter

__all__ = ["JsonFormatter"]
