"""What every request goes through: its id (for the logs and the error pages), its metrics, the
Staffify calls it made (a Server-Timing header), the viewer's time zone, and the reference of an
unexpected error.

The benchmark (bench/pages.py) and the browser's dev tools read Server-Timing: how many Staffify calls
a page made, how long they took, and how long the dashboard itself spent (total minus Staffify).
"""

import contextlib
import logging
import time
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect, reswap
from prometheus_client import Counter, Histogram

from numbers_app import logs
from numbers_app.models import Preference
from numbers_app.people import directory, twofactor
from numbers_app.staffify import track_calls
from numbers_app.web.htmx import toast

# Not the dashboard's own pages: static files, and the embedded sandbox (Staffify's side, whose calls
# the client counts as Staffify calls).
UNCOUNTED_PREFIXES = ("/static/", "/sandbox/")

REQUESTS = Counter(
    "dashboard_requests",
    "Requests the dashboard answered, by route template (never an id), method and status.",
    ["route", "method", "status"],
)
REQUEST_DURATION = Histogram(
    "dashboard_request_duration_seconds",
    "Server time of each request, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestIdMiddleware:
    """Gives every request an id, on each of its log lines (numbers_app.logs) and in its X-Request-Id
    header; the error pages show it as their reference. First in MIDDLEWARE, so it covers the others.
    The id is always our own: one a client sends is not trusted (it would go into the logs as is)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/sandbox/"):
            return self.get_response(request)  # Staffify's side: its X-Request-Id is Staffify's own
        request_id = logs.new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        with logs.bound(request_id=request_id):
            response = self.get_response(request)
        response["X-Request-Id"] = request_id
        return response


class RequestMetricsMiddleware:
    """Names the user on the request's log lines, and counts the request by its route template (the
    URL pattern, e.g. `numbers/<staffify_id:number_id>/`; "unmatched" for a 404 no pattern took), so
    that the labels stay few whatever the URLs. After AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.count = settings.METRICS_ENABLED

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(UNCOUNTED_PREFIXES):
            return self.get_response(request)
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else None
        started = time.perf_counter()
        with logs.bound(user=username):
            response = self.get_response(request)
        if self.count:
            match = request.resolver_match
            route = "/" + match.route if match is not None else "unmatched"
            method = request.method if request.method in _METHODS else "other"
            REQUESTS.labels(route, method, str(response.status_code)).inc()
            REQUEST_DURATION.labels(route, method).observe(time.perf_counter() - started)
        return response


class StaffifyTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/sandbox/") or request.path.startswith("/static/"):
            return self.get_response(request)
        started = time.perf_counter()
        with track_calls() as stats:
            response = self.get_response(request)
        total_ms = (time.perf_counter() - started) * 1000
        staffify_ms = stats.seconds * 1000
        response["Server-Timing"] = (
            f'staffify;dur={staffify_ms:.1f};desc="{stats.calls} calls", '
            f"app;dur={max(total_ms - staffify_ms, 0):.1f}, total;dur={total_ms:.1f}"
        )
        return response


class SlidingSessionMiddleware:
    """A session ends SESSION_IDLE_HOURS after its last request, without a write on every request:
    the session (and its cookie's expiry) is saved again only when its last save is older than a
    tenth of that time, at most 15 minutes. A page load is then a read, as it should be (see
    tests/numbers/test_get_never_writes.py); the idle limit holds to within that margin."""

    MARK = directory.IDLE_MARK

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.margin = min(15 * 60, settings.SESSION_COOKIE_AGE // 10)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return response
        now = int(time.time())
        mark = session.get(self.MARK)
        if session.modified or not isinstance(mark, int) or now - mark >= self.margin:
            session[self.MARK] = now  # saved (with a new expiry) by SessionMiddleware on the way out
        return response


class ViewerTimeZoneMiddleware:
    """Shows every date in the viewer's own time zone (their preference, else the site's), for the
    length of their request only. Sandbox requests are left alone: when the sandbox answers in the
    same thread (the tests' in-process transport) it must not reset the viewer's zone mid-page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/sandbox/") or not request.user.is_authenticated:
            return self.get_response(request)
        zone = timezone.get_default_timezone()
        preference = Preference.objects.filter(user=request.user).values_list("time_zone", flat=True).first()
        if preference:
            with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):  # unknown here: the site's
                zone = zoneinfo.ZoneInfo(preference)
        with timezone.override(zone):
            return self.get_response(request)


logger = logging.getLogger("numbers_app.errors")
SSO_BACKEND = "numbers_app.people.sso.SSOBackend"


class ErrorReferenceMiddleware:
    """Gives an unexpected error a short reference (the request's id), logged with its traceback and
    shown to the user (the 500 page, and the X-Error-Reference header that app.js puts in its toast),
    so that a report "it failed, reference 3f9c2a1b7d04" finds the traceback, and every other line of
    that request, in the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, Http404 | PermissionDenied):
            return  # an answer (404, 403) a view chose, not an error
        reference = getattr(request, "request_id", None) or logs.new_request_id()
        request.error_reference = reference  # type: ignore[attr-defined]
        logger.error(
            "Unexpected error, reference %s, on %s %s", reference, request.method, request.path, exc_info=exception
        )


class DebugNotFoundMiddleware:
    """Under DEBUG (`make run`), an address that matches no URL pattern gets the dashboard's own 404
    page, not Django's technical one, which lists every URL pattern to whoever opens a wrong link. A
    view's own 404 (a number that is not there) keeps Django's debug page, which lists nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404 or not settings.DEBUG:
            return response
        try:
            resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return render(request, "404.html", status=404)
        return response


class SecondFactorMiddleware:
    """When a second factor is required (numbers_app.people.twofactor.required), a person signed in
    with a password alone is sent to set one up (or, when they have one, to sign in again with it)
    before any other page. Single sign-on leaves the second factor to the identity provider."""

    OPEN = ("/account/two-factor", "/accounts/", "/static/", "/sandbox/", "/healthz", "/readyz", "/metrics")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            not user.is_authenticated
            or request.path.startswith(self.OPEN)
            or request.session.get("_auth_user_backend") == SSO_BACKEND
            or user.is_verified()  # type: ignore[attr-defined]  # django-otp's middleware adds it
            or not twofactor.required()
        ):
            return self.get_response(request)
        if twofactor.enrolled(user):
            logout(request)
            target = redirect_to_login(request.get_full_path() if request.method == "GET" else "/").url
        else:
            messages.warning(request, "A second factor is required here: set up your authenticator app to go on.")
            target = reverse("two_factor")
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)


class RequestSizeLimitMiddleware:
    """Refuses a request whose body is larger than UPLOAD_MAX_BYTES from its Content-Length, before any
    of it is read (Django's own limits count form fields, not files, and only once they are read): a
    60 MB upload is turned away at its first line. A body without a Content-Length (chunked) is limited
    by Django's DATA_UPLOAD_MAX_MEMORY_SIZE and the upload handlers, and by the reverse proxy's limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.UPLOAD_MAX_BYTES:
            limit_mb = settings.UPLOAD_MAX_BYTES / (1024 * 1024)
            sentence = f"That upload is larger than {limit_mb:g} MB: nothing was read. Split it into smaller files."
            response = HttpResponse(sentence, status=413, content_type="text/plain; charset=utf-8")
            if request.headers.get("HX-Request") == "true":
                return toast(reswap(response, "none"), sentence, "error")
            return response
        return self.get_response(request)
