"""Real receivers for the alert tests: an SMTP server (aiosmtpd) and an HTTP server that records each
webhook it is sent, both in threads of the test process, on ports of their own."""

from __future__ import annotations

import http.server
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's handler name)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server; the dashboard's mail settings point at it (what EMAIL_URL=smtp://… makes)."""
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd cannot take port 0: ask the system for a free one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port},
        }
    }
    settings.ALERT_EMAIL_ENABLED = True
    yield inbox
    controller.stop()


class Receiver:
    """An HTTP server that records every POST (headers and the exact body bytes) and answers `status`."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, bytes]] = []
        self.status = 204
        self.port = 0
        self.server: http.server.ThreadingHTTPServer | None = None
        self.up()

    def up(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def down(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.down()
