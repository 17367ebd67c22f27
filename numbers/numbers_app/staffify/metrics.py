"""The client's own Prometheus metrics: every call it sends (retries included), how long it took,
what Staffify answered, and the retries it made. `tracking` and `transport` feed them; the app only
exposes them (`/metrics`), so the client still imports nothing of the app.

Labels stay bounded: the endpoint is the route template (`/phone-numbers/{id}/assign`), never a
number's id; the status is the HTTP status or "none" when no answer came. With
PROMETHEUS_MULTIPROC_DIR set, prometheus_client keeps each process's values in a file there, and
/metrics adds up every web process and the worker.
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Histogram, disable_created_metrics

# The `_created` series double every counter for a timestamp nobody graphs (multiprocess mode has none).
disable_created_metrics()

# Staffify answers in tens of milliseconds, a slow page in seconds; the client times out at 10 s.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "staffify_requests",
    "Calls sent to Staffify (every attempt, retries included), by endpoint, method and answer status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "staffify_request_duration_seconds",
    "Time from sending a call to Staffify to its answer (or its failure), by endpoint and method.",
    ["endpoint", "method"],
    buckets=LATENCY_BUCKETS,
)
RATE_LIMITED = Counter(
    "staffify_rate_limited",
    "Calls Staffify refused with 429 (rate limit), by endpoint and method.",
    ["endpoint", "method"],
)
RETRIES = Counter(
    "staffify_retries",
    "Calls sent again after a failure, by endpoint, method and reason (rate_limited, server_error, connection).",
    ["endpoint", "method", "reason"],
)
RETRY_WAIT = Counter(
    "staffify_retry_wait_seconds",
    "Seconds spent waiting before retries (backoff and Retry-After).",
)

_ID_SEGMENT = re.compile(r"^(?:\d+|[A-Za-z]+_[0-9A-Za-z]+)$")
# Methods the client sends; anything else (never sent today) is counted as "other".
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def endpoint(path: str) -> str:
    """The route template of a call's path: each id segment (digits, or a `prefix_id` such as
    `agent_28c51f81`) becomes `{id}`; the query string is dropped."""
    path = path.split("?", 1)[0]
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/")) or "/"


def method_label(method: str) -> str:
    method = method.upper()
    return method if method in _METHODS else "other"


def record_call(method: str, path: str, status: int | None, seconds: float) -> None:
    route, verb = endpoint(path), method_label(method)
    REQUESTS.labels(route, verb, str(status) if status is not None else "none").inc()
    LATENCY.labels(route, verb).observe(seconds)
    if status == 429:
        RATE_LIMITED.labels(route, verb).inc()


def record_retry(method: str, path: str, reason: str, delay: float) -> None:
    RETRIES.labels(endpoint(path), method_label(method), reason).inc()
    RETRY_WAIT.inc(max(0.0, delay))
