"""/readyz: the database, the cache and the worker's heartbeat, each with its state; 503 when the
database or the cache fails (a silent worker too, with ?worker=required)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.utils import timezone

from numbers_app.models import WorkerHeartbeat


@pytest.mark.django_db
def test_it_is_ready_with_a_live_worker(client):
    WorkerHeartbeat.objects.create(pk=1, beat_at=timezone.now() - timedelta(seconds=5), worker_id="w1")
    response = client.get("/readyz?worker=required")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"state": "ok"}
    assert body["checks"]["cache"] == {"state": "ok"}
    assert body["checks"]["worker"]["state"] == "ok"
    assert 5 <= body["checks"]["worker"]["heartbeat_age_seconds"] < 60


@pytest.mark.django_db
def test_a_silent_worker_is_said_and_fails_only_when_required(client, settings):
    WorkerHeartbeat.objects.create(pk=1, beat_at=timezone.now() - timedelta(seconds=600), worker_id="w1")
    response = client.get("/readyz")
    assert response.status_code == 200  # pages work without the worker: a load balancer keeps the instance
    assert response.json()["checks"]["worker"]["state"] == "stale"
    assert client.get("/readyz?worker=required").status_code == 503
    WorkerHeartbeat.objects.all().delete()
    assert client.get("/readyz").json()["checks"]["worker"]["state"] == "missing"


@pytest.mark.django_db
def test_it_is_not_ready_without_its_database(client):
    with mock.patch("numbers_app.web.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"state": "error", "error": "OperationalError"}


@pytest.mark.django_db
def test_it_is_not_ready_without_its_cache(client):
    with mock.patch("numbers_app.web.health.cache.set", side_effect=ConnectionError("redis down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert response.json()["checks"]["cache"]["state"] == "error"


@pytest.mark.django_db
def test_it_needs_no_login_is_never_cached_and_refuses_post(client):
    response = client.get("/readyz")
    assert "max-age=0" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert client.post("/readyz").status_code == 405
