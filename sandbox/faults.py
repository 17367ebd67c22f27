"""Injected faults: the next N matching API calls answer an error, or only slow down.

By default the delay comes first and an error status means the call was not acted on. With
`act_first` the call is acted on first, then delayed, then its answer replaced by the status if one
is given: a write that happened although its answer came late, never, or as an error."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.http import JsonResponse

from .errors import error_response, rate_limited_response
from .models import Fault, Project

CODES = {
    400: "VALIDATION_ERROR",
    401: "INVALID_API_KEY",
    402: "INSUFFICIENT_CREDITS",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "CARRIER_ERROR",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


@dataclass(frozen=True)
class Triggered:
    status: int | None
    delay_ms: int
    retry_after: int
    code: str
    message: str
    act_first: bool = False

    def response(self) -> JsonResponse | None:
        if self.status is None:
            return None
        if self.status == 429:
            return rate_limited_response(self.retry_after)
        code = self.code or CODES.get(self.status) or ("SERVICE_UNAVAILABLE" if self.status >= 500 else "ERROR")
        return error_response(self.status, code, self.message or f"Injected fault ({self.status}).")


def take(project: Project, method: str, path: str) -> Triggered | None:
    """Consume one use of the oldest fault matching this call, if any."""
    with transaction.atomic():
        for fault in Fault.objects.select_for_update().filter(project=project, remaining__gt=0):
            if fault.method and fault.method != method:
                continue
            if not path.startswith(fault.path_prefix):
                continue
            if fault.remaining <= 1:
                fault.delete()
            else:
                fault.remaining -= 1
                fault.save(update_fields=["remaining"])
            return Triggered(
                fault.status, fault.delay_ms, fault.retry_after, fault.code, fault.message, fault.act_first
            )
    return None


def as_json(fault: Fault) -> dict:
    return {
        "id": fault.id,
        "status": fault.status,
        "count": fault.remaining,
        "path_prefix": fault.path_prefix,
        "method": fault.method or None,
        "delay_ms": fault.delay_ms,
        "retry_after": fault.retry_after,
        "code": fault.code or None,
        "message": fault.message or None,
        "act_first": fault.act_first,
    }
