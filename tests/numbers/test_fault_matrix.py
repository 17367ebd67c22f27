"""The fault matrix: every write × every way Staffify can fail it, against the sandbox's faults.

For each case: no 500 page, a sentence for the user, the Staffify request id where Staffify answered,
and an audit outcome that matches Staffify's final state as read back from the sandbox (after the
sweeper, for the writes whose outcome the request could not know). Statuses and the refused
connection run on the in-process sandbox; the two timeouts on the live server with a real socket
timeout. With FAULT_MATRIX_REPORT=path each case appends a JSON line there (bench/faults.py prints it).
"""

from __future__ import annotations

import html as htmllib
import json
import os
import re
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from numbers_app import staffify, tasks
from numbers_app.models import AuditEntry, PurchaseAttempt
from tests.conftest import InTransactionWSGI, wait_until_live_server_idle
from tests.helpers import HX, fault
from tests.numbers.buying import buy, confirm, owned, search, token_of

ACTIONS = ["buy", "assign", "unassign", "tags", "release", "reclaim"]
STATUS_FAULTS = [500, 503, 429, 402, 409]
WRITE = {  # the write's method and path after /sandbox, for the fault
    "buy": ("POST", "/v1/phone-numbers"),
    "assign": ("PUT", "/v1/phone-numbers/{id}/assign"),
    "unassign": ("DELETE", "/v1/phone-numbers/{id}/assign"),
    "tags": ("PATCH", "/v1/phone-numbers/{id}"),
    "release": ("DELETE", "/v1/phone-numbers/{id}"),
    "reclaim": ("POST", "/v1/phone-numbers/{id}/reclaim"),
}


class RefusingWrites(httpx.BaseTransport):
    """Reads reach the sandbox; every write finds the connection refused, as httpx raises it."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.inner.handle_request(request)


def _numbers(api) -> list[dict]:
    return api.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]


def _number(api, number_id: int) -> dict:
    return api.get(f"/v1/phone-numbers/{number_id}").json()


def prepare(action: str, api, client) -> dict:
    """Pick a number the action can change, and say how to send it and how to see it done."""
    numbers = _numbers(api)
    active = [n for n in numbers if n["status"] == "active"]
    if action == "buy":
        found = search(api, country_code="US", limit=1)[0]
        return {"found": found, "token": token_of(confirm(client, found)), "id": None}
    if action == "assign":
        n = next(n for n in active if n["agent_id"] is not None)
        agents = api.get("/v1/agents?limit=100").json()["agents"]
        other = next(a["id"] for a in agents if a["id"] != n["agent_id"])
        return {
            "id": n["id"],
            "url": f"/p/main/numbers/{n['id']}/agent",
            "data": {"agent_id": str(other)},
            "want": other,
        }
    if action == "unassign":
        n = next(n for n in active if n["agent_id"] is not None)
        return {"id": n["id"], "url": f"/p/main/numbers/{n['id']}/agent", "data": {"agent_id": ""}}
    if action == "tags":
        n = active[0]
        return {"id": n["id"], "url": f"/p/main/numbers/{n['id']}/tags", "data": {"tags": "matrix, checked"}}
    if action == "release":
        n = next(n for n in active if n["agent_id"] is None)
        return {"id": n["id"], "url": f"/p/main/numbers/{n['id']}/release/confirm", "data": {}}
    n = next(n for n in numbers if n["status"] == "pending_release")
    return {"id": n["id"], "url": f"/p/main/numbers/{n['id']}/reclaim", "data": {}}


def send(action: str, case: dict, client) -> httpx.Response:
    if action == "buy":
        return buy(client, case["found"], case["token"])
    return client.post(case["url"], case["data"], headers=HX)


def changed(action: str, case: dict, api) -> bool:
    """Whether Staffify made the change, read from the sandbox."""
    if action == "buy":
        return case["found"]["phone_number"] in owned(api)
    n = _number(api, case["id"])
    return {
        "assign": lambda: n["agent_id"] == case["want"],
        "unassign": lambda: n["agent_id"] is None,
        "tags": lambda: sorted(n["tags"]) == ["checked", "matrix"],
        "release": lambda: n["status"] == "pending_release",
        "reclaim": lambda: n["status"] == "active",
    }[action]()


def fault_on(api, action: str, case: dict, **spec) -> None:
    """The sandbox fails ACTION's write for CASE's number once (SPEC: the status, a delay...)."""
    method, path = WRITE[action]
    fault(api, path.format(id=case["id"]), method=method, **spec)


def said(response, client) -> str:
    """What the user reads: the fragment's text, any toast, and the page a redirect leads to."""
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    if response.headers.get("HX-Redirect"):
        text += re.sub(r"<[^>]+>", " ", client.get(response.headers["HX-Redirect"]).content.decode())
    toast = response.headers.get("HX-Trigger", "")
    if toast:
        text += " " + " ".join(str(v.get("message", "")) for v in json.loads(toast).values() if isinstance(v, dict))
    return re.sub(r"\s+", " ", htmllib.unescape(text))


