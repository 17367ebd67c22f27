"""Listing owned numbers with a cursor, and reading one."""

import pytest

from .conftest import assert_error

pytestmark = pytest.mark.django_db

DOCUMENTED = {"id", "phone_number", "status", "agent_id", "agent_name", "tags"}
EXTRAS = {"country_code", "number_type", "purchased_at", "reclaim_before"}


def test_the_first_page_has_twenty_numbers_and_a_cursor(api):
    body = api.get("phone-numbers").json()
    assert len(body["phone_numbers"]) == 20
    assert body["next_cursor"] == body["phone_numbers"][-1]["id"]


def test_following_the_cursor_visits_every_number_once_and_ends_with_null(api):
    seen, cursor, pages = [], None, 0
    while True:
        path = "phone-numbers?limit=25" + (f"&after={cursor}" if cursor else "")
        body = api.get(path).json()
        seen += [n["id"] for n in body["phone_numbers"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(seen) == list(range(1001, 1061))


def test_a_page_that_ends_exactly_at_the_last_number_says_null(api):
    body = api.get("phone-numbers?limit=100").json()
    assert len(body["phone_numbers"]) == 60 and body["next_cursor"] is None
    assert api.get("phone-numbers?limit=10&after=1050").json()["next_cursor"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "after=abc", "after=-3"])
def test_bad_paging_is_a_validation_error(api, query):
    assert_error(api.get(f"phone-numbers?{query}"), 400, "VALIDATION_ERROR")


def test_a_number_has_the_documented_fields_and_the_sandbox_extras(api):
    number = api.get("phone-numbers").json()["phone_numbers"][0]
    assert set(number) == DOCUMENTED | EXTRAS
    assert isinstance(number["id"], int)
    assert number["phone_number"].startswith("+")
    assert number["status"] == "active"
    assert isinstance(number["tags"], list)
    assert number["purchased_at"].endswith("Z")


def test_agent_name_is_the_assigned_agents_name(api):
    agents = {a["id"]: a["name"] for a in api.get("agents").json()["agents"]}
    numbers = api.get("phone-numbers?limit=100").json()["phone_numbers"]
    assigned = [n for n in numbers if n["agent_id"] is not None]
    assert assigned
    assert all(n["agent_name"] == agents[n["agent_id"]] for n in assigned)
    assert all(n["agent_name"] is None for n in numbers if n["agent_id"] is None)


def test_the_list_shows_pending_numbers_with_their_deadline(api):
    numbers = api.get("phone-numbers?limit=100").json()["phone_numbers"]
    pending = [n for n in numbers if n["status"] == "pending_release"]
    assert [n["id"] for n in pending] == [1006, 1021, 1036]
    assert all(n["reclaim_before"] for n in pending)
    assert all(n["reclaim_before"] is None for n in numbers if n["status"] == "active")


def test_it_gets_one_number(api):
    response = api.get("phone-numbers/1001")
    assert response.status_code == 200
    assert response.json()["id"] == 1001


@pytest.mark.parametrize("number_id", ["999999", "abc", "1001.0", "99999999999999999999999", "0", "-1"])
def test_an_unknown_number_is_not_found(api, number_id):
    assert_error(api.get(f"phone-numbers/{number_id}"), 404, "NOT_FOUND")


def test_agents_are_paginated_with_numeric_and_public_ids(api):
    first = api.get("agents?limit=3").json()
    assert [a["id"] for a in first["agents"]] == [101, 102, 103]
    assert first["next_cursor"] == 103
    agent = first["agents"][0]
    assert agent["public_id"].startswith("agent_") and len(agent["public_id"]) == 14
    assert {"name", "language", "voice"} <= set(agent)
    everything = api.get("agents").json()
    assert len(everything["agents"]) >= 8 and everything["next_cursor"] is None
    rest = api.get("agents?after=103&limit=100").json()["agents"]
    assert [a["id"] for a in rest] == list(range(104, 111))


def test_addresses_list_the_seeded_addresses(api):
    addresses = {a["id"]: a for a in api.get("addresses").json()["addresses"]}
    assert addresses[7]["country_code"] == "NL" and addresses[7]["city_code"] == "020"
    assert addresses[7]["status"] == "verified" and addresses[7]["city"] == "Amsterdam"
    assert (addresses[8]["country_code"], addresses[8]["city_code"], addresses[8]["status"]) == (
        "DE",
        "030",
        "partially_verified",
    )
    assert addresses[4]["country_code"] == "US" and addresses[4]["status"] == "verified"
    assert addresses[9]["country_code"] == "FR" and addresses[9]["status"] == "pending"
    assert set(addresses[7]) == {
        "id", "country_code", "city", "city_code", "postal_code", "street_address", "company_name", "status",
    }  # fmt: skip


def test_credits_have_the_documented_shape(api):
    credits = api.get("credits").json()
    assert credits == credits | {
        "balance": 42.5,
        "tier": "payg",
        "rate_per_minute": 0.15,
        "is_paused": False,
        "concurrent_limit": 10,
        "credits_expire_at": None,
    }
    assert credits["updated_at"].endswith("Z")
