"""Per-request accounting of Staffify calls, reported in a Server-Timing header.

The benchmark (bench/pages.py) and the browser's dev tools read it: how many Staffify calls a page
made, how long they took, and how long the dashboard itself spent (total minus Staffify).
"""

import contextlib
import logging
import secrets
import time
import zoneinfo
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from numbers_app.models import Preference
from numbers_app.people import twofactor
from numbers_app.staffify import track_calls


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
    """Gives an unexpected error a short reference, logged with its traceback and shown to the user
    (the 500 page, and the X-Error-Reference header that app.js puts in its toast), so that a report
    "it failed, reference 3f9c2a1b7d04" finds the traceback in the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        reference = secrets.token_hex(6)
        request.error_reference = reference  # type: ignore[attr-defined]
        logger.error(
            "Unexpected error, reference %s, on %s %s", reference, request.method, request.path, exc_info=exception
        )


class SecondFactorMiddleware:
    """When a second factor is required (numbers_app.people.twofactor.required), a person signed in
    with a password alone is sent to set one up (or, when they have one, to sign in again with it)
    before any other page. Single sign-on leaves the second factor to the identity provider."""

    OPEN = ("/account/two-factor", "/accounts/", "/static/", "/sandbox/", "/healthz")

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
