"""JSON responses and the documented error shapes. The sandbox never answers HTML."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, overload

from django.http import HttpResponse, JsonResponse


class ApiError(Exception):
    """Raised anywhere below a view; the pipeline turns it into the documented error JSON."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.extra = extra or {}

    def response(self) -> JsonResponse:
        return error_response(self.status, self.code, self.message, self.details, **self.extra)


def validation_error(details: dict[str, str], message: str = "Validation failed.") -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message, details)


def not_found(what: str = "Resource") -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} not found.")


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex[:24]


def json_response(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=isinstance(data, dict))


def error_response(
    status: int, code: str, message: str, details: dict[str, str] | None = None, **extra: Any
) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    body.update(extra)
    return json_response(body, status)


def rate_limited_response(retry_after: int) -> JsonResponse:
    # The one documented shape that carries its text under "error" instead of "message".
    response = json_response(
        {"error": "Rate limit exceeded", "code": "RATE_LIMIT_EXCEEDED", "retryAfter": retry_after}, 429
    )
    response["Retry-After"] = str(retry_after)
    return response


def no_content() -> HttpResponse:
    return HttpResponse(status=204)


def money(value: Decimal) -> float:
    """EUR amounts are Decimal inside and a plain JSON number outside (42.50 renders as 42.5)."""
    return float(value.quantize(Decimal("0.01")))


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
