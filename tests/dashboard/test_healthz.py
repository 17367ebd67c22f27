from unittest import mock

import pytest
from django.db.utils import OperationalError

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_it_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "worker_age_seconds": None}


@pytest.mark.django_db
def test_it_says_how_long_ago_a_worker_last_ran(client):
    from datetime import timedelta

    from django.utils import timezone

    from numbers_app.models import WorkerHeartbeat

    WorkerHeartbeat.objects.create(pk=1, beat_at=timezone.now() - timedelta(seconds=90), worker_id="w1")
    age = client.get("/healthz").json()["worker_age_seconds"]
    assert 90 <= age < 120


@pytest.mark.django_db
def test_it_answers_503_when_the_database_does_not(client):
    with mock.patch("numbers_app.web.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.django_db
def test_it_needs_no_login_and_is_never_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200  # an anonymous client
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_refuses_post(client):
    assert client.post("/healthz").status_code == 405
