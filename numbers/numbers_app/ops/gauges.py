"""The dashboard's state as Prometheus gauges, read from the database and the cache when /metrics
is scraped: whichever process answers, they say the same thing (no process keeps a copy that could
go stale or be counted twice), and they cost nothing between scrapes.

About a dozen small queries per scrape, each on an index or a small table; no Staffify call. Every
served project's rows are counted together (the mirror's age is the stalest project's).
A value that cannot be known yet (never synced, no heartbeat ever) is +Inf, so that an alert on
"older than N" fires for it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from numbers_app.models import (
    AuditEntry,
    BulkJob,
    BulkJobRow,
    NumberRecord,
    Project,
    PurchaseAttempt,
    ScheduledRelease,
    SyncRun,
    WorkerHeartbeat,
)
from numbers_app.staffify import budget

INF = float("inf")
# Unsettled writes by age: the sweeper settles a write within a minute or two; past five minutes
# something is wrong (the worker, or Staffify), and the alert rules say so.
UNSETTLED_AGES = (("under_1m", 0, 60), ("1m_to_5m", 60, 300), ("over_5m", 300, None))
UNSETTLED_OUTCOMES = (AuditEntry.Outcome.SENT, AuditEntry.Outcome.UNKNOWN)
UNFINISHED_JOBS = (BulkJob.State.QUEUED, BulkJob.State.RUNNING, BulkJob.State.CANCELLING)


def _seconds_since(moment: datetime | None, now: datetime) -> float:
    return INF if moment is None else max(0.0, (now - moment).total_seconds())


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _count_by(queryset: QuerySet, field: str) -> dict[str, int]:
    """{value: rows} in one GROUP BY (a model's default ordering would split the groups: cleared)."""
    return dict(queryset.order_by().values(field).annotate(n=Count("pk")).values_list(field, "n"))


def _by_label(
    name: str, documentation: str, label: str, counts: dict[str, int], known: tuple[str, ...]
) -> GaugeMetricFamily:
    """One series per known label value (0 when none): a state that empties still says 0."""
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value in known:
        family.add_metric([value], counts.get(value, 0))
    return family


class StateCollector(Collector):
    """Registered in the registry that /metrics renders (numbers_app.ops.exposition)."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from budget_gauges(now.timestamp())
        yield from mirror_gauges(now)
        yield from queue_gauges(now)
        yield from write_gauges(now)
        yield _gauge(
            "dashboard_worker_heartbeat_age_seconds",
            "Seconds since a worker last ran its heartbeat task (+Inf: never).",
            _seconds_since(WorkerHeartbeat.objects.filter(pk=1).values_list("beat_at", flat=True).first(), now),
        )


def budget_gauges(now: float) -> Iterator[Metric]:
    """The organisation's Staffify rate budget as every process shares it (numbers_app.staffify.budget)."""
    current = budget.state()
    window_open = current.reset is not None and current.reset > now
    if current.limit is not None:
        yield _gauge(
            "staffify_rate_limit_limit", "Staffify requests allowed per window (X-RateLimit-Limit).", current.limit
        )
        yield _gauge(
            "staffify_rate_limit_reserve",
            "Requests of each window that background work leaves to people (STAFFIFY_BACKGROUND_RESERVE).",
            budget.reserve(current.limit),
        )
    if current.remaining is not None:
        # A window that has ended is a new one whose count is not known yet: the whole limit, as far as we know.
        remaining = current.remaining if window_open or current.limit is None else current.limit
        yield _gauge("staffify_rate_limit_remaining", "Staffify requests left in the current window.", remaining)
    yield _gauge(
        "staffify_rate_limit_reset_seconds",
        "Seconds until Staffify's current rate window ends (0: unknown or ended).",
        max(0.0, current.reset - now) if window_open and current.reset is not None else 0.0,
    )
    waits = GaugeMetricFamily(
        "staffify_rate_limit_wait_seconds",
        "Seconds before work of this kind may call Staffify (after a 429, or background work at the reserve).",
        labels=["kind"],
    )
    kinds: tuple[budget.Kind, ...] = ("page", "background")
    for kind in kinds:
        waits.add_metric([kind], budget.wait_time(kind, now=now))
    yield waits


def mirror_gauges(now: datetime) -> Iterator[Metric]:
    # Every served project's mirror: the age is the stalest project's (each is synced in turn).
    ages = []
    for project in Project.configured():
        last_ok = SyncRun.everywhere.filter(project=project, state=SyncRun.State.OK).order_by("-finished_at").first()
        ages.append(_seconds_since(last_ok.finished_at if last_ok else None, now))
    yield _gauge(
        "dashboard_mirror_age_seconds",
        "Seconds since the last successful sync of the mirror ended, the stalest project's (+Inf: never).",
        max(ages, default=float("inf")),
    )
    last = SyncRun.everywhere.exclude(state=SyncRun.State.RUNNING).order_by("-started_at", "-pk").first()
    if last is not None and last.finished_at is not None:
        yield _gauge(
            "dashboard_mirror_last_sync_duration_seconds",
            "How long the last finished sync took.",
            max(0.0, (last.finished_at - last.started_at).total_seconds()),
        )
        yield _gauge("dashboard_mirror_last_sync_calls", "Staffify calls the last finished sync made.", last.calls)
        yield _gauge(
            "dashboard_mirror_last_sync_ok",
            "1 when the last finished sync succeeded, 0 when it failed.",
            int(last.state == SyncRun.State.OK),
        )
    yield _gauge(
        "dashboard_mirror_sync_running",
        "1 while a sync is walking the account.",
        int(SyncRun.everywhere.filter(state=SyncRun.State.RUNNING).exists()),
    )
    counts = _count_by(NumberRecord.everywhere.filter(gone_at__isnull=True), "last_status")
    family = GaugeMetricFamily("dashboard_mirror_numbers", "Numbers in the mirror, by status.", labels=["status"])
    for status in ("active", "pending_release"):
        family.add_metric([status], counts.pop(status, 0))
    family.add_metric(["other"], sum(counts.values()))
    yield family


def queue_gauges(now: datetime) -> Iterator[Metric]:
    """django-tasks-db's queue: tasks ready to run, and how long the oldest has waited."""
    never_delayed = Q(run_after=get_date_max())  # django-tasks-db's "no run_after"
    found = (
        DBTaskResult.objects.ready()
        .order_by()
        .aggregate(
            depth=Count("pk"),
            enqueued=Min("enqueued_at", filter=never_delayed),
            due=Min("run_after", filter=~never_delayed),  # a delayed task waits from the moment it was due
        )
    )
    yield _gauge("dashboard_task_queue_depth", "Tasks waiting for a worker (ready and due).", found["depth"])
    oldest = min((moment for moment in (found["enqueued"], found["due"]) if moment is not None), default=None)
    yield _gauge(
        "dashboard_task_queue_oldest_age_seconds",
        "Seconds the oldest waiting task has been due (0: none waits).",
        _seconds_since(oldest, now) if oldest else 0.0,
    )
    yield _by_label(
        "dashboard_bulk_jobs",
        "Bulk jobs by state.",
        "state",
        _count_by(BulkJob.everywhere.all(), "state"),
        tuple(BulkJob.State.values),
    )
    yield _by_label(
        "dashboard_bulk_rows",
        "Rows of unfinished bulk jobs (queued, running, cancelling), by state.",
        "state",
        _count_by(BulkJobRow.objects.filter(job__state__in=UNFINISHED_JOBS), "state"),
        tuple(BulkJobRow.State.values),
    )


def write_gauges(now: datetime) -> Iterator[Metric]:
    """Writes sent to Staffify and not settled yet (the audit log's `sent` and `unknown`, purchases
    included), by age; and the scheduled releases."""
    times = sorted(
        AuditEntry.everywhere.filter(outcome__in=UNSETTLED_OUTCOMES)
        .order_by("at")
        .values_list("at", flat=True)[:10_000]
    )
    pending_buys = PurchaseAttempt.everywhere.filter(
        state__in=(PurchaseAttempt.State.PENDING, PurchaseAttempt.State.UNKNOWN)
    ).aggregate(oldest=Min("created_at"))["oldest"]
    family = GaugeMetricFamily(
        "dashboard_unsettled_writes",
        "Writes sent to Staffify whose outcome is not settled yet, by age.",
        labels=["age"],
    )
    ages = [(now - at).total_seconds() for at in times]
    for name, low, high in UNSETTLED_AGES:
        family.add_metric([name], sum(1 for age in ages if age >= low and (high is None or age < high)))
    yield family
    oldest = min([*times, pending_buys] if pending_buys else times, default=None)
    yield _gauge(
        "dashboard_unsettled_write_oldest_age_seconds",
        "Seconds since the oldest unsettled write (or unconfirmed purchase) was sent (0: none).",
        _seconds_since(oldest, now) if oldest else 0.0,
    )
    yield _by_label(
        "dashboard_scheduled_releases",
        "Scheduled releases waiting to be made, and those failed, missed or unknown that nobody dismissed.",
        "state",
        _count_by(
            ScheduledRelease.everywhere.filter(
                dismissed_at__isnull=True, state__in=(*ScheduledRelease.WAITING, *ScheduledRelease.ALERTS)
            ),
            "state",
        ),
        tuple(str(state) for state in (*ScheduledRelease.WAITING, *ScheduledRelease.ALERTS)),
    )
