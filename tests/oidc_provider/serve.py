"""Serves the test identity provider: `python -m tests.oidc_provider.serve PORT DB_PATH`. Migrates its
own SQLite file, makes its RSA signing key, then answers on 127.0.0.1:PORT until killed."""

import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002  # wsgiref's name
        pass


def main() -> None:
    port, db_path = int(sys.argv[1]), sys.argv[2]
    os.environ["PROVIDER_URL"] = f"http://127.0.0.1:{port}"
    os.environ["PROVIDER_DB"] = db_path
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    import django
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("creatersakey")
    server = make_server("127.0.0.1", port, get_wsgi_application(), ThreadingServer, QuietHandler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
