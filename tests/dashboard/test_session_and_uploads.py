"""A session ends after SESSION_IDLE_HOURS without a request (12 by default; each request starts the wait
again), and the login page says so. An upload larger than UPLOAD_MAX_BYTES is refused from its
Content-Length before any of its body is read."""

import io
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from numbers_app.web.middleware import RequestSizeLimitMiddleware, SlidingSessionMiddleware
from tests.dashboard.test_settings import SANDBOX, run_settings
from tests.helpers import HX


def test_sessions_last_twelve_idle_hours_by_default_and_slide():
    result = run_settings(SANDBOX, "SESSION_COOKIE_AGE")
    assert result.stdout.strip() == "43200", result.stderr
    result = run_settings({**SANDBOX, "SESSION_IDLE_HOURS": "0.5"}, "SESSION_COOKIE_AGE")
    assert result.stdout.strip() == "1800", result.stderr
    assert (
        "SESSION_IDLE_HOURS='soon' is not a number of hours"
        in run_settings({**SANDBOX, "SESSION_IDLE_HOURS": "soon"}).stderr
    )


@pytest.mark.django_db
def test_the_login_page_says_how_long_a_session_lasts(client, settings):
    assert (
        "You are signed out after 12 hours without using the dashboard."
        in client.get("/accounts/login/").content.decode()
    )
    settings.SESSION_COOKIE_AGE = 1800
    assert "signed out after 30 minutes without" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_a_request_after_an_idle_while_moves_the_session_expiry_on(ops):
    ops.get("/healthz")
    idle(hours=11)
    ops.get("/p/main/audit/")
    assert Session.objects.get().expire_date > timezone.now() + timedelta(hours=11, minutes=59)


@pytest.mark.django_db
def test_requests_close_together_do_not_write_the_session_each_time(ops):
    ops.get("/healthz")
    idle(minutes=5)  # under the quarter hour: the expiry is left as it is
    before = Session.objects.get().expire_date
    ops.get("/p/main/audit/")
    assert Session.objects.get().expire_date == before
    idle(minutes=16)
    ops.get("/p/main/audit/")
    assert Session.objects.get().expire_date > before


def idle(**since) -> None:
    """As if the session's last request was that long ago."""
    row = Session.objects.get()
    store = SessionStore(session_key=row.session_key)
    data = store.load()
    data[SlidingSessionMiddleware.MARK] = int(time.time() - timedelta(**since).total_seconds())
    Session.objects.filter(pk=row.pk).update(
        session_data=store.encode(data), expire_date=row.expire_date - timedelta(**since)
    )


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise AssertionError("the body was read")


def big_request(headers: dict | None = None) -> WSGIRequest:
    request = RequestFactory().post(
        "/p/main/bulk/upload", data=b"", content_type="multipart/form-data; boundary=x", **(headers or {})
    )
    request.META["CONTENT_LENGTH"] = str(60 * 1024 * 1024)  # the probe's 60 MB
    request.META["wsgi.input"] = Unreadable()
    request._stream = Unreadable()  # type: ignore[assignment]
    return request


def test_an_upload_over_the_limit_is_refused_before_it_is_read():
    reached: list[HttpRequest] = []

    def view(request: HttpRequest) -> HttpResponse:
        reached.append(request)
        return HttpResponse()

    middleware = RequestSizeLimitMiddleware(view)
    response = middleware(big_request())
    assert response.status_code == 413 and not reached
    limit = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
    assert f"That upload is larger than {limit} MB: nothing was read." in response.content.decode()


def test_an_htmx_upload_over_the_limit_is_said_in_a_toast():
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in HX.items()}
    response = RequestSizeLimitMiddleware(lambda request: HttpResponse())(big_request(headers))
    assert response.status_code == 413 and response["HX-Reswap"] == "none"
    assert "nothing was read" in response["HX-Trigger"]


@pytest.mark.django_db
def test_the_whole_stack_refuses_it_before_the_csrf_check_reads_the_form(support):
    response = support.post(
        "/p/main/bulk/upload",
        data=b"x" * 10,
        content_type="text/csv",
        CONTENT_LENGTH=str(settings.UPLOAD_MAX_BYTES + 1),
    )
    assert response.status_code == 413


def test_the_limit_is_documented_for_a_reverse_proxy():
    readme = (settings.BASE_DIR / "README.md").read_text()
    assert "client_max_body_size" in readme and "UPLOAD_MAX_BYTES" in readme
