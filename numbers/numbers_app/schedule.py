"""Periodic tasks: Django's tasks framework has no cron, so the worker enqueues them itself.

Register a task with `every(seconds, task)` (numbers_app.tasks does, at import). Every worker process
runs `tick()` about once a second beside its queue loop (`manage.py run_worker`); a due task is
claimed by one conditional UPDATE of its PeriodicTaskState row ("last enqueued before now minus the
interval"), which only one process can win, and enqueued in the same transaction. So however many
workers run, a task is enqueued once per interval, and a worker that dies mid-claim enqueues nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.tasks import Task
from django.utils import timezone

from .models import PeriodicTaskState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    seconds: float
    task: Task

    @property
    def name(self) -> str:
        return self.task.module_path


REGISTRY: dict[str, Periodic] = {}


def every(seconds: float, task: Task) -> Task:
    """Enqueue `task` (no arguments) every `seconds`. Registering the same task again replaces it."""
    if seconds <= 0:
        raise ValueError(f"every() needs a positive interval, not {seconds!r}")
    periodic = Periodic(seconds=seconds, task=task)
    REGISTRY[periodic.name] = periodic
    return task


def claim(periodic: Periodic, now: datetime) -> bool:
    """Enqueue `periodic` if it is due and no other process claimed it first; True if this one did."""
    with transaction.atomic():
        PeriodicTaskState.objects.get_or_create(name=periodic.name)
        due = Q(last_enqueued_at__isnull=True) | Q(last_enqueued_at__lte=now - timedelta(seconds=periodic.seconds))
        won = PeriodicTaskState.objects.filter(due, name=periodic.name).update(last_enqueued_at=now)
        if won:
            periodic.task.enqueue()
    return bool(won)


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every registered task that is due; the names of those this process enqueued."""
    now = now or timezone.now()
    enqueued = []
    for periodic in list(REGISTRY.values()):
        if claim(periodic, now):
            logger.info("enqueued periodic task %s", periodic.name)
            enqueued.append(periodic.name)
    return enqueued
