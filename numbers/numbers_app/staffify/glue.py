"""The Django side of the client: the process's one shared StaffifyClient, built from the STAFFIFY_*
settings (and built anew when a test changes one of them). Its every answer feeds the organisation's
rate budget (numbers_app.staffify.budget), and its every answered write drops the cached balance.

The rest of the package is plain Python; this is the only module that reads Django settings.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed

from numbers_app.staffify import budget
from numbers_app.staffify.client import StaffifyClient
from numbers_app.staffify.transport import _retry_after_seconds

# Where numbers_app.staffify.lookups caches the balance for the page header. The key is kept here, beside the
# one thing that must drop it from below (every answered write), so that the client never imports
# lookups, which imports the client.
BALANCE_CACHE_KEY = "staffify:balance"
BALANCE_STALE_KEY = "staffify:balance:stale"  # set by every answered write: the worker reads it again
# Staffify's clock minus ours as the last answer in any process showed it (seconds): a page that makes
# no call still counts down on Staffify's clock, which the worker's calls keep up to date.
CLOCK_SKEW_KEY = "staffify:clock_skew"
_shared_skew: float | None = None

_shared_client: StaffifyClient | None = None
_shared_lock = threading.Lock()
_receiver_connected = False


def get_client() -> StaffifyClient:
    """The process's one StaffifyClient, built from settings on first use."""
    global _shared_client, _receiver_connected
    client = _shared_client
    if client is not None:
        return client
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


def forget_balance() -> None:
    """The kept balance may have moved (a write was answered; a purchase charges it): mark it so, and
    the worker reads it again within BALANCE_CHECK_SECONDS (numbers_app.tasks.refresh_balance). Pages
    keep showing the reading they have, with its age, and never read it themselves."""
    cache.set(BALANCE_STALE_KEY, True, None)


def _after_answer(response: httpx.Response) -> None:
    """Every answer feeds the rate budget; every answered write may have moved the balance (a purchase
    charges it, and Staffify does not say what else does), so the kept figure is marked for the worker."""
    _feed_budget(response)
    _share_clock_skew()
    if response.request.method not in ("GET", "HEAD"):
        forget_balance()


def _share_clock_skew() -> None:
    """Written to the shared cache when it moved (the client ignores jitter under 1.5 s): rarely."""
    global _shared_skew
    client = _shared_client
    if client is None:
        return
    skew = client.clock_skew.total_seconds()
    if skew != _shared_skew or cache.get(CLOCK_SKEW_KEY) is None:
        _shared_skew = skew
        cache.set(CLOCK_SKEW_KEY, skew, None)


def _feed_budget(response: httpx.Response) -> None:
    """Every answer updates the organisation's shared budget (numbers_app.staffify.budget); a 429 pauses
    background work until Staffify's window resets."""
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
