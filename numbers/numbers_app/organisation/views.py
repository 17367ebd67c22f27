"""The organisation's pages, outside any project's URL: billing across projects and a number search."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from numbers_app import cycles
from numbers_app.alerts import balance as alert_balance
from numbers_app.organisation import figures
from numbers_app.staffify import lookups
from numbers_app.web.access import HtmxHttpRequest, login_redirect
from numbers_app.web.projects import visible_projects


def _projects_or_refuse(request: HtmxHttpRequest):
    projects = visible_projects(request.user)
    if not projects:
        raise PermissionDenied("Your role (no role) cannot see the dashboard.")
    return projects


@require_GET
def org_billing(request: HtmxHttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return login_redirect(request)
    projects = _projects_or_refuse(request)
    reading = alert_balance.kept()  # the worker's reading: a page never asks Staffify for it
    now = lookups.staffify_now()
    rows = figures.per_project(projects, now)
    total = figures.total(rows)
    runway = figures.runway(reading.balance, now) if reading else None
    counted = runway.counted if runway else None
    context = {
        "rows": rows,
        "total": total,
        "balance": reading.balance if reading else None,
        "balance_read_at": reading.at if reading else None,
        "runway": runway.at if runway else None,
        "gross_runway": runway.gross if runway else None,
        "runway_is_bound": bool(counted and counted.undated),
        "counted": counted,
        "now": now,
        "horizon_end": now + cycles.RUNWAY_HORIZON,
        "hidden_projects": len(figures.served_projects()) - len(projects),
    }
    return render(request, "numbers/org_billing.html", context)


@require_GET
def org_search(request: HtmxHttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return login_redirect(request)
    projects = _projects_or_refuse(request)
    query = request.GET.get("q", "").strip()
    digits = "".join(ch for ch in query if ch.isdigit())
    error = ""
    if query and len(digits) < 3:
        error = "Type at least 3 digits of the number."
    found = figures.find(projects, digits) if digits and not error else []
    context = {"query": query, "found": found, "error": error, "limit": figures.SEARCH_LIMIT, "searched": projects}
    return render(request, "numbers/org_search.html", context, status=400 if error else 200)
