"""The Staffify service module: the only code that speaks HTTP to the Staffify API.

One `StaffifyClient` wraps one shared `httpx.Client` (connection pooling, explicit timeouts, the auth
headers). Every call returns typed, frozen dataclasses, or raises one of the `StaffifyError` classes
below; nothing from httpx, json or pydantic ever leaves this module.

Answers are read by pydantic v2 (as pydantic dataclasses), chosen over msgspec for its mypy plugin,
its precise validation errors (turned into one sentence naming the field) and coercion set per field.

Retries follow one rule: repeat only what is safe to repeat. Per write:

- PUT /phone-numbers/:id/assign (assign) is retried on 429, 5xx and errors raised before the request
  left (connect error, connect or pool timeout). Safe: it sets the agent to one value, whatever the
  number had ("replaces any existing assignment, never 409"), so two arrivals leave what one leaves.
- PATCH /phone-numbers/:id with the whole tag list (tags) is retried on the same faults. Safe: it
  replaces the list, so a repeat writes the same list again.
- POST /phone-numbers (buy) is sent once, whatever happens: a repeat buys, and charges, twice.
- DELETE /phone-numbers/:id/assign (unassign), DELETE /phone-numbers/:id (release) and
  POST /phone-numbers/:id/reclaim (reclaim) are sent once: their effect is the same twice, but the
  second arrival answers 409 (no agent, already pending, not pending), which would report a done
  change as refused. See `_RETRY_POLICY` for why "once" includes connect errors.
- Reads (GET) are retried on connection errors, timeouts, 429 and 5xx.
- No write is retried after its request may have left without an answer (read timeout, dropped
  connection): the user has waited long enough, and the outcome is then unknown
  (`StaffifyError.outcome_unknown`): the caller settles it by reading the number back
  (numbers_app.settle), never by sending it again.
- The address workflow's POST create, documents and submit are sent once (each creates or changes
  something); an address's check-status POST only reads the status, so it is retried like a read.

Plain Python apart from `get_client()`, which builds the one shared client from Django settings.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Annotated, Any, Self

import httpx
import pydantic
from pydantic.dataclasses import dataclass as pydantic_dataclass
from pydantic_core import PydanticCustomError

from numbers_app.rules import DOCUMENT_FILE_TYPES, DOCUMENT_MAX_BYTES, USABLE_ADDRESS_STATUSES

__all__ = [
    "Address",
    "AddressDocument",
    "AddressRequirements",
    "AddressStatus",
    "CreatedAddress",
    "DocumentRequirement",
    "Agent",
    "Assignment",
    "AuthenticationError",
    "AvailableNumber",
    "CallStats",
    "ConflictError",
    "Country",
    "Credits",
    "NotFoundError",
    "NumberPage",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "PhoneNumber",
    "Purchase",
    "RateLimit",
    "RateLimitError",
    "Reclaim",
    "Release",
    "ServerError",
    "StaffifyClient",
    "StaffifyConnectionError",
    "StaffifyError",
    "StaffifyResponseError",
    "StaffifyStatusError",
    "StaffifyTimeoutError",
    "ValidationError",
    "get_client",
    "parse_datetime",
    "track_calls",
]

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "staffify-numbers-dashboard/0.1"


# --- Errors -----------------------------------------------------------------------------------


class StaffifyError(Exception):
    """Anything that went wrong talking to Staffify. Show `str(error)`: it names the request id."""

    # What the caller had asked for ("the agent list"), when it says so; explain() names it.
    asked_for: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        details: dict[str, str] | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details = dict(details or {})
        self._outcome_unknown = outcome_unknown

    @property
    def outcome_unknown(self) -> bool:
        """True when a write may or may not have happened: check Staffify before trying again."""
        return self._outcome_unknown

    def __str__(self) -> str:
        facts = []
        if self.status is not None:
            facts.append(f"HTTP {self.status}")
        if self.code:
            facts.append(self.code)
        if self.request_id:
            facts.append(f"request id {self.request_id}")
        return f"{self.message} ({', '.join(facts)})" if facts else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"code={self.code!r}, request_id={self.request_id!r})"
        )


class StaffifyConnectionError(StaffifyError):
    """Staffify could not be reached, or the connection broke before an answer came."""


class StaffifyTimeoutError(StaffifyConnectionError):
    """No answer in time. `phase` says where: "connect", "read", "write" or "pool"."""

    def __init__(self, message: str, *, phase: str = "read", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.phase = phase


class StaffifyResponseError(StaffifyError):
    """Staffify answered 2xx with something we cannot understand."""


class StaffifyStatusError(StaffifyError):
    """Staffify answered with a non-2xx status."""


class ValidationError(StaffifyStatusError):
    """400 or 422. `details` maps a field name to its message."""


class AuthenticationError(StaffifyStatusError):
    """401: missing, unknown, revoked or malformed key."""


class PaymentRequiredError(StaffifyStatusError):
    """402: not enough credits."""


class PermissionDeniedError(StaffifyStatusError):
    """403: e.g. a read-only key attempting a write."""


class NotFoundError(StaffifyStatusError):
    """404: unknown, or belonging to another project."""


class ConflictError(StaffifyStatusError):
    """409: the resource's current state does not allow this."""


class RateLimitError(StaffifyStatusError):
    """429. `retry_after` is the number of seconds to wait, when Staffify said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(StaffifyStatusError):
    """5xx: trouble on Staffify's side (or a proxy in front of it)."""