def sentence(text: str) -> str:
    """The first two sentences from the first that speaks of Staffify, as the user reads them."""
    found = re.search(r"Staffify\b.*?\.(?=\s|$)(?:.*?\.(?=\s|$))?", text)
    return found.group(0).strip()[:160] if found else ""


def check(action: str, fault_name: str, case: dict, response, client, api, *, answered: bool) -> dict:
    assert response.status_code != 500, f"{action} × {fault_name}: a 500 page"
    text = said(response, client)
    entry = AuditEntry.objects.filter(action=action).order_by("-id").first()
    assert entry is not None, f"{action} × {fault_name}: no audit entry"
    done = changed(action, case, api)
    assert entry.outcome == ("ok" if done else "error"), (
        f"{action} × {fault_name}: audit says {entry.outcome} but Staffify {'did' if done else 'did not'} change it"
    )
    assert not AuditEntry.objects.filter(outcome__in=["sent", "unknown"]).exists()
    assert sentence(text), f"{action} × {fault_name}: no sentence in {text[:300]!r}"
    if done:
        assert "Nothing was changed" not in text, f"{action} × {fault_name}: done, but the user read otherwise"
    if answered:
        assert "req_" in text, f"{action} × {fault_name}: no request id in {text[:300]!r}"
    row = {
        "action": action,
        "fault": fault_name,
        "http": response.status_code,
        "staffify_changed": done,
        "audit": entry.outcome,
        "request_id": "req_" in text,
        "said": sentence(text),
        "audit_message": entry.message[:160],
    }
    report = os.environ.get("FAULT_MATRIX_REPORT")
    if report:
        with open(report, "a") as out:
            out.write(json.dumps(row) + "\n")
    return row


def sweep_everything() -> None:
    """What the worker does within a minute, told that the writes left unknown are old enough to judge."""
    old = timezone.now() - timedelta(minutes=11)
    AuditEntry.objects.filter(outcome__in=["sent", "unknown"]).update(at=old)
    PurchaseAttempt.objects.filter(state__in=["pending", "unknown"]).update(created_at=old)
    tasks.settle_writes.call()


@pytest.mark.django_db
@pytest.mark.parametrize("fault_name", [*map(str, STATUS_FAULTS), "429 after acting", "refused"])
@pytest.mark.parametrize("action", ACTIONS)
def test_a_refused_or_failed_write_is_said_and_audited_as_staffify_has_it(
    action, fault_name, ops, staffify_sandbox, settings
):
    case = prepare(action, staffify_sandbox, ops)
    if fault_name == "refused":
        settings.STAFFIFY_TRANSPORT = RefusingWrites(httpx.WSGITransport(app=InTransactionWSGI()))
    elif fault_name == "429 after acting":
        # A proxy or gateway answering 429 once Staffify had acted: read back before "nothing was changed".
        fault_on(staffify_sandbox, action, case, status=429, act_first=True)
    else:
        fault_on(staffify_sandbox, action, case, status=int(fault_name))
    response = send(action, case, ops)
    if fault_name == "429 after acting":
        # Settled in the request itself, not left for the sweeper: done, and said so.
        entry = AuditEntry.objects.filter(action=action).order_by("-id").first()
        assert entry is not None and entry.outcome == "ok", f"{action} × 429 after acting: {entry and entry.message}"
    sweep_everything()
    answered = fault_name not in ("refused", "429 after acting")  # done: said plainly, the id is in the log
    row = check(action, fault_name, case, response, ops, staffify_sandbox, answered=answered)
    if fault_name == "429 after acting":
        assert row["staffify_changed"] and row["audit"] == "ok"
        assert AuditEntry.objects.filter(action=action).order_by("-id").first().request_id.startswith("req_")


@pytest.mark.parametrize("fault_name", ["timeout before the write", "timeout after the write"])
@pytest.mark.parametrize("action", ACTIONS)
def test_a_write_that_timed_out_is_settled_as_staffify_has_it(action, fault_name, ops, live_sandbox, settings):
    settings.STAFFIFY_TIMEOUT = 0.4
    case = prepare(action, live_sandbox, ops)
    staffify.get_client()  # built with the short timeout
    if fault_name == "timeout before the write":
        fault_on(live_sandbox, action, case, status=503, delay_ms=900)  # slow, then refuses without acting
    else:
        fault_on(live_sandbox, action, case, status=None, delay_ms=900, act_first=True)  # acts, then is slow
    response = send(action, case, ops)
    wait_until_live_server_idle()
    settings.STAFFIFY_TIMEOUT = 10  # the worker waits as long as usual (a busy machine is slow to answer)
    sweep_everything()
    row = check(action, fault_name, case, response, ops, live_sandbox, answered=False)
    assert row["staffify_changed"] == (fault_name == "timeout after the write")
