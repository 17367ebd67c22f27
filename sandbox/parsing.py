"""Reading bodies, query strings and ids strictly, so bad input becomes VALIDATION_ERROR, not a 500."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, Literal, overload

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from .errors import ApiError, not_found, validation_error

MAX_ID = 2**63 - 1  # the database's bigint; a larger id can name nothing
DIGITS_RE = re.compile(r"[0-9]{1,19}")  # more digits than a bigint holds are never valid


def _digits(raw: str) -> int | None:
    return int(raw) if DIGITS_RE.fullmatch(raw) else None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object; an empty body counts as {}. Floats arrive as Decimal."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", "The request body is too large.") from None
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        reason = str(err)[:200] if isinstance(err, ValueError) else "not UTF-8 JSON"
        raise validation_error({"body": f"Malformed JSON: {reason}"}, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise validation_error({"body": "Must be a JSON object."})
    return data


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@overload
def body_int(data: dict[str, Any], field: str, *, required: Literal[True]) -> int: ...
@overload
def body_int(data: dict[str, Any], field: str, *, required: bool = False) -> int | None: ...
def body_int(data: dict[str, Any], field: str, *, required: bool = False) -> int | None:
    value = data.get(field)
    if value is None:
        if required:
            raise validation_error({field: "This field is required."})
        return None
    if not is_int(value) or not 0 < value <= MAX_ID:
        raise validation_error({field: "Must be a positive integer."})
    return value


def body_str(data: dict[str, Any], field: str, *, max_length: int = 50) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > max_length or not value.isprintable():
        raise validation_error({field: f"Must be a non-empty string of at most {max_length} characters."})
    return value


def path_id(raw: str, what: str) -> int:
    """An id from the URL; anything that cannot be an id answers 404 like an unknown one."""
    value = _digits(raw)
    if value is None or not 0 < value <= MAX_ID:
        raise not_found(what)
    return value


def query_limit(request: HttpRequest, default: int = 20, maximum: int = 100) -> int:
    raw = request.GET.get("limit")
    if raw is None or raw == "":
        return default
    value = _digits(raw)
    if value is None or not 1 <= value <= maximum:
        raise validation_error({"limit": f"Must be a whole number from 1 to {maximum}."})
    return value


def query_cursor(request: HttpRequest) -> int:
    raw = request.GET.get("after")
    if raw is None or raw == "":
        return 0
    value = _digits(raw)
    if value is None or value > MAX_ID:
        raise validation_error({"after": "Must be a cursor from next_cursor."})
    return value