_STATUS_ERRORS: dict[int, type[StaffifyStatusError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}

_TIMEOUT_PHASES: dict[type[httpx.TimeoutException], str] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}

# httpx raises these before a single byte of the request has left this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Gateway answers: a proxy lost Staffify's answer, so Staffify may well have acted.
_GATEWAY_STATUSES = frozenset({502, 504})


# --- Retry policy -----------------------------------------------------------------------------

_READ = "read"
_IDEMPOTENT = "idempotent"
_ONCE = "once"

# POST (purchase, reclaim) and DELETE (release, unassign) are sent exactly once, even after a
# connect error. httpx's own transport raises ConnectError only before sending, so a retry there
# would be safe; but the transport is pluggable (WSGITransport in tests, anything in production)
# and nothing obliges another transport to keep that promise. "A purchase is sent at most once per
# click" is a rule anyone can check, and costs little: the error says the outcome is known
# (outcome_unknown is False), so the user may simply click again.
_RETRY_POLICY = {"GET": _READ, "PUT": _IDEMPOTENT, "PATCH": _IDEMPOTENT, "POST": _ONCE, "DELETE": _ONCE}


# --- Call accounting --------------------------------------------------------------------------


@dataclass
class CallStats:
    """What the client sent inside one `track_calls()` block: every attempt, retries included."""

    calls: int = 0
    seconds: float = 0.0
    requests: list[tuple[str, str, int | None, float]] = field(default_factory=list)
    # Time spent sleeping between retries, which `seconds` leaves out.
    backoff_seconds: float = 0.0


_active_stats: contextvars.ContextVar[tuple[CallStats, ...]] = contextvars.ContextVar("staffify_call_stats", default=())


@contextlib.contextmanager
def track_calls() -> Iterator[CallStats]:
    """Count the Staffify calls made inside the block (nested blocks count in both)."""
    stats = CallStats()
    token = _active_stats.set((*_active_stats.get(), stats))
    try:
        yield stats
    finally:
        _active_stats.reset(token)


def _record_call(method: str, path: str, status: int | None, seconds: float) -> None:
    for stats in _active_stats.get():
        stats.calls += 1
        stats.seconds += seconds
        stats.requests.append((method, path, status, seconds))


def _record_backoff(seconds: float) -> None:
    for stats in _active_stats.get():
        stats.backoff_seconds += seconds


# --- Parsing ----------------------------------------------------------------------------------
# Each field says how strict it is: documented fields refuse the wrong type (no "42" for 42, no
# true for 1), money goes through str() into Decimal, times become aware UTC, and the fields
# Staffify does not document fall back to None when absent or malformed.


def _fail(what: str, problem: str) -> StaffifyResponseError:
    return StaffifyResponseError(f"Staffify sent an unexpected {what}: {problem}.")


def _describe(value: Any) -> str:
    """A JSON value as a sentence names it; long text is cut short for the log."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {value[:40]!r}" + ("..." if len(value) > 40 else "")
    if isinstance(value, int | float):
        digits = repr(value)
        return f"the number {digits[:40]}" + ("..." if len(digits) > 40 else "")
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# What a pydantic error type means, in the words of the sentence ("'id' should be ...").
_EXPECTED = {"int": "a whole number", "string": "text", "bool": "true or false", "list": "a list", "tuple": "a list"}


def _where(loc: tuple[int | str, ...]) -> str:
    """('tags', 0) as 'tags[0]'."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _problem(err: pydantic.ValidationError) -> str:
    """The first thing pydantic found wrong, as the end of a sentence naming the field."""
    first = err.errors(include_url=False)[0]
    kind, where = first["type"], _where(first["loc"])
    if kind == "missing":
        return f"'{where}' is missing"
    if kind == "staffify":
        return f"'{where}' {first['msg']}"  # our own validators already speak the sentence (_refuse)
    expected = _EXPECTED.get(kind.split("_")[0])
    if expected is None:
        return f"'{where}': {first['msg']}"
    return f"'{where}' should be {expected}, got {_describe(first['input'])}"


_adapters: dict[type[Any], pydantic.TypeAdapter[Any]] = {}


def _adapter[M](model: type[M]) -> pydantic.TypeAdapter[M]:
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = pydantic.TypeAdapter(model)
    return adapter


def _validate[M](model: type[M], data: Any, what: str) -> M:
    """`data` (one JSON object) as `model`, or a StaffifyResponseError saying what was wrong."""
    if not isinstance(data, dict):
        raise _fail(what, f"expected an object, got {_describe(data)}")
    try:
        return _adapter(model).validate_python(data)
    except pydantic.ValidationError as err:
        logger.debug("Staffify sent an unexpected %s: %s", what, err)
        raise _fail(what, _problem(err)) from None


def _each[T](parse: Callable[[Any], T], items: list[Any], what: str) -> list[T]:
    """Parse every item of a list; an error says which item (counting from 1)."""
    parsed = []
    for position, item in enumerate(items, start=1):
        try:
            parsed.append(parse(item))
        except StaffifyResponseError as err:
            raise StaffifyResponseError(f"{err.message.removesuffix('.')} (item {position} of the {what}).") from None
    return parsed


