"""How old the mirror is, for every page that reads it, and "Refresh now"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
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
        "next_sync": None if running else next_sync_at(),
    }


def next_sync_at() -> datetime:
    """When the worker's next periodic sync may start: MIRROR_SYNC_SECONDS after the last one started,
    or its duration times MIRROR_SYNC_FACTOR if that is longer (a sync of 100,000 numbers takes minutes
    of the rate budget: the account is not walked again at once). Now, when none has run."""
    last = (
        SyncRun.objects.exclude(state=SyncRun.State.RUNNING)
        .filter(finished_at__isnull=False)
        .order_by("-started_at")
        .first()
    )
    if last is None or last.finished_at is None:
        return timezone.now()
    took = last.finished_at - last.started_at
    gap = max(timedelta(seconds=settings.MIRROR_SYNC_SECONDS), took * settings.MIRROR_SYNC_FACTOR)
    return max(last.started_at + gap, last.finished_at)


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
