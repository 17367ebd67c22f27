"""What Staffify answers, read into typed, frozen results, and the parsers the client hands answers to.

Answers are read by pydantic v2 (as pydantic dataclasses), chosen over msgspec for its mypy plugin,
its precise validation errors (turned into one sentence naming the field) and coercion set per field.
An answer that does not fit raises StaffifyResponseError; pydantic's own errors never leave this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, Self

import pydantic
from pydantic.dataclasses import dataclass as pydantic_dataclass
from pydantic_core import PydanticCustomError

from numbers_app.rules import DOCUMENT_FILE_TYPES, DOCUMENT_MAX_BYTES, USABLE_ADDRESS_STATUSES
from numbers_app.staffify.errors import StaffifyResponseError

# One logger for the whole client, named as before the package split: log lines and filters keep it.
logger = logging.getLogger("numbers_app.staffify")


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


def agent_names(agents: Iterable[Agent]) -> dict[int, str]:
    """Each agent's name by id. The mirror's list of agents (mirror.listing.Agents) carries it ready:
    a page that needs only names does not go through every agent."""
    names = getattr(agents, "names", None)
    return names if isinstance(names, dict) else {a.id: a.name for a in agents}


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


# --- Parsers: one per endpoint's answer, handed to StaffifyClient._call -----------------------


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
