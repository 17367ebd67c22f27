"""Health check and the plain error pages (no stack traces, no settings, never the API key)."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_htmx.http import reswap

from numbers_app.tasks import heartbeat_age
from numbers_app.web.access import HtmxHttpRequest, login_redirect
from numbers_app.web.htmx import toast

STALE_PAGE = (
    "This page is out of date (its security token is gone: signed out, or cookies cleared), so nothing "
    "was changed. Reload the page and try again."
)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers; 503 otherwise. Load balancers and the Dockerfile poll it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        worker_age = heartbeat_age()
    except Exception:  # any database failure means unhealthy, whatever the backend raises
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "worker_age_seconds": worker_age})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The plain error page. It does not claim that nothing changed: the error may have come after a
    write reached Staffify, so it sends the user to the audit log, which the sweeper settles."""
    reference = getattr(request, "error_reference", "")
    response = render(request, "500.html", {"reference": reference}, status=500)
    if reference:
        response["X-Error-Reference"] = reference
    return response


def csrf_failure(request: HtmxHttpRequest, reason: str = "") -> HttpResponse:
    """A form or action refused by the CSRF check (CSRF_FAILURE_VIEW): the view never ran, so nothing
    was changed. Someone no longer signed in (their cookies cleared) signs in and returns to the page
    they were on; anyone else is told in place to reload, not shown Django's page in the fragment."""
    if not request.user.is_authenticated:
        return login_redirect(request)
    if request.htmx:
        return toast(reswap(HttpResponse(STALE_PAGE, status=403), "none"), STALE_PAGE, "error")
    return render(request, "403.html", {"exception": STALE_PAGE}, status=403)
