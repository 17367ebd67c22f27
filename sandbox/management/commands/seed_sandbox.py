import time

from django.core.management.base import BaseCommand, CommandError

from sandbox import grow, seed


class Command(BaseCommand):
    help = (
        "Seed the Staffify sandbox's demo data when its tables are empty (--reset: start over); "
        "--numbers N and --agents N grow the demo account to that many."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Wipe the sandbox (numbers, balance, clock, faults, limits) and seed it again.",
        )
        parser.add_argument("--numbers", type=int, help="Grow proj_demo to this many numbers (nothing if it has them).")
        parser.add_argument("--agents", type=int, help="Grow proj_demo to this many agents (nothing if it has them).")
        parser.add_argument(
            "--project", default=seed.DEMO_PROJECT, help="The project to grow (default proj_demo; e.g. proj_eu)."
        )

    def handle(
        self,
        *args,
        reset: bool = False,
        numbers: int | None = None,
        agents: int | None = None,
        project: str = seed.DEMO_PROJECT,
        **options,
    ):
        for name, value in (("--numbers", numbers), ("--agents", agents)):
            if value is not None and not 0 <= value <= 5_000_000:
                raise CommandError(f"{name} must be from 0 to 5,000,000.")
        if reset:
            seed.reset()
            self.stdout.write("Sandbox reset to the demo seed.")
        elif seed.seed():
            self.stdout.write("Sandbox seeded.")
        elif numbers is None and agents is None:
            self.stdout.write("Sandbox already has data; left as it is (use --reset to start over).")
        if numbers is None and agents is None:
            return
        started = time.perf_counter()
        if project not in seed.GROWABLE:
            raise CommandError(f"--project must be one of {', '.join(seed.GROWABLE)}.")
        added_agents, added_numbers = grow.grow(numbers=numbers, agents=agents, project_id=project)
        self.stdout.write(
            f"Grew {project} by {added_agents} agents and {added_numbers} numbers "
            f"in {time.perf_counter() - started:.1f} s."
        )
