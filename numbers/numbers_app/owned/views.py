"""The dashboard's pages and HTMX actions for owned numbers and buying.

One shape throughout: check access (numbers_app.web.access), bind a form, call one service (a change of a
number through numbers_app.changes.service, a purchase through numbers_app.buying.service), render the page or the
fragment that replaces itself, and turn any problem into a sentence in place (numbers_app.text.explain). No
view holds a database transaction open while it waits on Staffify.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import urlencode

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from numbers_app import cycles, logs, staffify
from numbers_app.audit import log as audit
from numbers_app.buying.forms import PurchaseTimeForm
from numbers_app.changes import previous_agent
from numbers_app.changes import service as changes
from numbers_app.mirror import freshness, listing
from numbers_app.mirror import store as mirror
from numbers_app.models import AuditEntry, NumberRecord
from numbers_app.notes import book as notes
from numbers_app.owned.forms import AssignForm, NumberFilterForm, TagsForm
from numbers_app.rules import (
    RECLAIM_DAYS,
)
from numbers_app.scheduled.panel import panel_context
from numbers_app.staffify import lookups
from numbers_app.text.explain import Problem, explain
from numbers_app.text.presenters import (
    NumberRow,
    build_row,
    every_agent_option,
    format_phone,
    local_text,
    with_agent_options,
)
from numbers_app.web.access import HtmxHttpRequest, dashboard_view, permissions_for
from numbers_app.web.htmx import toast

logger = logging.getLogger(__name__)

# Toasts of one kind count in one toast instead of stacking up: (group, the count's sentence).
MOVED = ("agent", "{n} numbers moved")
TAGGED = ("tags", "{n} tag changes saved")
RELEASED = ("release", "{n} numbers released")
RECLAIMED = ("reclaim", "{n} numbers reclaimed")


def _agents_or_problem(client: staffify.StaffifyClient) -> tuple[Sequence[staffify.Agent], Problem | None]:
    """The account's agents: the mirror's when a sync has seen them, else Staffify's (cached briefly)."""
    known = listing.agents()
    if known:
        return known, None
    try:
        return lookups.agents(client), None
    except staffify.StaffifyError as err:
        return [], explain(err)


# ---------------------------------------------------------------------------------------------
# Owned numbers


@dashboard_view()
@require_GET
def number_list(request: HtmxHttpRequest) -> HttpResponse:
    """The owned list, from the mirror: no Staffify call, whatever the filters or the page."""
    form = NumberFilterForm(request.GET)
    valid = form.is_valid()
    filters = form.filters if valid else {}
    sort = form.cleaned_data.get("sort", "") if valid else ""
    found = listing.numbers(filters, sort)
    after = form.cleaned_data.get("after") if valid else ""
    counted = filters
    if after and after.isdigit() and not sort:
        found = found.filter(staffify_id__gt=int(after))  # a bookmarked Staffify cursor: ids after it
        counted = {**filters, "after": after}
    offset = (form.cleaned_data.get("offset") or 0) if valid else 0
    target = request.htmx.target if request.htmx else None
    try:
        records = list(found[offset : offset + listing.PAGE_SIZE + 1])
        version = mirror.version()
        agents = listing.agents(version)
        total = listing.total(counted, found, version) if target != "load-more" else 0
    except DatabaseError:
        return _mirror_unreadable(request, target, filters, sort, offset)
    rows = with_agent_options(listing.rows(records[: listing.PAGE_SIZE]), agents)
    previous_agent.annotate(rows, agents)
    context: dict = {
        "form": form,
        "filters": filters,
        "filters_query": urlencode(filters),
        "sort": sort,
        "agents": agents,
        "rows": rows,
        "next_url": None,
        "problem": None,
        "freshness": freshness.context(),
        **permissions_for(request.user),
    }
    if len(records) > listing.PAGE_SIZE:
        query = {**filters, **({"sort": sort} if sort else {}), "offset": offset + listing.PAGE_SIZE}
        context["next_url"] = "?" + urlencode(query)
    if target == "load-more":
        return render(request, "numbers/list.html#rows", context)
    context["total"] = total
    context["offset"], context["shown_to"] = offset, offset + len(rows)
    highlight = request.GET.get("highlight", "")
    if highlight.isdigit() and not request.htmx:
        _put_first(context, int(highlight))
    if target == "numbers-table":
        return render(request, "numbers/list.html#table", context)
    return render(request, "numbers/list.html", context)


