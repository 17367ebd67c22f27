"""Alerts end to end: raised by moving the sandbox's balance or clock (or by the worker's own records),
delivered once per channel to a real SMTP server and a real HTTP receiver, deduplicated, resolved; a
receiver down for a while gets the alert when it is back; the README's snippet checks the signature."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client import REGISTRY

from numbers_app import staffify
from numbers_app.alerts import balance as alert_balance
from numbers_app.alerts import channels, conditions, delivery, digest, engine, manage
from numbers_app.audit import log as audit
from numbers_app.billing import statement
from numbers_app.mirror import store as mirror
from numbers_app.models import (
    AddressBookEntry,
    Alert,
    AlertSettings,
    AuditEntry,
    BulkJob,
    BulkJobRow,
    Delivery,
    InboxItem,
    NumberRecord,
    Preference,
    SyncRun,
    WorkerHeartbeat,
)
from numbers_app.scheduled import releases
from numbers_app.staffify import lookups
from tests.helpers import advance_to

# The rules' queries (aggregates, date ranges, the one-open-alert constraint, the delivery claims) run on both engines.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
README = Path(__file__).resolve().parents[2] / "README.md"


def sync_and_read_balance():
    """What the worker's sync task does: walk the account, then keep the balance it reads once."""
    client = staffify.get_client()
    assert mirror.sync(client).state == "ok"
    alert_balance.read(client)


def evaluate():
    return engine.evaluate(lookups.staffify_now())


def set_balance(sandbox, amount) -> None:
    assert sandbox.put("/control/balance", json={"balance": amount}).status_code == 200
    lookups.forget_balance()


@pytest.fixture
def team(ops_user, lead_user, support_user):
    for user in (ops_user, lead_user, support_user):
        user.email = f"{user.username}@example.com"
        user.save()
    return ops_user, lead_user, support_user


@pytest.fixture
def hook(team, receiver):
    return manage.add_webhook(team[0], name="ops-hook", url=receiver.url, format="generic", kinds=[])


def counted(channel: str, outcome: str) -> float:
    found = REGISTRY.get_sample_value("dashboard_alert_deliveries_total", {"channel": channel, "outcome": outcome})
    return found or 0.0


def readme_verifier():
    """The README's verification snippet, run as a receiver would run it."""
    block = re.search(r"```python\n(# verify_signature\.py.*?)```", README.read_text(), re.S)
    assert block, "the README has no verification snippet"
    namespace: dict = {}
    exec(block.group(1), namespace)  # noqa: S102  (the documented snippet itself)
    return namespace["verify_signature"]


def test_the_runway_alert_is_raised_by_a_low_balance_delivered_once_per_channel_and_resolved(
    mirrored, team, smtp, receiver, hook
):
    ops, lead, support = team
    set_balance(mirrored, 100000)
    sync_and_read_balance()
    assert "runway" not in evaluate().raised  # (the seed has a reclaim window closing: its own alert)
    delivery.deliver_due()
    smtp.messages.clear()
    receiver.received.clear()

    set_balance(mirrored, 5)
    sync_and_read_balance()
    summary = evaluate()
    assert summary.raised == ["runway"]
    alert = Alert.objects.get(key="runway")
    assert alert.state == "open" and "runs out on" in alert.sentence and "top up at least EUR" in alert.sentence
    # Team leads get the runway in the inbox and by e-mail; Operations and Support do not by default.
    assert list(InboxItem.objects.filter(alert=alert).values_list("user__username", flat=True)) == ["lead"]
    assert delivery.deliver_due() == {"sent": 2, "retry": 0, "failed": 0, "skipped": 0}
    assert [m["To"] for m in smtp.messages] == ["lead@example.com"]
    assert "runs out on" in smtp.messages[0].get_payload() and "/billing/" in smtp.messages[0].get_payload()
    [(headers, body)] = receiver.received
    assert readme_verifier()(hook.secret, headers[channels.SIGNATURE_HEADER], body)
    assert json.loads(body)["event"] == "raised" and json.loads(body)["alert"]["kind"] == "runway"

    # The same condition again: no second alert, no second message anywhere.
    assert not evaluate().raised
    assert delivery.deliver_due() == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    assert Alert.objects.filter(key="runway").count() == 1

    # Topped up: one "resolved", by webhook and in the inbox (unread again); the e-mail waits a day.
    InboxItem.objects.filter(user=lead).update(read_at=timezone.now())
    set_balance(mirrored, 100000)
    sync_and_read_balance()
    assert evaluate().resolved == ["runway"]
    delivery.deliver_due()
    assert len(receiver.received) == 2 and json.loads(receiver.received[1][1])["event"] == "resolved"
    assert len(smtp.messages) == 1
    skipped = Delivery.objects.get(event="resolved", channel="email")
    assert skipped.status == "skipped" and "less than a day" in skipped.last_error
    assert InboxItem.objects.get(user=lead, alert=alert).read_at is None
    assert not evaluate().resolved  # resolved once


