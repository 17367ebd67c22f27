"""The agents page: who holds which numbers and what they cost, from the mirror (0 Staffify calls).
An agent Staffify no longer has that still holds numbers gets one-click bulk unassign or reassign,
through the bulk preview (numbers_app.bulk), which says what will change before anything is sent."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from numbers_app import scope
from numbers_app.agents.roster import roster
from numbers_app.mirror import freshness, listing
from numbers_app.web.access import dashboard_view, permissions_for


def _list_url(**filters: str) -> str:
    return scope.reverse("number_list") + "?" + urlencode(filters)


@dashboard_view()
@require_GET
def agents(request: HttpRequest) -> HttpResponse:
    found = roster()
    for holder in [*found.holding, *found.missing]:
        holder.url = _list_url(agent=str(holder.agent_id))  # type: ignore[attr-defined]
        holder.filter = urlencode({"agent": str(holder.agent_id)})  # type: ignore[attr-defined]
    context = {
        "roster": found,
        "unassigned_url": _list_url(agent="none", status="active"),
        "agents": listing.agents(),
        "freshness": freshness.context(),
        **permissions_for(request.user),
    }
    return render(request, "numbers/agents.html", context)
