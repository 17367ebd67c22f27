"""The way down and back for a change: page (or job) -> the one write service -> client, mirror and audit
log, and back once. Traced with a profiler: every call that crosses from one of the app's modules into
another is recorded, so a view that orchestrates the write itself (sending, auditing, settling) fails."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from numbers_app.models import BulkJob, NumberRecord
from tests.helpers import HX

from .bulking import run_job, selection

pytestmark = pytest.mark.django_db

WRITES = {"assign", "unassign", "set_tags", "release", "reclaim"}  # the client's writes
AUDIT = {"record", "settle", "begin", "confirmed", "answered"}  # writing the audit log
SERVICE = WRITES | {"refuse"}  # the write service's functions (not a Change's properties)


@dataclass(frozen=True)
class Crossing:
    caller: str  # module
    callee: str  # module
    function: str


def layer(module: str) -> str:
    leaf = module.rsplit(".", 1)[-1]
    if (
        leaf.startswith("views")
        or ".views" in module
        or leaf in {"access", "projects", "middleware", "context_processors"}
    ):
        return "page"
    if module.endswith("changes") or ".changes" in module:
        return "service"
    if ".staffify" in module:
        return "client"
    if leaf in {"audit", "settle", "log"}:
        return "audit"
    return "other"


def crossings(action: Callable[[], object]) -> list[Crossing]:
    """The calls from one numbers_app module into another while ACTION runs."""
    seen: list[Crossing] = []

    def profile(frame, event, arg):
        if event != "call" or frame.f_back is None:
            return
        callee = frame.f_globals.get("__name__", "")
        caller = frame.f_back.f_globals.get("__name__", "")
        if callee.startswith("numbers_app") and caller.startswith("numbers_app") and caller != callee:
            seen.append(Crossing(caller, callee, frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return seen


def assert_one_way(seen: list[Crossing], entry: str, service_call: str) -> None:
    from_entry = [c for c in seen if layer(c.caller) == entry]
    into_service = [c for c in from_entry if layer(c.callee) == "service" and c.function in SERVICE]
    assert [c.function for c in into_service] == [service_call]  # down once, through the service
    assert not [c for c in from_entry if layer(c.callee) == "client" and c.function in WRITES]
    assert not [c for c in from_entry if layer(c.callee) == "audit" and c.function in AUDIT]
    climbed = [c for c in seen if layer(c.callee) == "page" and layer(c.caller) != "page"]
    assert not climbed  # nothing below a page calls back up into one
    below = [c for c in seen if layer(c.caller) == "service"]
    assert any(layer(c.callee) == "client" and c.function == service_call for c in below)
    assert any(layer(c.callee) == "audit" for c in below)


def test_a_release_goes_down_through_the_service_and_back_once(ops, staffify_sandbox):
    seen = crossings(lambda: ops.post("/p/main/numbers/1001/release/confirm", {"unassign_first": "1"}, headers=HX))
    assert staffify_sandbox.get("/v1/phone-numbers/1001").json()["status"] == "pending_release"
    assert_one_way(seen, "page", "release")


def test_an_assignment_goes_down_through_the_service_and_back_once(ops, mirrored):
    seen = crossings(lambda: ops.post("/p/main/numbers/1002/agent", {"agent_id": "104"}, headers=HX))
    assert mirrored.get("/v1/phone-numbers/1002").json()["agent_id"] == 104
    assert_one_way(seen, "page", "assign")


def test_a_bulk_row_goes_down_through_the_service_and_back_once(ops, mirrored):
    record = NumberRecord.objects.filter(last_status="active", agent_id__isnull=True).order_by("staffify_id")[0]
    ops.post("/p/main/bulk/start", selection([record], action="assign", agent_id="104"), headers=HX)
    job = BulkJob.objects.get()
    seen = crossings(lambda: run_job(job))
    assert [row.state for row in job.rows.all()] == ["done"]
    runner = [c for c in seen if c.caller.endswith("bulk") or ".bulk." in c.caller]
    assert [c.function for c in runner if layer(c.callee) == "service" and c.function in SERVICE] == ["assign"]
    assert not [c for c in runner if layer(c.callee) == "client" and c.function in WRITES]
    assert not [c for c in runner if layer(c.callee) == "audit" and c.function in {"begin", "confirmed", "answered"}]
