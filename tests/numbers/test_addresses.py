"""The Addresses page and the address book, against the sandbox, with Staffify's undocumented
address listing switched off (as the documented API has it) and on."""

import html as htmllib
import re

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from numbers_app import staffify, tasks
from numbers_app.addresses import book as address_book
from numbers_app.models import AddressBookEntry, AuditEntry
from numbers_app.staffify import lookups
from numbers_app.tasks import follow_addresses
from tests.conftest import InTransactionWSGI, worker_reads_balance
from tests.helpers import HX, fault
from tests.numbers.buying import buy, confirm, owned, search, token_of

PDF = b"%PDF-1.4\n% a government id\n"
NEW = {
    "country_code": "NL",
    "company_name": "Acme BV",
    "street_address": "Keizersgracht 10",
    "postal_code": "1015 CN",
    "city": "Amsterdam",
    "city_code": "020",
    "contact_name": "Ada Lovelace",
    "contact_email": "ada@example.com",
    "contact_phone": "+31 20 123 4567",
}


@pytest.fixture(params=["listing off", "listing on"])
def listing(request, staffify_sandbox):
    """The sandbox with `GET /addresses` answering 404 (as the documented API) or listing."""
    enabled = request.param == "listing on"
    staffify_sandbox.put("/control/addresses-listing", json={"enabled": enabled})
    return enabled


@pytest.fixture
def listing_off(staffify_sandbox):
    staffify_sandbox.put("/control/addresses-listing", json={"enabled": False})
    return staffify_sandbox


def create(client, **changes):
    return client.post("/addresses/create", {**NEW, **changes})


def new_entry(ops) -> AddressBookEntry:
    response = create(ops)
    assert response.status_code == 302, response.content.decode()
    return AddressBookEntry.objects.get()


def upload(client, entry, content=PDF, name="id.pdf", document_type="government_id"):
    file = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(f"/addresses/{entry.staffify_id}/documents", {"document_type": document_type, "file": file})


def status_at_sandbox(sandbox, address_id) -> str:
    return sandbox.post(f"/v1/addresses/{address_id}/check-status").json()["status"]


# --- the page and who may do what -------------------------------------------------------------


@pytest.mark.django_db
def test_the_nav_links_to_the_addresses_page(lead, staffify_sandbox):
    assert '<a href="/addresses/"' in lead.get("/").content.decode()


@pytest.mark.django_db
def test_the_page_shows_the_countrys_requirements(ops, listing):
    html = ops.get("/addresses/", {"country": "DE"}).content.decode()
    assert "<strong>Germany</strong> asks for:" in html
    assert "(required)" in html and "a city code" in html
    assert 'value="DE" selected' in html


@pytest.mark.django_db
def test_a_team_lead_sees_the_book_but_no_controls(lead, ops_user, listing_off):
    AddressBookEntry.objects.create(
        staffify_id=7, country_code="NL", city="Amsterdam", status="verified", added_how="by_id", added_by=ops_user
    )
    html = lead.get("/addresses/").content.decode()
    assert 'id="address-7"' in html and "Verified" in html
    assert "Check status" not in html and "Create address" not in html
    assert "only Operations creates" in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["support", "lead"])
def test_only_operations_may_change_addresses(request, persona, listing_off):
    client = request.getfixturevalue(persona)
    assert create(client).status_code == 403
    assert client.post("/addresses/add", {"address_id": 7, "country_code": "NL"}).status_code == 403
    assert not AddressBookEntry.objects.exists()
    assert AuditEntry.objects.filter(action="address_create", outcome="denied").count() == 1


# --- creating -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_creating_an_address_puts_it_in_the_book(ops, listing):
    response = create(ops)
    entry = AddressBookEntry.objects.get()
    assert response["Location"] == f"/addresses/#address-{entry.staffify_id}"
    assert (entry.country_code, entry.city_code, entry.status, entry.added_how) == ("NL", "020", "pending", "created")
    assert entry.added_by.username == "ops"
    audit = AuditEntry.objects.get(action="address_create")
    assert (audit.outcome, audit.after["address_id"]) == ("ok", entry.staffify_id)
    html = ops.get(response["Location"]).content.decode()
    assert "Pending, not submitted yet" in html and "Upload its documents, then submit it." in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"contact_email": "ada@"}, "Enter a valid email address."),
        ({"contact_phone": "0201234567"}, "international form"),
        ({"street_address": ""}, "This field is required."),
        ({"city_code": "2a"}, "2 to 5 digits"),
        ({"country_code": "DE", "city_code": ""}, "DE numbers are local: Staffify needs the city code."),
    ],
)
def test_the_form_checks_the_fields_before_anything_is_sent(ops, listing_off, changes, error):
    response = create(ops, **changes)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not AddressBookEntry.objects.exists()
    assert AuditEntry.objects.get(action="address_create").outcome == "invalid"


