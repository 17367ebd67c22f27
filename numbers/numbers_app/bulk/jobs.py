"""Bulk work: one action over many numbers, previewed from the mirror and run by the worker.

The actions are a registry (`ACTIONS`): each says which permission it needs, how it plans one number
(`plan`: change it, skip it because it is already in the wanted state, or say why it cannot be done)
and how it performs one row (`perform`, by default the plan's change made through the write service).
Another action plugs in with `register(BulkAction(...))`.

A job's rows are created with the job. The worker (`run`, from the task `run_bulk_job`) walks
them in order, paced by the shared Staffify budget with the reserve left to people:

- each row is planned again from the mirror just before it runs: a row already in the wanted state
  costs 0 calls; a change costs one write (two for a release that unassigns first);
- write-ahead: the row is marked `sent` (committed) before Staffify is called; the change itself is
  made by the one write service (numbers_app.changes.service), as a person's is, its audit entries
  linked to the job;
- after a crash, a row found `sent` is settled by reading the number back (one GET): the wanted
  state means done; otherwise its entries are settled "not done" and the row runs again from what
  was read. So no row is done twice and none is skipped;
- a job whose worker died (no heartbeat for BULK_STALE_SECONDS) is taken over by the periodic sweep;
- a 429 puts the row back to pending and the budget pauses background work: the job slows, pages don't.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.tasks import task
from django.utils import timezone

from numbers_app import scope, staffify
from numbers_app.audit import log as audit
from numbers_app.changes import service as changes
from numbers_app.changes import settle
from numbers_app.mirror import ledger
from numbers_app.mirror import store as mirror
from numbers_app.models import AuditEntry, BulkJob, BulkJobRow, NumberRecord
from numbers_app.roles import denial
from numbers_app.rules import CYCLE_DAYS, MAX_TAGS, PRICE_PER_CYCLE, same_tags, tag_key
from numbers_app.scheduled import releases as scheduled_releases
from numbers_app.staffify import budget
from numbers_app.text import instants
from numbers_app.text.explain import Problem, explain
from numbers_app.text.presenters import format_phone

logger = logging.getLogger(__name__)

Verdict = Literal["change", "skip", "cannot"]
MAX_ROWS = 20_000  # one job at most; "select all" over a larger filter is refused with a message
SAID = 500  # a preview lists at most this many changes with their own words
SAMPLE = 8  # examples of each reason shown in the preview


@dataclass(frozen=True)
class Step:
    """One Staffify write: an audit action (assign, unassign, tags, release, reclaim) and the number as
    it should be after it."""

    action: str
    wanted: staffify.PhoneNumber


@dataclass(frozen=True)
class Plan:
    verdict: Verdict
    reason: str = ""
    steps: tuple[Step, ...] = ()
    was: str = ""  # what the change replaces, counted in the preview (an assign's previous agent)


def change(*steps: Step) -> Plan:
    return Plan("change", steps=steps)


def skip(reason: str) -> Plan:
    return Plan("skip", reason)


def cannot(reason: str) -> Plan:
    return Plan("cannot", reason)


PlanFn = Callable[[staffify.PhoneNumber, dict, Any], Plan]


@dataclass(frozen=True)
class BulkAction:
    key: str
    label: str  # "Assign an agent"
    perm: str
    plan: PlanFn
    # Performs one row (the plan's steps by default); returns the number as Staffify left it.
    perform: (
        Callable[[staffify.StaffifyClient, staffify.PhoneNumber, Plan, Any, BulkJob], staffify.PhoneNumber] | None
    ) = None
    saves_money: bool = False  # the preview states the saving per cycle (release)
    selectable: bool = True  # offered in the selection bar (set_tags comes from files only)
    inputs: tuple[str, ...] = ()  # the bar's inputs it takes: "tags", "unassign_first"
    # Changes only the dashboard's own database (no Staffify call): not paced, and the change commits
    # with its row's result, so there is no `sent` state to settle after a crash.
    local: bool = False
    # Reads the number live before its write (one more call): for writes that replace a whole list built
    # from what the number has (adding or removing tags PATCHes the whole list), so that a change made
    # outside the dashboard since the last sync is kept, not overwritten from the mirror.
    read_first: bool = False


ACTIONS: dict[str, BulkAction] = {}


def register(action: BulkAction) -> BulkAction:
    ACTIONS[action.key] = action
    return action


# ---------------------------------------------------------------------------------------------
# The actions


def _active_only(number: staffify.PhoneNumber) -> Plan | None:
    if number.status != "active":
        return cannot("pending release: reclaim it first")
    return None


def _plan_assign(number: staffify.PhoneNumber, params: dict, user: Any) -> Plan:
    agent_id, name = params.get("agent_id"), params.get("agent_name") or None
    if (refused := _active_only(number)) is not None:
        return refused
    if number.agent_id == agent_id:
        return skip(f"already assigned to {name or agent_id}")
    was = (number.agent_name or f"agent {number.agent_id}") if number.agent_id else "no agent"
    return Plan(
        "change", steps=(Step(audit.Action.ASSIGN, replace(number, agent_id=agent_id, agent_name=name)),), was=was
    )


def _plan_unassign(number: staffify.PhoneNumber, params: dict, user: Any) -> Plan:
    if (refused := _active_only(number)) is not None:
        return refused
    if number.agent_id is None:
        return skip("no agent already")
    return change(Step(audit.Action.UNASSIGN, replace(number, agent_id=None, agent_name=None)))


def _tags_plan(number: staffify.PhoneNumber, new: list[str]) -> Plan:
    if (refused := _active_only(number)) is not None:
        return refused
    if same_tags(number.tags, new):
        return skip("tags already as wanted")
    if len(new) > MAX_TAGS:
        return cannot(f"would have {len(new)} tags (Staffify allows at most {MAX_TAGS})")
    return change(Step(audit.Action.TAGS, replace(number, tags=tuple(new))))


def _plan_add_tags(number: staffify.PhoneNumber, params: dict, user: Any) -> Plan:
    have = {tag_key(t) for t in number.tags}
    missing = [t for t in params.get("tags", []) if tag_key(t) not in have]
    if not missing and number.status == "active":
        return skip("has these tags already")
    return _tags_plan(number, [*number.tags, *missing])


def _plan_remove_tags(number: staffify.PhoneNumber, params: dict, user: Any) -> Plan:
    gone = {tag_key(t) for t in params.get("tags", [])}
    kept = [t for t in number.tags if tag_key(t) not in gone]
    if len(kept) == len(number.tags) and number.status == "active":
        return skip("has none of these tags")
    return _tags_plan(number, kept)


def _plan_set_tags(number: staffify.PhoneNumber, params: dict, user: Any) -> Plan:
    return _tags_plan(number, list(params.get("tags", [])))


def _plan_release(number: staffify.PhoneNumber, params: dict, user: Any) -> Plan:
    unassign_first = bool(params.get("unassign_first"))
    refusal = changes.release_refusal(number, user, unassign_first=unassign_first)
    if refusal is not None:
        return skip(refusal) if number.status == "pending_release" else cannot(refusal)
    released = replace(number, status="pending_release", agent_id=None, agent_name=None)
    if number.agent_id is None:
        return change(Step(audit.Action.RELEASE, released))
    unassigned = replace(number, agent_id=None, agent_name=None)
    return change(Step(audit.Action.UNASSIGN, unassigned), Step(audit.Action.RELEASE, released))


def _plan_reclaim(number: staffify.PhoneNumber, params: dict, user: Any) -> Plan:
    if number.status == "active":
        return skip("already active")
    if number.status != "pending_release":
        return cannot(f"status is {number.status}")
    if number.reclaim_before is not None and number.reclaim_before <= timezone.now():
        return cannot("the 7-day reclaim window has closed")
    return change(Step(audit.Action.RECLAIM, replace(number, status="active", reclaim_before=None)))


register(BulkAction("assign", "Assign an agent", "numbers.assign_agent", _plan_assign))
register(BulkAction("unassign", "Unassign the agent", "numbers.assign_agent", _plan_unassign))
register(BulkAction("add_tags", "Add tags", "numbers.edit_tags", _plan_add_tags, inputs=("tags",), read_first=True))
register(
    BulkAction("remove_tags", "Remove tags", "numbers.edit_tags", _plan_remove_tags, inputs=("tags",), read_first=True)
)
register(BulkAction("set_tags", "Set tags", "numbers.edit_tags", _plan_set_tags, selectable=False))
register(
    BulkAction(
        "release", "Release", "numbers.release_number", _plan_release, saves_money=True, inputs=("unassign_first",)
    )
)
register(BulkAction("reclaim", "Reclaim", "numbers.reclaim_number", _plan_reclaim))


# "Release before the next charge" (numbers_app.scheduled.releases): the job schedules each release;
# the worker makes it later, shortly before that number's next charge.


def _plan_schedule_release(number: staffify.PhoneNumber, params: dict, user: Any) -> Plan:
    if number.status != "active":
        return skip("already pending release") if number.status == "pending_release" else cannot(number.status)
    if number.purchased_at is None:
        return cannot("purchase time unknown, so its next charge is unknown (set it on its page)")
    found = scheduled_releases.waiting_for(number.id)
    if found is not None:
        return skip("a release is already scheduled before its next charge")
    refusal = changes.release_refusal(number, user, unassign_first=bool(params.get("unassign_first")))
    if refusal is not None:
        return cannot(refusal)
    charge_at, run_at = scheduled_releases.planned(number.purchased_at)
    # Tokens (numbers_app.text.instants), not text: the worker writes this into the job's rows, and each
    # reader sees it in their own zone (the preview and the job page with UTC on hover, the CSV in UTC).
    when, charge = instants.token(run_at), instants.token(charge_at)
    return Plan("change", f"to be released {when}, before the charge on {charge}")


def _perform_schedule_release(
    client: staffify.StaffifyClient, before: staffify.PhoneNumber, plan: Plan, user: Any, job: BulkJob
) -> staffify.PhoneNumber:
    record = mirror.owned().filter(staffify_id=before.id).first()
    if record is None:
        raise StepFailed("not in the account any more (the mirror says it is gone)", None)
    try:
        scheduled_releases.schedule(record, user, unassign_first=bool(job.params.get("unassign_first")))
    except scheduled_releases.CannotSchedule as refused:
        raise StepFailed(str(refused), None) from None
    return before


register(
    BulkAction(
        "schedule_release",
        "Release before the next charge",
        "numbers.release_number",
        _plan_schedule_release,
        perform=_perform_schedule_release,
        saves_money=True,
        inputs=("unassign_first",),
        local=True,
    )
)


# Cancelling scheduled releases in bulk: the dashboard's own records only (no Staffify call).


def _plan_cancel_scheduled(number: staffify.PhoneNumber, params: dict, user: Any) -> Plan:
    found = scheduled_releases.waiting_for(number.id)
    if found is None:
        return skip("no release is scheduled")
    return Plan("change", f"the release planned for {instants.token(found.run_at)} will not be made")


def _perform_cancel_scheduled(
    client: staffify.StaffifyClient, before: staffify.PhoneNumber, plan: Plan, user: Any, job: BulkJob
) -> staffify.PhoneNumber:
    found = scheduled_releases.waiting_for(before.id)
    if found is None:
        raise StepFailed("no release is scheduled any more", None)
    try:
        scheduled_releases.cancel(found, user)
    except scheduled_releases.CannotSchedule as refused:
        raise StepFailed(str(refused), None) from None
    return before


register(
    BulkAction(
        "cancel_scheduled_release",
        "Cancel the scheduled release",
        "numbers.release_number",
        _plan_cancel_scheduled,
        perform=_perform_cancel_scheduled,
        local=True,
    )
)


def offered(user: Any) -> list[BulkAction]:
    """The actions the selection bar offers USER (those of its role), in registry order."""
    return [a for a in ACTIONS.values() if a.selectable and user.has_perm(a.perm)]


def plan_for(key: str, number: staffify.PhoneNumber, params: dict, user: Any) -> Plan:
    """The plan for one number, with the role checked first (exactly the single actions' permission)."""
    action = ACTIONS[key]
    if not user.has_perm("numbers.view_dashboard") or not user.has_perm(action.perm):
        return cannot(
            denial(user, action.perm if user.has_perm("numbers.view_dashboard") else "numbers.view_dashboard")
        )
    return action.plan(number, params, user)


def describe(key: str, params: dict) -> str:
    """The action in words: "Assign an agent: Claims Intake"."""
    label = ACTIONS[key].label if key in ACTIONS else "Changes from a file"
    if key == "assign":
        return f"{label}: {params.get('agent_name') or params.get('agent_id')}"
    if key in ("add_tags", "remove_tags", "set_tags"):
        return f"{label}: {', '.join(params.get('tags', []))}"
    if key in ("release", "schedule_release") and params.get("unassign_first"):
        return f"{label} (unassigning first)"
    if key == "file":
        return f"{label}: {params.get('filename', '')}"[:300]
    return label


# ---------------------------------------------------------------------------------------------
# Preview


@dataclass(frozen=True)
class Item:
    """One row to create: a number and the change asked for it."""

    record: NumberRecord
    action: str
    params: dict
    line: int | None = None


@dataclass
class Preview:
    total: int = 0
    change: int = 0
    skip: int = 0
    cannot: int = 0
    calls: int = 0  # Staffify writes the job will send (a change may need two)
    reasons: dict[str, Counter] = field(default_factory=lambda: {"skip": Counter(), "cannot": Counter()})
    samples: dict[str, list[str]] = field(default_factory=lambda: {"change": [], "skip": [], "cannot": []})
    saving: Decimal | None = None  # EUR per 28-day cycle, for a release
    cycle_days: int = CYCLE_DAYS
    shown: set[str] = field(default_factory=set)  # the numbers: a file may change one number twice
    # Each change that says something of its own (a scheduled release's instant), for the preview's list.
    said: list[tuple[str, str]] = field(default_factory=list)
    was: Counter = field(default_factory=Counter)  # what the changes replace: an assign's previous agents

    def add(self, display: str, plan: Plan) -> None:
        self.total += 1
        self.shown.add(display)
        setattr(self, plan.verdict, getattr(self, plan.verdict) + 1)
        self.calls += len(plan.steps)
        if plan.was:
            self.was[plan.was] += 1
        if plan.verdict != "change":
            self.reasons[plan.verdict][plan.reason] += 1
        elif plan.reason and len(self.said) < SAID:
            self.said.append((display, plan.reason))
        if len(self.samples[plan.verdict]) < SAMPLE:
            self.samples[plan.verdict].append(f"{display}: {plan.reason}" if plan.reason else display)

    @property
    def numbers(self) -> int:
        return len(self.shown)

    @property
    def was_text(self) -> str:
        """ "Sales Assistant (3), no agent (1)": where the changed numbers come from."""
        return ", ".join(f"{what} ({n})" for what, n in self.was.most_common())

    @property
    def skip_reasons(self) -> list[tuple[str, int]]:
        return self.reasons["skip"].most_common()

    @property
    def cannot_reasons(self) -> list[tuple[str, int]]:
        return self.reasons["cannot"].most_common()


def preview(key: str, params: dict, records: Iterable[NumberRecord], user: Any) -> Preview:
    """What the action would do to RECORDS, from the mirror: 0 Staffify calls."""
    return preview_items([Item(record, key, params) for record in records], user)


def preview_items(items: list[Item], user: Any) -> Preview:
    """The same for rows of any actions (a file mixes assignments and tags)."""
    found = Preview()
    releases = 0
    for item in items:
        plan = plan_for(item.action, mirror.as_number(item.record), item.params, user)
        found.add(format_phone(item.record.phone_number), plan)
        releases += plan.verdict == "change" and ACTIONS[item.action].saves_money
    if any(ACTIONS[item.action].saves_money for item in items):
        found.saving = PRICE_PER_CYCLE * releases
    return found


# ---------------------------------------------------------------------------------------------
# Creating, cancelling, retrying


def create_job(user: Any, action: str, params: dict, items: list[Item], *, retry_of: BulkJob | None = None) -> BulkJob:
    """The job and all its rows, in one transaction, then queued for the worker. Rows the mirror says
    are already in the wanted state, or cannot be done, are written as such at once (0 calls)."""
    with transaction.atomic():
        job = BulkJob.objects.create(
            action=action,
            params=params,
            description=describe(action, params),
            created_by=user,
            total=len(items),
            retry_of=retry_of,
        )
        rows = []
        for position, item in enumerate(items):
            plan = plan_for(item.action, mirror.as_number(item.record), item.params, user)
            state = {"change": BulkJobRow.State.PENDING, "skip": BulkJobRow.State.SKIPPED}.get(
                plan.verdict, BulkJobRow.State.CANNOT
            )
            rows.append(
                BulkJobRow(
                    job=job,
                    position=position,
                    number_id=item.record.staffify_id,
                    phone_number=item.record.phone_number[:32],
                    display=format_phone(item.record.phone_number)[:40],
                    action=item.action,
                    params=item.params,
                    line=item.line,
                    state=state,
                    reason=plan.reason,
                    finished_at=None if state == BulkJobRow.State.PENDING else timezone.now(),
                )
            )
        BulkJobRow.objects.bulk_create(rows, batch_size=500)
        audit.record(
            user,
            audit.Action.BULK,
            outcome=audit.Outcome.OK,
            bulk_job=job,
            message=f"Started bulk job {job.pk}: {job.description} "
            f"({len(items)} number{'s' if len(items) != 1 else ''})"
            + (f", retrying the failed rows of job {retry_of.pk}" if retry_of else "")
            + ".",
        )
        transaction.on_commit(lambda: run_bulk_job.enqueue(job.pk))
    return job


def cancel(job: BulkJob, user: Any) -> BulkJob:
    """Rows not yet sent become cancelled: at once for a queued job, by its runner for a running one."""
    now = timezone.now()
    with transaction.atomic():
        if BulkJob.objects.filter(pk=job.pk, state=BulkJob.State.QUEUED).update(
            state=BulkJob.State.CANCELLED, finished_at=now
        ):
            job.rows.filter(state=BulkJobRow.State.PENDING).update(
                state=BulkJobRow.State.CANCELLED, reason="cancelled before it was sent", finished_at=now
            )
        else:
            BulkJob.objects.filter(pk=job.pk, state=BulkJob.State.RUNNING).update(state=BulkJob.State.CANCELLING)
        audit.record(
            user, audit.Action.BULK, outcome=audit.Outcome.OK, bulk_job=job, message=f"Cancelled bulk job {job.pk}."
        )
    job.refresh_from_db()
    return job


def retry_failed(job: BulkJob, user: Any) -> BulkJob | None:
    """A new job with the failed rows of JOB (planned again from the mirror); None when none failed."""
    failed = list(job.rows.filter(state=BulkJobRow.State.FAILED).order_by("position"))
    records = {r.staffify_id: r for r in mirror.owned().filter(staffify_id__in=[row.number_id for row in failed])}
    items = [
        Item(records[row.number_id], row.action, row.params, row.line) for row in failed if row.number_id in records
    ]
    if not items:
        return None
    return create_job(user, job.action, job.params, items, retry_of=job)


def counts(job: BulkJob) -> dict[str, int]:
    found = {state: 0 for state in BulkJobRow.State.values}
    for row in job.rows.values("state").annotate(n=Count("id")):
        found[row["state"]] = row["n"]
    return found


def progress(job: BulkJob, found: dict[str, int] | None = None) -> int:
    """Rows finished, whatever their outcome (for the progress bar)."""
    found = found if found is not None else counts(job)
    return job.total - found[BulkJobRow.State.PENDING] - found[BulkJobRow.State.SENT]


# ---------------------------------------------------------------------------------------------
# Running (the worker)


def stale_after() -> timedelta:
    return timedelta(seconds=settings.BULK_STALE_SECONDS)


def claim(job_id: int) -> BulkJob | None:
    """Take the job to run: a queued one, or one whose runner stopped beating (it died)."""
    now = timezone.now()
    running = [BulkJob.State.RUNNING, BulkJob.State.CANCELLING]
    won = BulkJob.objects.filter(pk=job_id, state=BulkJob.State.QUEUED).update(
        state=BulkJob.State.RUNNING, started_at=now, heartbeat_at=now
    )
    if not won:
        stale = Q(heartbeat_at__lt=now - stale_after()) | Q(heartbeat_at__isnull=True)
        won = BulkJob.objects.filter(stale, pk=job_id, state__in=running).update(heartbeat_at=now)
    return BulkJob.objects.get(pk=job_id) if won else None


def to_resume() -> QuerySet[BulkJob]:
    """Jobs whose worker died (no heartbeat lately), or queued so long their task must be lost."""
    cutoff = timezone.now() - stale_after()
    running = Q(state__in=[BulkJob.State.RUNNING, BulkJob.State.CANCELLING]) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    )
    return BulkJob.objects.filter(running | Q(state=BulkJob.State.QUEUED, created_at__lt=cutoff))


