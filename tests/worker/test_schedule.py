"""The periodic schedule, in one process: a due task is enqueued once per interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.tasks import task
from django_tasks_db.models import DBTaskResult

from numbers_app import schedule, tasks
from numbers_app.models import WorkerHeartbeat

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@task
def tick_tock() -> None:
    """A periodic task for these tests."""


@pytest.fixture
def only_tick_tock(monkeypatch):
    monkeypatch.setattr(schedule, "REGISTRY", {})
    schedule.every(60, tick_tock)


def enqueued() -> int:
    return DBTaskResult.objects.filter(task_path=tick_tock.module_path).count()


@pytest.mark.django_db
def test_a_registered_task_is_enqueued_at_the_first_tick(only_tick_tock):
    assert schedule.tick(T0) == [tick_tock.module_path]
    assert enqueued() == 1


@pytest.mark.django_db
def test_it_is_not_enqueued_again_within_its_interval(only_tick_tock):
    schedule.tick(T0)
    assert schedule.tick(T0 + timedelta(seconds=59)) == []
    assert enqueued() == 1


@pytest.mark.django_db
def test_it_is_enqueued_again_once_its_interval_has_passed(only_tick_tock):
    schedule.tick(T0)
    schedule.tick(T0 + timedelta(seconds=60))
    schedule.tick(T0 + timedelta(seconds=90))
    assert enqueued() == 2


@pytest.mark.django_db
def test_a_claim_already_made_by_another_worker_is_respected(only_tick_tock):
    # As if another process had claimed it a moment ago: its row says so.
    schedule.tick(T0)
    periodic = schedule.REGISTRY[tick_tock.module_path]
    assert not schedule.claim(periodic, T0 + timedelta(seconds=1))


def test_every_refuses_an_interval_that_is_not_positive(monkeypatch):
    monkeypatch.setattr(schedule, "REGISTRY", {})
    with pytest.raises(ValueError, match="positive"):
        schedule.every(0, tick_tock)


def test_the_heartbeat_is_on_the_schedule():
    assert tasks.heartbeat.module_path in schedule.REGISTRY


@pytest.mark.django_db
def test_the_heartbeat_records_when_it_ran(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    assert tasks.heartbeat_age() is None
    result = tasks.heartbeat.enqueue()
    assert result.status == "SUCCESSFUL"
    assert WorkerHeartbeat.objects.get().beat_at is not None
    assert 0 <= tasks.heartbeat_age() < 5


@pytest.mark.django_db
def test_worker_status_fails_without_a_recent_heartbeat(capsys):
    with pytest.raises(CommandError, match="No worker"):
        call_command("worker_status", max_age=60)
    WorkerHeartbeat.objects.create(pk=1, beat_at=T0)
    with pytest.raises(CommandError, match="older than 60 s"):
        call_command("worker_status", max_age=60)


@pytest.mark.django_db
def test_worker_status_says_the_heartbeats_age(capsys):
    WorkerHeartbeat.objects.create(pk=1, beat_at=datetime.now(UTC) - timedelta(seconds=3))
    call_command("worker_status", max_age=60)
    assert "last heartbeat was 3." in capsys.readouterr().out


def test_run_worker_refuses_a_backend_that_needs_no_worker(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with pytest.raises(CommandError, match="ImmediateBackend, which needs no worker"):
        call_command("run_worker")
