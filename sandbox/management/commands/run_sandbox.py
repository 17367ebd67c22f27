import contextlib

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import run

from sandbox import seed
from sandbox.standalone import application


class Command(BaseCommand):
    help = "Serve the Staffify sandbox alone on its own port (threaded), e.g. for load tests."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--reset", action="store_true", help="Start from a fresh demo seed.")
        parser.add_argument("--no-migrate", action="store_true", help="Do not apply the sandbox's migrations at start.")

    def handle(self, *args, host: str, port: int, reset: bool, no_migrate: bool, **options) -> None:
        if not 0 < port < 65536:
            raise CommandError(f"--port {port} is not a TCP port.")
        if not no_migrate:
            call_command("migrate", "sandbox", interactive=False, verbosity=0)
        if reset:
            seed.reset()
        else:
            seed.seed()
        wsgi = application()
        self.stdout.write(f"Staffify sandbox on http://{host}:{port}/sandbox/v1 (Ctrl-C to stop)")
        self.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way to stop it
            run(host, port, wsgi, threading=True)