class _Runner:
    def __init__(
        self, job: BulkJob, client: staffify.StaffifyClient, sleep: Callable[[float], None], slice_seconds: float
    ) -> None:
        self.job, self.client, self.sleep = job, client, sleep
        self.user = job.created_by
        self.until = time.monotonic() + slice_seconds
        self.yielded = False

    # -- the job's state --

    def beat(self) -> str:
        """Prove the runner is alive; the job's state (a cancel may have come)."""
        now = timezone.now()
        BulkJob.objects.filter(pk=self.job.pk).update(heartbeat_at=now)
        return BulkJob.objects.filter(pk=self.job.pk).values_list("state", flat=True).get()

    def pace(self) -> bool:
        """Wait while people need the rest of this window's calls; False if a cancel came meanwhile."""
        while not budget.allow("background"):
            if self.beat() == BulkJob.State.CANCELLING:
                return False
            self.sleep(min(max(budget.wait_time("background"), 0.2), 2.0))
        return True

    def read_live(self, row: BulkJobRow) -> staffify.PhoneNumber | None:
        """The number as Staffify has it now (paced; the mirror row follows), or None when the row was
        finished (gone, or the read failed: said, with the request id) or a cancel came while waiting."""
        if not self.pace():
            return None
        try:
            number = self.client.get_number(row.number_id)
        except staffify.RateLimitError:
            return None  # the budget now pauses background work; the row stays pending for later
        except staffify.NotFoundError:
            self.finish_row(row, BulkJobRow.State.FAILED, "the number is gone from the account", calls=row.calls + 1)
            return None
        except staffify.StaffifyError as err:
            problem = explain(err)
            self.finish_row(
                row,
                BulkJobRow.State.FAILED,
                f"Could not read it before changing it: {problem.message}",
                request_id=problem.request_id or "",
                calls=row.calls + 1,
            )
            return None
        ledger.record_seen(number)
        return number

    def finish_row(self, row: BulkJobRow, state: str, reason: str = "", **fields: Any) -> None:
        BulkJobRow.objects.filter(pk=row.pk).update(
            state=state, reason=reason[:2000], finished_at=timezone.now(), **fields
        )

    # -- rows --

    def run(self) -> BulkJob:
        for row in self.job.rows.filter(state=BulkJobRow.State.SENT).order_by("position"):
            self.settle_sent(row)
        while True:
            if self.beat() == BulkJob.State.CANCELLING:
                break
            batch = list(self.job.rows.filter(state=BulkJobRow.State.PENDING).order_by("position")[:100])
            if not batch:
                break
            for row in batch:
                if self.beat() == BulkJob.State.CANCELLING:
                    break
                self.run_row(row)
                if time.monotonic() > self.until:
                    return self.give_way()
        return self.end()

    def give_way(self) -> BulkJob:
        """The worker runs one task at a time: a long job hands the queue back now and then (the heartbeat,
        the mirror's sync and the settling sweeper run between its slices) and is enqueued again."""
        BulkJob.objects.filter(pk=self.job.pk).update(heartbeat_at=None)
        self.yielded = True
        return self.job

    def end(self) -> BulkJob:
        now = timezone.now()
        for row in self.job.rows.filter(state=BulkJobRow.State.SENT):
            self.settle_sent(row)  # a read-back that failed at the start: once more
        cancelled = self.beat() == BulkJob.State.CANCELLING
        if cancelled:
            self.job.rows.filter(state=BulkJobRow.State.PENDING).update(
                state=BulkJobRow.State.CANCELLED, reason="cancelled before it was sent", finished_at=now
            )
        if self.job.rows.filter(state__in=[BulkJobRow.State.PENDING, BulkJobRow.State.SENT]).exists():
            # Staffify could not be read back, or a row read back must run again: never finish with
            # a row unsettled; the next slice tries again (nothing is resent blindly meanwhile).
            self.sleep(2.0)
            return self.give_way()
        calls = self.job.rows.aggregate(n=Sum("calls"))["n"] or 0
        state = BulkJob.State.CANCELLED if cancelled else BulkJob.State.DONE
        ended = (
            BulkJob.objects.filter(pk=self.job.pk)
            .exclude(state__in=[BulkJob.State.DONE, BulkJob.State.CANCELLED])
            .update(state=state, finished_at=now, calls=calls, heartbeat_at=now)
        )
        self.job.refresh_from_db()
        if ended:
            # The rows that made no call (skipped, cannot, cancelled) reach the audit log here, counted,
            # linked to the job whose page and CSV list each one with its reason.
            found = counts(self.job)
            said = ", ".join(
                f"{n} {self.job.done_word if state == 'done' else BulkJobRow.State(state).label.lower()}"
                for state, n in found.items()
                if n
            )
            audit.record(
                self.job.created_by,
                audit.Action.BULK,
                outcome=audit.Outcome.OK,
                bulk_job=self.job,
                message=f"Bulk job {self.job.pk} {'cancelled' if cancelled else 'finished'}: {said} "
                f"({calls} Staffify call{'s' if calls != 1 else ''}).",
            )
        return self.job

    def current(self, row: BulkJobRow) -> staffify.PhoneNumber | None:
        record = mirror.owned().filter(staffify_id=row.number_id).first()
        return mirror.as_number(record) if record else None

    def run_row(self, row: BulkJobRow) -> None:
        before = self.current(row)
        if before is None:
            self.finish_row(row, BulkJobRow.State.FAILED, "not in the account any more (the mirror says it is gone)")
            return
        plan = plan_for(row.action, before, row.params, self.user)
        if plan.verdict == "skip":
            self.finish_row(row, BulkJobRow.State.SKIPPED, plan.reason)
            return
        if plan.verdict == "cannot":
            self.finish_row(row, BulkJobRow.State.CANNOT, plan.reason)
            return
        action = ACTIONS[row.action]
        if action.read_first:
            live = self.read_live(row)
            if live is None:
                return
            before, row.calls = live, row.calls + 1
            BulkJobRow.objects.filter(pk=row.pk).update(calls=row.calls)
            plan = plan_for(row.action, before, row.params, self.user)
            if plan.verdict != "change":
                state = BulkJobRow.State.SKIPPED if plan.verdict == "skip" else BulkJobRow.State.CANNOT
                self.finish_row(row, state, f"{plan.reason} (read from Staffify just now)")
                return
        if action.local and action.perform is not None:
            with transaction.atomic():
                try:
                    action.perform(self.client, before, plan, self.user, self.job)
                except StepFailed as failed:
                    self.finish_row(row, BulkJobRow.State.FAILED, failed.message)
                    return
                self.finish_row(row, BulkJobRow.State.DONE, plan.reason)
            return
        if not self.pace():
            return  # cancelled while waiting: the row stays pending and becomes cancelled at the end
        # Write-ahead: committed before anything leaves; only one runner can win the row.
        if not BulkJobRow.objects.filter(pk=row.pk, state=BulkJobRow.State.PENDING).update(
            state=BulkJobRow.State.SENT, sent_at=timezone.now()
        ):
            return
        with staffify.track_calls() as stats:
            try:
                (action.perform or perform_steps)(self.client, before, plan, self.user, self.job)
            except staffify.RateLimitError:
                # Not done (a 429 is a refusal); the budget now pauses background work: try it again later.
                BulkJobRow.objects.filter(pk=row.pk).update(
                    state=BulkJobRow.State.PENDING, calls=row.calls + stats.calls
                )
                return
            except StepFailed as failed:
                self.finish_row(
                    row,
                    BulkJobRow.State.FAILED,
                    failed.message,
                    request_id=failed.request_id,
                    calls=row.calls + stats.calls,
                )
                return
        self.finish_row(row, BulkJobRow.State.DONE, "", calls=row.calls + stats.calls)

    def settle_sent(self, row: BulkJobRow) -> None:
        """A row left `sent` by a runner that died: read the number back and settle by what it shows."""
        # Its writes not yet settled (a runner has one row `sent` at a time, so they are this row's).
        entries = AuditEntry.objects.filter(bulk_job=self.job, number_id=row.number_id, outcome__in=audit.UNSETTLED)
        with staffify.track_calls() as stats:
            try:
                number = self.client.get_number(row.number_id)
            except staffify.NotFoundError:
                entries.update(outcome=audit.Outcome.ERROR, message="Checked afterwards: the number is gone.")
                self.finish_row(
                    row, BulkJobRow.State.FAILED, "the number is gone from the account", calls=row.calls + 1
                )
                return
            except staffify.StaffifyError:
                return  # Staffify is in trouble: settled later
        ledger.record_seen(number)
        calls = row.calls + stats.calls
        for entry in entries:
            ok = settle.matches(entry.action, number, entry.after)
            audit.settle(
                entry,
                audit.Outcome.OK if ok else audit.Outcome.ERROR,
                after=audit.snapshot(number) if ok else None,
                message="The job's worker stopped before Staffify answered. Checked afterwards: "
                + ("it was done." if ok else "it was not done."),
                checked=True,
            )
        plan = plan_for(row.action, number, row.params, self.user)
        if plan.verdict == "skip":
            self.finish_row(row, BulkJobRow.State.DONE, "checked after a restart: done", calls=calls)
        else:
            # Not done (or done only in part): it runs again from the state just read.
            BulkJobRow.objects.filter(pk=row.pk).update(state=BulkJobRow.State.PENDING, calls=calls, reason="")


