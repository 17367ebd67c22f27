"""Buying: search and buy (the rules and the purchase itself live in numbers_app.buying.service), and
purchase instants from Staffify's invoices, set on a number's page or imported from a CSV after a
preview. Operations only (the role that buys); all are audited and update the mirror row, so the
billing page places the number's charges from then on."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from numbers_app import staffify
from numbers_app.audit import log as audit
from numbers_app.buying import purchase_times
from numbers_app.buying import service as buying
from numbers_app.buying.forms import PurchaseForm, PurchaseImportForm, PurchaseTimeForm, SearchForm
from numbers_app.changes import service as changes
from numbers_app.mirror import listing
from numbers_app.mirror import store as mirror
from numbers_app.models import AuditEntry, NumberRecord, PurchaseAttempt
from numbers_app.staffify import lookups
from numbers_app.text.explain import explain
from numbers_app.text.presenters import format_phone
from numbers_app.web.access import HtmxHttpRequest, dashboard_view
from numbers_app.web.htmx import toast

PERM = "numbers.buy_number"


def _owned_record(number_id: int) -> NumberRecord:
    record = mirror.owned().filter(staffify_id=number_id).first()
    if record is None:
        raise Http404("This number is not in the account as far as the dashboard knows.")
    return record


@dashboard_view(PERM, audit_action=AuditEntry.Action.PURCHASE_TIME)
@require_POST
def set_purchase_time(request: HttpRequest, number_id: int) -> HttpResponse:
    record = _owned_record(number_id)
    form = PurchaseTimeForm(request.POST)
    client = staffify.get_client()
    now, skew = lookups.staffify_now(client), client.clock_skew
    if form.is_valid():
        at = form.cleaned_data["purchased_at"]
        why = purchase_times.problem_with(record, at, now, skew)
        if why is None:
            purchase_times.set_one(request.user, record, at, now)
            messages.success(request, f"Purchase time of {format_phone(record.phone_number)} saved.")
            return redirect("number_detail", number_id=number_id)
        form.add_error("purchased_at", why)
    context = {"form": form, "record": record, "display": format_phone(record.phone_number)}
    return render(request, "numbers/purchase_time.html", context, status=400)


@dashboard_view(PERM, audit_action=AuditEntry.Action.PURCHASE_TIME)
@require_http_methods(["GET", "POST"])
def purchase_import(request: HttpRequest) -> HttpResponse:
    form = PurchaseImportForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form, "preview": None}
    if request.method == "POST" and form.is_valid():
        client = staffify.get_client()
        now = lookups.staffify_now(client)
        preview = purchase_times.preview(form.cleaned_data["csv_text"], now, client.clock_skew)
        if request.POST.get("apply") and preview.changes:  # bad and unknown lines are left out, as shown
            count = purchase_times.apply(request.user, preview.changes, now)
            messages.success(request, f"{count} purchase time{'s' if count != 1 else ''} saved.")
            return redirect("billing")
        context["preview"] = preview
        context["csv_text"] = form.cleaned_data["csv_text"]
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return render(request, "numbers/purchase_import.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# Search and buy: the rules and the purchase itself live in numbers_app.buying.service


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
    context = _issued(request, buying.confirmation(staffify.get_client(), data))
    return render(request, "numbers/_buy_dialog.html", {**context, **_set_up_choices(request)})


# The confirmations this session opened (their tokens, newest last): a purchase is made only from one
# of them, so a confirmation's token is bound to the user and the session that opened it. A second submit
# of the same one still finds its token (and is told the first one's fate, not charged twice).
ISSUED_TOKENS = "purchase_tokens"
ISSUED_KEPT = 50
NOT_ISSUED = "this confirmation was not opened in this session: open the number's confirmation again."


def _issued(request: HttpRequest, context: dict) -> dict:
    tokens = [*request.session.get(ISSUED_TOKENS, []), str(context["token"])]
    request.session[ISSUED_TOKENS] = tokens[-ISSUED_KEPT:]
    return context


def _was_issued(request: HttpRequest, token: uuid.UUID) -> bool:
    return str(token) in request.session.get(ISSUED_TOKENS, [])


def _set_up_choices(request: HttpRequest, agent_id: int | None = None, tags: str = "") -> dict:
    """What the confirmation offers for the new number: an agent (from the mirror) and tags."""
    return {
        "agents": listing.agents(),
        "chosen_agent": agent_id,
        "chosen_tags": tags,
        "can_assign": request.user.has_perm("numbers.assign_agent"),
        "can_tag": request.user.has_perm("numbers.edit_tags"),
    }


def _set_up_refusal(request: HttpRequest, data: dict) -> tuple[str, staffify.Agent | None]:
    """Why the agent or tags chosen for the new number cannot be asked for (checked before buying)."""
    agent = None
    if data.get("agent_id"):
        agent = next((a for a in listing.agents() if a.id == data["agent_id"]), None)
        if not request.user.has_perm("numbers.assign_agent"):
            return "agent: your role cannot assign agents.", None
        if agent is None:
            return "agent: that agent is not in this account's agent list.", None
    if data.get("tags") and not request.user.has_perm("numbers.edit_tags"):
        return "tags: your role cannot edit tags.", None
    return "", agent


@dashboard_view("numbers.buy_number", audit_action=audit.Action.BUY)
@require_POST
def buy_number(request: HttpRequest) -> HttpResponse:
    form = PurchaseForm(request.POST)
    if not form.is_valid():
        message = "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items())
        changes.refuse(request.user, audit.Action.BUY, message, phone_number=request.POST.get("phone_number", "")[:32])
        return toast(reswap(HttpResponse(status=422), "none"), f"Nothing was bought: {message}", "error")
    refusal, agent = _set_up_refusal(request, form.cleaned_data)
    if not _was_issued(request, form.cleaned_data["token"]):
        refusal = NOT_ISSUED
    if refusal:
        changes.refuse(request.user, audit.Action.BUY, refusal, phone_number=form.cleaned_data["phone_number"])
        return toast(reswap(HttpResponse(status=422), "none"), f"Nothing was bought: {refusal}", "error")
    client = staffify.get_client()
    outcome = buying.buy(client, request.user, form.cleaned_data)
    if outcome.result == buying.Result.BOUGHT:
        assert outcome.number_id is not None
        done = buying.set_up(
            client, request.user, outcome.number_id, outcome.phone_number, agent, form.cleaned_data["tags"]
        )
        return _bought_in_place(request, done.number, outcome.message, done.problems)
    if outcome.result == buying.Result.REPEATED:
        message = buying.repeated_message(outcome.attempt, request.user)
        if outcome.attempt.state == PurchaseAttempt.State.SUCCEEDED and outcome.attempt.staffify_id:
            record = mirror.owned().filter(staffify_id=outcome.attempt.staffify_id).first()
            bought = mirror.as_number(record) if record else None
            if bought is not None:
                return toast(_bought_in_place(request, bought, "", []), message, "info")
            response: HttpResponse = HttpResponseClientRedirect(
                reverse("number_list") + f"?highlight={outcome.attempt.staffify_id}"
            )
            return toast(response, message, "info")
        return toast(reswap(HttpResponse(status=409), "none"), message, "warning")
    # Refused or unknown: the confirmation again, saying what happened (a 402 with the balance it read).
    data = {k: form.cleaned_data[k] for k in ("phone_number", "country_code", "number_type")}
    data.update(_dialog_fields(request.POST, "number_city_code"))
    context = _issued(request, buying.confirmation(client, data, outcome.err))
    if outcome.err is None:
        context["problem"] = outcome.problem
    choices = _set_up_choices(request, form.cleaned_data.get("agent_id"), request.POST.get("tags", ""))
    response = render(request, "numbers/_buy_dialog.html", {**context, **choices})
    return retarget(reswap(response, "outerHTML"), "#buy-dialog")


def _read_balance_after_purchase() -> lookups.BalanceReading | None:
    try:
        return lookups.refresh_balance(staffify.get_client())
    except staffify.StaffifyError:
        return lookups.balance_reading()  # the reading kept; the worker reads it again soon


def _bought_in_place(
    request: HttpRequest, number: staffify.PhoneNumber, message: str, problems: list[str]
) -> HttpResponse:
    """The search stays: its result row becomes "Bought …, assigned to …", linking to the number."""
    display = format_phone(number.phone_number)
    # The header's balance changed with the purchase: one read of /credits, for the person who bought
    # (kept for every page, as the worker would have read it seconds later).
    balance_now = _read_balance_after_purchase() if message else None
    context = {
        "number": number,
        "display": display,
        "problems": problems,
        "message": message,
        "balance_now": balance_now,
    }
    response = render(request, "numbers/_bought_row.html", context)
    response = retarget(reswap(response, "outerHTML"), f"#result-{number.phone_number.lstrip('+')}")
    response = trigger_client_event(response, "closeModal", {})
    if not message:
        return response
    said = [f"Bought {display}"]
    if number.agent_name:
        said.append(f"assigned to {number.agent_name}")
    if number.tags:
        said.append("tagged " + ", ".join(number.tags))
    prefix = f"Bought {display}"
    text = ", ".join(said) + (message.removeprefix(prefix) if message.startswith(prefix) else ". " + message)
    if problems:
        return toast(response, f"{text} The purchase stands, but: " + " ".join(problems), "warning")
    return toast(response, text)
