from django.core.management.base import BaseCommand

from sandbox import seed


class Command(BaseCommand):
    help = "Seed the Staffify sandbox's demo data when its tables are empty (--reset: start over)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Wipe the sandbox (numbers, balance, clock, faults, limits) and seed it again.",
        )

    def handle(self, *args, reset: bool = False, **options) -> None:
        if reset:
            seed.reset()
            self.stdout.write("Sandbox reset to the demo seed.")
        elif seed.seed():
            self.stdout.write("Sandbox seeded.")
        else:
            self.stdout.write("Sandbox already has data; left as it is (use --reset to start over).")