class StepFailed(Exception):
    def __init__(self, message: str, request_id: str | None) -> None:
        super().__init__(message)
        self.message, self.request_id = message, request_id or ""


def perform_steps(
    client: staffify.StaffifyClient, before: staffify.PhoneNumber, plan: Plan, user: Any, job: BulkJob
) -> staffify.PhoneNumber:
    """The plan's change, made by the one write service (numbers_app.changes.service) from the state the plan was
    made from, its writes linked to JOB; the number as Staffify left it. Raises RateLimitError (the row
    waits) or StepFailed."""
    actions = [step.action for step in plan.steps]
    last = plan.steps[-1].wanted
    kw: dict[str, Any] = {"before": before, "bulk_job": job}
    if audit.Action.RELEASE in actions:
        made = changes.release(client, user, before.id, unassign_first=audit.Action.UNASSIGN in actions, **kw)
    elif audit.Action.ASSIGN in actions:
        assert last.agent_id is not None
        made = changes.assign(client, user, before.id, last.agent_id, agent_name=last.agent_name, **kw)
    elif audit.Action.UNASSIGN in actions:
        made = changes.unassign(client, user, before.id, **kw)
    elif audit.Action.TAGS in actions:
        made = changes.set_tags(client, user, before.id, list(last.tags), **kw)
    elif audit.Action.RECLAIM in actions:
        made = changes.reclaim(client, user, before.id, **kw)
    else:
        raise ValueError(f"no Staffify write for {actions!r}")
    if made.rate_limited:
        assert made.err is not None
        raise made.err
    if not made.done or made.number is None:
        problem = made.problem or Problem("Staffify did not confirm it.")
        raise StepFailed(problem.message, problem.request_id)
    return made.number


