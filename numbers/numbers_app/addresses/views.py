"""The Addresses page: the dashboard's address book and Staffify's verification workflow.

Everyone with the dashboard sees the book; only Operations (numbers.manage_addresses) creates, adds,
uploads, submits and checks. The workflow itself lives in numbers_app.addresses.book. Each action is a
plain form POST answered with a redirect to the page (a message says what happened), so the page
works without JavaScript; submitting is confirmed first in a <dialog> saying it cannot be undone.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from numbers_app import scope, staffify
from numbers_app.addresses import book as address_book
from numbers_app.addresses.forms import AddByIdForm, AddressForm, CountryForm, DocumentForm
from numbers_app.audit import log as audit
from numbers_app.models import AddressBookEntry
from numbers_app.rules import DOCUMENT_FILE_TYPES, DOCUMENT_MAX_BYTES, LOCAL_PRESENCE_COUNTRIES
from numbers_app.staffify import lookups
from numbers_app.text.explain import Problem, explain
from numbers_app.web.access import HtmxHttpRequest, dashboard_view

MANAGE = "numbers.manage_addresses"


def _back(entry: AddressBookEntry | None = None) -> HttpResponseRedirect:
    url = scope.reverse("addresses")
    return HttpResponseRedirect(f"{url}#address-{entry.staffify_id}" if entry else url)


def _entry(address_id: int) -> AddressBookEntry:
    return get_object_or_404(AddressBookEntry, staffify_id=address_id)


def _say(request: HtmxHttpRequest, result: address_book.Result) -> None:
    if result.ok:
        messages.success(request, result.message)
    elif result.problem is not None:
        level = messages.WARNING if result.problem.level == "warning" else messages.ERROR
        messages.add_message(request, level, str(result.problem))


def _requirements(
    client: staffify.StaffifyClient, country: str
) -> tuple[staffify.AddressRequirements | None, Problem | None]:
    if not country:
        return None, None
    try:
        return lookups.address_requirements(client, country), None
    except staffify.StaffifyError as err:
        return None, explain(err)


COUNTRY_KEY = "addresses:country"  # the create form's country, kept between the workflow's steps


def _chosen_country(request: HtmxHttpRequest, form: AddressForm | None) -> str:
    """The create form's country: the one just picked (?country=FR, or the select's own
    ?country_code=FR), the one a rejected form was sent with, the one picked before, or NL."""
    if form is not None and form.is_bound:
        country = (form.data.get("country_code") or "").strip().upper()[:2]
    else:
        chosen = CountryForm({"country": request.GET.get("country") or request.GET.get("country_code") or ""})
        country = chosen.cleaned_data["country"] if chosen.is_valid() else ""
    if country:
        request.session[COUNTRY_KEY] = country
    return country or request.session.get(COUNTRY_KEY) or "NL"


def _search_url(entry: AddressBookEntry) -> str:
    """The buy page's search in the address's country (and city, where numbers are local)."""
    query = {"country_code": entry.country_code, "number_type": "local"}
    if entry.country_code in LOCAL_PRESENCE_COUNTRIES and entry.city_code:
        query["city_code"] = entry.city_code
    return f"{scope.reverse('buy')}?{urlencode(query)}"


def _page(
    request: HtmxHttpRequest,
    *,
    form: AddressForm | None = None,
    add_form: AddByIdForm | None = None,
    status: int = 200,
) -> HttpResponse:
    client = staffify.get_client()
    problem = None
    try:
        countries = lookups.countries(client)
    except staffify.StaffifyError as err:
        countries, problem = [], explain(err)
    country = _chosen_country(request, form)
    requirements, requirements_problem = _requirements(client, country)
    if request.htmx and request.htmx.target == "requirements":
        partial = {"requirements": requirements, "requirements_problem": requirements_problem}
        return render(request, "addresses/page.html#requirements", partial)
    if form is None:
        form = AddressForm(initial={"country_code": country}, countries=countries)
    entries = list(AddressBookEntry.objects.select_related("added_by"))
    limits: dict[str, staffify.AddressRequirements | None] = {}
    for entry in entries:
        if not entry.submitted and entry.country_code not in limits:
            limits[entry.country_code], _ = _requirements(client, entry.country_code)
        found = limits.get(entry.country_code)
        entry.document_form = DocumentForm(  # type: ignore[attr-defined]
            auto_id=f"doc-{entry.staffify_id}-%s",
            accepted_types=found.accepted_file_types if found else DOCUMENT_FILE_TYPES,
            max_bytes=found.max_file_size if found else DOCUMENT_MAX_BYTES,
        )
        entry.required_documents = found.required_documents if found else []  # type: ignore[attr-defined]
        entry.progress = address_book.progress(entry, entry.required_documents)  # type: ignore[attr-defined]
        entry.search_url = _search_url(entry)  # type: ignore[attr-defined]
    context = {
        "entries": entries,
        "outside": address_book.outside_the_book(client),
        "countries": countries,
        "country": country,
        "requirements": requirements,
        "requirements_problem": requirements_problem,
        "problem": problem,
        "form": form,
        "add_form": add_form or AddByIdForm(initial={"country_code": country}),
        "can_manage": request.user.has_perm(MANAGE),
        "review_time": settings.ADDRESS_REVIEW_TIME,
        "check_minutes": max(1, round(settings.ADDRESS_STATUS_SECONDS / 60)),
    }
    return render(request, "addresses/page.html", context, status=status)


@dashboard_view()
@require_GET
def addresses(request: HtmxHttpRequest) -> HttpResponse:
    return _page(request)


@dashboard_view(MANAGE, audit_action=audit.Action.ADDRESS_CREATE)
@require_POST
def create_address(request: HtmxHttpRequest) -> HttpResponse:
    client = staffify.get_client()
    try:
        countries = lookups.countries(client)
    except staffify.StaffifyError:
        countries = []  # Staffify checks the country itself
    form = AddressForm(request.POST, countries=countries)
    if not form.is_valid():
        audit.record(
            request.user,
            audit.Action.ADDRESS_CREATE,
            outcome=audit.Outcome.INVALID,
            after={"country_code": request.POST.get("country_code", "")[:2]},
            message="; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()),
        )
        return _page(request, form=form, status=422)
    request.session[COUNTRY_KEY] = form.cleaned_data["country_code"]  # the next address is likely there too
    result = address_book.create(client, request.user, form.cleaned_data)
    if not result.ok:
        form.add_error(None, str(result.problem))
        return _page(request, form=form, status=422)
    _say(request, result)
    return _back(result.entry)


@dashboard_view(MANAGE, audit_action=audit.Action.ADDRESS_ADD)
@require_POST
def add_address(request: HtmxHttpRequest) -> HttpResponse:
    form = AddByIdForm(request.POST)
    if not form.is_valid():
        audit.record(
            request.user,
            audit.Action.ADDRESS_ADD,
            outcome=audit.Outcome.INVALID,
            message="; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()),
        )
        return _page(request, add_form=form, status=422)
    result = address_book.add_by_id(staffify.get_client(), request.user, form.cleaned_data)
    if not result.ok:
        form.add_error(None, str(result.problem))
        return _page(request, add_form=form, status=422)
    _say(request, result)
    return _back(result.entry)


@dashboard_view(MANAGE, audit_action=audit.Action.ADDRESS_DOCUMENT)
@require_POST
def upload_document(request: HtmxHttpRequest, address_id: int) -> HttpResponse:
    entry = _entry(address_id)
    client = staffify.get_client()
    requirements, _ = _requirements(client, entry.country_code)
    form = DocumentForm(
        request.POST,
        request.FILES,
        accepted_types=requirements.accepted_file_types if requirements else DOCUMENT_FILE_TYPES,
        max_bytes=requirements.max_file_size if requirements else DOCUMENT_MAX_BYTES,
    )
    if not form.is_valid():
        message = "; ".join(str(v[0]) for v in form.errors.values())
        audit.record(
            request.user,
            audit.Action.ADDRESS_DOCUMENT,
            outcome=audit.Outcome.INVALID,
            after={"address_id": entry.staffify_id},
            message=message,
        )
        messages.error(request, f"Nothing was uploaded for address {entry.staffify_id}: {message}")
        return _back(entry)
    upload = form.cleaned_data["file"]
    result = address_book.upload(
        client,
        request.user,
        entry,
        document_type=form.cleaned_data["document_type"],
        filename=upload.name or "document",
        content=upload.read(),
        content_type=form.content_type,
    )
    _say(request, result)
    return _back(entry)


@dashboard_view(MANAGE)
@require_GET
def submit_dialog(request: HtmxHttpRequest, address_id: int) -> HttpResponse:
    entry = _entry(address_id)
    return render(request, "addresses/_submit_dialog.html", {"entry": entry})


@dashboard_view(MANAGE, audit_action=audit.Action.ADDRESS_SUBMIT)
@require_POST
def submit_address(request: HtmxHttpRequest, address_id: int) -> HttpResponse:
    entry = _entry(address_id)
    _say(request, address_book.submit(staffify.get_client(), request.user, entry))
    return _back(entry)


@dashboard_view(MANAGE, audit_action=audit.Action.ADDRESS_CHECK)
@require_POST
def check_status(request: HtmxHttpRequest, address_id: int) -> HttpResponse:
    entry = _entry(address_id)
    _say(request, address_book.check(staffify.get_client(), request.user, entry))
    return _back(entry)