@pytest.mark.django_db
def test_a_refusal_by_staffify_is_said_in_place(ops, listing_off, staffify_sandbox):
    staffify_sandbox.post("/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/addresses"})
    response = create(ops)
    assert response.status_code == 422
    assert "Staffify is having trouble (HTTP 503)" in response.content.decode()
    assert "Staffify request id" in response.content.decode()
    assert not AddressBookEntry.objects.exists()


# --- documents, submitting, checking ------------------------------------------------------------


@pytest.mark.django_db
def test_uploading_a_document_is_sent_and_noted(ops, listing_off):
    entry = new_entry(ops)
    response = upload(ops, entry)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.documents == ["government_id"]
    assert "Government ID uploaded for address" in ops.get("/addresses/").content.decode()
    assert AuditEntry.objects.get(action="address_document").outcome == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"GIF89a not accepted", "Staffify accepts PDF, JPEG, PNG files only"),
        (b"%PDF-" + b"x" * (10 * 1024 * 1024), "larger than Staffify accepts (10 MB)"),
    ],
)
def test_a_wrong_or_large_file_is_refused_before_sending(ops, listing_off, staffify_sandbox, content, error):
    entry = new_entry(ops)
    upload(ops, entry, content=content)
    assert error in ops.get("/addresses/").content.decode()
    entry.refresh_from_db()
    assert entry.documents == []
    # Staffify never saw it: submitting still lacks the required document.
    assert staffify_sandbox.post(f"/v1/addresses/{entry.staffify_id}/submit").json()["code"] == "DOCUMENTS_REQUIRED"


@pytest.mark.django_db
def test_the_submit_dialog_says_it_cannot_be_undone(ops, listing_off):
    entry = new_entry(ops)
    html = ops.get(f"/addresses/{entry.staffify_id}/submit", headers=HX).content.decode()
    assert html.startswith(f'<dialog id="submit-dialog-{entry.staffify_id}" data-modal')
    assert "This cannot be undone." in html


@pytest.mark.django_db
def test_submitting_without_documents_says_what_is_missing(ops, listing_off):
    entry = new_entry(ops)
    ops.post(f"/addresses/{entry.staffify_id}/submit/confirm")
    assert "upload them first" in ops.get("/addresses/").content.decode()
    entry.refresh_from_db()
    assert entry.submitted_at is None


@pytest.mark.django_db
def test_submit_then_check_status_follows_the_review(ops, listing, staffify_sandbox):
    entry = new_entry(ops)
    upload(ops, entry)
    ops.post(f"/addresses/{entry.staffify_id}/submit/confirm")
    entry.refresh_from_db()
    assert (entry.status, entry.submitted) == ("pending", True)
    assert "Pending review" in ops.get("/addresses/").content.decode()

    staffify_sandbox.post("/control/clock", json={"advance_seconds": 601})
    ops.post(f"/addresses/{entry.staffify_id}/check")
    entry.refresh_from_db()
    assert entry.status == "verified" and entry.status_checked_at is not None
    checks = AuditEntry.objects.filter(action="address_check")
    assert [(c.outcome, c.before["status"], c.after["status"]) for c in checks] == [("ok", "pending", "verified")]


@pytest.mark.django_db
def test_a_rejection_shows_its_reason(ops, listing_off, staffify_sandbox):
    entry = new_entry(ops)
    upload(ops, entry)
    ops.post(f"/addresses/{entry.staffify_id}/submit/confirm")
    staffify_sandbox.post(f"/control/addresses/{entry.staffify_id}/reject", json={"reason": "Blurry scan"})
    ops.post(f"/addresses/{entry.staffify_id}/check")
    assert "Rejected (Blurry scan)" in ops.get("/addresses/").content.decode()


