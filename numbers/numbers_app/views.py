"""The dashboard's pages and HTMX actions. Every Staffify call goes through numbers.staffify.

One shape throughout: check access (numbers.access), bind a form, call Staffify, render the page or
the fragment that replaces itself, and turn any Staffify error into a sentence in place
(numbers.explain). No view holds a database transaction open while it waits on Staffify.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from numbers_app import audit, buying, freshness, ledger, listing, lookups, mirror, settle, staffify
from numbers_app import billing as cycles
from numbers_app.access import HtmxHttpRequest, dashboard_view, permissions_for
from numbers_app.explain import Problem, explain
from numbers_app.forms import AssignForm, NumberFilterForm, PurchaseForm, SearchForm, TagsForm
from numbers_app.forms_purchase import PurchaseTimeForm
from numbers_app.models import AuditEntry, PurchaseAttempt
from numbers_app.presenters import NumberRow, build_row, format_phone, with_agent_options
from numbers_app.rules import (
    RECLAIM_DAYS,
)


def toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    return trigger_client_event(response, "toast", {"level": level, "message": message})


def _agents_or_problem(client: staffify.StaffifyClient) -> tuple[list[staffify.Agent], Problem | None]:
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
    if after and after.isdigit() and not sort:
        found = found.filter(staffify_id__gt=int(after))  # a bookmarked Staffify cursor: ids after it
    offset = (form.cleaned_data.get("offset") or 0) if valid else 0
    records = list(found[offset : offset + listing.PAGE_SIZE + 1])
    agents = listing.agents()
    rows = with_agent_options(listing.rows(records[: listing.PAGE_SIZE]), agents)
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
    target = request.htmx.target if request.htmx else None
    if target == "load-more":
        return render(request, "numbers/list.html#rows", context)
    context["total"] = found.count()
    context["offset"], context["shown_to"] = offset, offset + len(rows)
    highlight = request.GET.get("highlight", "")
    if highlight.isdigit() and not request.htmx:
        _put_first(context, int(highlight))
    if target == "numbers-table":
        return render(request, "numbers/list.html#table", context)
    return render(request, "numbers/list.html", context)


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


def _row_response(request: HttpRequest, row: NumberRow, agents: list[staffify.Agent]) -> HttpResponse:
    with_agent_options([row], agents)
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
        ledger.record_seen(number)
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


def _settled_row(client: staffify.StaffifyClient, number_id: int, settled: settle.Settled) -> NumberRow:
    """The row after a write that did not simply succeed: the state read back while settling it (or
    read now), carrying what is known about the write."""
    if settled.number is None:
        assert settled.problem is not None
        return _true_row(client, number_id, settled.problem)
    row = build_row(settled.number, lookup=True)
    row.problem = settled.problem
    return row


def _write_failed(
    request: HttpRequest,
    client: staffify.StaffifyClient,
    entry: AuditEntry,
    err: staffify.StaffifyError,
    agents: list[staffify.Agent],
) -> HttpResponse:
    """A write's answer was an error: settle it (numbers_app.settle) and show the row as it truly is."""
    assert entry.number_id is not None
    settled = settle.answered(client, entry, err)
    row = _settled_row(client, entry.number_id, settled)
    response = _row_response(request, row, agents)
    if settled.outcome == audit.Outcome.OK:
        return toast(response, f"{row.display}: {settled.note}", "info")
    return response


