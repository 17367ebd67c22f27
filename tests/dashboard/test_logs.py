"""Structured logs (numbers_app.logs): one JSON object per line, carrying the request id a user is
shown when a page fails, the user, Staffify's request id, and the worker's task."""

from __future__ import annotations

import io
import json
import logging
import re
from unittest import mock

import pytest
from django.tasks import task
from django.test import Client

from numbers_app.logs import JsonFormatter
from numbers_app.ops import worker as observe
from tests.helpers import fault

logger = logging.getLogger("tests.logs")


@pytest.fixture
def lines():
    """The JSON lines logged during the test, parsed (a handler on the root logger, as LOG_FORMAT=json)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


@pytest.mark.django_db
def test_a_failed_page_shows_the_request_id_its_log_lines_carry(ops_user, lines):
    client = Client(raise_request_exception=False)
    client.force_login(ops_user)
    with mock.patch("numbers_app.web.account.PreferenceForm", side_effect=RuntimeError("boom")):
        response = client.get("/account/preferences")
    assert response.status_code == 500
    reference = response["X-Error-Reference"]
    assert reference == response["X-Request-Id"]
    assert reference in response.content.decode()  # the 500 page shows it
    mine = [line for line in lines() if line.get("request_id") == reference]
    assert {line["logger"] for line in mine} >= {"numbers_app.errors", "django.request"}
    error = next(line for line in mine if line["logger"] == "numbers_app.errors")
    assert error["level"] == "ERROR"
    assert error["user"] == "ops"
    assert "RuntimeError: boom" in error["exc_info"]


@pytest.mark.django_db
def test_a_staffify_failure_carries_staffify_s_request_id(support, staffify_sandbox, lines):
    fault(staffify_sandbox, "/v1/phone-numbers/1001", status=503, method="GET")
    response = support.get("/p/main/numbers/1001/")
    shown = re.search(r"Staffify request id ([\w-]+)", response.content.decode()).group(1)
    found = [line for line in lines() if line.get("staffify_request_id") == shown]
    assert found, lines()
    assert found[0]["request_id"] == response["X-Request-Id"]
    assert found[0]["user"] == "support"
    assert found[0]["staffify_status"] == 503


def test_values_json_cannot_carry_are_written_as_text(lines):
    logger.warning("odd %s", "thing", extra={"when": object(), "count": 3})
    (line,) = [line for line in lines() if line["logger"] == "tests.logs"]
    assert line["message"] == "odd thing"
    assert line["count"] == 3
    assert line["when"].startswith("<object object")
    assert line["time"].endswith("+00:00")


@task
def logging_task() -> None:
    logger.warning("inside the task")


def test_the_worker_names_its_task_on_each_line(settings, lines):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    observe.connect()
    logging_task.enqueue()
    logger.warning("after the task")
    found = {line["message"]: line for line in lines() if line["logger"] == "tests.logs"}
    assert found["inside the task"]["task"] == "logging_task"
    assert "task" not in found["after the task"]