# --- adding an existing id ----------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_an_existing_id_checks_it_with_staffify_first(ops, listing):
    response = ops.post("/addresses/add", {"address_id": 7, "country_code": "NL", "city_code": "020"})
    assert response.status_code == 302
    entry = AddressBookEntry.objects.get()
    assert (entry.staffify_id, entry.status, entry.added_how, entry.city_code) == (7, "verified", "by_id", "020")
    if listing:  # the listing, where Staffify has one, fills in the street
        assert entry.street_address == "Herengracht 500"
    assert AuditEntry.objects.get(action="address_add").outcome == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize("address_id", [12, 9999])  # another project's, and nobody's
def test_adding_an_unknown_id_says_staffify_does_not_know_it(ops, listing_off, address_id):
    response = ops.post("/addresses/add", {"address_id": address_id, "country_code": "NL"})
    assert response.status_code == 422
    html = response.content.decode()
    assert f"Staffify does not know address {address_id} in this account (HTTP 404)" in html
    assert "this number" not in html
    assert not AddressBookEntry.objects.exists()
    assert AuditEntry.objects.get(action="address_add").outcome == "error"


@pytest.mark.django_db
def test_an_id_already_in_the_book_is_not_added_twice(ops, listing_off):
    ops.post("/addresses/add", {"address_id": 7, "country_code": "NL"})
    response = ops.post("/addresses/add", {"address_id": 7, "country_code": "NL"})
    assert "already in the address book" in response.content.decode()
    assert AddressBookEntry.objects.count() == 1


# --- the worker ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_worker_checks_addresses_under_review_only(ops, listing_off, staffify_sandbox):
    under_review = new_entry(ops)
    upload(ops, under_review)
    ops.post(f"/addresses/{under_review.staffify_id}/submit/confirm")
    assert create(ops, street_address="Dam 1").status_code == 302  # not submitted: nothing to follow
    AddressBookEntry.objects.create(staffify_id=7, country_code="NL", status="verified", added_how="by_id")
    staffify_sandbox.post("/control/clock", json={"advance_seconds": 601})

    with staffify.track_calls() as calls:
        assert follow_addresses.call() == 1
    assert [path for _, path, _, _ in calls.requests] == [f"/addresses/{under_review.staffify_id}/check-status"]
    under_review.refresh_from_db()
    assert under_review.status == "verified"
    entry = AuditEntry.objects.filter(action="address_check").get()
    assert entry.username == "" and entry.message.startswith("Checked by the worker.")


@pytest.mark.django_db
def test_the_worker_leaves_the_budget_to_people(ops, listing_off, monkeypatch):
    entry = new_entry(ops)
    upload(ops, entry)
    ops.post(f"/addresses/{entry.staffify_id}/submit/confirm")
    monkeypatch.setattr("numbers_app.staffify.budget.allow", lambda kind: kind != "background")
    with staffify.track_calls() as calls:
        assert follow_addresses.call() == 0
    assert calls.calls == 0


def test_the_worker_runs_every_few_minutes_as_configured(settings):
    from numbers_app.schedule import REGISTRY

    assert REGISTRY["numbers_app.tasks.follow_addresses"].seconds == settings.ADDRESS_STATUS_SECONDS == 300


# --- the buy flow uses the book -----------------------------------------------------------------


