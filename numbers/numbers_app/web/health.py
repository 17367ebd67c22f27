"""Health check and the plain error pages (no stack traces, no settings, never the API key)."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from numbers_app.tasks import heartbeat_age


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
