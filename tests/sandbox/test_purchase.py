"""Purchase: every documented rule, and the sandbox's specific codes where the docs are silent."""

import pytest

from sandbox import inventory
from sandbox.models import Address, PhoneNumber

from .conftest import CONTROL, assert_error

pytestmark = pytest.mark.django_db

BERLIN = "030"


def available(api, **query) -> str:
    return api.search(**query)[0]["phone_number"]


def nl_number(api) -> str:
    return available(api, country_code="NL", city_code="020")


@pytest.mark.postgres
def test_it_buys_a_us_number_and_charges_eur_5(api):
    number = available(api, area_code="415")
    response = api.post("phone-numbers", {"phone_number": number})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"success", "id", "phone_number"}
    assert body["success"] is True and body["phone_number"] == number
    assert api.balance() == 37.5
    owned = api.number(body["id"])
    assert owned["status"] == "active" and owned["agent_id"] is None and owned["tags"] == []
    assert owned["country_code"] == "US" and owned["number_type"] == "local"
    charges = api.get(CONTROL + "charges").json()["charges"]
    assert charges[-1]["phone_number_id"] == body["id"]
    assert charges[-1]["amount"] == 5.0 and charges[-1]["reason"] == "purchase"


def test_the_docs_curl_examples_work(api):
    us = api.post("phone-numbers", {"phone_number": "+14155551234"})
    assert us.status_code == 201
    nl = api.post(
        "phone-numbers",
        {
            "phone_number": "+31204567890",
            "country_code": "NL",
            "number_type": "local",
            "address_id": 7,
            "city_code": "020",
        },
    )
    assert nl.status_code == 201
    assert api.balance() == 32.5


def test_a_canadian_number_needs_no_address_id(api):
    response = api.post("phone-numbers", {"phone_number": available(api, country_code="CA"), "country_code": "CA"})
    assert response.status_code == 201


def test_us_numbers_need_a_verified_address_on_file(api):
    # Only the partially verified Berlin address is left: not enough for US/CA.
    Address.objects.filter(pk__in=[4, 7]).update(status=Address.PENDING)
    response = api.post("phone-numbers", {"phone_number": available(api)})
    assert_error(response, 400, "VERIFIED_ADDRESS_REQUIRED")
    assert api.balance() == 42.5


def test_outside_us_and_ca_an_address_id_is_required(api):
    body = assert_error(
        api.post("phone-numbers", {"phone_number": nl_number(api), "country_code": "NL"}),
        400,
        "ADDRESS_REQUIRED",
    )
    assert "address_id" in body["details"]


@pytest.mark.parametrize("address_id", [9999, 12])  # unknown, and another project's
def test_an_unknown_address_is_not_found(api, address_id):
    response = api.post(
        "phone-numbers", {"phone_number": nl_number(api), "country_code": "NL", "address_id": address_id}
    )
    body = assert_error(response, 404, "NOT_FOUND")
    assert "address_id" in body["details"]


@pytest.mark.parametrize("status", [Address.PENDING, Address.REJECTED, Address.EXPIRED])
def test_the_address_must_be_verified_or_partially_verified(api, status):
    number = nl_number(api)
    Address.objects.filter(pk=7).update(status=status)
    response = api.post("phone-numbers", {"phone_number": number, "country_code": "NL", "address_id": 7})
    assert_error(response, 400, "ADDRESS_NOT_VERIFIED")


def test_the_pending_french_address_cannot_buy(api):
    Address.objects.filter(pk=7).update(status=Address.VERIFIED)  # so FR search is shown nothing anyway
    number = inventory.search("FR", "local", "01")[0].phone_number
    response = api.post(
        "phone-numbers", {"phone_number": number, "country_code": "FR", "address_id": 9, "city_code": "01"}
    )
    assert_error(response, 400, "ADDRESS_NOT_VERIFIED")


def test_the_address_must_be_in_the_numbers_country(api):
    response = api.post("phone-numbers", {"phone_number": nl_number(api), "country_code": "NL", "address_id": 8})
    assert_error(response, 400, "ADDRESS_COUNTRY_MISMATCH")


def test_a_partially_verified_address_can_buy_a_berlin_number(api):
    number = available(api, country_code="DE", city_code=BERLIN)
    response = api.post(
        "phone-numbers", {"phone_number": number, "country_code": "DE", "address_id": 8, "city_code": BERLIN}
    )
    assert response.status_code == 201


def test_local_german_numbers_need_the_city_code(api):
    number = available(api, country_code="DE", city_code=BERLIN)
    response = api.post("phone-numbers", {"phone_number": number, "country_code": "DE", "address_id": 8})
    body = assert_error(response, 400, "CITY_CODE_REQUIRED")
    assert "city_code" in body["details"]


def test_the_city_code_must_be_the_addresss(api):
    number = available(api, country_code="DE", city_code=BERLIN)
    response = api.post(
        "phone-numbers", {"phone_number": number, "country_code": "DE", "address_id": 8, "city_code": "040"}
    )
    assert_error(response, 400, "CITY_CODE_MISMATCH")


