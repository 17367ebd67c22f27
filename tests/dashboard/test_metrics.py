"""/metrics in one process: who may read it (a token, a listed address, never a login redirect),
the state gauges read from the database and the cache, and the request counters by route template.
The counters added up across processes: tests/multi/test_metrics_processes.py."""

from __future__ import annotations

import ipaddress
import math
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from numbers_app.models import AuditEntry, BulkJob, BulkJobRow, NumberRecord, ScheduledRelease, SyncRun, WorkerHeartbeat
from numbers_app.staffify import budget
from numbers_app.tasks import heartbeat
from tests.helpers import HX

TOKEN = "a-metrics-token-for-the-tests-0123"


def samples(response) -> dict[tuple[str, tuple], float]:
    assert response.status_code == 200, response.content
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def one(found: dict, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.django_db
def test_it_is_closed_when_neither_a_token_nor_an_address_is_set(client, settings):
    settings.METRICS_TOKEN = None
    settings.METRICS_ALLOWED_IPS = []
    response = client.get("/metrics")
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.content.decode()


@pytest.mark.django_db
def test_it_asks_for_the_token_instead_of_a_login(client, token):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert "Location" not in response
    assert client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.get("/metrics", headers=token).status_code == 200


@pytest.mark.django_db
def test_a_logged_in_person_is_no_scraper(ops, token):
    assert ops.get("/metrics").status_code == 401


@pytest.mark.django_db
def test_a_listed_address_needs_no_token(client, settings):
    settings.METRICS_TOKEN = None
    settings.METRICS_ALLOWED_IPS = [ipaddress.ip_network("127.0.0.0/8")]
    assert client.get("/metrics").status_code == 200  # the test client's REMOTE_ADDR is 127.0.0.1
    settings.METRICS_ALLOWED_IPS = [ipaddress.ip_network("10.0.0.0/8")]
    assert client.get("/metrics").status_code == 403


@pytest.mark.django_db
def test_it_is_gone_when_metrics_are_off(client, token, settings):
    settings.METRICS_ENABLED = False
    assert client.get("/metrics", headers=token).status_code == 404


@pytest.mark.django_db
def test_it_refuses_post(client, token):
    assert client.post("/metrics", headers=token).status_code == 405


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_state_gauges_say_what_the_database_and_the_cache_hold(client, token, mirrored, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    now = timezone.now()
    WorkerHeartbeat.objects.create(pk=1, beat_at=now - timedelta(seconds=40), worker_id="w1")
    # Writes sent and never settled: one recent, one ten minutes old.
    for age in (10, 600):
        AuditEntry.objects.create(
            at=now - timedelta(seconds=age), username="ops", action="assign", number_id=1001, outcome="sent"
        )
    AuditEntry.objects.create(username="ops", action="assign", number_id=1001, outcome="ok")
    job = BulkJob.objects.create(action="tags_add", state=BulkJob.State.RUNNING, total=3)
    for position, state in enumerate(("done", "pending", "pending")):
        BulkJobRow.objects.create(
            job=job, position=position, number_id=1001 + position, display="x", action="a", state=state
        )
    ScheduledRelease.objects.create(
        staffify_id=1001, phone_number="+1", charge_at=now + timedelta(days=3), run_at=now + timedelta(days=2)
    )
    heartbeat.enqueue()  # waits in the queue: the test runs no worker
    budget.record(
        {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "120",
            "X-RateLimit-Reset": str(int(now.timestamp()) + 30),
        }
    )

    found = samples(client.get("/metrics", headers=token))
    run = SyncRun.objects.get(state="ok")
    assert (
        one(found, "dashboard_mirror_numbers", status="active")
        == NumberRecord.objects.filter(gone_at__isnull=True, last_status="active").count()
    )
    assert one(found, "dashboard_mirror_last_sync_calls") == run.calls
    assert one(found, "dashboard_mirror_last_sync_ok") == 1
    assert 0 <= one(found, "dashboard_mirror_age_seconds") < 60
    assert 40 <= one(found, "dashboard_worker_heartbeat_age_seconds") < 100
    assert one(found, "dashboard_unsettled_writes", age="under_1m") == 1
    assert one(found, "dashboard_unsettled_writes", age="over_5m") == 1
    assert one(found, "dashboard_unsettled_write_oldest_age_seconds") >= 600
    assert one(found, "dashboard_bulk_rows", state="pending") == 2
    assert one(found, "dashboard_bulk_rows", state="done") == 1
    assert one(found, "dashboard_bulk_rows", state="failed") == 0
    assert one(found, "dashboard_bulk_jobs", state="running") == 1
    assert one(found, "dashboard_scheduled_releases", state="scheduled") == 1
    assert one(found, "dashboard_task_queue_depth") == 1
    assert one(found, "dashboard_task_queue_oldest_age_seconds") < 60
    assert one(found, "staffify_rate_limit_limit") == 300
    assert one(found, "staffify_rate_limit_remaining") == 120
    assert one(found, "staffify_rate_limit_reserve") == 90
    assert one(found, "staffify_rate_limit_wait_seconds", kind="page") == 0


@pytest.mark.django_db
def test_what_never_happened_is_infinitely_old(client, token):
    found = samples(client.get("/metrics", headers=token))
    assert math.isinf(one(found, "dashboard_mirror_age_seconds"))
    assert math.isinf(one(found, "dashboard_worker_heartbeat_age_seconds"))
    assert one(found, "dashboard_unsettled_write_oldest_age_seconds") == 0


@pytest.mark.django_db
def test_requests_are_counted_by_route_template_never_by_id(client, token, support, mirrored):
    support.get("/p/main/numbers/1001/")
    support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    found = samples(client.get("/metrics", headers=token))
    assert (
        one(
            found,
            "dashboard_requests_total",
            route="/p/<slug:project>/numbers/<staffify_id:number_id>/",
            method="GET",
            status="200",
        )
        >= 1
    )
    assign = {"endpoint": "/phone-numbers/{id}/assign", "method": "PUT", "status": "200"}
    assert one(found, "staffify_requests_total", **assign) >= 1
    assert not any("1001" in value for _, labels in found for _, value in labels)
