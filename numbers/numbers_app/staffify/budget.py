"""The organisation's Staffify request budget, shared by every process through Django's cache.

Staffify allows each organisation a number of requests per minute and says after every answer how
many are left (X-RateLimit-Limit, -Remaining, and -Reset, the window's end in Unix seconds). People
and the worker share that budget, and people come first:

- "page" work (a person waiting) is always allowed, unless Staffify itself answered 429: then it
  waits the Retry-After that Staffify gave, since any call before that would be refused anyway;
- "background" work (the worker) is allowed only while more than a reserve remains (by default 30%
  of the limit, STAFFIFY_BACKGROUND_RESERVE), and after a 429 it pauses until the window resets.

The service module calls `record(headers)` after each answer and `note_rate_limited(retry_after)`
on a 429; callers ask `allow(kind)` before a call and the worker sleeps `wait_time(kind)`.
The state lives in the default cache, so with CACHE_URL=redis://… every web and worker process sees
the same budget; with the default local-memory cache each process keeps its own.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

from django.conf import settings
from django.core.cache import cache

Kind = Literal["page", "background"]
KINDS = ("page", "background")
# Without a Reset header, a window is assumed to last a minute (Staffify's limits are per minute).
WINDOW_SECONDS = 60


@dataclass
class State:
    limit: int | None = None  # None: unknown, or unlimited (Enterprise omits Limit and Remaining)
    remaining: int | None = None
    reset: float | None = None  # Unix seconds when the current window ends
    page_paused_until: float = 0.0  # Staffify's own Retry-After
    background_paused_until: float = 0.0  # a 429 pauses the worker until the window resets


def organisation() -> str:
    """The budget's name: Staffify counts per organisation. Every project the dashboard serves belongs to
    one organisation (an org key reaches them all; project keys are taken to be the same organisation's),
    so there is one budget for all of them. The keys themselves are never stored, only a digest."""
    keys = sorted({str(p["key"] or settings.STAFFIFY_API_KEY) for p in settings.STAFFIFY_PROJECTS})
    return hashlib.sha256(":".join(keys).encode()).hexdigest()[:16]


def _cache_key(org: str | None) -> str:
    return f"staffify-budget:{org or organisation()}"


def state(org: str | None = None) -> State:
    """What is known of the budget now (a blank State when nothing is)."""
    data = cache.get(_cache_key(org))
    return State(**data) if isinstance(data, dict) else State()


def _save(current: State, org: str | None, now: float) -> None:
    ends = max(current.reset or 0, current.page_paused_until, current.background_paused_until)
    # Kept a little past the window's end (stale numbers then read as a new window), at least 5 min.
    cache.set(_cache_key(org), asdict(current), timeout=max(300, math.ceil(ends - now) + 60))


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def record(headers: Mapping[str, str], *, org: str | None = None, now: float | None = None) -> None:
    """Update the budget from one Staffify answer's X-RateLimit-* headers (httpx's headers are
    case-insensitive; pass any Mapping). An answer without them changes nothing."""
    now = time.time() if now is None else now
    limit = _int_header(headers, "X-RateLimit-Limit")
    remaining = _int_header(headers, "X-RateLimit-Remaining")
    reset = _int_header(headers, "X-RateLimit-Reset")
    if limit is None and remaining is None and reset is None:
        return
    current = state(org)
    same_window = current.reset is not None and reset is not None and reset == current.reset
    if same_window and remaining is not None and current.remaining is not None:
        # Answers may arrive out of order: within one window the lowest count is the latest.
        remaining = min(remaining, current.remaining)
    current.limit, current.remaining = limit, remaining
    current.reset = float(reset) if reset is not None else now + WINDOW_SECONDS
    _save(current, org, now)


def note_rate_limited(retry_after: float | None, *, org: str | None = None, now: float | None = None) -> None:
    """Staffify answered 429: pages wait its Retry-After; background work waits for the window's
    end, whichever is later."""
    now = time.time() if now is None else now
    current = state(org)
    wait = retry_after if retry_after is not None and retry_after >= 0 else WINDOW_SECONDS
    current.page_paused_until = max(current.page_paused_until, now + wait)
    window_end = current.reset if current.reset is not None and current.reset > now else now
    current.background_paused_until = max(current.background_paused_until, now + wait, window_end)
    current.remaining = 0
    _save(current, org, now)


def reserve(limit: int) -> int:
    """How many requests of each window background work leaves to people."""
    return math.ceil(limit * settings.STAFFIFY_BACKGROUND_RESERVE)


def wait_time(kind: Kind, *, org: str | None = None, now: float | None = None) -> float:
    """Seconds until `kind` of work may call Staffify (0.0: now)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be 'page' or 'background', not {kind!r}")
    now = time.time() if now is None else now
    current = state(org)
    if kind == "page":
        return max(0.0, current.page_paused_until - now)
    wait = max(0.0, current.background_paused_until - now)
    if current.reset is None or current.reset <= now:
        return wait  # a new window: its numbers are not known yet, so the first call finds out
    if current.limit is not None and current.remaining is not None and current.remaining <= reserve(current.limit):
        wait = max(wait, current.reset - now)
    return wait


def allow(kind: Kind, *, org: str | None = None, now: float | None = None) -> bool:
    """May `kind` of work call Staffify now?"""
    return wait_time(kind, org=org, now=now) == 0.0
