"""The periodic sync fits the account: it starts no sooner than MIRROR_SYNC_SECONDS after the last one
started, nor than that sync's duration times MIRROR_SYNC_FACTOR; the pages say when it comes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from numbers_app import tasks
from numbers_app.mirror import freshness
from numbers_app.models import SyncRun
from numbers_app.text.presenters import local_text

pytestmark = pytest.mark.django_db


def finished_run(started_ago: timedelta, took: timedelta) -> SyncRun:
    started = timezone.now() - started_ago
    return SyncRun.objects.create(
        started_at=started, heartbeat_at=started + took, finished_at=started + took, state=SyncRun.State.OK
    )


def test_a_short_sync_comes_back_after_the_interval(settings):
    settings.MIRROR_SYNC_SECONDS, settings.MIRROR_SYNC_FACTOR = 300, 3
    run = finished_run(timedelta(minutes=1), took=timedelta(seconds=20))
    assert freshness.next_sync_at() == run.started_at + timedelta(seconds=300)


def test_a_long_sync_waits_its_duration_times_the_factor(settings):
    settings.MIRROR_SYNC_SECONDS, settings.MIRROR_SYNC_FACTOR = 300, 3
    run = finished_run(timedelta(minutes=6), took=timedelta(minutes=5))  # 100,000 numbers at 300 calls/min
    assert freshness.next_sync_at() == run.started_at + timedelta(minutes=15)
    assert tasks.sync_mirror_when_due.call().startswith("not yet")
    assert SyncRun.objects.count() == 1  # no walk started


def test_the_periodic_sync_runs_once_it_is_due(settings, mirrored):
    settings.MIRROR_SYNC_SECONDS, settings.MIRROR_SYNC_FACTOR = 300, 3
    SyncRun.objects.update(
        started_at=timezone.now() - timedelta(hours=1), finished_at=timezone.now() - timedelta(minutes=59)
    )
    assert tasks.sync_mirror_when_due.call().startswith("ok")


def test_the_page_says_when_the_next_sync_comes(ops, mirrored, settings):
    settings.MIRROR_SYNC_SECONDS, settings.MIRROR_SYNC_FACTOR = 300, 3
    due = freshness.next_sync_at()
    html = ops.get("/").content.decode()
    assert "Next sync about <time datetime=" in html
    assert f"{local_text(due, 'time')}</time>." in html