def add_amsterdam(status="verified"):
    return AddressBookEntry.objects.create(
        staffify_id=7,
        country_code="NL",
        city="Amsterdam",
        city_code="020",
        street_address="Herengracht 500",
        status=status,
        added_how="by_id",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("country", ["FR", "GB"])  # the sandbox has a pending FR and a rejected GB address
def test_a_search_without_a_usable_address_links_to_the_addresses_page(ops, listing, country):
    query = {"country_code": country, "number_type": "local"}
    html = ops.get("/buy/", query, headers={**HX, "HX-Target": "results"}).content.decode()
    assert "Add and verify one on the Addresses page" in html
    assert f'<a href="/addresses/?country={country}#new-address">Add an address in {country}</a>' in html
    assert "failed" not in html and "404" not in html and "this number" not in html


@pytest.mark.django_db
def test_with_an_empty_book_and_no_listing_nl_says_where_to_go(ops, listing_off):
    query = {"country_code": "NL", "number_type": "local"}
    html = ops.get("/buy/", query, headers={**HX, "HX-Target": "results"}).content.decode()
    assert '<a href="/addresses/?country=NL#new-address">Add an address in NL</a>' in html
    assert "404" not in html and "this number" not in html


@pytest.mark.django_db
def test_the_buy_dialog_offers_the_books_usable_addresses(ops, listing, staffify_sandbox):
    add_amsterdam()
    number = search(staffify_sandbox, country_code="NL", city_code="020", limit=1)[0]
    html = confirm(ops, number)
    assert 'data-city-code="020"' in html and "Herengracht 500" in html
    response = buy(ops, number, token_of(html), address_id="7", city_code="020")
    assert response.status_code == 200 and 'class="row-new bought"' in response.content.decode()
    assert number["phone_number"] in owned(staffify_sandbox)


@pytest.mark.django_db
def test_an_address_not_verified_is_not_offered(ops, listing_off, staffify_sandbox):
    add_amsterdam(status="pending")
    html = confirm(ops, {"phone_number": "+31201234567", "country_code": "NL", "number_type": "local"})
    assert "this account has none" in html and 'name="address_id"' not in html
    assert '<a href="/addresses/?country=NL#new-address">' in html


@pytest.mark.django_db
def test_the_listing_is_an_extra_source_merged_by_id(listing, staffify_sandbox):
    add_amsterdam(status="pending")  # the book is behind: Staffify lists 7 as verified
    client = staffify.get_client()
    found = {a.id: a for a in address_book.usable(client, "NL")}
    if listing:
        assert set(found) == {7} and found[7].status == "verified" and found[7].street_address == "Herengracht 500"
    else:
        assert found == {}


@pytest.mark.django_db
def test_an_absent_listing_is_asked_about_once_in_a_while(listing_off):
    client = staffify.get_client()
    with staffify.track_calls() as calls:
        for _ in range(3):
            assert lookups.listed_addresses(client) == []
    assert calls.calls == 1


@pytest.mark.django_db
def test_a_failing_listing_does_not_break_the_buy_dialog(ops, staffify_sandbox):
    add_amsterdam()
    staffify_sandbox.post("/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/addresses"})
    html = confirm(ops, {"phone_number": "+31201234567", "country_code": "NL", "number_type": "local"})
    assert "Herengracht 500" in html and "cannot check" not in html


# --- sentences that name what failed, the balance, the 402 --------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "what"),
    [("/v1/agents", "the agent list"), ("/v1/credits", "the balance (/credits)")],
)
def test_a_404_names_what_was_asked_for(listing_off, staffify_sandbox, path, what):
    from numbers_app.text.explain import explain

    staffify_sandbox.post("/control/faults", json={"status": 404, "count": 1, "path_prefix": path})
    client = staffify.get_client()
    with pytest.raises(staffify.NotFoundError) as caught:
        lookups.agents(client) if "agents" in path else lookups.fresh_balance(client)
    message = explain(caught.value).message
    assert f"Staffify answered 404 Not found for {what}" in message
    assert "number" not in message


@pytest.mark.django_db
def test_a_404_on_the_agent_list_is_not_this_number_on_the_page(ops, listing_off, staffify_sandbox):
    staffify_sandbox.post("/control/faults", json={"status": 404, "count": 1, "path_prefix": "/v1/agents"})
    html = ops.get("/numbers/1001/").content.decode()  # before any sync, the agents are read from Staffify
    assert "404 Not found for the agent list" in html and "does not know this number" not in html


@pytest.mark.django_db
def test_the_header_balance_is_the_workers_reading_with_its_age(ops, listing_off, staffify_sandbox):
    with staffify.track_calls() as stats:
        html = ops.get("/addresses/").content.decode()
    assert "Balance not read yet" in html
    assert "/credits" not in [path for _, path, *_ in stats.requests]  # a page never reads it itself
    worker_reads_balance()
    html = ops.get("/addresses/").content.decode()
    assert re.search(
        r"Balance EUR 42\.50 <span class=\"as-of\">as of "
        r"<time datetime=\"[^\"]+Z\" title=\"[^\"]+ UTC\">\d\d:\d\d \w+</time></span>",
        html,
    )
    staffify_sandbox.put("/control/balance", json={"balance": 30})
    with staffify.track_calls() as stats:
        assert "Balance EUR 42.50" in ops.get("/addresses/").content.decode()  # kept, with its age
    assert "/credits" not in [path for _, path, *_ in stats.requests]
    ops.post("/addresses/add", {"address_id": 7, "country_code": "NL"})  # a write to Staffify
    assert lookups.balance_due(every_seconds=3600)  # marked for the worker, which reads it within seconds
    tasks.refresh_balance.call()
    assert "Balance EUR 30.00" in ops.get("/addresses/").content.decode()
    assert tasks.refresh_balance.call() == "fresh"  # and not again until it is due


