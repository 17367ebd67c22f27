"""A pass-through HTTP proxy that counts the Staffify calls going through it, per (method, path) and per
status: what a process (the worker, a web server) really sent, counted outside that process, so the
count survives the process being killed. Used by tests/worker/test_bulk_resume.py and bench/bulk.py."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class CountingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.calls: Counter[tuple[str, str]] = Counter()
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()
        self.client = httpx.Client(timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
                try:
                    answer = proxy.client.request(
                        self.command, proxy.upstream + self.path, content=body, headers=headers
                    )
                except httpx.HTTPError:
                    self.send_error(502)
                    return
                with proxy.lock:
                    proxy.calls[(self.command, self.path.split("?")[0])] += 1
                    proxy.statuses[answer.status_code] += 1
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                # A caller killed while waiting: its call still counts, as Staffify got it.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> CountingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()

    def per_number(self, suffix: str = "", method: str | None = None) -> Counter[int]:
        """Calls per number id to /v1/phone-numbers/<id><suffix> (e.g. "/assign")."""
        found: Counter[int] = Counter()
        with self.lock:
            for (verb, path), n in self.calls.items():
                parts = path.split("/phone-numbers/", 1)
                if len(parts) != 2 or (method and verb != method):
                    continue
                number, _, rest = parts[1].partition("/")
                if number.isdigit() and ("/" + rest if rest else "") == suffix:
                    found[int(number)] += n
        return found
