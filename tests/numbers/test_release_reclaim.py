"""Release with its confirmation and reclaim within the 7-day window."""

from datetime import UTC, timedelta

import pytest

from numbers_app import staffify
from numbers_app.models import NumberRecord
from tests.helpers import HX, state, unassigned_active

# On the PostgreSQL pass too (@pytest.mark.postgres): the conditional updates of the row (the dialogs'
# words and the roles run on SQLite only).


@pytest.mark.django_db
def test_the_dialog_explains_the_window(ops, staffify_sandbox):
    number_id = unassigned_active(staffify_sandbox)
    html = ops.get(f"/p/main/numbers/{number_id}/release", headers=HX).content.decode()
    assert f'<dialog id="release-dialog-{number_id}" data-modal' in html
    assert "pending release for 7 days" in html
    assert "you can reclaim it until" in html
    assert ">Release</button>" in html


@pytest.mark.django_db
def test_the_dialog_says_when_an_agent_is_assigned_and_offers_to_unassign(ops, staffify_sandbox):
    assert state(staffify_sandbox, 1001)["agent_id"] is not None
    html = ops.get("/p/main/numbers/1001/release", headers=HX).content.decode()
    assert "It is assigned to" in html
    assert "Unassign and release" in html
    assert 'name="unassign_first" value="1"' in html


@pytest.mark.django_db
@pytest.mark.postgres
def test_release_makes_the_row_pending_and_remembers_the_deadline(ops, staffify_sandbox):
    number_id = unassigned_active(staffify_sandbox)
    response = ops.post(f"/p/main/numbers/{number_id}/release/confirm", headers=HX)
    html = response.content.decode()
    after = state(staffify_sandbox, number_id)
    assert after["status"] == "pending_release"
    assert "pending release" in html and "data-countdown" in html and "Reclaim" in html
    assert "closeModal" in response["HX-Trigger"]
    record = NumberRecord.objects.get(staffify_id=number_id)
    assert record.reclaim_before == staffify.parse_datetime(after["reclaim_before"])


@pytest.mark.django_db
@pytest.mark.postgres
def test_unassign_and_release(ops, staffify_sandbox):
    response = ops.post("/p/main/numbers/1001/release/confirm", {"unassign_first": "1"}, headers=HX)
    assert response.status_code == 200
    after = state(staffify_sandbox, 1001)
    assert after["status"] == "pending_release" and after["agent_id"] is None


@pytest.mark.django_db
def test_releasing_an_assigned_number_without_unassigning_explains_in_the_dialog(ops, staffify_sandbox):
    response = ops.post("/p/main/numbers/1001/release/confirm", headers=HX)
    html = response.content.decode()
    assert response["HX-Retarget"] == "#release-dialog-1001"
    assert "Staffify releases only numbers without an agent: unassign it first." in html
    assert state(staffify_sandbox, 1001)["status"] == "active"


@pytest.mark.django_db
def test_the_countdown_survives_without_the_api_sending_a_deadline(ops, staffify_sandbox, monkeypatch):
    number_id = unassigned_active(staffify_sandbox)
    ops.post(f"/p/main/numbers/{number_id}/release/confirm", headers=HX)
    deadline = NumberRecord.objects.get(staffify_id=number_id).reclaim_before
    # Staffify's documented number object has no reclaim_before: the ledger supplies it.
    original = staffify.PhoneNumber.from_api.__func__  # type: ignore[attr-defined]  # the classmethod's function

    def without_deadline(cls, data):
        return original(cls, {k: v for k, v in data.items() if k != "reclaim_before"})

    monkeypatch.setattr(staffify.PhoneNumber, "from_api", classmethod(without_deadline))
    html = ops.get("/p/main/").content.decode()

    assert f'data-deadline="{deadline.astimezone(UTC).isoformat()}"' in html


@pytest.mark.django_db
@pytest.mark.postgres
def test_reclaim_brings_the_number_back(ops, staffify_sandbox):
    response = ops.post("/p/main/numbers/1036/reclaim", headers=HX)
    assert state(staffify_sandbox, 1036)["status"] == "active"
    html = response.content.decode()
    assert '<span class="pill active">active</span>' in html
    assert "reclaimed" in response["HX-Trigger"]


@pytest.mark.django_db
@pytest.mark.postgres
def test_reclaim_after_the_window_says_the_number_is_gone(ops, staffify_sandbox):
    # 1006 was released 6.5 days before the seed: one more day closes its window.
    staffify_sandbox.post("/control/clock", json={"advance_seconds": int(timedelta(days=1).total_seconds())})
    response = ops.post("/p/main/numbers/1006/reclaim", headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "This number is gone: Staffify no longer has it in this account" in html
    assert "Reclaim</button>" not in html


@pytest.mark.django_db
def test_support_cannot_release_or_reclaim(support, staffify_sandbox):
    number_id = unassigned_active(staffify_sandbox)
    assert support.post(f"/p/main/numbers/{number_id}/release/confirm", headers=HX).status_code == 403
    assert support.get(f"/p/main/numbers/{number_id}/release", headers=HX).status_code == 403
    assert support.post("/p/main/numbers/1036/reclaim", headers=HX).status_code == 403
    assert state(staffify_sandbox, number_id)["status"] == "active"
    assert state(staffify_sandbox, 1036)["status"] == "pending_release"


@pytest.mark.django_db
def test_a_timeout_on_release_says_nothing_is_known_to_have_changed(ops, staffify_sandbox, settings):
    number_id = unassigned_active(staffify_sandbox)
    staffify_sandbox.post(
        "/control/faults",
        json={"status": 503, "count": 1, "path_prefix": f"/v1/phone-numbers/{number_id}", "method": "DELETE"},
    )
    response = ops.post(f"/p/main/numbers/{number_id}/release/confirm", headers=HX)
    html = response.content.decode()
    assert "Staffify is having trouble (HTTP 503)" in html
    assert state(staffify_sandbox, number_id)["status"] == "active"
