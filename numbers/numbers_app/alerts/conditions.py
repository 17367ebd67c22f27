"""The rules: what is true now that someone should hear about, read from the mirror, the ledger and the
worker's own records (0 Staffify calls). Each rule returns its findings, one per condition key; the
engine (numbers_app.alerts.engine) raises an alert for a new key and resolves an open one whose key is
no longer found. All reads are written against a `Scope`: one Staffify project for what a project owns
(its numbers, jobs, scheduled releases, syncs, purchases: PROJECT_RULES, run once per served project),
the organisation for what it shares (the balance and its runway over every project's renewals, the
address book, the worker: ORG_RULES). The queries that choose rows are the scope's, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse

from numbers_app import scope as projects
from numbers_app.alerts import balance as alert_balance
from numbers_app.alerts.text import eur, instant, phones, plural
from numbers_app.billing import statement
from numbers_app.changes import obsolete
from numbers_app.mirror import store as mirror
from numbers_app.models import (
    AddressBookEntry,
    Alert,
    AlertSettings,
    AuditEntry,
    BalanceSeen,
    BulkJob,
    BulkJobRow,
    NumberRecord,
    Project,
    ScheduledRelease,
    SyncRun,
    WorkerHeartbeat,
)
from numbers_app.rules import PRICE_PER_CYCLE

Kind = Alert.Kind
Severity = Alert.Severity
DAY = timedelta(days=1)
EVENT_LOOKBACK = timedelta(days=7)  # an event (a job's end, an address's verdict) older than this is not news


@dataclass(frozen=True)
class Scope:
    """What one evaluation reads. Every rule asks it for its rows. With a project (the rules run inside
    `numbers_app.scope.using(project)`), that project's rows, through the models' project managers; without
    one, the organisation's: every served project's rows (the runway: the balance pays all their renewals;
    the digest's outside changes)."""

    project: Project | None = None

    def _served(self) -> list[int]:
        return [p.pk for p in Project.configured()]

    def numbers(self) -> QuerySet[NumberRecord]:
        if self.project is not None:
            return mirror.owned()
        return NumberRecord.everywhere.filter(gone_at__isnull=True, project__in=self._served())

    def balance(self) -> BalanceSeen | None:
        return alert_balance.last()  # the organisation's, whatever the scope

    def audit(self) -> QuerySet[AuditEntry]:
        if self.project is not None:
            return AuditEntry.objects.all()
        return AuditEntry.everywhere.filter(project__in=self._served())

    def jobs(self) -> QuerySet[BulkJob]:
        return BulkJob.objects.all()

    def scheduled(self) -> QuerySet[ScheduledRelease]:
        return ScheduledRelease.objects.all()

    def addresses(self) -> QuerySet[AddressBookEntry]:
        return AddressBookEntry.objects.all()  # the organisation's address book

    def syncs(self) -> QuerySet[SyncRun]:
        return SyncRun.objects.all()

    def heartbeat(self) -> datetime | None:
        return WorkerHeartbeat.objects.filter(pk=1).values_list("beat_at", flat=True).first()


@dataclass
class Finding:
    kind: str
    key: str
    title: str
    sentence: str
    resolution: str  # what the "resolved" message will say when this clears
    severity: str = Severity.WARNING
    link: str = ""
    link_label: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    owner_id: int | None = None
    project_id: int | None = None  # the project whose rows it is about (none: the organisation's)


@dataclass
class Context:
    scope: Scope
    now: datetime  # Staffify's clock (an advanced sandbox clock counts)
    wall: datetime  # ours: when the worker's own records were written
    settings: AlertSettings
    open_keys: dict[str, set[str]]  # the open alerts' keys, by kind

    @property
    def since(self) -> datetime:
        """Events from here on are news: the last week, and never before alerts began."""
        return max(self.settings.since, self.wall - EVENT_LOOKBACK)


Rule = Callable[[Context], list[Finding]]


def runway(ctx: Context) -> list[Finding]:
    """The balance runs out within N days: the exact instant from billing's runway (the k-th renewal
    the balance cannot pay, net of scheduled releases), the renewals of the next N days and the top-up
    they need."""
    reading = ctx.scope.balance()
    if reading is None:
        return []
    account, now, days = ctx.scope.numbers(), ctx.now, ctx.settings.runway_days
    oldest = statement.oldest_charge(account)
    totals = statement.totals(account, now, oldest)
    netted = statement.releasing_part(account, now).exists()  # net of scheduled releases, as billing's runway
    if netted:
        totals = statement.net_totals(totals, account, now, oldest)
    out = statement.runway(reading.balance, account, totals, now, oldest, releases_netted=netted)
    if netted:
        account = statement.net_of_scheduled(account, now)
    if out is None or out > now + days * DAY:
        return []
    window = now + days * DAY
    dated = account.aggregate(n=Count("pk", filter=statement.charge_in(now, oldest, gt=now, lte=window)))["n"]
    renewals = dated + totals.undated
    cost = PRICE_PER_CYCLE * renewals
    need = max(Decimal("0.00"), cost - reading.balance).quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    sentence = (
        f"The balance ({eur(reading.balance)}, read {instant(reading.read_at)}) runs out on {instant(out)}: "
        f"the renewals due then cannot be paid, Staffify stops renewing those numbers, and they are lost. "
        f"The {plural(renewals, 'renewal')} of the next {plural(days, 'day')} cost {eur(cost)}; "
        f"top up at least {eur(need)} to keep every number through {instant(window, 'date')}."
    )
    if totals.undated:
        sentence += (
            f" This counts {plural(totals.undated, 'number')} of unknown purchase date as renewing now (the "
            "earliest the balance could run out, a bound): set their purchase times to make it exact."
        )
    return [
        Finding(
            Kind.RUNWAY,
            "runway",
            f"The balance runs out {'within a day' if out <= now + DAY else 'within ' + plural(days, 'day')}",
            sentence,
            f"The balance now lasts beyond {plural(days, 'day')} (the alert threshold).",
            severity=Severity.CRITICAL if out <= now + 2 * DAY else Severity.WARNING,
            link=_billing_link(),
            link_label="Billing: the balance and its runway",
            data={"runs_out_at": out.isoformat(), "balance": str(reading.balance), "top_up": str(need)},
        )
    ]


def _billing_link() -> str:
    """The runway is the organisation's: its billing across projects when there are several."""
    return reverse("org_billing") if len(Project.configured()) > 1 else projects.reverse("billing")


def credit_refused(ctx: Context) -> list[Finding]:
    """A purchase Staffify refused for lack of credit (402) in the last day, until a purchase succeeds or
    a balance of at least one number's price is read after it."""
    refused = (
        ctx.scope.audit()
        .filter(action=AuditEntry.Action.BUY, http_status=402, at__gte=max(ctx.since, ctx.wall - DAY))
        .order_by("-at")
        .first()
    )
    if refused is None:
        return []
    bought_after = ctx.scope.audit().filter(action=AuditEntry.Action.BUY, outcome="ok", at__gt=refused.at).exists()
    reading = ctx.scope.balance()
    topped_up = reading is not None and reading.read_at > refused.at and reading.balance >= PRICE_PER_CYCLE
    if bought_after or topped_up:
        return []
    who = refused.username or "someone"
    return [
        Finding(
            Kind.CREDIT,
            "credit",
            "A purchase was refused for lack of credit",
            f"Staffify refused {who}'s purchase of {phones([refused.phone_number], 1) or 'a number'} on "
            f"{instant(refused.at)} for lack of credit: a number needs {eur(PRICE_PER_CYCLE)} up front. "
            "Top up the Staffify balance, then buy it again.",
            "The balance covers a purchase again (or a purchase went through).",
            link=projects.reverse("buy"),
            link_label="Buy numbers",
            data={"audit_entry": refused.pk},
        )
    ]


def bulk_failures(ctx: Context) -> list[Finding]:
    """A bulk job finished in the last week with failed rows, or rows whose outcome is unknown; until a
    retry of it finished with none."""
    open_ids = [int(key.split(":")[1]) for key in ctx.open_keys.get(Kind.BULK, ())]
    jobs = (
        ctx.scope.jobs()
        .filter(
            Q(finished_at__gte=ctx.since) | Q(pk__in=open_ids), state__in=(BulkJob.State.DONE, BulkJob.State.CANCELLED)
        )
        .annotate(
            failed=Count("rows", filter=Q(rows__state=BulkJobRow.State.FAILED)),
            unknown=Count("rows", filter=Q(rows__state=BulkJobRow.State.SENT)),
        )
        .filter(Q(failed__gt=0) | Q(unknown__gt=0))
    )
    clean_retries = set(
        ctx.scope.jobs()
        .filter(retry_of__in=jobs.values("pk"), state=BulkJob.State.DONE)
        .annotate(bad=Count("rows", filter=Q(rows__state__in=(BulkJobRow.State.FAILED, BulkJobRow.State.SENT))))
        .filter(bad=0)
        .values_list("retry_of_id", flat=True)
    )
    found = []
    for job in jobs.select_related("created_by")[:200]:
        if job.pk in clean_retries:
            continue
        bad = job.failed + job.unknown
        parts = [plural(job.failed, "failed row")] if job.failed else []
        if job.unknown:
            parts.append(f"{job.unknown} whose outcome is unknown")
        found.append(
            Finding(
                Kind.BULK,
                f"bulk:{job.pk}",
                f"Bulk job {job.pk} finished with {plural(bad, 'number')} not changed",
                f"Bulk job {job.pk} ({job.description or job.action}, started by "
                f"{job.created_by.get_username() if job.created_by else 'someone'}) finished on "
                f"{instant(job.finished_at or ctx.wall)} with {' and '.join(parts)} of {job.total}. "
                "Those numbers are not as asked: read each row's reason, then retry the failed rows.",
                f"A retry of bulk job {job.pk} finished with every row done.",
                severity=Severity.WARNING,
                link=projects.reverse("bulk_job", job.pk),
                link_label=f"Bulk job {job.pk}: the failed rows",
                data={"job": job.pk, "failed": job.failed, "unknown": job.unknown},
                owner_id=job.created_by_id,
            )
        )
    return found


def scheduled_releases(ctx: Context) -> list[Finding]:
    """A scheduled release that failed, was missed or whose outcome is unknown (until dismissed, made, or
    the number released another way); and one due within 24 hours (until it ran or was cancelled)."""
    found = []
    gone = obsolete.released_or_gone().values("staffify_id")
    alerts = (
        ctx.scope.scheduled()
        .filter(state__in=ScheduledRelease.ALERTS, dismissed_at__isnull=True)
        .exclude(staffify_id__in=gone)
    )
    for release in alerts[:200]:
        what = {"failed": "failed", "missed": "was missed: the charge came first", "unknown": "has an unknown outcome"}
        passed = release.charge_at <= ctx.now
        cost = (
            f"Another cycle was charged ({eur(PRICE_PER_CYCLE)}); release it now to stop the next."
            if passed
            else f"Release it before {instant(release.charge_at)} or it is charged {eur(PRICE_PER_CYCLE)} again."
        )
        found.append(
            Finding(
                Kind.RELEASE,
                f"release:{release.pk}",
                f"The scheduled release of {phones([release.phone_number], 1)} "
                f"{what.get(release.state, release.state)}",
                f"The release of {phones([release.phone_number], 1)} scheduled before its charge of "
                f"{instant(release.charge_at)} {what.get(release.state, release.state)}"
                f"{': ' + release.message if release.message and release.state == 'failed' else ''}. {cost}",
                f"The scheduled release of {phones([release.phone_number], 1)} is settled (released, or dismissed).",
                severity=Severity.CRITICAL,
                link=projects.reverse("number_detail", release.staffify_id),
                link_label=f"{phones([release.phone_number], 1)}: release now or dismiss",
                data={"scheduled_release": release.pk},
            )
        )
    due = ctx.scope.scheduled().filter(state=ScheduledRelease.State.SCHEDULED, run_at__lte=ctx.now + DAY)
    for release in due[:200]:
        found.append(
            Finding(
                Kind.RELEASE_DUE,
                f"release_due:{release.pk}",
                f"{phones([release.phone_number], 1)} will be released within 24 hours",
                f"{phones([release.phone_number], 1)} will be released on {instant(release.run_at)}, before its "
                f"charge of {instant(release.charge_at)} (saving {eur(PRICE_PER_CYCLE)} a cycle). "
                "Cancel it on the number's page if it is still needed.",
                f"The scheduled release of {phones([release.phone_number], 1)} ran or was cancelled.",
                severity=Severity.INFO,
                link=projects.reverse("number_detail", release.staffify_id),
                link_label=f"{phones([release.phone_number], 1)}: the scheduled release",
                data={"scheduled_release": release.pk},
            )
        )
    return found


def reclaim_windows(ctx: Context) -> list[Finding]:
    """Released numbers whose 7-day reclaim window closes within 24 hours, one alert per hour of
    deadlines (a bulk release of 500 numbers is one alert, not 500)."""
    closing = (
        ctx.scope.numbers()
        .filter(statement.PENDING, reclaim_before__gt=ctx.now, reclaim_before__lte=ctx.now + DAY)
        .order_by("reclaim_before", "staffify_id")
        .values_list("reclaim_before", "phone_number")
    )
    groups: dict[datetime, list[tuple[datetime, str]]] = {}
    for deadline, phone in closing.iterator(chunk_size=2000):
        if deadline is None:  # the filter excludes it; the column's type does not know
            continue
        groups.setdefault(deadline.replace(minute=0, second=0, microsecond=0), []).append((deadline, phone))
    found = []
    for hour, rows in groups.items():
        first = rows[0][0]
        found.append(
            Finding(
                Kind.RECLAIM,
                f"reclaim:{hour:%Y-%m-%dT%H}",
                f"{plural(len(rows), 'released number')} can be reclaimed for less than a day",
                f"{phones([p for _, p in rows], len(rows))} can be reclaimed until {instant(first)}"
                f"{' (and within the hour after)' if len(rows) > 1 else ''}; after that "
                f"{'they are' if len(rows) > 1 else 'it is'} gone for good and a new number costs "
                f"{eur(PRICE_PER_CYCLE)}. Reclaim {'them' if len(rows) > 1 else 'it'} on the owned list.",
                f"The reclaim window of {plural(len(rows), 'number')} closed or "
                f"{'they were' if len(rows) > 1 else 'it was'} reclaimed.",
                severity=Severity.WARNING,
                link=projects.reverse("number_list") + "?status=pending_release",
                link_label="Owned numbers pending release",
                data={"numbers": len(rows), "first_deadline": first.isoformat()},
            )
        )
    return found


def addresses(ctx: Context) -> list[Finding]:
    """An address under review was verified or rejected (an event: nothing to clear)."""
    decided = ctx.scope.addresses().filter(
        status__in=("verified", "partially_verified", "rejected"),
        status_checked_at__gte=ctx.since,
        submitted_at__isnull=False,
    )
    found = []
    for entry in decided[:200]:
        verified = entry.status != "rejected"
        where = ", ".join(part for part in (entry.company_name, entry.city, entry.country_code) if part)
        found.append(
            Finding(
                Kind.ADDRESS,
                f"address:{entry.staffify_id}:{entry.status}",
                f"Address {entry.staffify_id} was {entry.status.replace('_', ' ')}",
                (
                    f"Staffify {entry.status.replace('_', ' ')} address {entry.staffify_id} ({where}) on "
                    f"{instant(entry.status_checked_at or ctx.wall)}: numbers in {entry.country_code} "
                    "can now be bought with it."
                    if verified
                    else f"Staffify rejected address {entry.staffify_id} ({where}) on "
                    f"{instant(entry.status_checked_at or ctx.wall)}"
                    f"{': ' + entry.reason if entry.reason else ''}. Numbers in {entry.country_code} "
                    "that need it cannot be bought: create a corrected address and submit it."
                ),
                "",
                severity=Severity.INFO if verified else Severity.WARNING,
                link=projects.reverse("addresses"),  # the book is shared: any project's page
                link_label="Addresses",
                data={"address": entry.staffify_id, "status": entry.status},
            )
        )
    return found


def sync_failing(ctx: Context) -> list[Finding]:
    """The sync has failed for more than N minutes: the newest finished walk failed, and none succeeded
    in that time."""
    newest = ctx.scope.syncs().exclude(state=SyncRun.State.RUNNING).order_by("-started_at").first()
    if newest is None or newest.state != SyncRun.State.FAILED:
        return []
    last_ok = ctx.scope.syncs().filter(state=SyncRun.State.OK).aggregate(at=Max("finished_at"))["at"]
    first_failed = (
        ctx.scope.syncs()
        .filter(state=SyncRun.State.FAILED, started_at__gt=last_ok or datetime.min.replace(tzinfo=ctx.wall.tzinfo))
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    ) or newest.started_at
    minutes = ctx.settings.sync_failing_minutes
    if ctx.wall - first_failed < timedelta(minutes=minutes):
        return []
    age = f"since {instant(last_ok)}" if last_ok else "ever"
    return [
        Finding(
            Kind.SYNC,
            "sync",
            f"The sync with Staffify has failed for more than {plural(minutes, 'minute')}",
            f"Every sync since {instant(first_failed)} failed (the last said: {newest.error or 'no reason given'}). "
            f"Pages show the mirror as it was {age}: changes made outside the dashboard are not seen, "
            "and billing may miss them. Check the Staffify key and status, then click Refresh now.",
            "The sync with Staffify works again.",
            severity=Severity.CRITICAL,
            link=projects.reverse("number_list"),
            link_label="Owned numbers: Refresh now",
            data={"since": first_failed.isoformat()},
        )
    ]


def worker_stale(ctx: Context) -> list[Finding]:
    """The worker's heartbeat is older than N minutes (a worker stuck behind long tasks; a worker that is
    dead cannot say so itself: /readyz and the metrics are for that)."""
    beat = ctx.scope.heartbeat()
    minutes = ctx.settings.heartbeat_stale_minutes
    if beat is None or ctx.wall - beat < timedelta(minutes=minutes):
        return []
    return [
        Finding(
            Kind.WORKER,
            "worker",
            f"The worker has not beaten for more than {plural(minutes, 'minute')}",
            f"The worker's last heartbeat was on {instant(beat)}: syncs, scheduled releases, bulk jobs and "
            "alerts wait until it runs again. Check the worker process (manage.py run_worker) and its log.",
            "The worker's heartbeat is fresh again.",
            severity=Severity.CRITICAL,
            data={"beat_at": beat.isoformat()},
        )
    ]


# What a project owns: run once per served project, inside it; its alerts carry the project.
PROJECT_RULES: dict[str, Rule] = {
    Kind.CREDIT: credit_refused,
    Kind.BULK: bulk_failures,
    Kind.RELEASE: scheduled_releases,  # also raises RELEASE_DUE
    Kind.RECLAIM: reclaim_windows,
    Kind.SYNC: sync_failing,
}
# What the organisation shares: run once; its alerts carry no project.
ORG_RULES: dict[str, Rule] = {
    Kind.RUNWAY: runway,
    Kind.ADDRESS: addresses,
    Kind.WORKER: worker_stale,
}
# Kinds whose findings are events: raised once per key, never resolved.
EVENTS = frozenset({Kind.ADDRESS, Kind.TEST})


def outside_changes(scope: Scope, since: datetime, until: datetime) -> int:
    """Numbers changed outside the dashboard in a window: the daily digest's line (never an alert)."""
    return scope.audit().filter(action=AuditEntry.Action.OUTSIDE, at__gte=since, at__lt=until).count()