def run(
    job_id: int,
    *,
    client: staffify.StaffifyClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
    slice_seconds: float | None = None,
) -> str:
    """Run (or resume) one job for a slice of time (BULK_SLICE_SECONDS), then enqueue it again unless it
    ended; what happened, in a few words."""
    job = claim(job_id)
    if job is None:
        return "not claimed: finished, or another worker runs it"
    runner = _Runner(job, client or staffify.get_client(), sleep, slice_seconds or settings.BULK_SLICE_SECONDS)
    job = runner.run()
    if runner.yielded:
        run_bulk_job.enqueue(job.pk)
        return f"slice done: {progress(job)} of {job.total} rows finished; enqueued again"
    found = counts(job)
    return f"{job.state}: " + ", ".join(f"{n} {state}" for state, n in found.items() if n)


@task
def run_bulk_job(job_id: int) -> str:
    """Run (or take over) one bulk job: its rows, paced by the shared budget (numbers_app.tasks lists it),
    in the job's project (numbers_app.scope)."""
    job = BulkJob.everywhere.select_related("project").filter(pk=job_id).first()
    if job is None:
        return "gone: no such job"
    with scope.using(job.project.ref):
        return run(job_id)


# ---------------------------------------------------------------------------------------------
# The starter's notice


def unseen_finished(user: Any) -> QuerySet[BulkJob]:
    return BulkJob.objects.filter(
        created_by=user, notice_seen=False, state__in=[BulkJob.State.DONE, BulkJob.State.CANCELLED]
    )


def has_running(user: Any) -> bool:
    return BulkJob.objects.filter(
        created_by=user, state__in=[BulkJob.State.QUEUED, BulkJob.State.RUNNING, BulkJob.State.CANCELLING]
    ).exists()


def notice(user: Any) -> dict:
    """What the starter's notice shows (numbers/_job_notice.html): their newest finished job they have
    not dismissed, its counts, and whether another of theirs still runs (then the notice polls)."""
    unseen = unseen_finished(user).order_by("-pk")
    job = unseen.first()
    found = counts(job) if job else None
    earlier = unseen.count() - 1 if job else 0
    return {"notice_job": job, "notice_counts": found, "notice_earlier": earlier, "notice_running": has_running(user)}
