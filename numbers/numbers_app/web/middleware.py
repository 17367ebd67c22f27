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

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_htmx.http import reswap

from numbers_app.models import Preference
from numbers_app.staffify import track_calls
from numbers_app.web.htmx import toast


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
