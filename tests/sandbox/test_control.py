"""The control endpoints: reset, balance, charges, and their own rules (key, read scope, JSON 404/405)."""

import pytest

from sandbox.seed import READ_KEY

from .conftest import CONTROL, assert_error

pytestmark = pytest.mark.django_db


def test_reset_restores_the_seed_and_clears_everything_else(api):
    number = api.search()[0]["phone_number"]
    assert api.post("phone-numbers", {"phone_number": number}).status_code == 201
    api.patch("phone-numbers/1001", {"tags": ["changed"]})
    api.advance(days=40)
    api.set_balance(999)
    api.fault(status=503, count=10, path_prefix="/v1/agents")
    api.put(CONTROL + "rate-limit", {"per_minute": 1})

    response = api.post(CONTROL + "reset")
    assert response.status_code == 200 and response.json()["reset"] is True
    assert response.json()["offset_seconds"] == 0
    assert api.balance() == 42.5
    assert api.get(CONTROL + "faults").json()["faults"] == []
    assert api.get(CONTROL + "rate-limit").json() == {"per_minute": 300, "tier": "payg"}
    numbers = api.get("phone-numbers?limit=100").json()["phone_numbers"]
    assert [n["id"] for n in numbers] == list(range(1001, 1061))
    assert number not in {n["phone_number"] for n in numbers}
    assert api.number(1001)["tags"] != ["changed"]
    assert api.get("agents").status_code == 200


def test_reset_gives_the_same_seed_every_time(api):
    first = api.get("phone-numbers?limit=100").json()["phone_numbers"]
    api.post(CONTROL + "reset")
    again = api.get("phone-numbers?limit=100").json()["phone_numbers"]
    strip = [{k: v for k, v in n.items() if k not in ("purchased_at", "reclaim_before")} for n in first]
    assert strip == [{k: v for k, v in n.items() if k not in ("purchased_at", "reclaim_before")} for n in again]


def test_a_purchase_after_a_reset_gets_the_next_id_every_time(api):
    """The id counters go back with the seed (SQLite's AUTOINCREMENT counter outlives deleted rows)."""
    bought = [api.post("phone-numbers", {"phone_number": api.search()[0]["phone_number"]}).json()["id"]]
    api.post(CONTROL + "reset")
    bought.append(api.post("phone-numbers", {"phone_number": api.search()[0]["phone_number"]}).json()["id"])
    assert bought == [1061, 1061]


@pytest.mark.parametrize("value", [10, 10.5, "7.25", 0, -3])
def test_the_balance_can_be_set(api, value):
    response = api.put(CONTROL + "balance", {"balance": value})
    assert response.status_code == 200
    assert response.json()["balance"] == float(value)
    assert api.balance() == float(value)
    assert api.get(CONTROL + "balance").json()["balance"] == float(value)


@pytest.mark.parametrize("value", ["abc", 1.234, None, True, [5], "1e3", 10**12])
def test_a_bad_balance_is_refused(api, value):
    body = assert_error(api.put(CONTROL + "balance", {"balance": value}), 400, "VALIDATION_ERROR")
    assert "balance" in body["details"]
    assert api.balance() == 42.5


def test_charges_list_the_ledger_of_this_project(api):
    number = api.search()[0]["phone_number"]
    bought = api.post("phone-numbers", {"phone_number": number}).json()
    charges = api.get(CONTROL + "charges").json()["charges"]
    assert charges[-1] == charges[-1] | {
        "phone_number_id": bought["id"],
        "phone_number": number,
        "amount": 5.0,
        "reason": "purchase",
    }
    assert {c["reason"] for c in charges} == {"purchase", "renewal"}  # the seed's history is there too
    assert all(c["phone_number_id"] != 900 for c in charges)
    assert [c["at"] for c in charges] == sorted(c["at"] for c in charges)


def test_control_needs_a_key(api):
    assert_error(api.as_key(None).post(CONTROL + "reset"), 401, "MISSING_API_KEY")


def test_a_read_key_may_look_but_not_touch(api):
    reader = api.as_key(READ_KEY)
    assert reader.get(CONTROL + "faults").status_code == 200
    assert reader.get(CONTROL + "charges").status_code == 200
    assert_error(reader.post(CONTROL + "reset"), 403, "READ_ONLY_KEY")
    assert_error(reader.post(CONTROL + "faults", {"status": 503}), 403, "READ_ONLY_KEY")
    assert_error(reader.put(CONTROL + "rate-limit", {"per_minute": 1}), 403, "READ_ONLY_KEY")


def test_control_answers_json_for_unknown_routes_and_methods(api):
    assert_error(api.get(CONTROL + "weather"), 404, "NOT_FOUND")
    response = api.delete(CONTROL + "clock")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "GET, POST"
