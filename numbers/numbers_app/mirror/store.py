"""The mirror: the account's numbers and agents remembered in our database, so pages cost no Staffify
calls at any account size.

Staffify's list has no "changed since" filter and no webhooks, so the worker walks the whole account
(`GET /phone-numbers?limit=100`, ceil(N/100) calls, and the agents) every few minutes and on demand.
What it finds is the truth as of that page's read: numbers it did not see are gone; numbers that
changed though nobody changed them here are updated and audited as "changed outside the dashboard",
with the window in which it happened. Every write the dashboard makes updates its row at once from
Staffify's answer (`remember`), so a sync never has to catch up with our own changes, and a sync never
overwrites a row confirmed after the page it read.

One sync at a time, across every process: a running SyncRun holds the unique `running` flag, and a
sync that stopped beating for STALE_AFTER is taken over. Background work leaves the organisation's
reserve of calls to people (numbers_app.staffify.budget): the walk waits rather than spend it.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from numbers_app import cycles, staffify
from numbers_app.audit import log as audit
from numbers_app.models import AuditEntry, MirrorAgent, MirrorVersion, NumberRecord, NumberTag, SyncRun
from numbers_app.rules import tag_key
from numbers_app.staffify import budget
from numbers_app.text import instants
from numbers_app.text.presenters import country_of

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # Staffify's maximum
STALE_AFTER = timedelta(minutes=2)  # a running sync silent this long died
OUTSIDE_USER = "outside the dashboard"
ANALYZE_AFTER = 1000  # numbers a sync added, after which PostgreSQL's statistics are refreshed


# ---------------------------------------------------------------------------------------------
# One row


def tag_set(tags: Iterable[str]) -> set[str]:
    """The tags as the tag filter matches them: lower case, each once."""
    return {tag_key(t) for t in tags}


def sync_tags(records: Iterable[NumberRecord]) -> None:
    """Make the NumberTag rows of RECORDS match their tags (none for a gone number). One read of what
    is there; only the differences are written, so a sync page whose tags did not change writes none,
    and rows that ever fell out of step are put right by the next sync."""
    records = list(records)
    if not records:
        return
    have = {
        (number, tag): pk
        for pk, number, tag in NumberTag.objects.filter(staffify_id__in=[r.staffify_id for r in records]).values_list(
            "pk", "staffify_id", "tag"
        )
    }
    want = {(r.staffify_id, tag) for r in records if r.gone_at is None for tag in tag_set(r.tags or ())}
    stale = [pk for key, pk in have.items() if key not in want]
    if stale:
        NumberTag.objects.filter(pk__in=stale).delete()
    missing = [NumberTag(staffify_id=number, tag=tag) for number, tag in want if (number, tag) not in have]
    NumberTag.objects.bulk_create(missing, batch_size=1000)


# ---------------------------------------------------------------------------------------------
# The mirror's version: counts of the owned list are cached per version (numbers_app.mirror.listing)


def version() -> int:
    """Changes with every change to the mirror's rows, in the transaction that makes it."""
    return MirrorVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def changed() -> None:
    """The mirror's rows changed in the current transaction: so does its version, atomically with
    them, so no process can read the new version with the old rows, nor the new rows with a count
    cached under the old version."""
    if not MirrorVersion.objects.filter(pk=1).update(version=F("version") + 1):
        MirrorVersion.objects.get_or_create(pk=1, defaults={"version": 1})


def apply(record: NumberRecord, number: staffify.PhoneNumber, confirmed_at: datetime) -> None:
    """Copy what Staffify said about NUMBER at CONFIRMED_AT onto RECORD (not saved)."""
    record.phone_number = number.phone_number
    if number.status == "pending_release":
        was_pending = record.last_status == "pending_release" and record.gone_at is None
        record.pending_seen_at = record.pending_seen_at if was_pending and record.pending_seen_at else confirmed_at
    else:
        record.pending_seen_at = None
    record.last_status = number.status
    record.agent_id = number.agent_id
    record.agent_name = number.agent_name or ""
    record.tags = list(number.tags)
    record.country_code = number.country_code or country_of(number.phone_number) or ""
    record.number_type = number.number_type or record.number_type or ""
    if number.purchased_at is not None:
        record.purchased_at = number.purchased_at
    if number.status == "active":
        record.reclaim_before = None
    elif number.reclaim_before is not None:
        record.reclaim_before = number.reclaim_before
    record.next_charge_at = _next_charge(record, confirmed_at)
    record.last_seen_at = confirmed_at
    record.first_seen_at = record.first_seen_at or confirmed_at
    record.gone_at = None