def test_the_runway_alert_leaves_out_a_number_released_before_its_charge(mirrored, ops_user):
    """The alert's instant is billing's runway, net of scheduled releases: a release before the first
    renewal the balance cannot pay moves the instant to the next one."""
    set_balance(mirrored, 0)
    sync_and_read_balance()
    now = lookups.staffify_now()
    ctx = conditions.Context(
        scope=conditions.Scope(), now=now, wall=timezone.now(), settings=engine.thresholds(), open_keys={}
    )
    [gross] = conditions.runway(ctx)
    soonest = mirror.owned().filter(statement.DATED, next_charge_at__gt=now).order_by("next_charge_at").first()
    assert soonest is not None
    releases.schedule(soonest, ops_user, unassign_first=True, now=now)
    [net] = conditions.runway(ctx)
    assert net.data["runs_out_at"] > gross.data["runs_out_at"]


def test_the_signature_fails_when_the_body_is_changed(team, receiver, hook):
    engine.send_test(team[0], "webhook", hook)
    delivery.deliver_due()
    [(headers, body)] = receiver.received
    verify = readme_verifier()
    assert verify(hook.secret, headers[channels.SIGNATURE_HEADER], body)
    assert not verify(hook.secret, headers[channels.SIGNATURE_HEADER], body.replace(b"Test", b"Tost"))
    assert not verify("whsec_wrong", headers[channels.SIGNATURE_HEADER], body)


def test_a_receiver_down_for_a_while_gets_the_alert_when_it_is_back(team, receiver, hook, settings):
    settings.ALERT_RETRY_SECONDS = 30
    receiver.down()
    engine.send_test(team[0], "webhook", hook)
    now = timezone.now()
    assert delivery.deliver_due(now) == {"sent": 0, "retry": 1, "failed": 0, "skipped": 0}
    sent = Delivery.objects.get()
    assert sent.attempts == 1 and sent.last_error and sent.next_try_at == now + timedelta(seconds=30)
    assert delivery.deliver_due(now + timedelta(seconds=10))["retry"] == 0  # not due yet
    assert delivery.deliver_due(now + timedelta(seconds=31))["retry"] == 1  # still down: backoff doubles
    sent.refresh_from_db()
    assert sent.attempts == 2 and sent.next_try_at == now + timedelta(seconds=31 + 60)
    receiver.up()  # back, on the same port
    sent_before = counted("webhook", "sent")
    assert delivery.deliver_due(now + timedelta(seconds=100)) == {"sent": 1, "retry": 0, "failed": 0, "skipped": 0}
    assert counted("webhook", "sent") == sent_before + 1  # /metrics: dashboard_alert_deliveries_total
    sent.refresh_from_db()
    assert sent.status == "sent" and sent.attempts == 3 and len(receiver.received) == 1


def test_a_receiver_that_answers_an_error_is_retried_then_given_up(team, receiver, hook, settings):
    settings.ALERT_MAX_ATTEMPTS = 2
    receiver.status = 503
    engine.send_test(team[0], "webhook", hook)
    now = timezone.now()
    delivery.deliver_due(now)
    assert delivery.deliver_due(now + timedelta(hours=1)) == {"sent": 0, "retry": 0, "failed": 1, "skipped": 0}
    assert Delivery.objects.get().status == "failed" and "HTTP 503" in Delivery.objects.get().last_error


def test_a_paused_webhook_is_not_sent_and_says_so(team, receiver, hook):
    engine.send_test(team[0], "webhook", hook)
    manage.set_webhook_active(team[0], hook, False)
    assert delivery.deliver_due()["skipped"] == 1
    assert not receiver.received and Delivery.objects.get().last_error == "the webhook is paused"


def test_moving_the_sandbox_clock_raises_the_reclaim_window_alert(mirrored, team, ops, smtp):
    number = next(r for r in NumberRecord.objects.filter(last_status="active").order_by("staffify_id"))
    if number.agent_id:
        ops.post(f"/numbers/{number.staffify_id}/agent", {"agent": ""})
    response = ops.post(f"/numbers/{number.staffify_id}/release/confirm")
    assert response.status_code == 200
    number.refresh_from_db()
    assert number.last_status == "pending_release" and number.reclaim_before
    key = f"main:reclaim:{number.reclaim_before.astimezone(UTC):%Y-%m-%dT%H}"
    assert key not in evaluate().raised  # a week ahead
    delivery.deliver_due()
    smtp.messages.clear()

    advance_to(mirrored, number.reclaim_before - timedelta(hours=5))
    sync_and_read_balance()  # the worker's calls learn Staffify's clock
    assert key in evaluate().raised
    alert = Alert.objects.get(key=key)
    assert alert.link == "/p/main/?status=pending_release" and number.phone_number[-4:] in alert.sentence.replace(
        " ", ""
    )
    assert InboxItem.objects.filter(alert=alert, user=team[0]).exists()  # Operations
    delivery.deliver_due()
    assert [m["To"] for m in smtp.messages if "reclaimed" in m["Subject"]] == ["ops@example.com"]

    ops.post(f"/numbers/{number.staffify_id}/reclaim")
    assert key in evaluate().resolved


