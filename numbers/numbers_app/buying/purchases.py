"""Settling purchases whose outcome Staffify never confirmed: the worker's sweeper.

A purchase is `unknown` when Staffify's answer did not come (a timeout, a dropped connection), and
stays `pending` (its audit entry `sent`) when the process sending it died before the answer. The sweeper
(`numbers_app.tasks.settle_writes`, every minute) looks for each in the owned list: found means
bought; still missing SETTLE_AFTER later means not bought. A purchase is never sent again.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from numbers_app import staffify
from numbers_app.audit import log as audit
from numbers_app.changes import settle
from numbers_app.mirror import ledger
from numbers_app.models import PurchaseAttempt

SETTLE_AFTER = timedelta(minutes=10)


def _unsettled():
    # A purchase still "pending" this long after it was sent belongs to a process that died mid-request.
    cutoff = timezone.now() - settle.abandoned_after()
    return PurchaseAttempt.objects.filter(
        Q(state=PurchaseAttempt.State.UNKNOWN) | Q(state=PurchaseAttempt.State.PENDING, created_at__lt=cutoff)
    )


def unknown_purchases_exist() -> bool:
    return _unsettled().exists()


def resolve_unknown_purchases(client: staffify.StaffifyClient) -> int:
    """Look for every unsettled purchase in the owned list; returns how many were settled."""
    pending = list(_unsettled().select_related("user"))
    if not pending:
        return 0
    try:
        owned = {n.phone_number: n for n in client.iter_numbers(page_size=100)}
    except staffify.StaffifyError:
        return 0  # try again on the next sweep
    settled = 0
    now = timezone.now()
    for attempt in pending:
        abandoned = attempt.state == PurchaseAttempt.State.PENDING
        number = owned.get(attempt.phone_number)
        if number is not None:
            ledger.record_purchase(
                number.id, number.phone_number, attempt.user, number.purchased_at or attempt.created_at
            )
            attempt.state, attempt.staffify_id = PurchaseAttempt.State.SUCCEEDED, number.id
            attempt.message = "Found in the owned list afterwards: it was bought."
            outcome, facts = audit.Outcome.OK, {"id": number.id, "phone_number": number.phone_number}
        elif now - attempt.created_at >= SETTLE_AFTER:
            attempt.state = PurchaseAttempt.State.FAILED
            attempt.message = (
                f"Still not in the owned list {SETTLE_AFTER.seconds // 60} minutes later: it was not bought."
            )
            outcome, facts = audit.Outcome.ERROR, None
        else:
            continue
        entry = {"action": audit.Action.BUY, "phone_number": attempt.phone_number, "user": attempt.user}
        if abandoned:
            # The process that sent it died before the answer: its entry says "sent", if it got that far.
            attempt.message = "The dashboard stopped while sending this purchase. " + attempt.message
        resolved = audit.resolve(
            entry, outcome=outcome, number_id=attempt.staffify_id, after=facts, message=attempt.message
        )
        if abandoned and not resolved:
            audit.record(
                attempt.user,
                audit.Action.BUY,
                outcome=outcome,
                number_id=attempt.staffify_id,
                phone_number=attempt.phone_number,
                after=facts,
                message=attempt.message,
            )
        attempt.save(update_fields=["state", "staffify_id", "message", "updated_at"])
        settled += 1
    return settled