@dashboard_view()
@require_GET
def number_detail(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    agents, problem = _agents_or_problem(client)
    history = list(AuditEntry.objects.filter(number_id=number_id)[:100])
    for entry in history:
        entry.change = audit.change_summary(entry)
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
        record = ledger.record_seen(number)  # the one live read refreshes its mirror row
        row = with_agent_options([build_row(number, record)], agents)[0]
        context["row"] = row
        context["record"] = record
        context["purchase_form"] = PurchaseTimeForm(initial={"purchased_at": record.purchased_at})
        if row.is_active and row.purchased_at:
            now = lookups.staffify_now(client)
            context["cycle"] = cycles.cycle_at(row.purchased_at, now)
            context["days_until"] = cycles.days_until(context["cycle"].end, now)
    except staffify.StaffifyError as err:
        context["problem"] = explain(err)
        status = 404 if isinstance(err, staffify.NotFoundError) else 200
        return render(request, "numbers/detail.html", context, status=status)
    return render(request, "numbers/detail.html", context)


def _read_before(
    request: HttpRequest, client: staffify.StaffifyClient, number_id: int, action: str, agents: list[staffify.Agent]
) -> staffify.PhoneNumber | HttpResponse:
    """The number as it is before an action: the audit log's `before`, and the row's other fields.
    When Staffify cannot say, the action is not tried, and the attempt is logged as failed."""
    try:
        return client.get_number(number_id)
    except staffify.StaffifyError as err:
        problem = explain(err)
        audit.record(
            request.user,
            action,
            outcome=audit.Outcome.ERROR,
            number_id=number_id,
            err=err,
            message=f"Not tried: the number's state could not be read. {problem.message}",
        )
        return _row_response(request, _true_row(client, number_id, problem), agents)


@dashboard_view("numbers.assign_agent", audit_action=audit.Action.ASSIGN)
@require_POST
def assign_agent(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    agents, problem = _agents_or_problem(client)
    form = AssignForm(request.POST, agent_ids=[a.id for a in agents])
    if problem or not form.is_valid():
        why = problem or Problem(str(form.errors["agent_id"][0]))
        row = _true_row(client, number_id, why)
        audit.record(
            request.user,
            audit.Action.ASSIGN,
            outcome=audit.Outcome.ERROR if problem else audit.Outcome.INVALID,
            number_id=number_id,
            phone_number=row.phone_number,
            message=why.message,
        )
        return _row_response(request, row, agents)
    agent_id = form.cleaned_data["agent_id"]
    action = audit.Action.ASSIGN if agent_id else audit.Action.UNASSIGN
    before = _read_before(request, client, number_id, action, agents)
    if isinstance(before, HttpResponse):
        return before
    names = {a.id: a.name for a in agents}
    after = replace(before, agent_id=agent_id, agent_name=names.get(agent_id) if agent_id else None)
    entry = settle.begin(request.user, action, before, after)
    try:
        if agent_id is None:
            client.unassign(number_id)
        else:
            client.assign(number_id, agent_id)
    except staffify.StaffifyError as err:
        return _write_failed(request, client, entry, err, agents)
    settle.confirmed(entry, after)
    ledger.record_seen(after)
    row = build_row(after, lookup=True)
    response = _row_response(request, row, agents)
    what = f"assigned to {after.agent_name or agent_id}" if agent_id else "unassigned"
    return toast(response, f"{row.display} {what}.")


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
    context = {"number_id": number_id, "tags": tags, **permissions_for(request.user)}
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
        audit.record(
            request.user,
            audit.Action.TAGS,
            outcome=audit.Outcome.INVALID,
            number_id=number_id,
            after={"tags_text": request.POST.get("tags", "")[:2000]},
            message=context["error"],
        )
        return render(request, "numbers/_tags_editor.html", context, status=422)
    try:
        before = client.get_number(number_id)
    except staffify.StaffifyError as err:
        context["problem"] = explain(err)
        audit.record(
            request.user,
            audit.Action.TAGS,
            outcome=audit.Outcome.ERROR,
            number_id=number_id,
            after={"tags": form.cleaned_data["tags"]},
            err=err,
            message=f"Not tried: the number's state could not be read. {context['problem'].message}",
        )
        return render(request, "numbers/_tags_editor.html", context, status=422)
    wanted = replace(before, tags=tuple(form.cleaned_data["tags"]))
    entry = settle.begin(request.user, audit.Action.TAGS, before, wanted)
    try:
        number = client.set_tags(number_id, form.cleaned_data["tags"]) or wanted
    except staffify.StaffifyError as err:
        settled = settle.answered(client, entry, err)
        if settled.outcome != audit.Outcome.OK or settled.number is None:
            context["problem"] = settled.problem
            return render(request, "numbers/_tags_editor.html", context, status=422)
        number, level = settled.number, "info"
        saved = f"{format_phone(number.phone_number)}: {settled.note}"
    else:
        settle.confirmed(entry, number)
        ledger.record_seen(number)
        level, saved = "success", f"Tags of {format_phone(number.phone_number)} saved."
    response = render(
        request, "numbers/_tags.html", {"number_id": number_id, "tags": number.tags, **permissions_for(request.user)}
    )
    return toast(response, saved, level)


@dashboard_view("numbers.release_number")
@require_GET
def release_dialog(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    try:
        number = client.get_number(number_id)
    except staffify.StaffifyError as err:
        return _row_in_place(request, client, number_id, err)
    return _release_dialog(request, build_row(number, lookup=True))


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
    request: HttpRequest, client: staffify.StaffifyClient, number_id: int, problem: Problem | settle.Settled
) -> HttpResponse:
    if isinstance(problem, settle.Settled):
        row = _settled_row(client, number_id, problem)
    else:
        row = _true_row(client, number_id, problem)
    if row.extra.get("unknown"):
        return toast(reswap(HttpResponse(status=200), "none"), str(row.problem), "error")
    response = _release_dialog(request, row, row.problem)
    return retarget(reswap(response, "outerHTML"), f"#release-dialog-{number_id}")


@dashboard_view("numbers.release_number", audit_action=audit.Action.RELEASE)
@require_POST
def release_number(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    agents, _ = _agents_or_problem(client)
    try:
        before = client.get_number(number_id)
    except staffify.StaffifyError as err:
        audit.record(request.user, audit.Action.RELEASE, outcome=audit.Outcome.ERROR, number_id=number_id, err=err)
        return _release_failed(request, client, number_id, explain(err))
    current = before
    if before.agent_id is not None and request.POST.get("unassign_first") == "1":
        # Unassigning is Support's right too: Operations has it; anyone else must not slip one in.
        if not request.user.has_perm("numbers.assign_agent"):
            audit.record(
                request.user,
                audit.Action.UNASSIGN,
                outcome=audit.Outcome.DENIED,
                number_id=number_id,
                phone_number=before.phone_number,
                message="Role may not unassign before releasing.",
            )
        else:
            unassigned = replace(before, agent_id=None, agent_name=None)
            entry = settle.begin(request.user, audit.Action.UNASSIGN, before, unassigned)
            try:
                client.unassign(number_id)
            except staffify.StaffifyError as err:
                settled = settle.answered(client, entry, err)
                if settled.outcome != audit.Outcome.OK or settled.number is None:
                    return _release_failed(request, client, number_id, settled)
                current = settled.number
            else:
                current = unassigned
                settle.confirmed(entry, current, message="Unassigned to release it.")
    entry = settle.begin(request.user, audit.Action.RELEASE, current, replace(current, status="pending_release"))
    note = ""
    try:
        reclaim_before = client.release(number_id).reclaim_before
        after = replace(current, status="pending_release", reclaim_before=reclaim_before)
        settle.confirmed(entry, after)
    except staffify.StaffifyError as err:
        settled = settle.answered(client, entry, err)
        if settled.outcome != audit.Outcome.OK or settled.number is None:
            return _release_failed(request, client, number_id, settled)
        after, reclaim_before, note = settled.number, settled.number.reclaim_before, settled.note + " "
    ledger.record_release(number_id, before.phone_number, reclaim_before)
    response = _row_response(request, build_row(after, lookup=True), agents)
    until = timezone.localtime(reclaim_before).strftime("%d %b %Y %H:%M %Z") if reclaim_before else "7 days from now"
    response = trigger_client_event(response, "closeModal", {})
    return toast(response, f"{note}{format_phone(before.phone_number)} released: reclaimable until {until}.")


@dashboard_view("numbers.reclaim_number", audit_action=audit.Action.RECLAIM)
@require_POST
def reclaim_number(request: HttpRequest, number_id: int) -> HttpResponse:
    client = staffify.get_client()
    agents, _ = _agents_or_problem(client)
    before = _read_before(request, client, number_id, audit.Action.RECLAIM, agents)
    if isinstance(before, HttpResponse):
        return before
    after = replace(before, status="active", reclaim_before=None)
    entry = settle.begin(request.user, audit.Action.RECLAIM, before, after)
    try:
        client.reclaim(number_id)
    except staffify.StaffifyError as err:
        return _write_failed(request, client, entry, err, agents)
    settle.confirmed(entry, after)
    ledger.record_seen(after)
    response = _row_response(request, build_row(after, lookup=True), agents)
    return toast(response, f"{format_phone(before.phone_number)} reclaimed: it is active again.")


# ---------------------------------------------------------------------------------------------
# Buying: the rules and the purchase itself live in numbers_app.buying


@dashboard_view("numbers.buy_number")
@require_GET
def buy(request: HtmxHttpRequest) -> HttpResponse:
    client = staffify.get_client()
    context: dict = {"results": [], "problem": None, "notice": None}
    try:
        countries = lookups.countries(client)
    except staffify.StaffifyError as err:
        countries = []
        context["problem"] = explain(err)
    form = SearchForm(request.GET or None, countries=countries, initial={"country_code": "US", "limit": 20})
    context.update({"form": form, "countries": countries})
    if context["problem"] is None:
        params = form.cleaned_data if form.is_bound and form.is_valid() else None
        if not form.is_bound:
            params = SearchForm.DEFAULTS
        if params is not None:
            country = next((c for c in countries if c.code == params["country_code"]), None)
            found = buying.search(client, params, country)
            context.update(
                country=country,
                results=found.results,
                notice=found.notice,
                problem=found.problem,
                address_country=found.address_country,
            )
    context["selected_country"] = (form.data.get("country_code") or "US").upper() if form.is_bound else "US"
    if request.htmx and request.htmx.target == "results":
        return render(request, "numbers/buy.html#results", context)
    return render(request, "numbers/buy.html", context)


def _dialog_fields(params: QueryDict, city_key: str) -> dict:
    """The search result's city and locality, carried through the dialog for display and the city rule."""
    return {
        "number_city_code": "".join(ch for ch in params.get(city_key, "") if ch.isdigit())[:5],
        "locality": params.get("locality", "")[:80],
    }


@dashboard_view("numbers.buy_number")
@require_GET
def buy_confirm(request: HttpRequest) -> HttpResponse:
    form = PurchaseForm({**request.GET.dict(), "token": str(uuid.uuid4())})
    if not form.is_valid():
        return toast(
            HttpResponse(status=204),
            "That number cannot be bought: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()),
            "error",
        )
    data = {k: form.cleaned_data[k] for k in ("phone_number", "country_code", "number_type")}
    data.update(_dialog_fields(request.GET, "city_code"))
    context = buying.confirmation(staffify.get_client(), data)
    return render(request, "numbers/_buy_dialog.html", context)


@dashboard_view("numbers.buy_number", audit_action=audit.Action.BUY)
@require_POST
def buy_number(request: HttpRequest) -> HttpResponse:
    form = PurchaseForm(request.POST)
    if not form.is_valid():
        message = "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items())
        audit.record(
            request.user,
            audit.Action.BUY,
            outcome=audit.Outcome.INVALID,
            phone_number=request.POST.get("phone_number", "")[:32],
            message=message,
        )
        return toast(reswap(HttpResponse(status=422), "none"), f"Nothing was bought: {message}", "error")
    client = staffify.get_client()
    outcome = buying.buy(client, request.user, form.cleaned_data)
    if outcome.result == buying.Result.BOUGHT:
        messages.success(request, outcome.message)
        return HttpResponseClientRedirect(reverse("number_list") + f"?highlight={outcome.number_id}")
    if outcome.result == buying.Result.REPEATED:
        message = buying.repeated_message(outcome.attempt, request.user)
        if outcome.attempt.state == PurchaseAttempt.State.SUCCEEDED:
            response: HttpResponse = HttpResponseClientRedirect(
                reverse("number_list") + f"?highlight={outcome.attempt.staffify_id}"
            )
            return toast(response, message, "info")
        return toast(reswap(HttpResponse(status=409), "none"), message, "warning")
    # Refused or unknown: the confirmation again, saying what happened (a 402 with the balance it read).
    data = {k: form.cleaned_data[k] for k in ("phone_number", "country_code", "number_type")}
    data.update(_dialog_fields(request.POST, "number_city_code"))
    context = buying.confirmation(client, data, outcome.err)
    if outcome.err is None:
        context["problem"] = outcome.problem
    response = render(request, "numbers/_buy_dialog.html", context)
    return retarget(reswap(response, "outerHTML"), "#buy-dialog")