def _next_charge(record: NumberRecord, now: datetime) -> datetime | None:
    if record.last_status != "active" or record.purchased_at is None:
        return None
    return cycles.cycle_at(record.purchased_at, now).end


def remember(number: staffify.PhoneNumber, **known: Any) -> NumberRecord:
    """A write (or a live read that saw a change) just told us NUMBER's state: the mirror row follows
    at once. KNOWN adds what the dashboard itself knows (purchased_at, bought_by, reclaim_before). The
    mirror's version moves only when a column the list's counts depend on changed (COUNTED): a new
    agent name or purchase time leaves every cached count true, so none is thrown away."""
    now = timezone.now()
    with transaction.atomic():
        record = NumberRecord.objects.select_for_update().filter(staffify_id=number.id).first()
        counted = _counted(record) if record is not None else None
        record = record or NumberRecord(staffify_id=number.id)
        apply(record, number, now)
        for name, value in known.items():
            if value is not None:
                setattr(record, name, value)
        record.next_charge_at = _next_charge(record, now)
        record.save()
        sync_tags([record])
        if _counted(record) != counted:
            changed()
    return record


# What Staffify reports about a number, as `apply` copies it onto the row.
REPORTED = (
    "phone_number",
    "last_status",
    "agent_id",
    "agent_name",
    "tags",
    "country_code",
    "number_type",
    "purchased_at",
    "reclaim_before",
    "gone_at",
)
# The columns the owned list's filters read (numbers_app.mirror.listing.numbers): only a change to one of them
# can change a count cached under the mirror's version.
COUNTED = ("phone_number", "last_status", "agent_id", "tags", "country_code", "gone_at")


def _counted(record: NumberRecord) -> tuple:
    return tuple(sorted(tag_set(value or ())) if name == "tags" else value for name, value in _values(record, COUNTED))


def _values(record: NumberRecord, names: tuple[str, ...]) -> list[tuple[str, Any]]:
    return [(name, getattr(record, name)) for name in names]


def refresh_if_changed(number: staffify.PhoneNumber) -> NumberRecord:
    """A live read (a page, not a write) told us NUMBER's state: its mirror row follows only when what
    Staffify reports differs from the row (`remember`); when nothing differs, nothing is written."""
    record = NumberRecord.objects.filter(staffify_id=number.id).first()
    if record is not None:
        seen = copy.copy(record)
        apply(seen, number, timezone.now())
        if _values(seen, REPORTED) == _values(record, REPORTED):
            return record
    return remember(number)


def as_number(record: NumberRecord) -> staffify.PhoneNumber:
    """A mirror row in the shape the presenters and the audit log take."""
    return staffify.PhoneNumber(
        id=record.staffify_id,
        phone_number=record.phone_number,
        status=record.last_status or "active",
        agent_id=record.agent_id,
        agent_name=record.agent_name or None,
        tags=tuple(record.tags or ()),
        country_code=record.country_code or None,
        number_type=record.number_type or None,
        purchased_at=record.purchased_at,
        reclaim_before=record.reclaim_before,
    )


def owned() -> QuerySet[NumberRecord]:
    """The numbers in the account, as far as the mirror knows."""
    return NumberRecord.objects.filter(gone_at__isnull=True)


# ---------------------------------------------------------------------------------------------
# Freshness


def last_sync() -> SyncRun | None:
    return SyncRun.objects.filter(state=SyncRun.State.OK).order_by("-finished_at").first()


def running_sync() -> SyncRun | None:
    cutoff = timezone.now() - STALE_AFTER
    return SyncRun.objects.filter(state=SyncRun.State.RUNNING, heartbeat_at__gte=cutoff).first()


def last_failure() -> SyncRun | None:
    """The newest sync, when it failed (the page says the mirror is older than it should be)."""
    newest = SyncRun.objects.exclude(state=SyncRun.State.RUNNING).order_by("-started_at").first()
    return newest if newest is not None and newest.state == SyncRun.State.FAILED else None


# ---------------------------------------------------------------------------------------------
# The sync


class SyncBusy(Exception):
    """Another process is syncing right now."""


