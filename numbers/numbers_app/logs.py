"""Structured logs: what a line is about (the request, its user, the worker's task) and, with
LOG_FORMAT=json, one JSON object per line for a log collector.

The request id is the one a user is shown when something fails (the 500 page's reference, the
X-Error-Reference toast, "the list could not be read, reference …") and the X-Request-Id header of
every answer, so a report finds its lines. `RequestIdMiddleware` (numbers_app.web.middleware) binds it
with the user for the request; the worker binds the task it runs. Staffify's own request id travels
on the client's log lines as `staffify_request_id`.

Logging is configured before the apps load, so this module imports nothing of the app.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("log_context", default={})  # noqa: B039

# Attributes every LogRecord has: anything else on a record came from `extra=` and is written out.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


def new_request_id() -> str:
    """Twelve hex characters: short enough to read out on the phone, unique enough for the logs."""
    return secrets.token_hex(6)


@contextlib.contextmanager
def bound(**values: str | None) -> Iterator[None]:
    """Every line logged inside the block (in this thread or task) carries VALUES."""
    token = _context.set({**_context.get(), **{key: value for key, value in values.items() if value}})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**values: str | None) -> contextvars.Token[dict[str, str]]:
    """`bound` for code that starts and ends in two places (signals); undo with `unbind(token)`."""
    return _context.set({**_context.get(), **{key: value for key, value in values.items() if value}})


def unbind(token: contextvars.Token[dict[str, str]]) -> None:
    with contextlib.suppress(ValueError):  # set in another context: nothing of ours to undo there
        _context.reset(token)


def request_id() -> str | None:
    """The id of the request being served, if any."""
    return _context.get().get("request_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the bound context
    (request_id, user, task), whatever the call passed in `extra` (staffify_request_id…), and the
    traceback as one string. Values that JSON cannot carry are written as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_context.get())
        request = record.__dict__.get("request")
        if request is not None:  # Django's own lines about a request (django.request), logged after its middleware
            entry.setdefault("request_id", getattr(request, "request_id", None))
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                entry.setdefault("user", user.get_username())
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and key != "request" and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
