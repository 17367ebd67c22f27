"""The worker's side: each task it runs is named on its log lines (`task`) and counted, by task and
outcome, with its duration. `connect()` hooks Django's task signals (run_worker calls it), and
`serve_metrics(port)` gives the worker a /metrics of its own (compose, where its counters live in its
own container), with the same access rule as the web's."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.tasks.signals import task_finished, task_started
from prometheus_client import Counter, Histogram

from numbers_app import logs
from numbers_app.ops import exposition

logger = logging.getLogger("numbers_app.worker")

TASKS = Counter("dashboard_tasks", "Background tasks the worker ran, by task and outcome.", ["task", "outcome"])
TASK_DURATION = Histogram(
    "dashboard_task_duration_seconds",
    "How long each background task ran.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)

_running: contextvars.ContextVar[tuple[contextvars.Token[dict[str, str]], float] | None] = contextvars.ContextVar(
    "running_task", default=None
)


def task_name(task_result: Any) -> str:
    """The task's name: its function's (every task lives in a known module, so names stay few)."""
    return str(task_result.task.module_path).rsplit(".", 1)[-1]


def _started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    _running.set((logs.bind(task=task_name(task_result), task_id=str(task_result.id)), time.perf_counter()))


def _finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    name = task_name(task_result)
    TASKS.labels(name, str(task_result.status).lower()).inc()
    running = _running.get()
    if running is not None:
        token, started = running
        TASK_DURATION.labels(name).observe(time.perf_counter() - started)
        logs.unbind(token)
        _running.set(None)


def connect() -> None:
    task_started.connect(_started, dispatch_uid="numbers_app.ops.worker.started")
    task_finished.connect(_finished, dispatch_uid="numbers_app.ops.worker.finished")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # scrapes every 15 s would flood the log
        pass


def metrics_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The worker's /metrics: its own counters (no state gauges: the web's /metrics has them)."""
    if environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found: /metrics is here.\n"]
    refused = exposition.refusal(environ.get("HTTP_AUTHORIZATION"), environ.get("REMOTE_ADDR"))
    if refused is not None:
        reason = "401 Unauthorized" if refused.status == 401 else "403 Forbidden"
        start_response(reason, [("Content-Type", "text/plain; charset=utf-8"), *refused.headers.items()])
        return [refused.message.encode() + b"\n"]
    start_response("200 OK", [("Content-Type", exposition.CONTENT_TYPE)])
    return [exposition.render(with_state=False)]


def serve_metrics(port: int, host: str = "0.0.0.0") -> WSGIServer:  # noqa: S104  (a container's port)
    server = make_server(host, port, metrics_app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("worker metrics on http://%s:%s/metrics", host, port)
    return server
