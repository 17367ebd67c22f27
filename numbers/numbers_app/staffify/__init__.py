"""The Staffify client: the only code that speaks HTTP to the Staffify API.

One `StaffifyClient` wraps one shared `httpx.Client`. Every call returns typed, frozen results, or
raises one of the `StaffifyError` classes; nothing from httpx, json or pydantic ever leaves the package.
Callers import from here (`from numbers_app import staffify`); the modules, each importing only those
above it:

- `errors`: the StaffifyError tree.
- `models`: the typed results (pydantic dataclasses), their validation, and the parsers of answers.
- `tracking`: `track_calls()`, counting the calls made inside a block.
- `transport`: sending, retries with backoff (see its docstring for what is retried), the
  X-RateLimit-* headers (`RateLimit`), Retry-After, Staffify's clock, the errors raised from answers.
- `client`: `StaffifyClient`, one method per endpoint, and the iterators over paginated lists.
- `glue`: `get_client()`, the process's one client built from Django settings (the only Django part).
"""

from numbers_app.staffify.client import StaffifyClient
from numbers_app.staffify.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StaffifyConnectionError,
    StaffifyError,
    StaffifyResponseError,
    StaffifyStatusError,
    StaffifyTimeoutError,
    ValidationError,
)
from numbers_app.staffify.glue import get_client
from numbers_app.staffify.models import (
    Address,
    AddressDocument,
    AddressRequirements,
    AddressStatus,
    Agent,
    Assignment,
    AvailableNumber,
    Country,
    CreatedAddress,
    Credits,
    DocumentRequirement,
    NumberPage,
    PhoneNumber,
    Purchase,
    Reclaim,
    Release,
    agent_names,
    parse_datetime,
)
from numbers_app.staffify.tracking import CallStats, track_calls
from numbers_app.staffify.transport import RateLimit, write_lifetime

__all__ = [
    "agent_names",
    "write_lifetime",
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