def test_moving_the_sandbox_clock_raises_a_scheduled_release_due_within_a_day(mirrored, team):
    record = NumberRecord.objects.filter(last_status="active", next_charge_at__isnull=False, agent_id__isnull=True)[0]
    scheduled = releases.schedule(record, team[0], unassign_first=False)
    assert not [k for k in evaluate().raised if k.startswith("release_due")]
    advance_to(mirrored, scheduled.run_at - timedelta(hours=12))
    sync_and_read_balance()
    assert evaluate().raised.count(f"main:release_due:{scheduled.pk}") == 1
    releases.cancel(scheduled, team[0])
    assert f"main:release_due:{scheduled.pk}" in evaluate().resolved


def test_the_worker_s_records_raise_sync_worker_bulk_address_and_credit_alerts_once(team, smtp, settings):
    ops, lead, support = team
    now = timezone.now()
    engine.thresholds()
    AlertSettings.objects.update(since=now - timedelta(days=1))
    SyncRun.objects.create(state="ok", started_at=now - timedelta(hours=2), finished_at=now - timedelta(hours=2))
    SyncRun.objects.create(state="failed", started_at=now - timedelta(minutes=45), finished_at=now, error="401")
    WorkerHeartbeat.objects.create(pk=1, beat_at=now - timedelta(minutes=20))
    job = BulkJob.objects.create(action="assign", created_by=support, state="done", finished_at=now, total=2)
    BulkJobRow.objects.create(job=job, position=0, number_id=1, display="+1", action="assign", state="failed")
    BulkJobRow.objects.create(job=job, position=1, number_id=2, display="+2", action="assign", state="done")
    other = BulkJob.objects.create(action="assign", created_by=ops, state="done", finished_at=now, total=1)
    BulkJobRow.objects.create(job=other, position=0, number_id=3, display="+3", action="assign", state="failed")
    AddressBookEntry.objects.create(
        staffify_id=77,
        country_code="NL",
        status="verified",
        status_checked_at=now,
        submitted_at=now,
        added_how="created",
    )
    audit.record(ops, AuditEntry.Action.BUY, outcome="error", phone_number="+31201234567", message="402")
    AuditEntry.objects.filter(action="buy").update(http_status=402)

    raised = set(evaluate().raised)
    assert raised == {
        "main:sync",
        "worker",
        f"main:bulk:{job.pk}",
        f"main:bulk:{other.pk}",
        "address:77:verified",
        "main:credit",
    }
    # Support hears of the job they started only; Operations of both.
    support_kinds = set(InboxItem.objects.filter(user=support).values_list("alert__key", flat=True))
    assert support_kinds == {f"main:bulk:{job.pk}"}
    assert {f"main:bulk:{job.pk}", f"main:bulk:{other.pk}", "main:sync", "worker"} <= set(
        InboxItem.objects.filter(user=ops).values_list("alert__key", flat=True)
    )
    assert not evaluate().raised  # deduplicated, the event included
    delivery.deliver_due()
    assert sorted(m["To"] for m in smtp.messages).count("support@example.com") == 1

    SyncRun.objects.create(state="ok", started_at=timezone.now(), finished_at=timezone.now())
    WorkerHeartbeat.objects.filter(pk=1).update(beat_at=timezone.now())
    retry = BulkJob.objects.create(action="assign", created_by=support, state="done", finished_at=now, retry_of=job)
    BulkJobRow.objects.create(job=retry, position=0, number_id=1, display="+1", action="assign", state="done")
    assert set(evaluate().resolved) == {"main:sync", "worker", f"main:bulk:{job.pk}"}
    assert Alert.objects.get(key="address:77:verified").state == "info"


def test_evaluating_every_rule_makes_no_staffify_call(mirrored, team):
    sync_and_read_balance()
    with CaptureQueriesContext(connection) as queries:
        evaluate()
    assert not [q for q in queries.captured_queries if "sandbox_" in q["sql"]]  # the sandbox was never asked


def test_the_daily_digest_goes_once_a_day_at_the_chosen_local_time(team, smtp):
    ops, lead, support = team
    Preference.objects.update_or_create(user=lead, defaults={"time_zone": "Asia/Tokyo", "digest_time": time(9, 0)})
    engine.send_test(lead, "inbox")
    Alert.objects.update(kind="runway")  # something happened that day
    audit.record(None, AuditEntry.Action.OUTSIDE, outcome="ok", phone_number="+3120")
    at_eight_tokyo = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)  # 08:00 in Tokyo
    Alert.objects.update(raised_at=at_eight_tokyo - timedelta(hours=1))
    AuditEntry.objects.update(at=at_eight_tokyo - timedelta(hours=1))
    assert digest.queue_due(at_eight_tokyo) == 0
    assert digest.queue_due(at_eight_tokyo + timedelta(hours=1, minutes=5)) == 1
    assert digest.queue_due(at_eight_tokyo + timedelta(hours=3)) == 0  # once that day
    delivery.deliver_due(at_eight_tokyo + timedelta(hours=3))
    [mail] = smtp.messages
    assert mail["To"] == "lead@example.com" and "1 change made outside the dashboard" in mail.get_payload()
