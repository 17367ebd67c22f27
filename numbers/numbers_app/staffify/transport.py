"""How the Staffify client sends: one shared `httpx.Client` (connection pooling, explicit timeouts, the
auth headers), retries with backoff honouring Retry-After, the X-RateLimit-* headers, Staffify's clock
(the skew seen in its Date header) and turning every failure into a `StaffifyError`: nothing from
httpx or json ever leaves this module.

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
  (numbers_app.changes.settle), never by sending it again.
- The address workflow's POST create, documents and submit are sent once (each creates or changes
  something); an address's check-status POST only reads the status, so it is retried like a read.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Self

import httpx

from numbers_app.staffify import metrics
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
from numbers_app.staffify.models import parse_datetime
from numbers_app.staffify.tracking import _record_backoff, _record_call

# One logger for the whole client, named as before the package split: log lines and filters keep it.
logger = logging.getLogger("numbers_app.staffify")

DEFAULT_USER_AGENT = "staffify-numbers-dashboard/0.1"


# --- Errors from failures ---------------------------------------------------------------------

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

# A write lives at most WRITE_ATTEMPTS whole attempts: a retry (its wait and one more whole attempt)
# is made only when it still ends within that time of the first send. So a process cannot still be
# waiting on a write older than `write_lifetime`: the sweeper may take such a write's process for dead.
WRITE_ATTEMPTS = 2


def attempt_seconds(timeout: float, connect_timeout: float) -> float:
    """The longest one attempt can take: connecting, sending the request and waiting for the answer
    (httpx's write and read timeouts, each `timeout`)."""
    return connect_timeout + 2 * timeout


def write_lifetime(timeout: float, connect_timeout: float) -> float:
    """The longest a write can live in a client with these timeouts, retries included."""
    return WRITE_ATTEMPTS * attempt_seconds(timeout, connect_timeout)


# --- Rate-limit headers -----------------------------------------------------------------------


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


# --- The transport ----------------------------------------------------------------------------


class BaseClient:
    """Sends requests to Staffify over one shared, thread-safe httpx.Client, retrying what is safe to
    retry. StaffifyClient adds one method per endpoint."""

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
        self.attempt_seconds = attempt_seconds(timeout, connect_timeout)
        self.write_lifetime = write_lifetime(timeout, connect_timeout)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=transport,
            follow_redirects=False,
            # One client serves every dashboard user: never carry a cookie from one call to the next.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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
        started = time.monotonic()

        def in_lifetime(delay: float) -> bool:
            """Whether a retry after DELAY still ends within a write's lifetime (reads are not bound)."""
            if policy == _READ:
                return True
            return time.monotonic() - started + delay + self.attempt_seconds <= self.write_lifetime

        while True:
            try:
                response = self._send(method, path, params=params, json=json, data=data, files=files)
            except httpx.TransportError as err:
                error = self._transport_error(err, method, path, policy)
                if (
                    retry < self.max_retries
                    and (policy == _READ or (policy == _IDEMPOTENT and isinstance(err, _NOT_SENT)))
                    and in_lifetime(min(self.backoff_cap, self.backoff_base * 2**retry))
                ):
                    delay = self._backoff(retry)
                    self._before_retry(method, path, error, delay)
                    retry += 1
                    continue
                logger.warning("Staffify %s %s failed: %s", method, path, error, extra=_log_extra(error))
                raise error from err
            except httpx.DecodingError as err:
                raise StaffifyResponseError(f"Staffify's answer to {method} {path} could not be decoded.") from err

            if response.is_success:
                return response

            refusal = self._status_error(response, method, path, policy)
            if retry < self.max_retries and policy != _ONCE and _is_retryable_status(response.status_code):
                wait = self._retry_delay(response, refusal, retry)
                if wait is not None and in_lifetime(wait):
                    self._before_retry(method, path, refusal, wait)
                    retry += 1
                    continue
            logger.warning("Staffify %s %s failed: %s", method, path, refusal, extra=_log_extra(refusal))
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
                extra={"staffify_request_id": request_id, "staffify_status": status},
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
        logger.warning(
            "Staffify %s %s failed (%s); retrying in %.2f s.", method, path, error, delay, extra=_log_extra(error)
        )
        if isinstance(error, RateLimitError):
            reason = "rate_limited"
        elif isinstance(error, StaffifyConnectionError):
            reason = "connection"
        else:
            reason = "server_error"
        metrics.record_retry(method, path, reason, delay)
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


def _log_extra(error: StaffifyError) -> dict[str, Any]:
    """What a structured log line carries beside the sentence (LOG_FORMAT=json): Staffify's request id
    and status, which support asks for."""
    return {
        "staffify_request_id": getattr(error, "request_id", None),
        "staffify_status": getattr(error, "status", None),
    }


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
