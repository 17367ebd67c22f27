"""Background tasks, run by the worker (`manage.py run_worker`), and the periodic schedule.

A task is a plain function with Django's @task; callers `enqueue()` it. To run one periodically,
register it below with `every(seconds, task)`: the worker enqueues it once per interval. Pages enqueue
the tasks here; the one task a service enqueues itself (a bulk job's next slice) lives in its module
(numbers_app.bulk.jobs.run_bulk_job) and is named here too. Nothing below this module imports it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.tasks import TaskContext, TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from numbers_app import staffify
from numbers_app.addresses import book as address_book
from numbers_app.alerts import balance as alert_balance
from numbers_app.alerts import delivery as alert_delivery
from numbers_app.alerts import digest as alert_digest
from numbers_app.alerts import engine as alerts
from numbers_app.billing import statement
from numbers_app.bulk import jobs as bulk
from numbers_app.bulk.jobs import run_bulk_job
from numbers_app.buying import purchases
from numbers_app.changes import obsolete, settle
from numbers_app.mirror import freshness
from numbers_app.mirror import store as mirror
from numbers_app.models import SyncRun, WorkerHeartbeat
from numbers_app.schedule import every
from numbers_app.scheduled import releases as scheduled_releases
from numbers_app.staffify import budget, lookups


@task(takes_context=True)
def heartbeat(context: TaskContext) -> str:
    """Record that a worker ran a task just now; /healthz and `worker_status` read its age."""
    worker_ids = context.task_result.worker_ids
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        pk=1, defaults={"beat_at": now, "worker_id": worker_ids[-1] if worker_ids else ""}
    )
    # Its own results say nothing the row above does not: keep an hour of them, not thousands.
    DBTaskResult.objects.filter(
        task_path=heartbeat.module_path,
        status=TaskResultStatus.SUCCESSFUL,
        finished_at__lt=now - timedelta(hours=1),
    ).delete()
    return now.isoformat()


@task
def prune_task_results() -> None:
    """Forget finished task results after 14 days (the queue table would otherwise only grow)."""
    call_command("prune_db_task_results", queue_name="*", min_age_days=14, verbosity=0)


@task
def settle_writes() -> int:
    """Settle the writes Staffify never confirmed, and those a dying process left `sent`: purchases
    by the owned list (numbers_app.buying.purchases), the other writes by reading the number back
    (numbers_app.changes.settle). Returns how many were settled."""
    buys, writes = purchases.unknown_purchases_exist(), settle.unsettled_exist()
    if not (buys or writes) or not budget.allow("background"):
        return 0  # nothing to do, or people need the rest of this minute's calls: next sweep
    client = staffify.get_client()
    settled = purchases.resolve_unknown_purchases(client) if buys else 0
    return settled + (settle.sweep(client) if writes else 0)


@task
def sync_mirror(run_id: int | None = None) -> str:
    """Walk the account into the mirror (numbers_app.mirror.store): periodically, or the run "Refresh
    now" claimed. Then close what numbers it saw released or gone made obsolete (changes.obsolete)."""
    if run_id is None:
        try:
            run = mirror.begin()
        except mirror.SyncBusy:
            return "busy: another sync is running"
    else:
        found = SyncRun.objects.filter(pk=run_id, state=SyncRun.State.RUNNING).first()
        if found is None:
            return "gone: that sync already ended"
        run = found
    client = staffify.get_client()
    run = mirror.sync(client, run)
    if run.state == SyncRun.State.OK:
        obsolete.close_released()
    return f"{run.state}: {run.numbers_seen} numbers in {run.calls} calls"


@task
def sync_mirror_when_due() -> str:
    """The periodic sync: asked every 30 s at most, it walks the account only once
    mirror.freshness.next_sync_at() has come (MIRROR_SYNC_SECONDS after the last sync started, or that
    sync's duration times MIRROR_SYNC_FACTOR: a large account is not walked without pause)."""
    due = freshness.next_sync_at()
    if due > timezone.now():
        return f"not yet: the next sync starts about {due:%H:%M:%S} UTC"
    return sync_mirror.call()