def test_a_local_german_number_must_be_in_the_addresss_city(api):
    hamburg = available(api, country_code="DE", city_code="040")
    response = api.post(
        "phone-numbers", {"phone_number": hamburg, "country_code": "DE", "address_id": 8, "city_code": BERLIN}
    )
    assert_error(response, 400, "CITY_CODE_MISMATCH")


def test_spanish_local_numbers_need_the_city_code_too(api):
    Address.objects.create(
        project_id="proj_demo", country_code="ES", city="Madrid", city_code="91", postal_code="28013",
        street_address="Gran Vía 1", status=Address.VERIFIED,
    )  # fmt: skip
    address_id = Address.objects.get(country_code="ES").pk
    number = available(api, country_code="ES", city_code="91")
    without = api.post("phone-numbers", {"phone_number": number, "country_code": "ES", "address_id": address_id})
    assert_error(without, 400, "CITY_CODE_REQUIRED")
    with_code = {"phone_number": number, "country_code": "ES", "address_id": address_id, "city_code": "91"}
    assert api.post("phone-numbers", with_code).status_code == 201


def test_mobile_numbers_need_an_address_but_no_city_code(api):
    number = available(api, country_code="DE", type="mobile")
    body = {"phone_number": number, "country_code": "DE", "number_type": "mobile", "address_id": 8}
    assert api.post("phone-numbers", body).status_code == 201


def test_a_dutch_city_code_is_optional_but_must_match_when_given(api):
    body = {"phone_number": nl_number(api), "country_code": "NL", "address_id": 7, "city_code": "010"}
    assert_error(api.post("phone-numbers", body), 400, "CITY_CODE_MISMATCH")
    del body["city_code"]
    assert api.post("phone-numbers", body).status_code == 201


@pytest.mark.parametrize("phone_number", ["4155551234", "+1 415 555 1234", "+1415abc1234", "+0123456789", 14155551234])
def test_the_number_must_be_e164(api, phone_number):
    body = assert_error(api.post("phone-numbers", {"phone_number": phone_number}), 400, "VALIDATION_ERROR")
    assert "phone_number" in body["details"]


def test_the_number_is_required(api):
    body = assert_error(api.post("phone-numbers", {}), 400, "VALIDATION_ERROR")
    assert "phone_number" in body["details"]


def test_a_number_outside_the_inventory_is_refused(api):
    assert inventory.find("+14155550000") is None
    assert_error(api.post("phone-numbers", {"phone_number": "+14155550000"}), 400, "NUMBER_NOT_IN_INVENTORY")


@pytest.mark.postgres
def test_an_owned_number_cannot_be_bought_again(api):
    own = PhoneNumber.objects.get(pk=1001).phone_number
    theirs = PhoneNumber.objects.get(pk=900).phone_number
    for number in (own, theirs):
        candidate = inventory.find(number)
        body = {
            "phone_number": number,
            "country_code": candidate.country_code,
            "number_type": candidate.number_type,
        }
        body |= {
            "address_id": {"NL": 7, "DE": 8}.get(candidate.country_code),
            "city_code": candidate.code or None,
        }
        assert_error(api.post("phone-numbers", body), 409, "NUMBER_NOT_AVAILABLE")
    assert api.balance() == 42.5


@pytest.mark.postgres
def test_buying_the_same_number_twice_fails_the_second_time(api):
    number = available(api)
    assert api.post("phone-numbers", {"phone_number": number}).status_code == 201
    assert_error(api.post("phone-numbers", {"phone_number": number}), 409, "NUMBER_NOT_AVAILABLE")
    assert api.balance() == 37.5


def test_country_code_defaults_to_us_and_must_match_the_number(api):
    body = assert_error(api.post("phone-numbers", {"phone_number": nl_number(api), "address_id": 7}), 400,
                        "VALIDATION_ERROR")  # fmt: skip
    assert "country_code" in body["details"]


def test_number_type_defaults_to_local_and_must_match_the_number(api):
    toll_free = available(api, type="toll_free")
    body = assert_error(api.post("phone-numbers", {"phone_number": toll_free}), 400, "VALIDATION_ERROR")
    assert "number_type" in body["details"]
    assert api.post("phone-numbers", {"phone_number": toll_free, "number_type": "toll_free"}).status_code == 201


@pytest.mark.parametrize(
    "extra",
    [{"country_code": "XX"}, {"country_code": 31}, {"number_type": "premium"}, {"address_id": "7"},
     {"address_id": True}, {"city_code": 20}],
)  # fmt: skip
def test_wrong_types_are_validation_errors(api, extra):
    body = assert_error(api.post("phone-numbers", {"phone_number": available(api)} | extra), 400, "VALIDATION_ERROR")
    assert set(extra) <= set(body["details"])


@pytest.mark.postgres
def test_a_balance_under_eur_5_is_402(api):
    api.set_balance("4.99")
    number = available(api)
    body = assert_error(api.post("phone-numbers", {"phone_number": number}), 402, "INSUFFICIENT_CREDITS")
    assert "4.99" in body["message"] and "5.00" in body["message"]
    assert api.balance() == 4.99
    assert number in {n["phone_number"] for n in api.search(limit=100)}


@pytest.mark.postgres
def test_exactly_eur_5_is_enough(api):
    api.set_balance(5)
    assert api.post("phone-numbers", {"phone_number": available(api)}).status_code == 201
    assert api.balance() == 0
