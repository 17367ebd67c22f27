"""The freshness line's actions: "Refresh now", and the progress of a running sync."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from numbers_app import scope, tasks
from numbers_app.mirror import freshness
from numbers_app.models import SyncRun
from numbers_app.web.access import HtmxHttpRequest, dashboard_view


@dashboard_view()
@require_POST
def sync_now(request: HtmxHttpRequest) -> HttpResponse:
    run, new = freshness.refresh(request.user)
    if new:
        tasks.sync_mirror.enqueue(run.pk, project=scope.slug())
    if not request.htmx:
        back = request.POST.get("next", "")
        ok = url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        return redirect(back if ok else scope.reverse("number_list"))
    return _status(request, run.pk)


@dashboard_view()
@require_GET
def sync_status(request: HtmxHttpRequest) -> HttpResponse:
    run_id = request.GET.get("run", "")
    return _status(request, int(run_id) if run_id.isdigit() and len(run_id) < 18 else None)


def _status(request: HtmxHttpRequest, run_id: int | None) -> HttpResponse:
    fresh = freshness.context()
    response = render(request, "numbers/_freshness.html", {"freshness": fresh})
    if run_id is not None and fresh["running"] is None:
        ended = SyncRun.objects.filter(pk=run_id).exclude(state=SyncRun.State.RUNNING).first()
        if ended is not None:
            # The page below the line reloads its rows from the mirror just refreshed.
            response = trigger_client_event(response, "mirrorSynced", {"state": ended.state})
    return response
