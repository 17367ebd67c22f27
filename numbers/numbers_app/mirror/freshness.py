"""How old the mirror is, for every page that reads it, and "Refresh now"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.timesince import timesince

from numbers_app.mirror import store as mirror
from numbers_app.models import SyncRun


def context() -> dict[str, Any]:
    """What the freshness line shows: the last good sync, a running one with its progress, and a
    failure newer than the last good sync (the mirror is then older than it should be)."""
    running = mirror.running_sync()
    last = mirror.last_sync()
    return {
        "last": last,
        "age": age(last.finished_at) if last and last.finished_at else "",
        "running": running,
        "progress": progress(running) if running else None,
        "failure": mirror.last_failure(),
    }


def age(moment: datetime) -> str:
    """How long ago, in words: "just now", "4 minutes ago", "2 hours, 5 minutes ago"."""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"


def progress(run: SyncRun) -> int | None:
    """Percent done, judged by the previous sync's count (None the first time)."""
    if not run.expected:
        return None
    return min(99, round(100 * run.numbers_seen / run.expected))


def refresh(user: Any) -> tuple[SyncRun, bool]:
    """Claim a sync to run now, or join the one already running: the run, and whether it is new (the
    caller then enqueues numbers_app.tasks.sync_mirror for it)."""
    try:
        return mirror.begin(user), True
    except mirror.SyncBusy:
        running = mirror.running_sync()
        if running is not None:
            return running, False
        return mirror.begin(user), True
