"""Settling purchases whose outcome Staffify never confirmed (a timeout, a lost answer).

Each such purchase stays `unknown` (PurchaseAttempt and its audit entry) until the owned list shows
the number (then it was bought) or, after SETTLE_AFTER, still does not (then it was not).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from numbers_app import audit, ledger, staffify
from numbers_app.models import PurchaseAttempt

SETTLE_AFTER = timedelta(minutes=10)


def unknown_purchases_exist() -> bool:
    return PurchaseAttempt.objects.filter(state=PurchaseAttempt.State.UNKNOWN).exists()


def resolve_unknown_purchases(client: staffify.StaffifyClient) -> int:
    """Look for every unknown purchase in the owned list; returns how many were settled."""
    pending = list(PurchaseAttempt.objects.filter(state=PurchaseAttempt.State.UNKNOWN).select_related("user"))
    if not pending:
        return 0
    try:
        owned = {n.phone_number: n for n in client.iter_numbers(page_size=100)}
    except staffify.StaffifyError:
        return 0  # try again on the next look
    settled = 0
    now = timezone.now()
    for attempt in pending:
        entry = {"action": audit.Action.BUY, "phone_number": attempt.phone_number, "user": attempt.user}
        number = owned.get(attempt.phone_number)
        if number is not None:
            ledger.record_purchase(
                number.id, number.phone_number, attempt.user, number.purchased_at or attempt.created_at
            )
            attempt.state, attempt.staffify_id = PurchaseAttempt.State.SUCCEEDED, number.id
            attempt.message = "Found in the owned list afterwards: it was bought."
            audit.resolve(
                entry,
                outcome=audit.Outcome.OK,
                number_id=number.id,
                after={"id": number.id, "phone_number": number.phone_number},
                message=attempt.message,
            )
        elif now - attempt.created_at >= SETTLE_AFTER:
            attempt.state = PurchaseAttempt.State.FAILED
            attempt.message = (
                f"Still not in the owned list {SETTLE_AFTER.seconds // 60} minutes later: it was not bought."
            )
            audit.resolve(entry, outcome=audit.Outcome.ERROR, message=attempt.message)
        else:
            continue
        attempt.save(update_fields=["state", "staffify_id", "message", "updated_at"])
        settled += 1
    return settled
