"""Searching and buying: the confirmation, the rules explained before sending, and buying once."""

import re
import time
import uuid

import pytest

from numbers_app import staffify
from numbers_app.buying import purchases
from numbers_app.models import AuditEntry, NumberRecord, PurchaseAttempt
from tests.conftest import wait_for
from tests.helpers import HX
from tests.numbers.buying import balance, buy, confirm, owned, search, token_of


@pytest.mark.django_db
def test_the_search_shows_numbers_with_their_price(ops, staffify_sandbox):
    expected = search(staffify_sandbox, country_code="US", area_code="415", limit=5)
    html = ops.get(
        "/p/main/buy/",
        {"country_code": "US", "number_type": "local", "area_code": "415", "limit": 5},
        headers={**HX, "HX-Target": "results"},
    ).content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert html.count("EUR 5.00 / 28 days") == len(expected) == 5
    assert all(n["phone_number"][2:5] == "415" for n in expected)


@pytest.mark.django_db
def test_the_country_select_marks_countries_that_need_an_address(ops, staffify_sandbox):
    html = ops.get("/p/main/buy/").content.decode()
    assert re.search(r"Netherlands \(NL\) · needs address", html)
    assert not re.search(r"United States \(US\) · needs address", html)


@pytest.mark.django_db
def test_a_country_without_a_usable_address_is_explained_instead_of_searched(ops, staffify_sandbox):
    html = ops.get(
        "/p/main/buy/", {"country_code": "FR", "number_type": "local"}, headers={**HX, "HX-Target": "results"}
    ).content.decode()
    assert "needs a verified (or partially verified) address" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"country_code": "XX"},
        {"country_code": "US", "limit": "500"},
        {"country_code": "US", "area_code": "4x5"},
        {"country_code": "US", "number_type": "fax"},
    ],
)
def test_bad_search_input_is_explained_in_place(ops, staffify_sandbox, query):
    response = ops.get("/p/main/buy/", query, headers={**HX, "HX-Target": "results"})
    assert response.status_code == 200
    assert 'class="banner error"' in response.content.decode()


