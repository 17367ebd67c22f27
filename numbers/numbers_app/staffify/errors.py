"""The errors the Staffify client raises: every failure is one of these, nothing from httpx, json or
pydantic. Show `str(error)`: it names the status, the code and the request id."""

from __future__ import annotations

from typing import Any


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