def _list_under(data: Any, keys: tuple[str, ...], what: str) -> list[Any]:
    """A bare list, or the list under the first of `keys` that holds one."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in keys:
            if isinstance(data.get(key), list):
                return data[key]
    raise _fail(what, f"no list under {' or '.join(repr(key) for key in keys)}")


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 instant (a trailing Z allowed) as an aware UTC datetime; naive means UTC."""
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 string, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _refuse(expected: str, value: Any) -> PydanticCustomError:
    """A validation error already in the words of the sentence: "should be <expected>, got <value>"."""
    return PydanticCustomError(
        "staffify", "should be {expected}, got {got}", {"expected": expected, "got": _describe(value)}
    )


def _to_utc(value: Any) -> datetime:
    if isinstance(value, datetime):  # already parsed: dataclasses.replace() validates again
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    try:
        return parse_datetime(value)
    except ValueError:
        raise _refuse("an ISO 8601 time", value) from None


def _time_or_none(value: Any) -> datetime | None:
    try:
        return _to_utc(value)
    except PydanticCustomError:
        return None


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _refuse("a number", value)
    else:
        try:
            # str() first: Decimal(0.1) would carry the float's binary error into the ledger.
            number = Decimal(str(value))
        except InvalidOperation:
            raise _refuse("a number", value) from None
    if not number.is_finite():
        raise _refuse("a finite number", value)
    return number


def _to_cents(value: Any) -> Decimal:
    try:
        return _to_decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # e.g. 1e400: finite, but too many digits to hold in cents
        raise _refuse("an amount of money", value) from None


def _to_cursor(value: Any) -> int | str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _refuse("text or a number", value)
    return value


def _or_none(value: Any, handler: pydantic.ValidatorFunctionWrapHandler) -> Any:
    """An undocumented field: used when present and well-formed, else None (never an error)."""
    try:
        return handler(value)
    except pydantic.ValidationError as err:
        logger.debug("Ignoring an undocumented field: %s", _problem(err))
        return None


_Int = Annotated[int, pydantic.Strict()]
_Str = Annotated[str, pydantic.Strict()]
_Bool = Annotated[bool, pydantic.Strict()]
_List = Annotated[list[Any], pydantic.Strict()]
_Time = Annotated[datetime, pydantic.PlainValidator(_to_utc)]
_Money = Annotated[Decimal, pydantic.PlainValidator(_to_cents)]
# A per-minute rate may well be finer than a cent: kept exact, not rounded.
_ExactNumber = Annotated[Decimal, pydantic.PlainValidator(_to_decimal)]
_Cursor = Annotated[int | str | None, pydantic.PlainValidator(_to_cursor)]
# A missing or null list of tags means no tags.
_Tags = Annotated[tuple[_Str, ...], pydantic.BeforeValidator(lambda value: () if value is None else value)]
_ExtraStr = Annotated[_Str | None, pydantic.WrapValidator(_or_none)]
_ExtraTime = Annotated[_Time | None, pydantic.WrapValidator(_or_none)]


# --- Results ----------------------------------------------------------------------------------
# Pydantic dataclasses rather than BaseModel: frozen like before (assignment raises AttributeError),
# and dataclasses.replace(number, status=...) keeps working for callers, validating the new values.


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class PhoneNumber:
    id: _Int
    phone_number: _Str
    status: _Str
    # Documented as nullable: a missing value means the same as null.
    agent_id: _Int | None = None
    agent_name: _Str | None = None
    tags: _Tags = ()
    # Not documented by Staffify: None unless the API (or the sandbox) happens to send them.
    country_code: _ExtraStr = None
    number_type: _ExtraStr = None
    purchased_at: _ExtraTime = None
    reclaim_before: _ExtraTime = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> Self:
        what = "phone number"
        if not isinstance(data, dict):
            return _validate(cls, data, what)
        fields = {**data, "raw": dict(data)}
        if _time_or_none(data.get("purchased_at")) is None:
            fields["purchased_at"] = data.get("created_at")
        return _validate(cls, fields, what)


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class NumberPage:
    numbers: list[PhoneNumber]
    next_cursor: _Cursor = None

    @property
    def items(self) -> list[PhoneNumber]:
        return self.numbers


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class AvailableNumber:
    phone_number: _Str
    country_code: _ExtraStr = None
    number_type: _ExtraStr = None
    locality: _ExtraStr = None
    area_code: _ExtraStr = None
    city_code: _ExtraStr = None

    @classmethod
    def from_api(cls, data: Any) -> Self:
        return _validate(cls, data, "available number")


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class Country:
    code: _Str
    name: _Str
    requires_address: _Bool

    @classmethod
    def from_api(cls, data: Any) -> Self:
        return _validate(cls, data, "country")


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class Agent:
    id: _Int
    public_id: _ExtraStr = None
    name: _Str
    language: _ExtraStr = None
    voice: _ExtraStr = None

    @classmethod
    def from_api(cls, data: Any) -> Self:
        return _validate(cls, data, "agent")


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    id: _Int
    country_code: _Str
    city: _ExtraStr = None
    city_code: _ExtraStr = None
    postal_code: _ExtraStr = None
    street_address: _ExtraStr = None
    company_name: _ExtraStr = None
    status: _Str

    @property
    def usable_for_purchase(self) -> bool:
        return self.status in USABLE_ADDRESS_STATUSES

    @classmethod
    def from_api(cls, data: Any) -> Self:
        return _validate(cls, data, "address")


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRequirement:
    type: _Str
    description: _ExtraStr = None
    required: _Bool = True

    @classmethod
    def from_api(cls, data: Any) -> Self:
        if isinstance(data, str):  # a bare list of type names is just as clear
            data = {"type": data}
        return _validate(cls, data, "document requirement")