@pytest.mark.django_db
def test_the_confirmation_states_the_charge_and_the_balance(ops, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    html = confirm(ops, number)
    assert '<dialog id="buy-dialog" data-modal' in html
    assert "Charged now</dt><dd>EUR 5.00" in html
    assert "EUR 5.00 every 28 days" in html
    assert "EUR 42.50, EUR 37.50 after this purchase" in html


@pytest.mark.django_db
@pytest.mark.postgres
def test_buying_a_us_number(ops, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", area_code="212", limit=1)[0]
    html = confirm(ops, number)
    response = buy(ops, number, token_of(html))
    bought = owned(staffify_sandbox)[number["phone_number"]]
    # The search stays: its result row turns into the bought number, linked, and the dialog closes.
    assert response["HX-Retarget"] == f"#result-{number['phone_number'][1:]}"
    html = response.content.decode()
    assert f'<tr id="result-{number["phone_number"][1:]}" class="row-new bought">' in html
    assert f'href="/p/main/numbers/{bought["id"]}/"' in html
    assert "closeModal" in response["HX-Trigger"] and "Bought " in response["HX-Trigger"]
    assert balance(staffify_sandbox) == 37.5
    record = NumberRecord.objects.get(staffify_id=bought["id"])
    assert record.purchased_at is not None and record.bought_by.username == "ops"
    page = ops.get(f"/p/main/?highlight={bought['id']}").content.decode()  # the old link still marks it
    assert "just bought" in page


@pytest.mark.django_db
def test_buying_an_nl_number_with_its_address_and_city_code(ops, staffify_sandbox):
    number = search(staffify_sandbox, country_code="NL", city_code="020", limit=1)[0]
    html = confirm(ops, number)
    assert 'data-city-code="020"' in html and "Herengracht 500" in html
    assert "Berlin" not in html  # only NL addresses are offered
    buy(ops, number, token_of(html), address_id="7", city_code="020")
    assert number["phone_number"] in owned(staffify_sandbox)


@pytest.mark.django_db
def test_the_address_decides_the_city_code_sent(ops, staffify_sandbox):
    number = search(staffify_sandbox, country_code="DE", city_code="030", limit=1)[0]
    html = confirm(ops, number)
    buy(ops, number, token_of(html), address_id="8", city_code="999")
    assert number["phone_number"] in owned(staffify_sandbox)


@pytest.mark.django_db
def test_a_local_de_number_in_another_city_is_refused_before_sending(ops, staffify_sandbox):
    html = confirm(
        ops, {"phone_number": "+498912345678", "country_code": "DE", "number_type": "local", "city_code": "089"}
    )
    assert "Local numbers in DE need an address in the same city" in html
    assert re.search(r'<button type="submit" class="primary" disabled>', html)


@pytest.mark.django_db
def test_a_low_balance_is_explained_before_anything_is_sent(ops, staffify_sandbox):
    staffify_sandbox.put("/control/balance", json={"balance": 4.99})
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    html = confirm(ops, number)
    assert "The balance is EUR 4.99; a number costs EUR 5.00 at purchase." in html
    assert re.search(r'<button type="submit" class="primary" disabled>', html)


@pytest.mark.django_db
def test_a_402_from_staffify_says_the_balance_and_the_price(ops, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    html = confirm(ops, number)
    staffify_sandbox.put("/control/balance", json={"balance": 3})
    response = buy(ops, number, token_of(html))
    text = response.content.decode()
    assert response["HX-Retarget"] == "#buy-dialog"
    assert "the balance is EUR 3.00 and a number needs EUR 5.00 up front" in text
    assert "Staffify request id req_" in text
    assert PurchaseAttempt.objects.get().state == "failed"


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_resubmitted_confirmation_buys_once(ops, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    token = token_of(confirm(ops, number))
    first = buy(ops, number, token)
    second = buy(ops, number, token)
    assert balance(staffify_sandbox) == 37.5
    assert first["HX-Retarget"] == second["HX-Retarget"] == f"#result-{number['phone_number'][1:]}"
    assert "already bought by this confirmation" in second["HX-Trigger"]


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_confirmation_still_in_flight_is_not_sent_again(ops, ops_user, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    token = uuid.UUID(token_of(confirm(ops, number)))  # opened in this session, then sent by another request
    PurchaseAttempt.objects.create(token=token, user=ops_user, phone_number=number["phone_number"], country_code="US")
    response = buy(ops, number, str(token))
    assert response.status_code == 409
    assert "already being sent to Staffify" in response["HX-Trigger"]
    assert number["phone_number"] not in owned(staffify_sandbox)


@pytest.mark.postgres
def test_a_timeout_that_bought_anyway_is_settled_by_the_sweeper(ops, live_sandbox, settings):
    # A timeout long enough for the check that follows it on a loaded machine, and a purchase slower still.
    settings.STAFFIFY_TIMEOUT = 1.0
    number = search(live_sandbox, country_code="US", limit=1)[0]
    html = confirm(ops, number)
    # The sandbox is slow but does buy: the dashboard gives up waiting (a real socket timeout), checks once
    # without waiting, and leaves the rest to the sweeper.
    live_sandbox.post(
        "/control/faults",
        json={"status": None, "delay_ms": 3000, "count": 1, "path_prefix": "/v1/phone-numbers", "method": "POST"},
    )
    started = time.monotonic()
    response = buy(ops, number, token_of(html))
    assert time.monotonic() - started < 3.0, "the request waited for the slow purchase"
    assert "Staffify may still complete it" in response.content.decode()
    assert PurchaseAttempt.objects.get().state == "unknown"
    wait_for(lambda: number["phone_number"] in owned(live_sandbox), "the slow purchase to complete")

    assert purchases.resolve_unknown_purchases(staffify.get_client()) == 1

    attempt = PurchaseAttempt.objects.get()
    bought = owned(live_sandbox)[number["phone_number"]]
    assert (attempt.state, attempt.staffify_id) == ("succeeded", bought["id"])
    assert balance(live_sandbox) == 37.5
    entry = AuditEntry.objects.get(action="buy")
    assert (entry.outcome, entry.number_id) == ("ok", bought["id"])
    assert "Found in the owned list afterwards" in entry.message and entry.resolved_at


@pytest.mark.django_db
def test_a_503_on_purchase_checks_the_owned_list_and_says_nothing_was_bought(ops, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    html = confirm(ops, number)
    staffify_sandbox.post(
        "/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/phone-numbers", "method": "POST"}
    )
    response = buy(ops, number, token_of(html))
    text = response.content.decode()
    assert "checked the owned list" in text and "nothing was bought" in text
    assert number["phone_number"] not in owned(staffify_sandbox)
    assert balance(staffify_sandbox) == 42.5


@pytest.mark.django_db
def test_support_cannot_buy(support, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    assert support.get("/p/main/buy/").status_code == 403
    response = buy(support, number, str(uuid.uuid4()))
    assert response.status_code == 403
    assert number["phone_number"] not in owned(staffify_sandbox)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "form",
    [
        {},
        {"token": "nope", "phone_number": "+14155550000", "country_code": "US", "number_type": "local"},
        {"token": str(uuid.UUID(int=1)), "phone_number": "4155550000", "country_code": "US", "number_type": "local"},
    ],
)
def test_a_malformed_purchase_form_buys_nothing_and_says_why(ops, staffify_sandbox, form):
    response = ops.post("/p/main/buy/purchase", form, headers=HX)
    assert response.status_code == 422
    assert "Nothing was bought" in response["HX-Trigger"]
    assert balance(staffify_sandbox) == 42.5


@pytest.mark.postgres
def test_pages_do_not_settle_an_unknown_purchase_the_sweeper_does(ops, live_sandbox, settings):
    # As above: the check after the timeout has a second, and the purchase takes three.
    settings.STAFFIFY_TIMEOUT = 1.0
    number = search(live_sandbox, country_code="US", limit=1)[0]
    html = confirm(ops, number)
    live_sandbox.post(
        "/control/faults",
        json={"status": None, "delay_ms": 3000, "count": 1, "path_prefix": "/v1/phone-numbers", "method": "POST"},
    )
    text = buy(ops, number, token_of(html)).content.decode()
    assert "is not in it yet, but Staffify may still complete it" in text
    assert AuditEntry.objects.get(action="buy").outcome == "unknown"
    wait_for(lambda: number["phone_number"] in owned(live_sandbox), "the slow purchase to complete meanwhile")

    assert ops.get("/p/main/").status_code == ops.get("/p/main/audit/").status_code == 200
    assert PurchaseAttempt.objects.get().state == "unknown", "a GET wrote"

    purchases.resolve_unknown_purchases(staffify.get_client())
    attempt = PurchaseAttempt.objects.get()
    assert attempt.state == "succeeded"
    entry = AuditEntry.objects.get(action="buy")
    assert (entry.outcome, entry.number_id) == ("ok", attempt.staffify_id)
