"""Search: a deterministic inventory, filtered by code and contains, never showing owned numbers."""

import pytest

from sandbox.models import Address, PhoneNumber

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_it_defaults_to_twenty_local_us_numbers(api):
    numbers = api.search()
    assert len(numbers) == 20
    assert {n["country_code"] for n in numbers} == {"US"}
    assert {n["number_type"] for n in numbers} == {"local"}
    assert all(n["phone_number"].startswith("+1" + n["area_code"]) for n in numbers)
    assert all(n["locality"] for n in numbers)


def test_the_same_search_gives_the_same_numbers(api):
    assert api.search(country_code="NL", city_code="020") == api.search(country_code="NL", city_code="020")


def test_it_filters_by_area_code(api):
    numbers = api.search(area_code="212", limit=50)
    assert len(numbers) == 50
    assert all(n["phone_number"].startswith("+1212") and n["area_code"] == "212" for n in numbers)


def test_it_filters_by_city_code(api):
    numbers = api.search(country_code="NL", city_code="020")
    assert numbers and all(n["phone_number"].startswith("+3120") for n in numbers)
    assert {n["city_code"] for n in numbers} == {"020"}
    assert {n["locality"] for n in numbers} == {"Amsterdam"}


def test_it_offers_mobile_and_toll_free_numbers(api):
    mobile = api.search(country_code="NL", type="mobile")
    assert mobile and all(n["phone_number"].startswith("+316") for n in mobile)
    toll_free = api.search(type="toll_free", area_code="800")
    assert toll_free and all(n["phone_number"].startswith("+1800") for n in toll_free)


def test_it_honours_contains(api):
    numbers = api.search(area_code="415", contains="42", limit=100)
    assert numbers and all("42" in n["phone_number"] for n in numbers)


def test_it_honours_limit_up_to_100(api):
    assert len(api.search(limit=1)) == 1
    assert len(api.search(limit=100)) == 100


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "1.5"])
def test_a_bad_limit_is_a_validation_error(api, limit):
    body = assert_error(api.get(f"phone-numbers/search?limit={limit}"), 400, "VALIDATION_ERROR")
    assert "limit" in body["details"]


def test_an_unknown_country_is_a_validation_error(api):
    body = assert_error(api.get("phone-numbers/search?country_code=XX"), 400, "VALIDATION_ERROR")
    assert "country_code" in body["details"]


def test_an_unknown_type_is_a_validation_error(api):
    body = assert_error(api.get("phone-numbers/search?type=premium"), 400, "VALIDATION_ERROR")
    assert "type" in body["details"]


def test_area_code_is_for_north_america_and_city_code_for_the_rest(api):
    body = assert_error(api.get("phone-numbers/search?country_code=NL&area_code=020"), 400, "VALIDATION_ERROR")
    assert "area_code" in body["details"]
    body = assert_error(api.get("phone-numbers/search?city_code=415"), 400, "VALIDATION_ERROR")
    assert "city_code" in body["details"]


def test_contains_must_be_digits(api):
    body = assert_error(api.get("phone-numbers/search?contains=12a"), 400, "VALIDATION_ERROR")
    assert "contains" in body["details"]


def test_an_unknown_code_finds_nothing(api):
    assert api.search(area_code="999") == []


def test_owned_numbers_never_appear(api):
    owned = set(PhoneNumber.objects.values_list("phone_number", flat=True))
    seen = set()
    for query in [
        {"area_code": "415"},
        {"area_code": "212"},
        {"area_code": "312"},  # the other project's number is there
        {"type": "toll_free", "area_code": "800"},
        {"country_code": "NL", "city_code": "020"},
        {"country_code": "NL", "type": "mobile"},
        {"country_code": "DE", "city_code": "030"},
        {"country_code": "DE", "type": "mobile"},
    ]:
        seen |= {n["phone_number"] for n in api.search(limit=100, **query)}
    assert len(seen) == 800
    assert not owned & seen


def test_a_bought_number_leaves_the_results(api):
    first = api.search(area_code="415")[0]["phone_number"]
    assert api.post("phone-numbers", {"phone_number": first}).status_code == 201
    assert first not in {n["phone_number"] for n in api.search(area_code="415", limit=100)}


def test_countries_needing_an_address_answer_only_with_a_usable_address_there(api):
    assert api.search(country_code="NL")  # verified Amsterdam address
    assert api.search(country_code="DE")  # partially verified Berlin address
    france = api.get("phone-numbers/search?country_code=FR").json()
    assert france["numbers"] == [] and france["address_required"] is True
    assert api.search(country_code="GB") == []  # the London address was rejected
    assert api.search(country_code="ES") == []  # no address at all
    assert api.search(country_code="CA")  # no address needed


def test_france_answers_once_its_address_is_verified(api):
    Address.objects.filter(pk=9).update(status=Address.VERIFIED)
    numbers = api.search(country_code="FR", city_code="01")
    assert numbers and all(n["phone_number"].startswith("+331") for n in numbers)


def test_country_code_may_be_lower_case(api):
    assert api.search(country_code="nl", city_code="020")[0]["country_code"] == "NL"


def test_countries_lists_the_supported_countries(api):
    response = api.get("phone-numbers/countries")
    assert response.status_code == 200
    countries = {c["code"]: c for c in response.json()["countries"]}
    assert {"US", "CA", "NL", "DE", "ES", "FR", "GB"} <= set(countries)
    assert countries["US"]["name"] == "United States" and countries["US"]["requires_address"] is False
    assert countries["NL"]["requires_address"] is True
    assert countries["DE"]["requires_city_code"] is True