@task
def roll_charges_forward() -> int:
    """Move the mirror's next charges that Staffify's clock has passed onto their next renewal
    (numbers_app.billing.statement.roll_forward), so the billing page reads the column and its index; the page
    itself writes nothing (it rolls the few renewed since in its reads). How many rows moved."""
    return statement.roll_forward(mirror.owned(), lookups.staffify_now())


@task
def refresh_balance() -> str:
    """Read the balance for every page's header and billing (numbers_app.staffify.lookups): when it was
    never read, when a write marked it stale (within BALANCE_CHECK_SECONDS of a purchase), or every
    BALANCE_REFRESH_SECONDS. Pages read only what this keeps: no page load costs a call for it."""
    if not lookups.balance_due(settings.BALANCE_REFRESH_SECONDS):
        return "fresh"
    if not budget.allow("background"):
        return "later: people need this minute's calls"
    try:
        reading = alert_balance.read(staffify.get_client())  # the header's and the runway alert's
    except staffify.StaffifyError as err:
        return f"failed: {err}"
    return f"EUR {reading.balance}"


@task
def follow_addresses() -> int:
    """Check the status of the address book's addresses still under review (not final)."""
    if not address_book.to_follow().exists() or not budget.allow("background"):
        return 0
    return address_book.follow(staffify.get_client())


@task
def run_scheduled_releases() -> int:
    """Make the "release before the next charge" releases that are due on Staffify's clock, and say
    loudly when one failed or its charge came first (numbers_app.scheduled.releases)."""
    if not scheduled_releases.work_exists():
        return 0  # no Staffify call when nothing is scheduled
    return scheduled_releases.run_due(staffify.get_client())


@task
def resume_bulk_jobs() -> int:
    """Enqueue again the bulk jobs whose worker died mid-way (or whose task was lost); how many."""
    found = list(bulk.to_resume().values_list("pk", flat=True)[:50])
    for job_id in found:
        run_bulk_job.enqueue(job_id)
    return len(found)


@task
def evaluate_alerts() -> str:
    """Run every alert rule once (numbers_app.alerts.engine: the mirror, the ledger and the worker's own
    records; no Staffify call), queue today's digests, then have the deliveries sent."""
    summary = alerts.evaluate(lookups.staffify_now())
    digests = alert_digest.queue_due()
    if alert_delivery.due(timezone.now()).exists():
        deliver_alerts.enqueue()
    return (
        f"raised {len(summary.raised)}, resolved {len(summary.resolved)}, {digests} digests, {summary.milliseconds} ms"
    )


@task
def deliver_alerts() -> str:
    """Send the alert e-mails and webhooks that are due, retrying failures with backoff (alerts.delivery)."""
    outcomes = alert_delivery.deliver_due()
    return ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items())


def heartbeat_age() -> float | None:
    """Seconds since a worker last ran the heartbeat task, or None if none ever has."""
    beat = WorkerHeartbeat.objects.filter(pk=1).values_list("beat_at", flat=True).first()
    return None if beat is None else max(0.0, (timezone.now() - beat).total_seconds())


every(settings.WORKER_HEARTBEAT_SECONDS, heartbeat)
every(24 * 3600, prune_task_results)
every(settings.SETTLE_WRITES_SECONDS, settle_writes)
every(min(settings.MIRROR_SYNC_SECONDS, 30.0), sync_mirror_when_due)  # a sync when next_sync_at() has come
every(settings.BILLING_ROLL_SECONDS, roll_charges_forward)
every(settings.BALANCE_CHECK_SECONDS, refresh_balance)
every(settings.ADDRESS_STATUS_SECONDS, follow_addresses)
every(settings.SCHEDULED_RELEASE_CHECK_SECONDS, run_scheduled_releases)
every(settings.BULK_SWEEP_SECONDS, resume_bulk_jobs)
every(settings.ALERT_EVALUATE_SECONDS, evaluate_alerts)
every(settings.ALERT_DELIVERY_SECONDS, deliver_alerts)
