"""Turns a Staffify error into one plain sentence for the place where it happened.

Views never show raw exceptions: every StaffifyError reaches the user through `explain`, with the
Staffify request id (what Staffify support asks for) kept beside the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from numbers_app import staffify
from numbers_app.rules import PRICE_PER_CYCLE

CONFLICTS = {
    "NO_AGENT_ASSIGNED": "No agent is assigned to this number, so there was nothing to unassign.",
    "AGENT_ASSIGNED": "Staffify releases only numbers without an agent: unassign it first.",
    "NOT_ACTIVE": "This number is pending release: reclaim it before changing it.",
    "ALREADY_PENDING_RELEASE": "This number is already pending release.",
    "NOT_PENDING_RELEASE": "This number is not pending release, so there is nothing to reclaim.",
    "RECLAIM_WINDOW_CLOSED": "The 7-day reclaim window has closed: the number is gone.",
    "NUMBER_NOT_AVAILABLE": "This number is no longer available: someone bought it. Search again.",
    "ALREADY_OWNED": "This account already owns this number.",
}


@dataclass(frozen=True)
class Problem:
    message: str
    request_id: str | None = None
    level: str = "error"
    reference: str | None = None  # the dashboard's own error reference, found in its logs

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (Staffify request id {self.request_id})"
        return self.message


UNREADABLE = "Staffify answered with something the dashboard cannot read."


def trouble(err: staffify.StaffifyError) -> str:
    """What is wrong on Staffify's side (5xx, timeout, no connection), as one sentence."""
    if isinstance(err, staffify.StaffifyTimeoutError):
        return "Staffify did not answer in time."
    if isinstance(err, staffify.StaffifyConnectionError):
        return "Staffify cannot be reached."
    return f"Staffify is having trouble (HTTP {err.status})."


def explain(err: staffify.StaffifyError, *, balance: Decimal | None = None, what: str | None = None) -> Problem:
    """One sentence saying what went wrong and what to do, for any StaffifyError. WHAT names what was
    asked for ("the agent list", "address 12"), when it is not a number; by default the error says
    (numbers_app.staffify.lookups.asking_for)."""
    rid = err.request_id
    what = what or err.asked_for
    if isinstance(err, staffify.PaymentRequiredError):
        have = f"EUR {balance:.2f}" if balance is not None else "below EUR 5.00"
        return Problem(
            f"Staffify refused for lack of credit: the balance is {have} and a number needs "
            f"EUR {PRICE_PER_CYCLE:.2f} up front. Top up the balance, then try again.",
            rid,
        )
    if isinstance(err, staffify.ConflictError):
        why = CONFLICTS.get(err.code or "") or f"Staffify refused because of the number's current state: {err.message}"
        return Problem(why, rid)
    if isinstance(err, staffify.RateLimitError):
        wait = int(err.retry_after) if err.retry_after is not None else 60
        at = timezone.localtime(timezone.now() + timedelta(seconds=wait))
        return Problem(
            f"Staffify's rate limit is reached: try again in {wait} seconds (after {at:%H:%M:%S}). "
            "Nothing was changed.",
            rid,
        )
    if isinstance(err, staffify.ValidationError):
        details = "; ".join(f"{field}: {text}" for field, text in (err.details or {}).items())
        return Problem(f"Staffify refused the request: {err.message}" + (f" ({details})" if details else ""), rid)
    if isinstance(err, staffify.NotFoundError):
        if what:
            return Problem(
                f"Staffify answered 404 Not found for {what}: it is not in this account, "
                "or this Staffify does not offer it.",
                rid,
            )
        return Problem("Staffify does not know this number in this account (released, or never ours).", rid)
    if isinstance(err, staffify.AuthenticationError):
        return Problem("Staffify rejected the dashboard's API key. An administrator must check STAFFIFY_API_KEY.", rid)
    if isinstance(err, staffify.PermissionDeniedError):
        return Problem(f"Staffify does not allow this with the dashboard's API key: {err.message}", rid)
    if err.outcome_unknown:  # a write that may have happened: never claim that nothing changed
        return Problem(
            f"{trouble(err) if not isinstance(err, staffify.StaffifyResponseError) else UNREADABLE} "
            "Staffify may have done it: whether anything changed is not known yet, so check before trying again.",
            rid,
        )
    if isinstance(err, staffify.StaffifyResponseError):
        return Problem(f"{UNREADABLE} Nothing was changed.", rid)
    if isinstance(err, staffify.ServerError | staffify.StaffifyConnectionError):
        return Problem(f"{trouble(err)} Nothing was changed. Try again in a moment.", rid)
    return Problem(f"Staffify refused the request (HTTP {err.status}): {err.message}", rid)
