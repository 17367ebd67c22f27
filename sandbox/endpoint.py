"""What every sandbox call goes through: request id, method, key, billing, rate limit, faults.

A view is built with `route(API, GET=handler, ...)`; a handler takes a Ctx (and the URL's
arguments) and returns a response or raises ApiError. Any other exception becomes a 500 JSON.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from . import billing, faults, ratelimit
from .auth import Caller, authenticate, require_write
from .errors import ApiError, error_response, iso, new_request_id, rate_limited_response
from .models import Project
from .parsing import json_body
from .seed import ensure_seeded

logger = logging.getLogger("sandbox")

API, CONTROL = "api", "control"
MOUNT = "/sandbox"


@dataclass
class Ctx:
    request: HttpRequest
    caller: Caller
    now: datetime

    @property
    def project(self) -> Project:
        return self.caller.project

    def body(self) -> dict[str, Any]:
        return json_body(self.request)


Handler = Callable[..., HttpResponse]


def relative_path(request: HttpRequest) -> str:
    """The path after /sandbox, e.g. /v1/phone-numbers/12: what a fault's path_prefix matches."""
    path = request.path_info
    return path[len(MOUNT) :] if path.startswith(MOUNT + "/") else path


def method_not_allowed(allowed: list[str]) -> HttpResponse:
    response = error_response(405, "METHOD_NOT_ALLOWED", f"This endpoint accepts {', '.join(allowed)}.", None)
    response["Allow"] = ", ".join(allowed)
    return response


def _with_retry_after(error: ApiError) -> HttpResponse:
    response = error.response()
    if "retryAfter" in error.extra:
        response["Retry-After"] = str(error.extra["retryAfter"])
    return response


def _handle(request: HttpRequest, kind: str, handlers: dict[str, Handler], kwargs: dict) -> HttpResponse:
    handler = handlers.get(request.method or "")
    if handler is None:
        return method_not_allowed(sorted(handlers))
    try:
        ensure_seeded()
        moment = billing.now()
        caller = authenticate(request, moment)
    except ApiError as error:
        return _with_retry_after(error)
    billing.settle(moment)

    usage = ratelimit.count_request(caller.project, moment) if kind == API else None
    try:
        response = _call(request, kind, handler, caller, moment, usage, kwargs)
    except ApiError as error:
        response = _with_retry_after(error)
    if usage is not None:
        ratelimit.apply_headers(response, caller.project, usage)
    return response


def _call(
    request: HttpRequest,
    kind: str,
    handler: Handler,
    caller: Caller,
    moment: datetime,
    usage: ratelimit.Usage | None,
    kwargs: dict,
) -> HttpResponse:
    if usage is not None and usage.exceeded:
        return rate_limited_response(usage.retry_after)
    require_write(caller, request.method or "")
    if kind == API:
        triggered = faults.take(caller.project, request.method or "", relative_path(request))
        if triggered is not None and triggered.act_first:
            answer = handler(Ctx(request, caller, moment), **kwargs)
            if triggered.delay_ms:
                time.sleep(triggered.delay_ms / 1000)
            return triggered.response() or answer
        if triggered is not None:
            if triggered.delay_ms:
                time.sleep(triggered.delay_ms / 1000)
                moment = billing.now()
            injected = triggered.response()
            if injected is not None:
                return injected
    return handler(Ctx(request, caller, moment), **kwargs)


def route(kind: str, **handlers: Handler) -> Callable[..., HttpResponse]:
    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        request_id = new_request_id()
        with billing.one_clock_per_call():
            try:
                response = _handle(request, kind, handlers, kwargs)
            except Exception:
                logger.exception("sandbox: unexpected error in %s %s (%s)", request.method, request.path, request_id)
                response = error_response(500, "INTERNAL_ERROR", "The sandbox failed unexpectedly.", None)
            response["X-Request-Id"] = request_id
            _stamp_date(response)
        return response

    return view


def _stamp_date(response: HttpResponse) -> None:
    """Date carries the sandbox clock, so a client can see how far ahead it runs.

    Some servers (gunicorn) write their own Date; X-Sandbox-Now says the same and always survives.
    """
    try:
        moment = billing.now()
        response["Date"] = http_date(moment.timestamp())
        response["X-Sandbox-Now"] = iso(moment)
    except Exception:  # the database may be what failed; the real date is then good enough
        logger.warning("sandbox: could not read the clock for the Date header")


@csrf_exempt
def unknown_route(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    response = error_response(404, "NOT_FOUND", f"No sandbox endpoint at {request.path}.", None)
    response["X-Request-Id"] = new_request_id()
    _stamp_date(response)
    return response