@pytest.mark.django_db
def test_the_refresh_button_reads_the_balance_once(ops, listing_off, staffify_sandbox):
    worker_reads_balance()
    staffify_sandbox.put("/control/balance", json={"balance": 17})
    with staffify.track_calls() as stats:
        badge = ops.post("/balance/refresh", headers=HX).content.decode()
    assert stats.calls == 1 and stats.requests[0][1] == "/credits"
    assert badge.startswith('<span id="balance-badge"') and "Balance EUR 17.00" in badge
    fault(staffify_sandbox, "/v1/credits", status=503)
    badge = ops.post("/balance/refresh", headers=HX).content.decode()
    assert "Balance EUR 17.00" in badge and "The balance could not be read" in badge  # the kept one stays
    assert ops.get("/balance/refresh").status_code == 405


@pytest.mark.django_db
def test_a_release_marks_the_balance_for_the_worker(ops, listing_off, staffify_sandbox):
    worker_reads_balance()
    staffify_sandbox.put("/control/balance", json={"balance": 12})
    number = next(n for n in owned(staffify_sandbox).values() if n["status"] == "active" and not n["agent_id"])
    ops.post(f"/numbers/{number['id']}/release/confirm", headers=HX)
    assert lookups.balance_due(every_seconds=3600)
    tasks.refresh_balance.call()
    assert lookups.balance_reading().balance == 12


@pytest.mark.django_db
def test_a_402_is_said_once_with_the_balance_and_what_to_do(ops, listing_off, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    html = confirm(ops, number)
    staffify_sandbox.put("/control/balance", json={"balance": 3})
    text = buy(ops, number, token_of(html)).content.decode()
    banners = re.findall(r'class="banner[^"]*"', text)
    assert len(banners) == 1, banners
    assert text.count("EUR 3.00") == 2  # the sentence and the dialog's balance line
    assert "Staffify refused for lack of credit: the balance is EUR 3.00" in text
    assert "Top up the balance, then try again." in text
    assert re.search(r'<button type="submit" class="primary" disabled>Buy', text)


class LosingSubmitAnswers(httpx.BaseTransport):
    """The submit reaches the sandbox and is done, but its answer is lost on the way back."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/submit"):
            raise httpx.ReadTimeout("timed out", request=request)
        return response


@pytest.mark.django_db
def test_a_submit_whose_answer_was_lost_is_read_back_and_said_done(ops, listing_off, staffify_sandbox, settings):
    entry = new_entry(ops)
    upload(ops, entry)
    settings.STAFFIFY_TRANSPORT = LosingSubmitAnswers(httpx.WSGITransport(app=InTransactionWSGI()))
    response = ops.post(f"/addresses/{entry.staffify_id}/submit/confirm", follow=True)
    html = htmllib.unescape(response.content.decode())
    assert "Checked: address" in html and "was submitted for review" in html
    assert "Nothing was changed" not in html
    entry.refresh_from_db()
    assert entry.submitted
    assert status_at_sandbox(staffify_sandbox, entry.staffify_id) == "pending"
    assert AuditEntry.objects.filter(action="address_submit").get().outcome == "ok"


@pytest.mark.django_db
def test_a_submit_lost_at_a_gateway_is_read_back_before_saying_nothing_changed(ops, listing_off, staffify_sandbox):
    entry = new_entry(ops)
    upload(ops, entry)
    staffify_sandbox.post("/control/faults", json={"status": 504, "count": 1, "path_prefix": "/v1/addresses/"})
    response = ops.post(f"/addresses/{entry.staffify_id}/submit/confirm", follow=True)
    html = htmllib.unescape(response.content.decode())
    assert f"Checked: Staffify did not submit address {entry.staffify_id}; nothing was changed." in html
    entry.refresh_from_db()
    assert not entry.submitted
    assert AuditEntry.objects.filter(action="address_submit").get().outcome == "error"
