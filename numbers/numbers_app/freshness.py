"""How old the mirror is, for every page that reads it; "Refresh now" and the sync task."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.tasks import task
from django.utils import timezone
from django.utils.timesince import timesince

from numbers_app import mirror, obsolete, staffify
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


def refresh(user: Any) -> SyncRun:
    """Start a sync now in the worker, or join the one already running."""
    try:
        run = mirror.begin(user)
    except mirror.SyncBusy:
        running = mirror.running_sync()
        if running is not None:
            return running
        run = mirror.begin(user)
    sync_mirror.enqueue(run.pk)
    return run


@task
def sync_mirror(run_id: int | None = None) -> str:
    """Walk the account into the mirror (numbers_app.mirror): periodically, or the run "Refresh now"
    claimed. Then close what the numbers it saw released or gone made obsolete (numbers_app.obsolete)."""
    if run_id is None:
        try:
            run = mirror.begin()
        except mirror.SyncBusy:
            return "busy: another sync is running"
    else:
        found = SyncRun.objects.filter(pk=run_id, state=SyncRun.State.RUNNING).first()
        if found is None:
            return "gone: that sync already ended"
        run = found
    run = mirror.sync(staffify.get_client(), run)
    if run.state == SyncRun.State.OK:
        obsolete.close_released()
    return f"{run.state}: {run.numbers_seen} numbers in {run.calls} calls"
