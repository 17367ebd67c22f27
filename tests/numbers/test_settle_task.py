"""The worker's sweeper settles purchases: unconfirmed ones, and those a dead process left pending."""

from datetime import timedelta

import pytest
from django.utils import timezone

from numbers_app import tasks
from numbers_app.models import AuditEntry, PurchaseAttempt
from tests.numbers.buying import owned, search

pytestmark = pytest.mark.postgres


def _attempt(user, phone, state, age):
    attempt = PurchaseAttempt.objects.create(user=user, phone_number=phone, country_code="US", state=state)
    PurchaseAttempt.objects.filter(pk=attempt.pk).update(created_at=timezone.now() - age)
    return attempt


@pytest.mark.django_db
def test_a_purchase_left_pending_by_a_dead_process_is_found_and_audited(ops_user, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    # Staffify bought it; the process that sent it died before writing anything.
    staffify_sandbox.post("/v1/phone-numbers", json={"phone_number": number["phone_number"], "country_code": "US"})
    attempt = _attempt(ops_user, number["phone_number"], PurchaseAttempt.State.PENDING, timedelta(minutes=3))

    assert tasks.settle_writes.call() == 1

    attempt.refresh_from_db()
    bought = owned(staffify_sandbox)[number["phone_number"]]
    assert (attempt.state, attempt.staffify_id) == ("succeeded", bought["id"])
    entry = AuditEntry.objects.get(action="buy")
    assert (entry.outcome, entry.number_id, entry.username) == ("ok", bought["id"], ops_user.username)
    assert "stopped while sending" in entry.message


@pytest.mark.django_db
def test_a_purchase_still_being_sent_is_left_alone(ops_user, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    attempt = _attempt(ops_user, number["phone_number"], PurchaseAttempt.State.PENDING, timedelta(seconds=5))
    assert tasks.settle_writes.call() == 0
    attempt.refresh_from_db()
    assert attempt.state == "pending" and not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_an_unknown_purchase_missing_long_enough_was_not_bought(ops_user, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    attempt = _attempt(ops_user, number["phone_number"], PurchaseAttempt.State.UNKNOWN, timedelta(minutes=11))
    AuditEntry.objects.create(
        user=ops_user, username=ops_user.username, action="buy", outcome="unknown", phone_number=number["phone_number"]
    )
    assert tasks.settle_writes.call() == 1
    attempt.refresh_from_db()
    assert attempt.state == "failed"
    assert AuditEntry.objects.get().outcome == "error"