def begin(user: Any = None) -> SyncRun:
    """Claim the one running sync, or raise SyncBusy. A sync that stopped beating is failed first."""
    now = timezone.now()
    SyncRun.objects.filter(state=SyncRun.State.RUNNING, heartbeat_at__lt=now - STALE_AFTER).update(
        state=SyncRun.State.FAILED, running=None, finished_at=now, error="The worker running it stopped."
    )
    previous = last_sync()
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                running=True,
                requested_by=user if getattr(user, "is_authenticated", False) else None,
                expected=previous.numbers_seen if previous else None,
            )
            # The insert may have waited for the previous run to let go of the lock (PostgreSQL's unique
            # index): the run starts once it holds the lock, not when it first asked for it.
            run.started_at = run.heartbeat_at = timezone.now()
            run.save(update_fields=["started_at", "heartbeat_at"])
            return run
    except IntegrityError:
        raise SyncBusy("A sync is already running.") from None


def sync(
    client: staffify.StaffifyClient,
    run: SyncRun | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncRun:
    """Walk the whole account into the mirror. A failed walk changes nothing it had not confirmed
    and says why in its SyncRun; the mirror keeps its older rows and their ages."""
    run = run or begin()
    baseline = last_sync()  # before this one: changes since then happened outside the dashboard
    since = baseline.started_at if baseline else None
    try:
        agents = _walk(run, sleep, lambda after: client.list_agents(after=after, limit=PAGE_SIZE))
        _store_agents(agents, run)
        cursor: Any = None
        while True:
            asked_at = timezone.now()  # what the page says is true as of (at least) this moment
            page = _walk_page(run, sleep, lambda after: client.list_numbers(after=after, limit=PAGE_SIZE), cursor)
            _store_numbers(page.numbers, run, audit_since=since, read_at=asked_at)
            cursor = page.next_cursor
            if cursor is None:
                break
        # Statistics first: a project that just grew still looks empty to the planner, which then walked
        # the gone-number query's subquery once per tag row (minutes at 100,000 numbers).
        _refresh_statistics(run)
        run.gone = _mark_gone(run, audit_since=since)
    except staffify.StaffifyError as err:
        return _end(run, SyncRun.State.FAILED, f"Staffify answered: {err}")
    except Exception as err:  # the run must end, whatever broke; the traceback goes to the log
        logger.exception("Mirror sync %s failed", run.pk)
        _end(run, SyncRun.State.FAILED, f"The sync stopped: {type(err).__name__}.")
        raise
    return _end(run, SyncRun.State.OK)


def _refresh_statistics(run: SyncRun) -> None:
    """After a sync that added many rows (the first one above all), PostgreSQL's planner needs fresh
    statistics to use the mirror's indexes (with none, it guessed 500 rows and sorted the whole
    account for every page); autovacuum gets there later, or never where it is turned off."""
    if connection.vendor != "postgresql" or run.created < ANALYZE_AFTER:
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: a failure spoils nothing
            cursor.execute(f"ANALYZE {NumberRecord._meta.db_table}, {NumberTag._meta.db_table}")
    except DatabaseError:  # e.g. a database user that does not own the tables: the sync still succeeded
        logger.warning("Could not refresh the mirror's statistics after sync %s", run.pk, exc_info=True)


def _end(run: SyncRun, state: str, error: str = "") -> SyncRun:
    run.state, run.error, run.running, run.finished_at = state, error, None, timezone.now()
    run.save()
    return run


def _pace(run: SyncRun, sleep: Callable[[float], None]) -> None:
    """Wait while people need the rest of this window's calls; beat meanwhile so nobody takes over."""
    while not budget.allow("background"):
        sleep(min(max(budget.wait_time("background"), 0.2), 5.0))
        SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())


def _walk_page(run: SyncRun, sleep, fetch, cursor):
    _pace(run, sleep)
    page = fetch(cursor)
    run.pages += 1
    run.calls += 1
    run.heartbeat_at = timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(
        pages=run.pages, calls=run.calls, heartbeat_at=run.heartbeat_at, numbers_seen=run.numbers_seen
    )
    return page


def _walk(run: SyncRun, sleep, fetch) -> list:
    found: list = []
    cursor = None
    while True:
        page = _walk_page(run, sleep, fetch, cursor)
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


