"""Release at the end of the paid cycle: "Release before the next charge".

A number released today still has paid days left; one released after its next charge costs
EUR 5 more. So Operations can schedule the release for shortly before that charge
(`SCHEDULED_RELEASE_LEAD_SECONDS`, an hour by default); the worker makes it then
(`numbers_app.tasks.run_scheduled_releases`, every `SCHEDULED_RELEASE_CHECK_SECONDS`), exactly as a
person's release is made: the write-ahead audit entry `sent`, then done, failed or unknown (settled by
`numbers_app.changes.settle`'s sweeper like any other write), the mirror updated through `numbers_app.mirror.ledger`.

Time. Staffify charges on *its* clock, so "due" is decided on its clock too: the same notion pages
and countdowns use (`lookups.staffify_now`: ours corrected by the skew seen in Staffify's Date header,
or the sandbox's X-Sandbox-Now). A pass of the worker first reads the soonest number (one call, which
it needs anyway) so that the skew is fresh before it decides: advancing the sandbox clock by days
makes a release due at the next pass, and a clock of ours running behind Staffify's can never make
the worker release after the charge it was meant to beat. Against the real API the skew is a
second or so and this changes nothing.

A scheduled release that did not run before its charge (the worker was down, Staffify unreachable for
the whole window) is never made silently afterwards: the charge for another cycle has been made, so
it becomes `missed` and the dashboard asks whether to release now anyway. Failed, missed and
unconfirmed ones are shown on every page to those who can release (`alerts`) until someone dismisses
them or they are resolved (released another way, or gone).

The module API for other callers (the bulk-jobs registry): `cannot_schedule_reason(record)`,
`schedule(record, user, unassign_first=...)`, `cancel(scheduled, user)`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from numbers_app import cycles, staffify
from numbers_app.audit import log as audit
from numbers_app.changes import obsolete, settle
from numbers_app.changes import service as changes
from numbers_app.mirror import ledger
from numbers_app.models import AuditEntry, NumberRecord, ScheduledRelease
from numbers_app.rules import PRICE_PER_CYCLE
from numbers_app.staffify import budget, lookups
from numbers_app.text import instants
from numbers_app.text.explain import Problem, explain
from numbers_app.text.presenters import iso_utc, local_text

State = ScheduledRelease.State
Action = AuditEntry.Action
Outcome = AuditEntry.Outcome

UNDATED = (
    "Its purchase time is unknown (it was bought outside this dashboard), so the dashboard cannot know "
    "when its next charge is. Set its purchase time from Staffify's invoice first."
)
PASS_LIMIT = 20  # releases one worker pass makes at most; the rest wait a minute (the budget paces them)


class CannotSchedule(Exception):
    """Why a number cannot be scheduled for release (or a scheduled release cannot be changed)."""


def lead() -> timedelta:
    return timedelta(seconds=settings.SCHEDULED_RELEASE_LEAD_SECONDS)


def _when(moment: datetime) -> str:
    """MOMENT in a stored sentence (an audit entry, the release's note): a token each reader sees in their
    own zone (numbers_app.text.instants), not the zone of whoever (or the worker) wrote it."""
    return instants.token(moment)


def planned(purchased_at: datetime, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(the next charge, the release's instant) for a number bought at PURCHASED_AT, scheduled NOW (by
    default on Staffify's clock as the shared client last saw it: no call)."""
    now = now or lookups.staffify_now()
    charge_at = cycles.next_charge(purchased_at, now)
    return charge_at, max(charge_at - lead(), now)  # inside the window already: the next pass makes it


def when_text(moment: datetime) -> str:
    """MOMENT for the person reading now: the one date style, "8 Dec 2026, 13:48 CET", in their zone."""
    return local_text(moment)


# ---------------------------------------------------------------------------------------------
# Reading


def waiting() -> QuerySet[ScheduledRelease]:
    """Scheduled releases that have not run yet (or are running now)."""
    return ScheduledRelease.objects.filter(state__in=ScheduledRelease.WAITING)


def waiting_for(number_id: int) -> ScheduledRelease | None:
    return waiting().filter(staffify_id=number_id).first()


def savings() -> tuple[int, Decimal]:
    """How many releases are scheduled, and what they save per 28-day cycle (each skips one renewal)."""
    count = waiting().count()
    return count, PRICE_PER_CYCLE * count


def alerts() -> QuerySet[ScheduledRelease]:
    """What the banner on every page shows those who can release: failed, missed and unconfirmed
    scheduled releases nobody dismissed, leaving out numbers the mirror already knows released or gone
    (the worker's next pass marks those resolved; a page never writes). The open ones' numbers are read
    first, and only those are looked up in the mirror: a subquery of every released or gone number was
    a scan of the whole mirror (25 ms at 100,000 numbers) on every page once any release was scheduled."""
    found = ScheduledRelease.objects.filter(state__in=ScheduledRelease.ALERTS, dismissed_at__isnull=True)
    numbers = list(found.values_list("staffify_id", flat=True))
    if numbers:
        settled = obsolete.released_or_gone().filter(staffify_id__in=numbers).values_list("staffify_id", flat=True)
        found = found.exclude(staffify_id__in=list(settled))
    return found.order_by("charge_at", "id")


def cannot_schedule_reason(record: NumberRecord) -> str | None:
    """Why RECORD (a mirror row) cannot be scheduled for release, or None when it can. The role is
    the caller's to check (numbers.release_number)."""
    if record.gone_at is not None:
        return "Staffify no longer has this number in the account."
    if record.last_status != "active":
        return "Only an active number can be released; this one is already pending release."
    if record.purchased_at is None:
        return UNDATED
    found = waiting_for(record.staffify_id)
    if found is not None:
        when, charge = when_text(found.run_at), when_text(found.charge_at)
        return f"A release is already scheduled for {when}, before the charge on {charge}."
    return None


# ---------------------------------------------------------------------------------------------
# Scheduling and cancelling (people)


def schedule(record: NumberRecord, user: Any, *, unassign_first: bool, now: datetime | None = None) -> ScheduledRelease:
    """Schedule RECORD's release for shortly before its next charge (on Staffify's clock NOW, by
    default the one the shared client last saw). Raises CannotSchedule with the reason."""
    reason = cannot_schedule_reason(record)
    if reason:
        raise CannotSchedule(reason)
    if unassign_first and not user.has_perm("numbers.assign_agent"):
        raise CannotSchedule("Your role cannot unassign agents, so it cannot ask for that before the release.")
    assert record.purchased_at is not None
    charge_at, run_at = planned(record.purchased_at, now)
    try:
        with transaction.atomic():
            scheduled = ScheduledRelease.objects.create(
                staffify_id=record.staffify_id,
                phone_number=record.phone_number,
                charge_at=charge_at,
                run_at=run_at,
                unassign_first=unassign_first,
                created_by=user,
            )
    except IntegrityError:
        raise CannotSchedule("A release is already scheduled for this number.") from None
    audit.record(
        user,
        Action.SCHEDULE_RELEASE,
        outcome=Outcome.OK,
        number_id=record.staffify_id,
        phone_number=record.phone_number,
        after={"charge_at": iso_utc(charge_at), "run_at": iso_utc(run_at), "unassign_first": unassign_first},
        message=(
            f"To be released at {_when(run_at)}, before the charge of EUR {PRICE_PER_CYCLE} on {_when(charge_at)}"
            + (", unassigning its agent first." if unassign_first else ".")
        ),
    )
    return scheduled


def cancel(scheduled: ScheduledRelease, user: Any) -> ScheduledRelease:
    """Cancel a scheduled release that has not started. Raises CannotSchedule when it is too late."""
    now = timezone.now()
    won = ScheduledRelease.objects.filter(pk=scheduled.pk, state=State.SCHEDULED).update(
        state=State.CANCELLED, finished_at=now, finished_by=user, message="Cancelled."
    )
    scheduled.refresh_from_db()
    if not won:
        if scheduled.state == State.RUNNING:
            raise CannotSchedule("Too late to cancel: the release is being made right now.")
        state = scheduled.get_state_display().lower()
        raise CannotSchedule(f"There is nothing to cancel: this scheduled release is {state}.")
    audit.record(
        user,
        Action.CANCEL_SCHEDULED,
        outcome=Outcome.OK,
        number_id=scheduled.staffify_id,
        phone_number=scheduled.phone_number,
        before={"charge_at": iso_utc(scheduled.charge_at), "run_at": iso_utc(scheduled.run_at)},
        message=f"The release planned for {_when(scheduled.run_at)} will not be made.",
    )
    return scheduled


def dismiss(scheduled: ScheduledRelease, user: Any) -> bool:
    """Hide a failed, missed or unconfirmed scheduled release from the banner; False when it was not one."""
    return bool(
        ScheduledRelease.objects.filter(
            pk=scheduled.pk, state__in=ScheduledRelease.ALERTS, dismissed_at__isnull=True
        ).update(dismissed_at=timezone.now(), dismissed_by=user)
    )


# ---------------------------------------------------------------------------------------------
# Making the release (the worker, or a person's "Release now")


def _finish(scheduled: ScheduledRelease, state: str, message: str, *, request_id: str = "", by: Any = None) -> None:
    scheduled.state = state
    scheduled.message = message
    scheduled.request_id = request_id or ""
    scheduled.finished_at = timezone.now()
    if by is not None:
        scheduled.finished_by = by
    scheduled.save(update_fields=["state", "message", "request_id", "finished_at", "finished_by", "audit_entry"])


def _failed(scheduled: ScheduledRelease, problem: Problem, by: Any) -> None:
    _finish(scheduled, State.FAILED, f"Not released: {problem.message}", request_id=problem.request_id or "", by=by)


def _missed_message(scheduled: ScheduledRelease) -> str:
    return (
        f"Not released: the charge of EUR {PRICE_PER_CYCLE} on {_when(scheduled.charge_at)} came before the "
        "scheduled release could run, so Staffify has charged another cycle. Release it now anyway?"
    )


def _fail(scheduled: ScheduledRelease, user: Any, number: staffify.PhoneNumber, message: str, by: Any) -> None:
    """A release not even tried (a rule stopped it): say why in the audit log and on the banner."""
    scheduled.audit_entry = changes.refuse(
        user, Action.RELEASE, f"Scheduled release not made: {message}", number=number, outcome=Outcome.ERROR
    ).entry
    _finish(scheduled, State.FAILED, message, by=by)


def perform(
    client: staffify.StaffifyClient, scheduled: ScheduledRelease, *, by: Any = None, after_charge: bool = False
) -> ScheduledRelease:
    """Make the release SCHEDULED stands for (already claimed: RUNNING). The worker calls it with
    `by=None` (the audit log names who scheduled it); a person's "Release now" passes themselves and
    `after_charge=True` (they were told the charge has been made)."""
    user = by or scheduled.created_by
    number_id = scheduled.staffify_id
    try:
        before = client.get_number(number_id)
    except staffify.NotFoundError:
        _finish(scheduled, State.FAILED, "Staffify no longer has this number in the account.", by=by)
        return scheduled
    except staffify.StaffifyError as err:
        if by is not None:  # a person is waiting: tell them now
            problem = explain(err)
            _failed(scheduled, problem, by)
            return scheduled
        # Nothing was sent: the worker's next pass tries again (and says "missed" if the charge comes first).
        scheduled.state, scheduled.message = State.SCHEDULED, f"Last try: {explain(err).message}"
        scheduled.save(update_fields=["state", "message"])
        return scheduled
    ledger.record_seen(before)
    if not after_charge and lookups.staffify_now(client) >= scheduled.charge_at:
        _finish(scheduled, State.MISSED, _missed_message(scheduled), by=by)
        return scheduled
    if before.status == "pending_release":
        _finish(scheduled, State.DONE, "It was already pending release (released another way).", by=by)
        return scheduled
    if user is None or not user.has_perm("numbers.release_number"):
        who = user.get_username() if user is not None else "The user who scheduled it"
        _fail(scheduled, user, before, f"{who} may no longer release numbers.", by)
        return scheduled
    if before.agent_id is not None and not scheduled.unassign_first:
        message = (
            f"It has an agent ({before.agent_name or f'#{before.agent_id}'}), and the schedule said not to unassign "
            "it; Staffify releases only numbers without an agent. Unassign it and release it, or release it with "
            "“unassign first”."
        )
        _fail(scheduled, user, before, message, by)
        return scheduled

    def link(entry: AuditEntry) -> None:  # committed before the release leaves: followed after a crash
        scheduled.audit_entry = entry
        scheduled.save(update_fields=["audit_entry"])

    if scheduled.audit_entry_id is not None:  # an earlier try's ("Release now" after a failure): not this one
        scheduled.audit_entry = None
        scheduled.save(update_fields=["audit_entry"])

    how = "Released now" if by is not None else "Released by the worker as scheduled"
    note = f"{how}, before the charge on {_when(scheduled.charge_at)}."
    change = changes.release(
        client, user, number_id, unassign_first=scheduled.unassign_first, before=before, message=note, on_sent=link
    )
    problem = change.problem or Problem("Staffify did not confirm it.")
    if scheduled.audit_entry is None:  # the unassign before it was refused or failed: no release was sent
        agent = before.agent_name or f"#{before.agent_id}"
        message = f"Not released: unassigning {agent} first failed. {problem.message}"
        _finish(scheduled, State.FAILED, message, request_id=problem.request_id or "", by=by)
        return scheduled
    if change.outcome == Outcome.UNKNOWN:
        _finish(scheduled, State.UNKNOWN, problem.message, request_id=problem.request_id or "", by=by)
        return scheduled
    if not change.done or change.number is None:
        _failed(scheduled, problem, by)
        return scheduled
    reclaim_before = change.number.reclaim_before
    if change.note:
        note = f"{note} {change.note}"
    until = f" Reclaimable until {_when(reclaim_before)}." if reclaim_before else ""
    _finish(scheduled, State.DONE, note + until, by=by)
    return scheduled


def release_now(client: staffify.StaffifyClient, scheduled: ScheduledRelease, user: Any) -> ScheduledRelease:
    """A person's "Release now" on a failed or missed scheduled release. Raises CannotSchedule when it
    is no longer one (another person acted first, or it is still being checked)."""
    won = ScheduledRelease.objects.filter(pk=scheduled.pk, state__in=(State.FAILED, State.MISSED)).update(
        state=State.RUNNING, dismissed_at=None, claimed_at=timezone.now()
    )
    scheduled.refresh_from_db()
    if not won:
        state = scheduled.get_state_display().lower()
        raise CannotSchedule(f"Nothing to release now: this scheduled release is {state}.")
    return perform(client, scheduled, by=user, after_charge=True)


def work_exists() -> bool:
    """Whether the worker's pass has anything to do (no Staffify call when not)."""
    open_alert = Q(state__in=(State.FAILED, State.MISSED), dismissed_at__isnull=True)
    busy = Q(state__in=(State.SCHEDULED, State.RUNNING, State.UNKNOWN))
    return ScheduledRelease.objects.filter(busy | open_alert).exists()


def _recover_abandoned() -> int:
    """A process that died while making a release left it `running`: with no release sent yet it is
    scheduled again (the next read decides afresh); with one sent, it follows that write's audit entry,
    which the sweeper settles by reading the number back. Never resent blindly."""
    cutoff = timezone.now() - settle.abandoned_after()
    stale = ScheduledRelease.objects.filter(state=State.RUNNING, claimed_at__lt=cutoff)
    unsent = stale.filter(audit_entry__isnull=True).update(
        state=State.SCHEDULED, message="The process making it stopped before sending it: tried again."
    )
    sent = stale.filter(audit_entry__isnull=False).update(
        state=State.UNKNOWN, message="The process making it stopped before Staffify answered: being checked."
    )
    return unsent + sent


def _settle_unknown() -> int:
    """Unconfirmed releases follow their audit entry, which numbers_app.changes.settle's sweeper settles."""
    settled = 0
    for scheduled in ScheduledRelease.objects.filter(state=State.UNKNOWN).select_related("audit_entry"):
        entry = scheduled.audit_entry
        if entry is None or entry.outcome in audit.UNSETTLED:
            continue
        if entry.outcome == Outcome.OK:
            _finish(scheduled, State.DONE, f"Checked afterwards: released. {entry.message}".strip())
        else:
            _finish(scheduled, State.FAILED, f"Checked afterwards: not released. {entry.message}".strip())
        settled += 1
    return settled


def _replan(scheduled: QuerySet[ScheduledRelease], now: datetime) -> None:
    """Someone corrected a purchase time after scheduling (numbers_app.buying.purchase_times): the charge to
    beat is the corrected cycle's first charge after the scheduling, on Staffify's clock."""
    skew = now - timezone.now()
    purchases = dict(
        NumberRecord.objects.filter(
            staffify_id__in=scheduled.values("staffify_id"), purchased_at__isnull=False
        ).values_list("staffify_id", "purchased_at")
    )
    for item in scheduled:
        purchased_at = purchases.get(item.staffify_id)
        if purchased_at is None or (item.charge_at - purchased_at) % cycles.CYCLE == timedelta(0):
            continue
        charge_at = cycles.next_charge(purchased_at, item.created_at + skew)
        ScheduledRelease.objects.filter(pk=item.pk, state=State.SCHEDULED).update(
            charge_at=charge_at,
            run_at=max(charge_at - lead(), item.created_at + skew),
            message=f"Re-planned: its purchase time was corrected, so its next charge is on {_when(charge_at)}.",
        )


def run_due(client: staffify.StaffifyClient, *, limit: int = PASS_LIMIT) -> int:
    """The worker's pass: make the releases that are due on Staffify's clock, mark missed the ones
    whose charge came first. Returns how many it made or marked."""
    done = _recover_abandoned() + _settle_unknown() + obsolete.close_released()
    scheduled = ScheduledRelease.objects.filter(state=State.SCHEDULED).order_by("run_at", "id")
    soonest = scheduled.first()
    if soonest is None or not budget.allow("background"):
        return done
    try:
        client.get_number(soonest.staffify_id)  # its answer's Date header: Staffify's clock, fresh
    except staffify.NotFoundError:
        pass  # answered all the same (perform says it is gone)
    except staffify.StaffifyError:
        return done  # Staffify is in trouble: the next pass tries again
    now = lookups.staffify_now(client)
    _replan(scheduled, now)
    for item in scheduled.filter(run_at__lte=now)[:limit]:
        if now >= item.charge_at:
            if ScheduledRelease.objects.filter(pk=item.pk, state=State.SCHEDULED).update(
                state=State.MISSED, message=_missed_message(item), finished_at=timezone.now()
            ):
                done += 1
            continue
        if not budget.allow("background"):
            break  # people need the rest of this minute's calls; there is time left in the window
        claimed = ScheduledRelease.objects.filter(pk=item.pk, state=State.SCHEDULED)
        if not claimed.update(state=State.RUNNING, claimed_at=timezone.now()):
            continue  # another worker took it, or someone cancelled it
        item.refresh_from_db()
        perform(client, item)
        done += 1
    return done
