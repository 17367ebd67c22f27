"""Release at the end of the paid cycle: schedule, cancel, and act on a failed or missed one.

The rules and the release itself live in numbers_app.scheduled.releases; these views parse, call it
and render the panel on the number's page (`numbers/_scheduled_release.html`, which replaces itself)
or, from the banner on every page, redirect back where the user was.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh, trigger_client_event

from numbers_app import scope, staffify
from numbers_app.audit import log as audit
from numbers_app.mirror import ledger
from numbers_app.models import NumberRecord, ScheduledRelease
from numbers_app.scheduled import releases as scheduled_releases
from numbers_app.scheduled.panel import panel_context
from numbers_app.staffify import lookups
from numbers_app.text import instants
from numbers_app.text.explain import Problem, explain
from numbers_app.text.presenters import format_phone
from numbers_app.web.access import HtmxHttpRequest, dashboard_view
from numbers_app.web.htmx import toast


def _panel(request: HtmxHttpRequest, number_id: int, problem: Problem | None = None, status: int = 200) -> HttpResponse:
    record = NumberRecord.objects.filter(staffify_id=number_id).first()
    context = {**panel_context(request, record, number_id), "panel_problem": problem}
    if not request.htmx:
        if problem:
            messages.error(request, problem.message)
        return HttpResponseRedirect(scope.reverse("number_detail", number_id))
    return render(request, "numbers/_scheduled_release.html", context, status=status)


@dashboard_view("numbers.release_number", audit_action=audit.Action.SCHEDULE_RELEASE)
@require_POST
def schedule_release(request: HtmxHttpRequest, number_id: int) -> HttpResponse:
    """Schedule the release for shortly before the next charge, from the number as Staffify has it now
    (one live read: the mirror may be minutes old, and its answer carries Staffify's clock)."""
    client = staffify.get_client()
    try:
        record = ledger.record_seen(client.get_number(number_id))
    except staffify.StaffifyError as err:
        problem = explain(err)
        audit.record(
            request.user,
            audit.Action.SCHEDULE_RELEASE,
            outcome=audit.Outcome.ERROR,
            number_id=number_id,
            err=err,
            message=f"Not scheduled: the number's state could not be read. {problem.message}",
        )
        return _panel(request, number_id, problem)
    unassign_first = request.POST.get("unassign_first") == "1"
    try:
        scheduled = scheduled_releases.schedule(
            record, request.user, unassign_first=unassign_first, now=lookups.staffify_now(client)
        )
    except scheduled_releases.CannotSchedule as err:
        audit.record(
            request.user,
            audit.Action.SCHEDULE_RELEASE,
            outcome=audit.Outcome.INVALID,
            number_id=number_id,
            phone_number=record.phone_number,
            message=str(err),
        )
        return _panel(request, number_id, Problem(str(err)), status=422)
    return _said(
        request,
        _panel(request, number_id),
        f"{format_phone(scheduled.phone_number)} will be released before its next charge.",
    )


@dashboard_view("numbers.release_number", audit_action=audit.Action.CANCEL_SCHEDULED)
@require_POST
def cancel_scheduled_release(request: HtmxHttpRequest, number_id: int) -> HttpResponse:
    scheduled = scheduled_releases.waiting_for(number_id)
    # The badge's Cancel on the owned list: the list is loaded again (its filter may drop the row), with the news.
    from_list = request.htmx and request.POST.get("from") == "list"
    if scheduled is None:
        if from_list:
            messages.error(request, "No release is scheduled for this number.")
            return HttpResponseClientRefresh()
        return _panel(request, number_id, Problem("No release is scheduled for this number."), status=409)
    try:
        scheduled_releases.cancel(scheduled, request.user)
    except scheduled_releases.CannotSchedule as err:
        if from_list:
            messages.error(request, str(err))
            return HttpResponseClientRefresh()
        return _panel(request, number_id, Problem(str(err)), status=409)
    if from_list:
        messages.success(request, f"The scheduled release of {format_phone(scheduled.phone_number)} is cancelled.")
        return HttpResponseClientRefresh()
    return _said(
        request,
        _panel(request, number_id),
        f"The scheduled release of {format_phone(scheduled.phone_number)} is cancelled.",
    )


def _said(request: HtmxHttpRequest, response: HttpResponse, message: str) -> HttpResponse:
    """MESSAGE as a toast on the fragment, or as a flash message on the full page (no htmx)."""
    if not request.htmx:
        messages.success(request, message)
        return response
    # The number's page refreshes its row (the badge) and its history from this (detail.html).
    return toast(trigger_client_event(response, "number-changed", {}), message)


def _back(request: HtmxHttpRequest, fallback: str) -> HttpResponseRedirect:
    """Back to the page the banner was on (only a path of this site)."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(fallback)


@dashboard_view("numbers.release_number", audit_action=audit.Action.RELEASE)
@require_POST
def release_scheduled_now(request: HtmxHttpRequest, scheduled_id: int) -> HttpResponse:
    """ "Release now" on a failed or missed scheduled release (the banner said whether the charge has
    been made); the outcome is said on the page the user comes back to."""
    scheduled = get_object_or_404(ScheduledRelease, pk=scheduled_id)
    try:
        scheduled = scheduled_releases.release_now(staffify.get_client(), scheduled, request.user)
    except scheduled_releases.CannotSchedule as err:
        messages.error(request, str(err))
    else:
        display = format_phone(scheduled.phone_number)
        if scheduled.state == ScheduledRelease.State.DONE:
            messages.success(request, f"{display}: {instants.render(scheduled.message)}")
        else:
            rid = f" (Staffify request id {scheduled.request_id})" if scheduled.request_id else ""
            messages.error(request, f"{display}: {instants.render(scheduled.message)}{rid}")
    return _back(request, scope.reverse("number_detail", scheduled.staffify_id))


@dashboard_view("numbers.release_number", audit_action=audit.Action.DISMISS_SCHEDULED)
@require_POST
def dismiss_scheduled_release(request: HtmxHttpRequest, scheduled_id: int) -> HttpResponse:
    scheduled = get_object_or_404(ScheduledRelease, pk=scheduled_id)
    if scheduled_releases.dismiss(scheduled, request.user):
        messages.info(request, f"Dismissed the scheduled release of {format_phone(scheduled.phone_number)}.")
    return _back(request, scope.reverse("number_list"))
