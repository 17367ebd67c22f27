"""Every refused POST is in the audit log, as the role refusals of the single actions are: cancelling
or retrying someone else's bulk job without the role its changes need, dismissing a scheduled release's
alert without the right to release, and a purchase from a confirmation another session opened."""

import pytest
from django.test import Client

from numbers_app.models import AuditEntry, BulkJob
from tests.helpers import HX, toast_of
from tests.numbers.buying import buy, confirm, owned, search, token_of

from .bulking import sales, selection

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(support, mirrored) -> BulkJob:
    record = next(r for r in sales() if r.last_status == "active" and r.agent_id != 104)
    response = support.post("/p/main/bulk/start", selection([record], action="assign", agent_id="104"), headers=HX)
    assert response.status_code == 200, response.content
    return BulkJob.objects.get()


@pytest.mark.parametrize("what", ["cancel", "retry"])
def test_a_refused_cancel_or_retry_of_a_job_is_audited(lead_user, job, what):
    lead = Client()  # the support persona's client started the job
    lead.force_login(lead_user)
    response = lead.post(f"/p/main/jobs/{job.pk}/{what}", headers=HX)
    assert response.status_code == 403
    entry = AuditEntry.objects.get(outcome=AuditEntry.Outcome.DENIED)
    assert entry.user == lead_user and entry.action == AuditEntry.Action.BULK
    assert f"job {job.pk}" in entry.message and what in entry.message
    job.refresh_from_db()
    assert job.state != "cancelled"


@pytest.mark.parametrize("htmx", [True, False])
def test_a_refused_dismiss_is_audited(lead, lead_user, htmx):
    response = lead.post("/p/main/scheduled-releases/7/dismiss", headers=HX if htmx else {})
    assert response.status_code == 403
    entry = AuditEntry.objects.get(outcome=AuditEntry.Outcome.DENIED)
    assert entry.user == lead_user and entry.action == AuditEntry.Action.DISMISS_SCHEDULED


# --- A purchase confirmation is bound to the user and the session that opened it ----------------------


def _other_session(user) -> Client:
    other = Client()
    other.force_login(user)
    return other


@pytest.mark.parametrize("who", ["the same user in another session", "another user"])
def test_a_confirmation_from_one_session_buys_nothing_in_another(
    ops, ops_user, staffify_sandbox, django_user_model, who
):
    found = search(staffify_sandbox, country_code="US", limit=1)[0]
    token = token_of(confirm(ops, found))
    if who == "another user":
        someone = django_user_model.objects.create_user("ops2", password="pw-ops2")
        someone.groups.add(*ops_user.groups.all())
        thief = _other_session(someone)
    else:
        thief = _other_session(ops_user)
    response = buy(thief, found, token)
    assert response.status_code == 422
    assert "this confirmation was not opened in this session" in toast_of(response)["message"]
    assert found["phone_number"] not in owned(staffify_sandbox)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.BUY)
    assert entry.outcome == AuditEntry.Outcome.INVALID and "not opened in this session" in entry.message
    # The session that opened it still buys with it.
    assert buy(ops, found, token).status_code == 200
    assert found["phone_number"] in owned(staffify_sandbox)