@dashboard_view()
@require_GET
def agent_options(request: HtmxHttpRequest) -> HttpResponse:
    """Every agent's <option> as the mirror knows them, for the owned list's dropdowns (its filter, each
    row's agent, the selection bar's "Assign to"): fetched once per page by static/js/app.js instead of
    being part of every page. From the mirror: no Staffify call."""
    try:
        agents = listing.agents()
    except DatabaseError:
        return HttpResponse("The dashboard's own database did not answer.", status=503, content_type="text/plain")
    return HttpResponse(every_agent_option(agents), content_type="text/html; charset=utf-8")


def _mirror_unreadable(
    request: HtmxHttpRequest, target: str | None, filters: dict, sort: str, offset: int
) -> HttpResponse:
    """The mirror's database did not answer: say so where the rows would have been, with a reference
    for the logs and a way to try again; never an empty list that looks like the end."""
    reference = logs.request_id() or logs.new_request_id()  # the request's id: its log lines carry it
    logger.exception("The mirror could not be read, reference %s", reference)
    problem = Problem(
        "The dashboard's own database did not answer, so these numbers cannot be shown right now "
        "(nothing was asked of Staffify and nothing was changed).",
        reference=reference,
    )
    query = {**filters, **({"sort": sort} if sort else {}), **({"offset": offset} if offset else {})}
    context: dict = {
        "form": NumberFilterForm(request.GET),
        "filters": filters,
        "rows": [],
        "problem": problem,
        "load_problem": problem,
        "retry_url": "?" + urlencode(query),
        "total": 0,
        "agents": [],
        "freshness": None,
        **permissions_for(request.user),
    }
    if target == "load-more":
        return render(request, "numbers/list.html#rows", context)
    if target == "numbers-table":
        return render(request, "numbers/list.html#table", context)
    return render(request, "numbers/list.html", context, status=503)


def _put_first(context: dict, number_id: int) -> None:
    """After a purchase the new number leads the list, marked, wherever its page is."""
    rows = [r for r in context["rows"] if r.id != number_id]
    row = next((r for r in context["rows"] if r.id == number_id), None)
    if row is None:
        record = mirror.owned().filter(staffify_id=number_id).first()
        if record is None:
            return
        row = with_agent_options(listing.rows([record]), context["agents"])[0]
    row.extra["new"] = True
    context["rows"] = [row, *rows]


# ---------------------------------------------------------------------------------------------
# One number: detail, the row fragment, assignment, tags, release, reclaim


def _row_response(request: HttpRequest, row: NumberRow, agents: Sequence[staffify.Agent]) -> HttpResponse:
    with_agent_options([row], agents)
    previous_agent.annotate([row], agents)
    if "note" not in row.extra:
        row.extra["note"] = notes.get(row.id)
    context = {"row": row, "agents": agents, **permissions_for(request.user)}
    return render(request, "numbers/_row.html", context)


GONE = (
    "This number is gone: Staffify no longer has it in this account "
    "(a released number disappears when its 7-day reclaim window closes)."
)


def _true_row(client: staffify.StaffifyClient, number_id: int, problem: Problem) -> NumberRow:
    """The number as Staffify has it now, carrying the problem that just happened."""
    try:
        number = client.get_number(number_id)
        mirror.refresh_if_changed(number)  # also on a GET's error path: written only if Staffify differs
        row = build_row(number, lookup=True)
    except staffify.StaffifyError as err:
        row = NumberRow(
            id=number_id,
            phone_number="",
            display=f"Number #{number_id}",
            country=None,
            status="unknown",
            agent_id=None,
            agent_name=None,
            tags=(),
            reclaim_before=None,
            purchased_at=None,
        )
        row.extra["unknown"] = True
        if isinstance(err, staffify.NotFoundError):
            problem = Problem(GONE, problem.request_id)
        else:
            problem = Problem(
                f"{problem.message} The dashboard could not read its current state either: "
                f"{explain(err).message} Reload the page to see it.",
                problem.request_id,
            )
    row.problem = problem
    return row


def _row_after(client: staffify.StaffifyClient, number_id: int, change: changes.Change) -> NumberRow:
    """The row after a change: the state the change left (confirmed, or read back while settling it),
    else read now, carrying what is known about the change."""
    if change.number is None:
        assert change.problem is not None
        return _true_row(client, number_id, change.problem)
    row = build_row(change.number, lookup=True)
    row.problem = change.problem
    return row


def _row_after_trouble(
    request: HttpRequest,
    client: staffify.StaffifyClient,
    number_id: int,
    change: changes.Change,
    agents: Sequence[staffify.Agent],
) -> HttpResponse:
    """A row action that did not simply succeed: the row as it truly is, saying what happened."""
    row = _row_after(client, number_id, change)
    response = _row_response(request, row, agents)
    if change.done:
        return toast(response, f"{row.display}: {change.note}", "info")
    return response


