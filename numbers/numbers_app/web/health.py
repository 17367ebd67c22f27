"""Health, readiness and metrics for load balancers and Prometheus, and the plain error pages (no
stack traces, no settings, never the API key).

- `/healthz`: alive (the process answers and its database does). Docker's HEALTHCHECK.
- `/readyz`: ready to serve: the database, the cache (where the Staffify budget lives) and the
  worker's heartbeat, each with its state. 503 when the database or the cache fails; a silent worker
  is reported ("stale") but makes the instance unready only with `?worker=required`, since pages work
  without it (a load balancer that dropped every instance because the worker died would turn a late
  sync into an outage).
- `/metrics`: Prometheus's text format, to a token or a listed address (numbers_app.ops.exposition).
"""

import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_htmx.http import reswap

from numbers_app.ops import exposition
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


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    checks: dict[str, dict] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {"state": "ok"}
    except Exception as err:  # any database failure means not ready, whatever the backend raises
        checks["database"] = {"state": "error", "error": type(err).__name__}
    try:
        probe = secrets.token_hex(8)
        cache.set("readyz-probe", probe, timeout=10)
        checks["cache"] = {"state": "ok" if cache.get("readyz-probe") == probe else "error"}
    except Exception as err:  # Redis down or refusing: the shared Staffify budget is unreachable
        checks["cache"] = {"state": "error", "error": type(err).__name__}
    age = None
    if checks["database"]["state"] == "ok":
        try:
            age = heartbeat_age()
        except Exception:  # the table is missing (not migrated): no worker has run
            age = None
    worker_state = "missing" if age is None else ("ok" if age <= settings.READY_WORKER_MAX_AGE else "stale")
    checks["worker"] = {
        "state": worker_state,
        "heartbeat_age_seconds": None if age is None else round(age, 1),
        "max_age_seconds": settings.READY_WORKER_MAX_AGE,
    }
    required = ["database", "cache"] + (["worker"] if request.GET.get("worker") == "required" else [])
    ready = all(checks[name]["state"] == "ok" for name in required)
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus's text format (no login: a scraper cannot log in; a token or an address instead)."""
    if not settings.METRICS_ENABLED:
        raise Http404("Metrics are off (METRICS_ENABLED=false).")
    refused = exposition.refusal(request.headers.get("Authorization"), request.META.get("REMOTE_ADDR"))
    if refused is not None:
        response = HttpResponse(refused.message, status=refused.status, content_type="text/plain; charset=utf-8")
        for name, value in refused.headers.items():
            response[name] = value
        return response
    return HttpResponse(exposition.render(), content_type=exposition.CONTENT_TYPE)


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