_DEFAULT_FILE_TYPES = DOCUMENT_FILE_TYPES
_DEFAULT_MAX_FILE_SIZE = DOCUMENT_MAX_BYTES


def _file_types_or_default(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    return _DEFAULT_FILE_TYPES


def _size_or_default(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return _DEFAULT_MAX_FILE_SIZE


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class AddressRequirements:
    """What a country asks for. Only `country_code` is needed; the shape is a sandbox choice, so every
    other field falls back to what Staffify's guide says: a government ID, PDF/JPEG/PNG up to 10 MB."""

    country_code: _Str
    country_name: _ExtraStr = None
    requires_address: _Bool | None = None
    local_presence: _Bool | None = None
    city_code_required: _Bool | None = None
    documents: tuple[DocumentRequirement, ...] = ()
    accepted_file_types: Annotated[tuple[str, ...], pydantic.PlainValidator(_file_types_or_default)] = (
        _DEFAULT_FILE_TYPES
    )
    max_file_size: Annotated[int, pydantic.PlainValidator(_size_or_default)] = _DEFAULT_MAX_FILE_SIZE

    @property
    def required_documents(self) -> list[str]:
        return [d.type for d in self.documents if d.required]

    @classmethod
    def from_api(cls, data: Any) -> Self:
        what = "address requirements"
        if not isinstance(data, dict):
            return _validate(cls, data, what)
        documents = data.get("documents") or data.get("required_documents") or []
        if not isinstance(documents, list):
            raise _fail(what, f"'documents' should be a list, got {_describe(documents)}")
        fields = {**data, "documents": tuple(_each(DocumentRequirement.from_api, documents, what))}
        fields.setdefault("country_code", data.get("country"))
        return _validate(cls, fields, what)


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class CreatedAddress:
    address_id: _Int
    status: _ExtraStr = None

    @classmethod
    def from_api(cls, data: Any) -> Self:
        if isinstance(data, dict) and "address_id" not in data and "id" in data:
            data = {**data, "address_id": data["id"]}
        return _validate(cls, data, "created address")


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class AddressDocument:
    address_id: _Int
    document_type: _Str
    document_id: _Int | _Str | None = None
    filename: _ExtraStr = None
    size: _Int | None = None
    uploaded_at: _ExtraTime = None

    @classmethod
    def from_api(cls, data: Any, *, address_id: int, document_type: str) -> Self:
        """Undocumented shape: anything 2xx is an accepted upload; what we sent fills the gaps."""
        if data is None:
            data = {}
        if isinstance(data, dict):
            data = {"address_id": address_id, "document_type": document_type, **data}
            if "document_id" not in data and "id" in data:
                data["document_id"] = data["id"]
        return _validate(cls, data, "document answer")


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class AddressStatus:
    """An address's verification state (submit and check-status answers)."""

    address_id: _Int
    status: _Str
    reason: _ExtraStr = None
    submitted_at: _ExtraTime = None
    updated_at: _ExtraTime = None

    @property
    def usable_for_purchase(self) -> bool:
        return self.status in USABLE_ADDRESS_STATUSES

    @classmethod
    def from_api(cls, data: Any, *, address_id: int | None = None) -> Self:
        what = "address status"
        if isinstance(data, dict):
            inner: dict[str, Any] = data["address"] if isinstance(data.get("address"), dict) else data
            data = dict(inner)
            if "address_id" not in data:
                data["address_id"] = data.get("id", address_id)
        return _validate(cls, data, what)


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class Credits:
    balance: _Money
    tier: _Str | None = None
    rate_per_minute: _ExactNumber | None = None
    is_paused: _Bool | None = None
    concurrent_limit: _Int | None = None
    credits_expire_at: _Time | None = None
    updated_at: _Time | None = None

    @classmethod
    def from_api(cls, data: Any) -> Self:
        return _validate(cls, data, "credits answer")


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class Purchase:
    id: _Int
    phone_number: _Str

    @classmethod
    def from_api(cls, data: Any) -> Self:
        return _validate(cls, data, "purchase answer")


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    phone_number_id: _Int
    agent_id: _Int

    @classmethod
    def from_api(cls, data: Any) -> Self:
        return _validate(cls, data, "assignment answer")


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    id: _Int
    pending_release: _Bool
    reclaim_before: _Time | None = None

    @classmethod
    def from_api(cls, data: Any) -> Self:
        return _validate(cls, data, "release answer")


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class Reclaim:
    id: _Int
    status: _Str

    @classmethod
    def from_api(cls, data: Any) -> Self:
        return _validate(cls, data, "reclaim answer")


# The envelopes of the two cursor-paginated lists. Their items are read one by one with from_api.


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class _NumberListAnswer:
    phone_numbers: _List
    next_cursor: _Cursor = None


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class _AgentListAnswer:
    agents: _List
    next_cursor: _Cursor = None


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The X-RateLimit-* headers of the latest answer. Enterprise sends no limit nor remaining."""

    limit: int | None
    remaining: int | None
    reset: datetime | None
    tier: str | None
    concurrent_call_limit: int | None = None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> Self | None:
        names = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-tier")
        if not any(name in headers for name in names):
            return None
        reset_epoch = _header_number(headers.get("x-ratelimit-reset"))
        return cls(
            limit=_header_int(headers.get("x-ratelimit-limit")),
            remaining=_header_int(headers.get("x-ratelimit-remaining")),
            reset=datetime.fromtimestamp(reset_epoch, UTC) if reset_epoch is not None else None,
            tier=headers.get("x-ratelimit-tier") or None,
            concurrent_call_limit=_header_int(headers.get("x-concurrent-call-limit")),
        )


def _header_number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _header_int(value: str | None) -> int | None:
    number = _header_number(value)
    return int(number) if number is not None else None


def _retry_after_seconds(response: httpx.Response, body: Any, now: float) -> float | None:
    """Seconds to wait before trying again: body retryAfter, Retry-After, then X-RateLimit-Reset."""
    if isinstance(body, dict):
        value = body.get("retryAfter")
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return max(0.0, float(value))
    header = response.headers.get("retry-after")
    if header:
        seconds = _header_number(header)
        if seconds is not None:
            return seconds
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - now)
    reset = _header_number(response.headers.get("x-ratelimit-reset"))
    if reset is not None and response.status_code == 429:
        return max(0.0, reset - now)
    return None


# --- The client -------------------------------------------------------------------------------


class StaffifyClient:
    """A Staffify API client over one shared, thread-safe httpx.Client."""

    rate_limit: RateLimit | None
    clock_skew: timedelta

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        project_id: str | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        max_retries: int = 2,
        backoff_base: float = 0.25,
        backoff_cap: float = 4.0,
        retry_after_cap: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = DEFAULT_USER_AGENT,
        observe: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("A Staffify API key is required.")
        if api_key.startswith("sfy_org_") and not project_id:
            raise ValueError("An sfy_org_ key needs a project_id (proj_...) to say which project.")
        if max_retries < 0:
            raise ValueError("max_retries cannot be negative.")
        self.base_url = base_url.rstrip("/")
        self.project_id = project_id
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self.rate_limit = None
        self.clock_skew = timedelta(0)  # Staffify's clock minus ours, from its Date headers
        self._api_key = api_key
        self._sleep = sleep
        self._observe = observe  # sees every answer (get_client feeds the shared rate budget with it)
        headers = {
            "Authorization": f"Bearer {api_key}",
            "User-Agent": user_agent,
            "Accept": "application/json",
        }
        if project_id:
            headers["X-Project-Id"] = project_id
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=transport,
            follow_redirects=False,
            # One client serves every dashboard user: never carry a cookie from one call to the next.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    def __repr__(self) -> str:
        return f"StaffifyClient(base_url={self.base_url!r}, project_id={self.project_id!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- reads --------------------------------------------------------------------------------

    def search_numbers(
        self,
        *,
        country_code: str = "US",
        number_type: str = "local",
        area_code: str | None = None,
        city_code: str | None = None,
        contains: str | None = None,
        limit: int | None = None,
    ) -> list[AvailableNumber]:
        params = {
            "country_code": country_code,
            "type": number_type,
            "area_code": area_code,
            "city_code": city_code,
            "contains": contains,
            "limit": limit,
        }
        return self._call("GET", "/phone-numbers/search", _parse_search, params=params)

    def list_numbers(self, *, after: int | str | None = None, limit: int | None = None) -> NumberPage:
        params = {"after": after, "limit": limit}
        return self._call("GET", "/phone-numbers", _parse_number_page, params=params)

    def iter_numbers(self, *, page_size: int = 100) -> Iterator[PhoneNumber]:
        """Every owned number, fetching page after page as the caller iterates."""
        return self._walk(lambda after: self.list_numbers(after=after, limit=page_size), "/phone-numbers")

    def get_number(self, number_id: int) -> PhoneNumber:
        return self._call("GET", f"/phone-numbers/{_path_id(number_id)}", _parse_number)

    def countries(self) -> list[Country]:
        return self._call("GET", "/phone-numbers/countries", _parse_countries)

    def list_agents(self, *, after: int | str | None = None, limit: int | None = None) -> _AgentPage:
        """One page of agents (the mirror's sync walks them a page at a time, pacing itself)."""
        return self._call("GET", "/agents", _parse_agent_page, params={"after": after, "limit": limit})

    def iter_agents(self, *, page_size: int = 100) -> Iterator[Agent]:
        return self._walk(lambda after: self.list_agents(after=after, limit=page_size), "/agents")

    def agents(self) -> list[Agent]:
        """Every agent, all pages."""
        return list(self.iter_agents())

    def addresses(self) -> list[Address]:
        """Not documented by Staffify (a sandbox choice): expect a NotFoundError where it is absent."""
        return self._call("GET", "/addresses", _parse_addresses)

    def address_requirements(self, country: str) -> AddressRequirements:
        return self._call("GET", "/addresses/requirements", AddressRequirements.from_api, params={"country": country})

    def credits(self) -> Credits:
        return self._call("GET", "/credits", Credits.from_api)

    # --- writes -------------------------------------------------------------------------------

    def purchase_number(
        self,
        phone_number: str,
        *,
        country_code: str = "US",
        number_type: str = "local",
        address_id: int | None = None,
        city_code: str | None = None,
    ) -> Purchase:
        body: dict[str, Any] = {
            "phone_number": phone_number,
            "country_code": country_code,
            "number_type": number_type,
        }
        if address_id is not None:
            body["address_id"] = address_id
        if city_code is not None:
            body["city_code"] = city_code
        return self._call("POST", "/phone-numbers", Purchase.from_api, json=body)

    def set_tags(self, number_id: int, tags: list[str]) -> PhoneNumber | None:
        """Replace the tags. The number as Staffify now has it, or None if the answer has none."""
        if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
            raise TypeError("tags must be a list of strings.")
        path = f"/phone-numbers/{_path_id(number_id)}"
        return self._call("PATCH", path, _parse_optional_number, json={"tags": list(tags)})

    def assign(self, number_id: int, agent_id: int) -> Assignment:
        path = f"/phone-numbers/{_path_id(number_id)}/assign"
        return self._call("PUT", path, Assignment.from_api, json={"agent_id": agent_id})

    def unassign(self, number_id: int) -> None:
        self._request("DELETE", f"/phone-numbers/{_path_id(number_id)}/assign")

    def release(self, number_id: int) -> Release:
        return self._call("DELETE", f"/phone-numbers/{_path_id(number_id)}", Release.from_api)

    def reclaim(self, number_id: int) -> Reclaim:
        return self._call("POST", f"/phone-numbers/{_path_id(number_id)}/reclaim", Reclaim.from_api)

    # The address workflow. Creating, uploading and submitting are sent once (a repeat would create a
    # second address, upload the document twice, or meet ALREADY_SUBMITTED); check-status only reads.

    def create_address(
        self,
        *,
        street_address: str,
        city: str,
        postal_code: str,
        country_code: str,
        contact_name: str,
        contact_email: str,
        contact_phone: str,
        company_name: str | None = None,
        city_code: str | None = None,
    ) -> CreatedAddress:
        body: dict[str, Any] = {
            "street_address": street_address,
            "city": city,
            "postal_code": postal_code,
            "country_code": country_code,
            "contact_name": contact_name,
            "contact_email": contact_email,
            "contact_phone": contact_phone,
        }
        if company_name:
            body["company_name"] = company_name
        if city_code:
            body["city_code"] = city_code
        return self._call("POST", "/addresses", CreatedAddress.from_api, json=body)

    def upload_address_document(
        self, address_id: int, *, document_type: str, filename: str, content: bytes, content_type: str
    ) -> AddressDocument:
        """POST the file as multipart/form-data (`file` and `document_type`)."""
        path = f"/addresses/{_path_id(address_id)}/documents"
        return self._call(
            "POST",
            path,
            lambda data: AddressDocument.from_api(data, address_id=address_id, document_type=document_type),
            data={"document_type": document_type},
            files={"file": (filename, content, content_type)},
        )

    def submit_address(self, address_id: int) -> AddressStatus:
        """Send the address to the carrier for review. Cannot be undone."""
        path = f"/addresses/{_path_id(address_id)}/submit"
        return self._call("POST", path, lambda data: AddressStatus.from_api(data, address_id=address_id))

    def check_address_status(self, address_id: int) -> AddressStatus:
        """The address's verification status. A POST, but it changes nothing: retried like a read."""
        path = f"/addresses/{_path_id(address_id)}/check-status"
        return self._call("POST", path, lambda data: AddressStatus.from_api(data, address_id=address_id), policy=_READ)

    # --- pagination ---------------------------------------------------------------------------

    def _walk(self, fetch: Callable[[Any], NumberPage | _AgentPage], path: str) -> Iterator[Any]:
        seen: set[int | str] = set()
        after = None
        while True:
            page = fetch(after)
            items, cursor = page.items, page.next_cursor
            yield from items
            if cursor is None or not items:
                return
            if cursor in seen:
                # A cursor we already followed would loop forever: stop rather than hang the page.
                logger.warning("Staffify repeated the cursor %r on %s; stopped paging there.", cursor, path)
                return
            seen.add(cursor)
            after = cursor

    # --- transport ----------------------------------------------------------------------------

    def _call[T](
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        policy: str | None = None,
    ) -> T:
        """Send, decode the JSON of the 2xx answer (None when empty) and parse it."""
        response = self._request(method, path, params=params, json=json, data=data, files=files, policy=policy)
        request_id = response.headers.get("x-request-id")
        data = None
        if response.status_code != 204 and response.content.strip():
            try:
                data = response.json()
            except ValueError:
                error = StaffifyResponseError(
                    f"Staffify answered {method} {path} with something other than JSON.",
                    status=response.status_code,
                    request_id=request_id,
                )
                logger.warning("Staffify %s %s: %s", method, path, error)
                raise error from None
        try:
            return parse(data)
        except StaffifyResponseError as error:
            # Support needs the request id to look into an answer we could not read.
            error.status = response.status_code
            error.request_id = request_id
            logger.warning("Staffify %s %s: %s", method, path, error)
            raise

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        policy: str | None = None,
    ) -> httpx.Response:
        policy = policy or _RETRY_POLICY[method]
        if params is not None:
            params = {key: value for key, value in params.items() if value is not None}
        retry = 0
        while True:
            try:
                response = self._send(method, path, params=params, json=json, data=data, files=files)
            except httpx.TransportError as err:
                error = self._transport_error(err, method, path, policy)
                if retry < self.max_retries and (
                    policy == _READ or (policy == _IDEMPOTENT and isinstance(err, _NOT_SENT))
                ):
                    delay = self._backoff(retry)
                    self._before_retry(method, path, error, delay)
                    retry += 1
                    continue
                logger.warning("Staffify %s %s failed: %s", method, path, error)
                raise error from err
            except httpx.DecodingError as err:
                raise StaffifyResponseError(f"Staffify's answer to {method} {path} could not be decoded.") from err

            if response.is_success:
                return response

            refusal = self._status_error(response, method, path, policy)
            if retry < self.max_retries and policy != _ONCE and _is_retryable_status(response.status_code):
                wait = self._retry_delay(response, refusal, retry)
                if wait is not None:
                    self._before_retry(method, path, refusal, wait)
                    retry += 1
                    continue
            logger.warning("Staffify %s %s failed: %s", method, path, refusal)
            raise refusal

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None,
        json: Any,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        status: int | None = None
        request_id: str | None = None
        started = time.perf_counter()
        try:
            response = self._http.request(method, path, params=params, json=json, data=data, files=files)
            status = response.status_code
            request_id = response.headers.get("x-request-id")
            rate_limit = RateLimit.from_headers(response.headers)
            if rate_limit is not None:
                self.rate_limit = rate_limit
            self._remember_clock(response.headers.get("x-sandbox-now"), response.headers.get("date"))
            if self._observe is not None:
                self._observe(response)
            return response
        finally:
            seconds = time.perf_counter() - started
            _record_call(method, path, status, seconds)
            logger.debug(
                "Staffify %s %s -> %s in %.0f ms (request id %s)",
                method,
                path,
                status if status is not None else "no answer",
                seconds * 1000,
                request_id or "-",
            )

    def _remember_clock(self, sandbox_now: str | None, date_header: str | None) -> None:
        """Staffify's clock as its Date header shows it (whole seconds): deadlines it sends, like
        reclaim_before, count down on its clock, not ours. Small jitter is ignored. Our sandbox
        also says it in X-Sandbox-Now, which survives servers (gunicorn) that rewrite Date."""
        try:
            if sandbox_now:
                server_now = parse_datetime(sandbox_now)
            elif date_header:
                server_now = email.utils.parsedate_to_datetime(date_header)
            else:
                return
        except (TypeError, ValueError, StaffifyResponseError):
            return
        if server_now.tzinfo is None:
            return
        skew = server_now - datetime.now(UTC)
        if abs((skew - self.clock_skew).total_seconds()) > 1.5:
            self.clock_skew = skew

    def _before_retry(self, method: str, path: str, error: StaffifyError, delay: float) -> None:
        logger.warning("Staffify %s %s failed (%s); retrying in %.2f s.", method, path, error, delay)
        _record_backoff(delay)
        self._sleep(delay)

    def _backoff(self, retry: int) -> float:
        """Capped exponential backoff, with up to a quarter taken off at random (jitter)."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2**retry)
        return ceiling * (1 - 0.25 * random.random())

    def _retry_delay(self, response: httpx.Response, error: StaffifyError, retry: int) -> float | None:
        """How long to wait before the next try; None when Staffify asks for longer than we wait."""
        hinted = error.retry_after if isinstance(error, RateLimitError) else None
        if hinted is None:
            hinted = _retry_after_seconds(response, None, time.time())
        if error.code == "AUTH_RATE_LIMITED":
            return None  # too many failed logins from this IP: it lasts minutes and retries add to it
        if hinted is None or hinted <= 0:
            return self._backoff(retry)
        if hinted > self.retry_after_cap:
            # Retrying sooner than asked would only be refused again: give up and let the page say
            # when to come back (RateLimitError.retry_after).
            return None
        return hinted

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted key]") if self._api_key in text else text

    def _transport_error(
        self, err: httpx.TransportError, method: str, path: str, policy: str
    ) -> StaffifyConnectionError:
        reason = self._redact(str(err) or type(err).__name__)
        # Once a write may have left, only its answer would tell whether Staffify acted.
        outcome_unknown = policy != _READ and not isinstance(err, _NOT_SENT)
        if isinstance(err, httpx.TimeoutException):
            phase = _TIMEOUT_PHASES.get(type(err), "read")
            return StaffifyTimeoutError(
                f"Staffify did not answer {method} {path} in time ({phase} timeout).",
                phase=phase,
                outcome_unknown=outcome_unknown,
            )
        return StaffifyConnectionError(
            f"Could not reach Staffify for {method} {path}: {reason}", outcome_unknown=outcome_unknown
        )

    def _status_error(self, response: httpx.Response, method: str, path: str, policy: str) -> StaffifyStatusError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None  # e.g. the HTML page of a proxy's 502
        code = message = None
        details: dict[str, str] = {}
        if isinstance(body, dict):
            inner: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else body
            for source in (inner, body):
                if isinstance(source.get("code"), str):
                    code = source["code"]
                    break
            for key in ("message", "error"):
                if isinstance(inner.get(key), str) and inner[key].strip():
                    message = inner[key]
                    break
            details = _details(inner.get("details"))
        if message is None:
            reason = response.reason_phrase or "error"
            message = f"Staffify answered {method} {path} with HTTP {status} {reason}"
        kwargs: dict[str, Any] = {
            "status": status,
            "code": code,
            "request_id": response.headers.get("x-request-id"),
            "details": {key: self._redact(value) for key, value in details.items()},
            "outcome_unknown": policy != _READ and status in _GATEWAY_STATUSES,
        }
        message = self._redact(message)
        if status == 429:
            return RateLimitError(message, retry_after=_retry_after_seconds(response, body, time.time()), **kwargs)
        cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else StaffifyStatusError)
        return cls(message, **kwargs)


def _is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def _details(value: Any) -> dict[str, str]:
    """Validation details as field -> message, from an object or a list of {field, message}."""
    if isinstance(value, dict):
        return {str(key): str(message) for key, message in value.items()}
    if isinstance(value, list):
        details = {}
        for item in value:
            if isinstance(item, dict) and "field" in item:
                details[str(item["field"])] = str(item.get("message", ""))
        return details
    return {}


def _unwrap_number(data: Any) -> dict[str, Any] | None:
    """The number object in an answer: the answer itself, or under `phone_number`/`number`/`data`."""
    if not isinstance(data, dict):
        return None
    if "id" in data and "phone_number" in data:
        return data
    for key in ("phone_number", "number", "data"):
        if isinstance(data.get(key), dict):
            return data[key]
    return None


@pydantic_dataclass(frozen=True, slots=True, kw_only=True)
class _AgentPage:
    agents: list[Agent]
    next_cursor: _Cursor = None

    @property
    def items(self) -> list[Agent]:
        return self.agents


def _parse_search(data: Any) -> list[AvailableNumber]:
    what = "search answer"
    items = _list_under(data, ("numbers", "available_numbers", "phone_numbers", "data"), what)
    return _each(AvailableNumber.from_api, items, what)


def _parse_number_page(data: Any) -> NumberPage:
    what = "list of phone numbers"
    answer = _validate(_NumberListAnswer, data, what)
    return NumberPage(numbers=_each(PhoneNumber.from_api, answer.phone_numbers, what), next_cursor=answer.next_cursor)


def _parse_agent_page(data: Any) -> _AgentPage:
    what = "list of agents"
    answer = _validate(_AgentListAnswer, data, what)
    return _AgentPage(agents=_each(Agent.from_api, answer.agents, what), next_cursor=answer.next_cursor)


def _parse_number(data: Any) -> PhoneNumber:
    return PhoneNumber.from_api(_unwrap_number(data) or data)


def _parse_optional_number(data: Any) -> PhoneNumber | None:
    number = _unwrap_number(data)
    return PhoneNumber.from_api(number) if number is not None else None


def _parse_countries(data: Any) -> list[Country]:
    what = "list of countries"
    return _each(Country.from_api, _list_under(data, ("countries",), what), what)


def _parse_addresses(data: Any) -> list[Address]:
    what = "list of addresses"
    return _each(Address.from_api, _list_under(data, ("addresses",), what), what)


def _path_id(number_id: int) -> int:
    """An id for a URL path: a whole number, never text that could change the path."""
    if isinstance(number_id, bool):
        raise TypeError("A Staffify id must be a whole number.")
    if isinstance(number_id, str) and number_id.isdigit():
        return int(number_id)
    if not isinstance(number_id, int):
        raise TypeError("A Staffify id must be a whole number.")
    return number_id


# --- Django glue ------------------------------------------------------------------------------

_shared_client: StaffifyClient | None = None
_shared_lock = threading.Lock()
_receiver_connected = False


def get_client() -> StaffifyClient:
    """The process's one StaffifyClient, built from settings on first use."""
    global _shared_client, _receiver_connected
    client = _shared_client
    if client is not None:
        return client
    from django.conf import settings
    from django.core.signals import setting_changed

    with _shared_lock:
        if not _receiver_connected:
            setting_changed.connect(_drop_shared_client, dispatch_uid="numbers_app.staffify.drop_client")
            _receiver_connected = True
        if _shared_client is None:
            _shared_client = StaffifyClient(
                settings.STAFFIFY_API_URL,
                settings.STAFFIFY_API_KEY or "",  # settings refuse to start without one
                project_id=getattr(settings, "STAFFIFY_PROJECT_ID", None),
                timeout=settings.STAFFIFY_TIMEOUT,
                connect_timeout=settings.STAFFIFY_CONNECT_TIMEOUT,
                max_retries=settings.STAFFIFY_MAX_RETRIES,
                # Tests only (never from the environment): e.g. httpx.WSGITransport to the sandbox.
                transport=getattr(settings, "STAFFIFY_TRANSPORT", None),
                observe=_after_answer,
            )
        return _shared_client


def _after_answer(response: httpx.Response) -> None:
    """Every answer feeds the rate budget; every answered write may have moved the balance (a purchase
    charges it, and Staffify does not say what else does), so the header's cached figure is dropped."""
    _feed_budget(response)
    if response.request.method not in ("GET", "HEAD"):
        from numbers_app import lookups

        lookups.forget_balance()


def _feed_budget(response: httpx.Response) -> None:
    """Every answer updates the organisation's shared budget (numbers_app.budget); a 429 pauses
    background work until Staffify's window resets."""
    from numbers_app import budget

    budget.record(response.headers)
    if response.status_code == 429:
        try:
            body = response.json()
        except ValueError:
            body = None
        budget.note_rate_limited(_retry_after_seconds(response, body, time.time()))


def _drop_shared_client(*, setting: str, **kwargs: Any) -> None:
    """A STAFFIFY_* setting changed (tests): the next get_client() builds a fresh client.

    The old client is not closed: another thread may still be using it; it goes with the garbage.
    """
    global _shared_client
    if setting.startswith("STAFFIFY_"):
        with _shared_lock:
            _shared_client = None
