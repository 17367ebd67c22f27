"""The alert pages: the bell and the inbox (read, filter, mark read), an alert's page, the settings
(one's subscriptions; thresholds and webhooks for Operations only, checked on the server), each change
in the audit log, and "Send a test"."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from numbers_app.alerts import engine
from numbers_app.alerts.conditions import Finding
from numbers_app.models import (
    Alert,
    AlertSettings,
    AuditEntry,
    Delivery,
    InboxItem,
    Project,
    Subscription,
    WebhookEndpoint,
)

pytestmark = pytest.mark.django_db


def runway_alert(at=None) -> Alert:
    finding = Finding(
        "runway",
        "runway",
        "The balance runs out within 7 days",
        "The balance runs out on [[2026-12-09T14:00:00Z]] <script>x</script>.",
        "The balance lasts again.",
        link="/billing/",
        link_label="Billing: the balance and its runway",
    )
    alert = engine.raise_alert(finding, at or timezone.now())
    assert alert is not None
    return alert


def test_the_bell_counts_unread_alerts_and_the_inbox_lists_them_in_the_viewer_s_zone(lead, lead_user):
    alert = runway_alert()
    page = lead.get("/p/main/").content.decode()
    assert 'aria-label="Alerts: 1 unread"' in page
    inbox = lead.get("/alerts/").content.decode()
    assert "The balance runs out within 7 days" in inbox
    assert "9 Dec 2026, 15:00 CET" in inbox  # the site's zone (Europe/Amsterdam)
    assert "<script>x</script>" not in inbox and "&lt;script&gt;" in inbox
    response = lead.post(f"/alerts/{alert.pk}/open")
    assert response.status_code == 302 and response["Location"] == f"/alerts/{alert.pk}/"
    detail = lead.get(f"/alerts/{alert.pk}/").content.decode()
    assert 'href="/billing/"' in detail and 'aria-label="Alerts: 0 unread"' in detail


def test_reading_the_inbox_writes_nothing(lead):
    runway_alert()
    Project.configured()  # the served projects' rows, made once when first read (migrate, the first page)
    with CaptureQueriesContext(connection) as queries:
        assert lead.get("/alerts/?state=open&unread=on").status_code == 200
    assert not [
        q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_the_inbox_filters_and_marks_read(lead, lead_user):
    alert = runway_alert()
    assert "runs out on" in lead.get("/alerts/?kind=runway").content.decode()
    assert "runs out on" not in lead.get("/alerts/?kind=sync").content.decode()
    lead.post("/alerts/read-all")
    assert not InboxItem.objects.filter(user=lead_user, read_at__isnull=True).exists()
    assert "runs out on" not in lead.get("/alerts/?unread=on").content.decode()
    lead.post(f"/alerts/{alert.pk}/read", {"unread": "1"})
    assert InboxItem.objects.filter(user=lead_user, read_at__isnull=True).count() == 1


def test_someone_else_s_alert_is_not_found(support):
    alert = runway_alert()  # team leads' by default, not Support's
    assert support.get(f"/alerts/{alert.pk}/").status_code == 404
    assert support.post(f"/alerts/{alert.pk}/open").status_code == 404


def test_a_bad_filter_is_said_in_place(lead):
    response = lead.get("/alerts/?kind=nonsense&page=zz")
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_subscriptions_are_saved_and_audited(support, support_user):
    page = support.get("/alerts/settings").content.decode()
    assert "Only jobs I started" in page and "Thresholds" not in page
    response = support.post(
        "/alerts/settings", {"bulk-inbox": "on", "bulk-email": "on", "sync-inbox": "on", "digest_time": "07:30"}
    )
    assert response.status_code == 302
    assert Subscription.objects.get(user=support_user, kind="sync").inbox
    assert not Subscription.objects.get(user=support_user, kind="bulk").mine_only
    entry = AuditEntry.objects.get(action="alert_subscribe")
    assert entry.after["sync"] == "inbox" and entry.after["digest_time"] == "07:30"
    assert support.post("/alerts/settings", {"digest_time": "25:99"}).status_code == 400


def test_only_operations_set_thresholds_and_webhooks(support, client, ops_user):
    assert support.post("/alerts/settings/thresholds", {"runway_days": 3}).status_code == 403
    assert support.post("/alerts/webhooks/add", {"name": "x", "url": "https://x.example"}).status_code == 403
    assert AuditEntry.objects.filter(action="alert_thresholds", outcome="denied").exists()
    assert support.post("/alerts/settings/test", {"channel": "webhook", "endpoint": "1"}).status_code == 403
    assert AuditEntry.objects.filter(action="alert_webhook", outcome="denied").count() == 2
    client.force_login(ops_user)
    ok = client.post(
        "/alerts/settings/thresholds", {"runway_days": 3, "sync_failing_minutes": 15, "heartbeat_stale_minutes": 5}
    )
    assert ok.status_code == 302 and AlertSettings.objects.get().runway_days == 3
    entry = AuditEntry.objects.get(action="alert_thresholds", outcome="ok")
    assert entry.before["runway_days"] == 7 and entry.after["runway_days"] == 3
    bad = client.post(
        "/alerts/settings/thresholds", {"runway_days": 0, "sync_failing_minutes": 15, "heartbeat_stale_minutes": 5}
    )
    assert bad.status_code == 400 and "greater than or equal to 1" in bad.content.decode()
    client.post("/alerts/webhooks/add", {"name": "pager", "url": "https://hooks.example/x", "format": "slack"})
    hook = WebhookEndpoint.objects.get()
    assert hook.secret.startswith("whsec_")
    logged = AuditEntry.objects.get(action="alert_webhook", outcome="ok")
    assert hook.secret not in str(logged.after) and logged.after["url"] == "https://hooks.example/x"
    assert client.post("/alerts/webhooks/add", {"name": "x", "url": "ftp://x.example"}).status_code == 400
    client.post(f"/alerts/webhooks/{hook.pk}", {"do": "pause"})
    assert not WebhookEndpoint.objects.get().active


def test_send_a_test_to_the_inbox_and_queue_an_email(ops, ops_user, settings):
    ops.post("/alerts/settings/test", {"channel": "inbox"})
    assert InboxItem.objects.filter(user=ops_user, alert__kind="test").exists()
    settings.ALERT_EMAIL_ENABLED = False
    response = ops.post("/alerts/settings/test", {"channel": "email"}, follow=True)
    assert "mail is not configured" in response.content.decode()
    settings.ALERT_EMAIL_ENABLED = True
    ops_user.email = "ops@example.com"
    ops_user.save()
    response = ops.post("/alerts/settings/test", {"channel": "email"})
    assert response.status_code == 302
    queued = Delivery.objects.get(channel="email")
    assert queued.status == "pending" and queued.recipient == "ops@example.com"  # the worker sends it


def test_the_header_shows_the_balance_another_process_read(lead, staffify_sandbox):
    """The worker keeps its reading in its own cache (in memory by default) and in the database: a page of
    the web process, whose cache never saw it, shows it from the database, with its age, and makes no call."""
    from django.core.cache import cache

    from numbers_app import staffify
    from numbers_app.alerts import balance
    from numbers_app.staffify.glue import BALANCE_CACHE_KEY

    balance.read(staffify.get_client())
    cache.delete(BALANCE_CACHE_KEY)  # another process's cache
    with staffify.track_calls() as stats:
        html = lead.get("/p/main/billing/").content.decode()
    assert "Balance EUR 42.50" in html and "Balance not read yet" not in html
    assert stats.calls == 0
