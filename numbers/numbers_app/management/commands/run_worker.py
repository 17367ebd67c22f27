"""The background worker: django-tasks-db's queue loop, and beside it the periodic schedule.

    manage.py run_worker            # what `make run` and the compose `worker` service start

The queue loop is the backend's own `db_worker` (it claims each task with a row lock, so several
workers may run); a thread enqueues the periodic tasks of numbers_app.schedule as they fall due.
SIGINT or SIGTERM stops it after the task under way. With METRICS_PORT set it also serves its own
/metrics there (numbers_app.ops.worker), for a Prometheus that cannot read its counters through the
web's /metrics (separate containers).
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db import DatabaseBackend

from numbers_app.ops import worker as observe

logger = logging.getLogger("numbers_app.worker")


def run_schedule(stop: threading.Event, every_seconds: float) -> None:
    from numbers_app import schedule, tasks  # noqa: F401  (tasks registers the periodic schedule)

    try:
        # A worker starting may follow a crash: writes it cut off are settled now, not an interval later.
        tasks.settle_writes.enqueue()
    except Exception:
        logger.exception("could not enqueue the first settling of writes; the schedule will")
    while not stop.is_set():
        try:
            schedule.tick()
        except Exception:  # a database hiccup must not end the schedule: the next tick tries again
            logger.exception("the periodic schedule failed this time; trying again")
        finally:
            close_old_connections()
        stop.wait(every_seconds)
    connection.close()


class Command(BaseCommand):
    help = "Run the background worker: the task queue and the periodic schedule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between looks at an empty queue (default 1)"
        )
        parser.add_argument(
            "--schedule-interval", type=float, default=1.0, help="seconds between looks at the schedule (default 1)"
        )
        parser.add_argument("--no-schedule", action="store_true", help="run the queue only, enqueue no periodic task")
        parser.add_argument("--worker-id", default=None, help="default: host name and process id")

    def handle(self, *, interval: float, schedule_interval: float, no_schedule: bool, worker_id: str | None, **options):
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        if not isinstance(backend, DatabaseBackend):
            raise CommandError(
                f"The task backend is {type(backend).__name__}, which needs no worker "
                "(TASKS_BACKEND=database queues tasks for one)."
            )
        worker_id = (worker_id or f"{socket.gethostname()}-{os.getpid()}")[:64]
        observe.connect()  # each task's name on its log lines, and its count and duration in the metrics
        metrics_server = None
        if settings.METRICS_ENABLED and settings.METRICS_PORT:
            metrics_server = observe.serve_metrics(settings.METRICS_PORT)
        stop = threading.Event()
        scheduler = None
        if not no_schedule:
            scheduler = threading.Thread(
                target=run_schedule, args=(stop, schedule_interval), name="schedule", daemon=True
            )
            scheduler.start()
        try:
            call_command(
                "db_worker",
                queue_name="*",
                interval=interval,
                reload=False,  # the schedule thread would not survive the reloader's restarts
                startup_delay=False,
                worker_id=worker_id,
                verbosity=options["verbosity"],
            )
        finally:
            stop.set()
            if metrics_server is not None:
                metrics_server.shutdown()
            if scheduler is not None:
                scheduler.join(timeout=10)
