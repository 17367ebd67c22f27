"""Call accounting: `track_calls()` counts what the client sends inside a block (every attempt, retries
included), so a page or a benchmark can say how many Staffify calls it cost; every call also moves the
process's Prometheus counters (`metrics`), which /metrics exposes."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field

from numbers_app.staffify import metrics


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
    metrics.record_call(method, path, status, seconds)
    for stats in _active_stats.get():
        stats.calls += 1
        stats.seconds += seconds
        stats.requests.append((method, path, status, seconds))


def _record_backoff(seconds: float) -> None:
    for stats in _active_stats.get():
        stats.backoff_seconds += seconds
