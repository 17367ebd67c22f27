"""The inventory is a pure function: the same query gives the same numbers, all of them valid."""

import phonenumbers
import pytest

from sandbox import inventory


def test_it_supports_the_documented_countries():
    assert {"US", "CA", "NL", "DE", "ES", "FR", "GB"} <= set(inventory.COUNTRIES)
    assert not inventory.COUNTRIES["US"].requires_address
    assert not inventory.COUNTRIES["CA"].requires_address
    assert all(inventory.COUNTRIES[c].requires_address for c in ("NL", "DE", "ES", "FR", "GB"))


@pytest.mark.parametrize("country", ["US", "CA", "NL", "DE", "ES", "FR", "GB"])
def test_every_country_has_several_local_codes(country):
    codes = {b.code for b in inventory.blocks_for(country, inventory.LOCAL)}
    assert len(codes) >= 3


@pytest.mark.parametrize("block", inventory.BLOCKS, ids=lambda b: f"{b.country}-{b.number_type}-{b.prefix}")
def test_every_block_holds_distinct_valid_numbers_of_its_country_and_type(block):
    numbers = inventory.block_numbers(block)
    assert len(numbers) == inventory.BLOCK_SIZE == len(set(numbers))
    calling_code = inventory.COUNTRIES[block.country].calling_code
    for e164 in numbers:
        assert e164.startswith("+" + calling_code + block.prefix)
        parsed = phonenumbers.parse(e164)
        assert phonenumbers.is_valid_number(parsed), e164
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164
        if block.number_type != inventory.TOLL_FREE:
            assert phonenumbers.region_code_for_number(parsed) == block.country


def test_the_same_query_always_gives_the_same_numbers():
    first = inventory.search("NL", "local", "020", limit=50)
    inventory.block_numbers.cache_clear()
    assert inventory.search("NL", "local", "020", limit=50) == first


def test_a_search_without_a_code_mixes_the_codes_in_turn():
    found = inventory.search("US", "local", limit=8)
    assert [c.code for c in found[:4]] == ["415", "212", "312", "512"]


def test_it_honours_contains_exclude_and_limit():
    everything = inventory.search("DE", "local", "030", limit=100)
    assert len(everything) == 100
    excluded = {c.phone_number for c in everything[:10]}
    rest = inventory.search("DE", "local", "030", exclude=excluded, limit=100)
    assert not excluded & {c.phone_number for c in rest}
    matching = inventory.search("DE", "local", "030", contains="77", limit=100)
    assert matching and all("77" in c.phone_number for c in matching)


def test_it_finds_an_inventory_number_and_nothing_else():
    candidate = inventory.find("+31204567890")
    assert candidate == inventory.Candidate("+31204567890", "NL", "local", "Amsterdam", "020")
    assert inventory.find("+14155551234").code == "415"
    assert inventory.find("+14155550000") is None
    assert inventory.find("+999") is None


def test_a_search_result_says_area_code_in_north_america_and_city_code_elsewhere():
    us = inventory.search("US", "local", "415", limit=1)[0].as_json()
    nl = inventory.search("NL", "local", "020", limit=1)[0].as_json()
    assert us["area_code"] == "415" and "city_code" not in us
    assert nl["city_code"] == "020" and "area_code" not in nl
    assert nl["locality"] == "Amsterdam"
