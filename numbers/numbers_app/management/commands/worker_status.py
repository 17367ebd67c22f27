"""Says when a worker last ran the heartbeat task; with --max-age, exits 1 if that is too long ago.

manage.py worker_status --max-age 120     # the compose worker's health check
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from numbers_app.tasks import heartbeat_age


class Command(BaseCommand):
    help = "Print the age of the worker's last heartbeat; fail if older than --max-age seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-age", type=float, default=None, help="fail when the heartbeat is older")

    def handle(self, *, max_age: float | None, **options) -> None:
        age = heartbeat_age()
        if age is None:
            if max_age is not None:
                raise CommandError("No worker has run the heartbeat task yet.")
            self.stdout.write("No worker has run the heartbeat task yet.")
            return
        self.stdout.write(f"The worker's last heartbeat was {age:.1f} s ago.")
        if max_age is not None and age > max_age:
            raise CommandError(f"The worker's last heartbeat is older than {max_age:g} s.")
