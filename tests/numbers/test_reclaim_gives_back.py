"""Reclaim offers to give the number back to the agent it had before its release (reclaim, then
assign: two writes, each audited ahead), and says so plainly when that agent is gone."""

import pytest

from numbers_app.models import AuditEntry, MirrorAgent
from tests.helpers import HX, state, toast_of


def released_from(ops, sandbox, number_id=1001) -> dict:
    """Number NUMBER_ID, assigned, unassigned and released through the dashboard; its agent before."""
    before = state(sandbox, number_id)
    assert before["agent_id"] is not None
    response = ops.post(f"/p/main/numbers/{number_id}/release/confirm", {"unassign_first": "1"}, headers=HX)
    assert response.status_code == 200
    assert state(sandbox, number_id)["status"] == "pending_release"
    return before


@pytest.mark.django_db
def test_the_pending_row_offers_to_give_it_back(ops, mirrored):
    before = released_from(ops, mirrored)
    html = ops.get("/p/main/?status=pending_release").content.decode()
    assert f"Reclaim and give it back to {before['agent_name']}" in html
    assert f'"restore_agent": "{before["agent_id"]}"' in html
    # a pending number never seen with an agent through the dashboard offers the plain Reclaim only
    assert html.count("Reclaim and give it back") == 1


@pytest.mark.django_db
def test_it_reclaims_and_gives_it_back(ops, mirrored):
    before = released_from(ops, mirrored)
    response = ops.post("/p/main/numbers/1001/reclaim", {"restore_agent": str(before["agent_id"])}, headers=HX)
    after = state(mirrored, 1001)
    assert after["status"] == "active" and after["agent_id"] == before["agent_id"]
    message = toast_of(response)
    assert message["level"] == "success" and message["group"] == "reclaim"
    assert f"assigned to {before['agent_name']} again" in message["message"]
    entries = list(AuditEntry.objects.filter(number_id=1001).order_by("at", "id"))
    assert [(e.action, e.outcome) for e in entries] == [
        ("unassign", "ok"),
        ("release", "ok"),
        ("reclaim", "ok"),
        ("assign", "ok"),
    ]
    assert entries[-1].after["agent_id"] == before["agent_id"]
    # the row now shows the agent selected, and no offer any more
    assert f'<option value="{before["agent_id"]}" selected>' in response.content.decode()
    assert "give it back" not in ops.get("/p/main/").content.decode()


@pytest.mark.django_db
def test_the_plain_reclaim_leaves_it_without_agent(ops, mirrored):
    released_from(ops, mirrored)
    response = ops.post("/p/main/numbers/1001/reclaim", headers=HX)
    after = state(mirrored, 1001)
    assert after["status"] == "active" and after["agent_id"] is None
    message = toast_of(response)
    assert message["group"] == "reclaim" and message["many"] == "{n} numbers reclaimed"
    assert message["message"].endswith("reclaimed: it is active again.")
    assert not AuditEntry.objects.filter(number_id=1001, action="assign").exists()


@pytest.mark.django_db
def test_an_agent_deleted_at_staffify_is_said_and_the_reclaim_stands(ops, mirrored):
    from sandbox.models import Agent

    before = released_from(ops, mirrored)
    Agent.objects.filter(id=before["agent_id"]).delete()  # deleted in Staffify; the mirror still lists it
    response = ops.post("/p/main/numbers/1001/reclaim", {"restore_agent": str(before["agent_id"])}, headers=HX)
    after = state(mirrored, 1001)
    assert after["status"] == "active" and after["agent_id"] is None
    message = toast_of(response)
    assert message["level"] == "error"
    assert "reclaimed: it is active again, but it was not given back to " + before["agent_name"] in message["message"]
    assert "Staffify does not know that agent any more" in message["message"]
    assign = AuditEntry.objects.get(number_id=1001, action="assign")
    assert assign.outcome == "error" and assign.http_status == 404
    assert AuditEntry.objects.get(number_id=1001, action="reclaim").outcome == "ok"


@pytest.mark.django_db
def test_an_agent_gone_from_the_list_is_said_before_anything_is_tried(ops, mirrored):
    before = released_from(ops, mirrored)
    MirrorAgent.objects.filter(staffify_id=before["agent_id"]).delete()  # a sync saw it deleted
    html = ops.get("/p/main/?status=pending_release").content.decode()
    assert f"Its agent before the release, {before['agent_name']}, is no longer in the account." in html
    assert "give it back" not in html
    response = ops.post("/p/main/numbers/1001/reclaim", {"restore_agent": str(before["agent_id"])}, headers=HX)
    assert state(mirrored, 1001)["status"] == "active"
    assert "is no longer in this account's agent list" in toast_of(response)["message"]
    assert AuditEntry.objects.get(number_id=1001, action="assign").outcome == "invalid"


@pytest.mark.django_db
def test_a_made_up_agent_is_not_assigned(ops, mirrored):
    released_from(ops, mirrored)
    response = ops.post("/p/main/numbers/1001/reclaim", {"restore_agent": "110"}, headers=HX)
    after = state(mirrored, 1001)
    assert after["status"] == "active"
    if after["agent_id"] is not None:
        pytest.fail("an agent other than the previous one was assigned")
    assert "does not know which agent it had before" in toast_of(response)["message"]


@pytest.mark.django_db
def test_support_cannot_reclaim_even_with_the_offer(ops, mirrored, support_user):
    from django.test import Client

    released_from(ops, mirrored)
    support = Client()
    support.force_login(support_user)
    response = support.post("/p/main/numbers/1001/reclaim", {"restore_agent": "101"}, headers=HX)
    assert response.status_code == 403
    assert state(mirrored, 1001)["status"] == "pending_release"


@pytest.mark.django_db  # an entry belongs to a project: the default one, read from the database
def test_the_previous_agent_is_the_last_one_taken_away():
    from numbers_app.changes.previous_agent import _agent_change

    unassign = AuditEntry(action="unassign", before={"agent_id": 3, "agent_name": "A"}, after={"agent_id": None})
    assign = AuditEntry(action="assign", before={"agent_id": None}, after={"agent_id": 4, "agent_name": "B"})
    tags = AuditEntry(action="tags", before={"agent_id": 3, "tags": []}, after={"agent_id": 3, "tags": ["x"]})
    assert _agent_change(unassign) == (3, "A")
    assert _agent_change(assign) == (None, "")
    assert _agent_change(tags) is None


@pytest.mark.django_db
def test_a_release_made_outside_the_dashboard_is_remembered_by_the_sync(ops, mirrored):
    from numbers_app import staffify
    from numbers_app.mirror import store as mirror

    before = state(mirrored, 1001)
    assert mirrored.delete("/v1/phone-numbers/1001/assign").status_code == 204  # someone, elsewhere
    assert mirrored.delete("/v1/phone-numbers/1001").status_code == 200
    assert mirror.sync(staffify.get_client()).state == "ok"
    html = ops.get("/p/main/?status=pending_release").content.decode()
    assert f"Reclaim and give it back to {before['agent_name']}" in html
    ops.post("/p/main/numbers/1001/reclaim", {"restore_agent": str(before["agent_id"])}, headers=HX)
    assert state(mirrored, 1001)["agent_id"] == before["agent_id"]
