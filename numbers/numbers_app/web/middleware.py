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
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect
from prometheus_client import Counter, Histogram

from numbers_app import logs
from numbers_app.models import Preference
from numbers_app.people import twofactor
from numbers_app.staffify import track_calls

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