def _store_agents(agents: list[staffify.Agent], run: SyncRun) -> None:
    now = timezone.now()
    with transaction.atomic():
        existing = {a.staffify_id: a for a in MirrorAgent.objects.all()}
        moved = False  # a new, renamed or removed agent: the pages' agent lists are kept per version
        for agent in agents:
            row = existing.pop(agent.id, None) or MirrorAgent(staffify_id=agent.id)
            moved = moved or row.pk is None or (row.name, row.public_id) != (agent.name or "", agent.public_id or "")
            row.name, row.public_id, row.last_seen_at = agent.name or "", agent.public_id or "", now
            row.save()
        if existing:
            MirrorAgent.objects.filter(staffify_id__in=list(existing)).delete()
        if moved or existing:
            changed()


MIRRORED = ("last_status", "agent_id", "agent_name", "tags")
UPDATED = (
    "phone_number",
    *MIRRORED,
    "country_code",
    "number_type",
    "purchased_at",
    "reclaim_before",
    "next_charge_at",
    "last_seen_at",
    "first_seen_at",
    "pending_seen_at",
    "gone_at",
    "sync_run",
)


def _store_numbers(
    numbers: list[staffify.PhoneNumber], run: SyncRun, *, audit_since: datetime | None, read_at: datetime
) -> None:
    """One page of the walk into the mirror. READ_AT is when the page was asked for: a row the dashboard
    confirmed after that (a write answered meanwhile) is newer than the page and is kept."""
    with transaction.atomic():
        existing = {r.staffify_id: r for r in NumberRecord.objects.filter(staffify_id__in=[n.id for n in numbers])}
        new: list[NumberRecord] = []
        updated: list[NumberRecord] = []
        outside: list[AuditEntry] = []
        for number in numbers:
            record = existing.get(number.id)
            if record is None:
                record = NumberRecord(staffify_id=number.id)
                apply(record, number, read_at)
                record.sync_run = run.pk
                new.append(record)
                if audit_since is not None:
                    outside.append(_outside(record, None, number, audit_since, read_at, "appeared in the account"))
                continue
            if record.last_seen_at is not None and record.last_seen_at > read_at:
                record.sync_run = run.pk  # the dashboard changed it after this page was read: ours is newer
                updated.append(record)
                continue
            before = as_number(record) if record.last_status and record.gone_at is None else None
            window_start = record.last_seen_at or audit_since
            apply(record, number, read_at)
            record.sync_run = run.pk
            updated.append(record)
            if before is not None and _differs(before, number) and audit_since is not None:
                outside.append(_outside(record, before, number, window_start, read_at, "changed"))
                run.changed += 1
        NumberRecord.objects.bulk_create(new, batch_size=500)
        NumberRecord.objects.bulk_update(updated, UPDATED, batch_size=500)
        AuditEntry.objects.bulk_create(outside, batch_size=500)
        sync_tags(new + updated)
        changed()
    run.created += len(new)
    run.numbers_seen += len(numbers)


def _differs(before: staffify.PhoneNumber, after: staffify.PhoneNumber) -> bool:
    return (before.status, before.agent_id, sorted(before.tags)) != (after.status, after.agent_id, sorted(after.tags))


def _outside(
    record: NumberRecord,
    before: staffify.PhoneNumber | None,
    after: staffify.PhoneNumber | None,
    since: datetime | None,
    until: datetime,
    what: str,
) -> AuditEntry:
    # Written once for every viewer: its instants are tokens each page shows in its viewer's zone.
    token = instants.token
    window = f"between {token(since)} and {token(until)}" if since else f"before {token(until)}"
    return AuditEntry(
        at=until,
        user=None,
        username=OUTSIDE_USER,
        action=AuditEntry.Action.OUTSIDE,
        number_id=record.staffify_id,
        phone_number=record.phone_number,
        before=audit.snapshot(before),
        after=audit.snapshot(after),
        outcome=AuditEntry.Outcome.OK,
        message=f"The number {what} outside the dashboard {window} (found by the sync).",
    )


def _mark_gone(run: SyncRun, *, audit_since: datetime | None) -> int:
    """Numbers this walk did not see, and that nothing confirmed since it started, left the account."""
    missing = owned().exclude(sync_run=run.pk).filter(last_seen_at__lt=run.started_at)
    now = timezone.now()
    if audit_since is not None:
        entries = [
            _outside(record, as_number(record), None, record.last_seen_at, now, "left the account")
            for record in missing.iterator(chunk_size=500)
        ]
        AuditEntry.objects.bulk_create(entries, batch_size=500)
    with transaction.atomic():
        NumberTag.objects.filter(staffify_id__in=missing.values("staffify_id")).delete()
        gone = missing.update(gone_at=now, next_charge_at=None)
        changed()
    return gone
