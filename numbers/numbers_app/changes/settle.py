"""Write-ahead and settle: the audit log tells the truth about every write to a number.

Before a write (assign, unassign, tags, release, reclaim) is sent, `begin` commits an audit entry
`sent` holding the number before and the state asked for. The answer settles it:

- confirmed: `confirmed` (done);
- refused (4xx but 429, or the request never left): `answered` marks it failed; nothing changed at Staffify;
- unclear (a timeout, a dropped connection, a 5xx, a 429): `answered` reads the number back once, at once,
  with no sleep. Showing the state asked for, it is done ("Staffify answered late; checked: the agent
  is now Claims Intake"). After a 500/503/429 Staffify had finished, so the old state means nothing was
  changed. After a timeout the write may still be under way: the entry stays `unknown`.

The worker's sweeper (`sweep`, from `numbers_app.tasks.settle_writes` every SETTLE_WRITES_SECONDS, and
once when a worker starts) reads back every `unknown` entry, and every `sent` one older than the longest
a write can live in the client (`abandoned_after`: its process died before the answer): the state asked
for means done; still not after that time means it was not done. Purchases are settled
by numbers_app.buying.purchases (is the number in the account now?). Nothing is ever resent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from numbers_app import staffify
from numbers_app.audit import log as audit
from numbers_app.mirror import ledger
from numbers_app.models import AuditEntry
from numbers_app.rules import same_tags
from numbers_app.text.explain import Problem, explain, trouble

Action = AuditEntry.Action
Outcome = AuditEntry.Outcome

NUMBER_WRITES = (Action.ASSIGN, Action.UNASSIGN, Action.TAGS, Action.RELEASE, Action.RECLAIM)


# Between `begin`'s commit and the send, and between the answer and its settling: a few queries.
_COMMIT_MARGIN_SECONDS = 2.0


def abandoned_after() -> timedelta:
    """How long a `sent` write may wait for its answer before its process is taken for dead: the
    longest a write can live in the client (its timeouts and attempts, staffify.write_lifetime) and a
    margin, unless SETTLE_ABANDONED_SECONDS says otherwise."""
    if settings.SETTLE_ABANDONED_SECONDS is not None:
        return timedelta(seconds=settings.SETTLE_ABANDONED_SECONDS)
    lifetime = staffify.write_lifetime(settings.STAFFIFY_TIMEOUT, settings.STAFFIFY_CONNECT_TIMEOUT)
    return timedelta(seconds=lifetime + _COMMIT_MARGIN_SECONDS)


@dataclass
class Settled:
    """How a write ended, as far as the dashboard could tell in the request."""

    outcome: str
    number: staffify.PhoneNumber | None  # Staffify's state read back, when it was
    problem: Problem | None = None  # what to tell the user when the change is not known to be done
    note: str = ""  # done, but not as plainly as a confirmation: what was checked


def begin(
    user: Any, action: str, before: staffify.PhoneNumber, wanted: staffify.PhoneNumber, *, bulk_job: Any = None
) -> AuditEntry:
    """The audit entry of a write about to be sent, committed before it leaves (a bulk job's rows
    name their job)."""
    return audit.record(
        user,
        action,
        bulk_job=bulk_job,
        outcome=Outcome.SENT,
        number_id=before.id,
        phone_number=before.phone_number,
        before=audit.snapshot(before),
        after=audit.snapshot(wanted),
    )


def confirmed(entry: AuditEntry, after: staffify.PhoneNumber, message: str = "") -> None:
    audit.settle(entry, Outcome.OK, after=audit.snapshot(after), message=message)


def matches(action: str, number: staffify.PhoneNumber, wanted: dict | None) -> bool:
    """Whether NUMBER shows the change ACTION asked for (`wanted` is the entry's `after`)."""
    wanted = wanted or {}
    if action == Action.ASSIGN:
        return number.agent_id is not None and number.agent_id == wanted.get("agent_id")
    if action == Action.UNASSIGN:
        return number.agent_id is None
    if action == Action.TAGS:
        return same_tags(number.tags, wanted.get("tags") or [])
    if action == Action.RELEASE:
        return number.status == "pending_release"
    if action == Action.RECLAIM:
        return number.status == "active"
    return False


def state(action: str, number: staffify.PhoneNumber) -> str:
    """The part of the number ACTION changes, as the end of a sentence."""
    if action in (Action.ASSIGN, Action.UNASSIGN):
        if number.agent_id is None:
            return "no agent is assigned now"
        return f"the agent is now {number.agent_name or f'#{number.agent_id}'}"
    if action == Action.TAGS:
        return f"the tags are now {', '.join(number.tags)}" if number.tags else "it has no tags now"
    if action in (Action.RELEASE, Action.RECLAIM):
        return "it is pending release now" if number.status == "pending_release" else f"it is {number.status} now"
    return f"it is {number.status}"


def _late(err: staffify.StaffifyError) -> str:
    if isinstance(err, staffify.StaffifyTimeoutError):
        return "Staffify answered late"
    if isinstance(err, staffify.StaffifyConnectionError):
        return "Staffify's answer was lost on the way"
    return f"Staffify answered with an error (HTTP {err.status}) but made the change"


def answered(client: staffify.StaffifyClient, entry: AuditEntry, err: staffify.StaffifyError) -> Settled:
    """The write's answer was an error: settle its entry as far as one read-back allows."""
    rid = err.request_id
    # A 429 is documented as a refusal, but a proxy or gateway may answer it after Staffify acted: it is
    # read back like a 5xx before anything says "nothing was changed".
    if not (err.outcome_unknown or isinstance(err, (staffify.ServerError, staffify.RateLimitError))):
        problem = explain(err)  # refused, or never sent: Staffify did not act
        audit.settle(entry, Outcome.ERROR, err=err, message=problem.message)
        return Settled(Outcome.ERROR, None, problem)
    assert entry.number_id is not None
    try:
        number = client.get_number(entry.number_id)
    except staffify.StaffifyError as read_err:
        message = (
            f"{trouble(err)} Staffify may or may not have made the change, and the dashboard could not "
            f"read the number back ({explain(read_err).message}) It checks again within a minute and the "
            "audit log will say; reload before trying again."
        )
        audit.settle(entry, Outcome.UNKNOWN, err=err, message=message)
        return Settled(Outcome.UNKNOWN, None, Problem(message, rid))
    ledger.record_seen(number)
    if matches(entry.action, number, entry.after):
        note = f"{_late(err)}; checked: {state(entry.action, number)}."
        audit.settle(entry, Outcome.OK, err=err, after=audit.snapshot(number), message=note, checked=True)
        return Settled(Outcome.OK, number, None, note)
    if not err.outcome_unknown:
        # Staffify answered (500, 503): it had finished with the request, and the number shows no change.
        if isinstance(err, staffify.RateLimitError):  # when to try again, as for any refusal of the limit
            message = f"{explain(err).message} Nothing was changed: the dashboard checked."
        else:
            message = f"{trouble(err)} Nothing was changed: the dashboard checked. Try again in a moment."
        audit.settle(entry, Outcome.ERROR, err=err, message=message, checked=True)
        return Settled(Outcome.ERROR, number, Problem(message, rid))
    message = (
        f"{trouble(err)} The dashboard checked: {state(entry.action, number)}, but Staffify may still make "
        "the change. It checks again within a minute and the audit log will say; reload before trying again."
    )
    audit.settle(entry, Outcome.UNKNOWN, err=err, message=message)
    return Settled(Outcome.UNKNOWN, number, Problem(message, rid))


def unsettled_exist() -> bool:
    return _unsettled().exists()


def _unsettled():
    cutoff = timezone.now() - abandoned_after()
    writes = AuditEntry.objects.filter(action__in=NUMBER_WRITES, number_id__isnull=False)
    return writes.filter(outcome=Outcome.UNKNOWN) | writes.filter(outcome=Outcome.SENT, at__lt=cutoff)


def sweep(client: staffify.StaffifyClient, limit: int = 100) -> int:
    """Read back the numbers of unsettled writes and settle what they show; how many were settled."""
    settled = 0
    cutoff = timezone.now() - abandoned_after()
    for entry in _unsettled().order_by("at")[:limit]:
        assert entry.number_id is not None
        died = "The dashboard stopped before Staffify answered. " if entry.outcome == Outcome.SENT else ""
        try:
            number: staffify.PhoneNumber | None = client.get_number(entry.number_id)
        except staffify.NotFoundError:
            number = None
        except staffify.StaffifyError:
            break  # Staffify is in trouble: the next sweep tries again
        if number is not None and matches(entry.action, number, entry.after):
            ledger.record_seen(number)
            message = f"{died}Checked afterwards: {state(entry.action, number)}: it was done."
            audit.settle(entry, Outcome.OK, after=audit.snapshot(number), message=message, checked=True)
        elif entry.at < cutoff:
            now = "the number is gone" if number is None else state(entry.action, number)
            message = f"{died}Checked afterwards: {now}: it was not done."
            audit.settle(entry, Outcome.ERROR, message=message, checked=True)
        else:
            continue
        settled += 1
    return settled
