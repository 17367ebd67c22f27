"""How old the mirror is, for every page that reads it, and "Refresh now"."""

from __future__ import annotations

from typing import Any

from numbers_app import mirror
from numbers_app.models import SyncRun


def context() -> dict[str, Any]:
    """What the freshness line shows: the last good sync, a running one with its progress, and a
    failure newer than the last good sync (the mirror is then older than it should be)."""
    running = mirror.running_sync()
    return {
        "last": mirror.last_sync(),
        "running": running,
        "progress": progress(running) if running else None,
        "failure": mirror.last_failure(),
    }


def progress(run: SyncRun) -> int | None:
    """Percent done, judged by the previous sync's count (None the first time)."""
    if not run.expected:
        return None
    return min(99, round(100 * run.numbers_seen / run.expected))


def refresh(user: Any) -> SyncRun:
    """Start a sync now in the worker, or join the one already running."""
    from numbers_app.tasks import sync_mirror

    try:
        run = mirror.begin(user)
    except mirror.SyncBusy:
        running = mirror.running_sync()
        if running is not None:
            return running
        run = mirror.begin(user)
    sync_mirror.enqueue(run.pk)
    return run