@dashboard_view()
@require_GET
def number_detail(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    agents, problem = _agents_or_problem(client)
    history = list(AuditEntry.objects.filter(number_id=number_id)[:100])
    for entry in history:
        entry.change = audit.change_html(entry)
    context: dict = {
        "agents": agents,
        "problem": problem,
        "row": None,
        "number_id": number_id,
        "history": history,
        **permissions_for(request.user),
    }
    try:
        number = client.get_number(number_id)
        record = mirror.refresh_if_changed(number)  # a read: the row is written only if Staffify differs
        row = with_agent_options([build_row(number, record)], agents, full=True)[0]  # usable without JS
        previous_agent.annotate([row], agents)
        context["row"] = row
        context["record"] = record
        context["note"] = row.extra["note"] = notes.get(number_id)  # the facts, and the row's note cell
        context["purchase_form"] = PurchaseTimeForm(initial={"purchased_at": record.purchased_at})
        context.update(panel_context(request, record, number_id))
        row.extra["release_scheduled"] = context["scheduled"]
        if row.is_active and row.purchased_at:
            now = lookups.staffify_now(client)
            context["cycle"] = cycles.cycle_at(row.purchased_at, now)
            context["days_until"] = cycles.days_until(context["cycle"].end, now)
    except staffify.StaffifyError as err:
        context["problem"] = explain(err)
        status = 404 if isinstance(err, staffify.NotFoundError) else 200
        return render(request, "numbers/detail.html", context, status=status)
    return render(request, "numbers/detail.html", context)


@dashboard_view("numbers.assign_agent", audit_action=audit.Action.ASSIGN)
@require_POST
def assign_agent(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    agents, problem = _agents_or_problem(client)
    form = AssignForm(request.POST, agent_ids=[a.id for a in agents])
    if problem or not form.is_valid():
        why = problem or Problem(str(form.errors["agent_id"][0]))
        row = _true_row(client, number_id, why)
        outcome = audit.Outcome.ERROR if problem else audit.Outcome.INVALID
        changes.refuse(
            request.user,
            audit.Action.ASSIGN,
            why.message,
            number_id=number_id,
            phone_number=row.phone_number,
            outcome=outcome,
        )
        return _row_response(request, row, agents)
    agent_id = form.cleaned_data["agent_id"]
    if agent_id is None:
        change = changes.unassign(client, request.user, number_id)
    else:
        name = staffify.agent_names(agents).get(agent_id)
        change = changes.assign(client, request.user, number_id, agent_id, agent_name=name)
    if not change.done or change.note or change.number is None:
        return _row_after_trouble(request, client, number_id, change, agents)
    row = build_row(change.number, lookup=True)
    response = _row_response(request, row, agents)
    what = f"assigned to {change.number.agent_name or agent_id}" if agent_id else "unassigned"
    return toast(response, f"{row.display} {what}.", counted=MOVED)


@dashboard_view("numbers.edit_tags")
@require_GET
def tags_editor(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    try:
        number = client.get_number(number_id)
    except staffify.StaffifyError as err:
        return _row_in_place(request, client, number_id, err)
    context = {
        "number_id": number_id,
        "display": format_phone(number.phone_number),
        "value": ", ".join(number.tags),
        "original": ", ".join(number.tags),
        "can_tag": True,
    }
    return render(request, "numbers/_tags_editor.html", context)


@dashboard_view()
@require_GET
def tags_display(request: HttpRequest, number_id: int) -> HttpResponse:
    """Cancel: show the tags as they were (the editor sent them back; no Staffify call)."""
    form = TagsForm({"tags": request.GET.get("original", "")})
    tags = form.cleaned_data["tags"] if form.is_valid() else []
    # The number, for the button's name ("sales, edit the tags of +1 415-555-0123"), from the mirror.
    e164 = NumberRecord.objects.filter(staffify_id=number_id).values_list("phone_number", flat=True).first()
    context = {
        "number_id": number_id,
        "tags": tags,
        "display": format_phone(e164) if e164 else "",
        **permissions_for(request.user),
    }
    return render(request, "numbers/_tags.html", context)


@dashboard_view("numbers.edit_tags", audit_action=audit.Action.TAGS)
@require_POST
def save_tags(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    form = TagsForm(request.POST)
    context: dict = {
        "number_id": number_id,
        "value": request.POST.get("tags", ""),
        "original": request.POST.get("original", ""),
        "can_tag": True,
    }
    if not form.is_valid():
        context["error"] = form.errors["tags"][0]
        changes.refuse(
            request.user,
            audit.Action.TAGS,
            context["error"],
            number_id=number_id,
            after={"tags_text": request.POST.get("tags", "")[:2000]},
        )
        return render(request, "numbers/_tags_editor.html", context, status=422)
    change = changes.set_tags(client, request.user, number_id, form.cleaned_data["tags"])
    if not change.done or change.number is None:
        context["problem"] = change.problem
        return render(request, "numbers/_tags_editor.html", context, status=422)
    number = change.number
    if change.note:
        level, saved = "info", f"{format_phone(number.phone_number)}: {change.note}"
    else:
        level, saved = "success", f"Tags of {format_phone(number.phone_number)} saved."
    context = {
        "number_id": number_id,
        "tags": number.tags,
        "display": format_phone(number.phone_number),
        **permissions_for(request.user),
    }
    response = render(request, "numbers/_tags.html", context)
    return toast(response, saved, level, TAGGED if level == "success" else None)


@dashboard_view("numbers.release_number")
@require_GET
def release_dialog(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    try:
        number = client.get_number(number_id)
    except staffify.StaffifyError as err:
        return _row_in_place(request, client, number_id, err)
    response = _release_dialog(request, build_row(number, lookup=True))
    return retarget(reswap(response, "beforeend"), "body")  # the row's Release button leaves it to the answer


def _row_in_place(
    request: HttpRequest, client: staffify.StaffifyClient, number_id: int, err: staffify.StaffifyError
) -> HttpResponse:
    """A control's read failed: its row says so in place, with the request id (not a passing toast)."""
    agents, _ = _agents_or_problem(client)
    response = _row_response(request, _true_row(client, number_id, explain(err)), agents)
    return retarget(reswap(response, "outerHTML"), f"#number-{number_id}")


def _release_dialog(request: HttpRequest, row: NumberRow, problem: Problem | None = None) -> HttpResponse:
    now = lookups.staffify_now()
    context = {
        "row": row,
        "problem": problem,
        "reclaim_until": now + timedelta(days=RECLAIM_DAYS),
        "reclaim_days": RECLAIM_DAYS,
        "can_assign": request.user.has_perm("numbers.assign_agent"),
    }
    return render(request, "numbers/_release_dialog.html", context)


def _release_failed(
    request: HttpRequest, client: staffify.StaffifyClient, number_id: int, change: changes.Change
) -> HttpResponse:
    row = _row_after(client, number_id, change)
    if row.extra.get("unknown"):
        return toast(reswap(HttpResponse(status=200), "none"), str(row.problem), "error")
    response = _release_dialog(request, row, row.problem)
    return retarget(reswap(response, "outerHTML"), f"#release-dialog-{number_id}")


@dashboard_view("numbers.release_number", audit_action=audit.Action.RELEASE)
@require_POST
def release_number(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    agents, _ = _agents_or_problem(client)
    unassign_first = request.POST.get("unassign_first") == "1"
    change = changes.release(client, request.user, number_id, unassign_first=unassign_first)
    if not change.done or change.number is None or change.before is None:
        return _release_failed(request, client, number_id, change)
    after, reclaim_before = change.number, change.number.reclaim_before
    response = _row_response(request, build_row(after, lookup=True), agents)
    until = local_text(reclaim_before) if reclaim_before else "7 days from now"
    response = trigger_client_event(response, "closeModal", {})
    note = f"{change.note} " if change.note else ""
    message = f"{note}{format_phone(change.before.phone_number)} released: reclaimable until {until}."
    return toast(response, message, counted=RELEASED if not note else None)


@dashboard_view("numbers.reclaim_number", audit_action=audit.Action.RECLAIM)
@require_POST
def reclaim_number(request: HttpRequest, number_id: int) -> HttpResponse:
    """Reclaim; with `restore_agent`, then give the number back to the agent it had before its release
    (two writes, each audited ahead). The reclaim stands whatever happens to the second."""
    client = staffify.get_client()
    agents, _ = _agents_or_problem(client)
    restore = request.POST.get("restore_agent", "").strip()
    change = changes.reclaim(client, request.user, number_id, give_back_to=restore, agents=agents)
    if not change.done or change.number is None or change.before is None:
        return _row_after_trouble(request, client, number_id, change, agents)
    response = _row_response(request, build_row(change.number, lookup=True), agents)
    reclaimed = f"{format_phone(change.before.phone_number)} reclaimed: it is active again"
    if change.note:
        reclaimed = f"{change.note} {reclaimed}"
    if change.given_back:
        return toast(response, f"{reclaimed}, but {change.given_back}", "error")
    if change.number.agent_id is not None:
        return toast(response, f"{reclaimed} and assigned to {change.number.agent_name} again.", counted=RECLAIMED)
    return toast(response, reclaimed + ".", counted=RECLAIMED if not change.note else None)
