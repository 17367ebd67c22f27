"""The sandbox clock and billing: EUR 5 at purchase and at each 28-day boundary of active numbers."""

from datetime import UTC, datetime, timedelta

import pytest

from sandbox import billing

from .conftest import CONTROL, assert_error

pytestmark = pytest.mark.django_db

DAY = 86400


def buy(api) -> int:
    number = api.search(area_code="512")[0]["phone_number"]
    response = api.post("phone-numbers", {"phone_number": number})
    assert response.status_code == 201
    return response.json()["id"]


def charges_for(api, number_id: int) -> list[dict]:
    return [c for c in api.get(CONTROL + "charges").json()["charges"] if c["phone_number_id"] == number_id]


def charged_since(api, moment: datetime) -> float:
    charges = api.get(CONTROL + "charges").json()["charges"]
    return sum(c["amount"] for c in charges if datetime.fromisoformat(c["at"]) > moment)


# --- pure arithmetic -------------------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_due_boundaries_are_the_passed_28_day_instants():
    assert billing.due_boundaries(T0, T0 - timedelta(seconds=1)) == []
    assert billing.due_boundaries(T0, T0) == [T0]
    assert billing.due_boundaries(T0, T0 + timedelta(days=56)) == [
        T0,
        T0 + timedelta(days=28),
        T0 + timedelta(days=56),
    ]


def test_next_boundary_after_keeps_the_numbers_own_cycle():
    assert billing.next_boundary_after(T0, T0 - timedelta(days=1)) == T0
    assert billing.next_boundary_after(T0, T0) == T0 + timedelta(days=28)
    assert billing.next_boundary_after(T0, T0 + timedelta(days=30)) == T0 + timedelta(days=56)


# --- the clock ---------------------------------------------------------------------------------------


def test_the_clock_starts_at_real_time_and_moves_forward_on_request(api):
    start = api.now()
    assert abs(start - datetime.now(UTC)) < timedelta(seconds=5)
    moved = api.advance(days=3)
    assert timedelta(days=3) <= moved - start < timedelta(days=3, seconds=5)
    response = api.get(CONTROL + "clock")
    assert response.json()["offset_seconds"] == pytest.approx(3 * DAY)


@pytest.mark.parametrize("value", [-1, "60", True, None, [1]])
def test_the_clock_refuses_bad_or_backward_moves(api, value):
    body = assert_error(api.post(CONTROL + "clock", {"advance_seconds": value}), 400, "VALIDATION_ERROR")
    assert "advance_seconds" in body["details"]


def test_the_date_and_x_sandbox_now_headers_follow_the_sandbox_clock(api):
    api.advance(days=10)
    for response in (api.get("credits"), api.get("nowhere"), api.as_key(None).get("credits")):
        date = datetime.strptime(response["Date"], "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
        assert abs(date - (datetime.now(UTC) + timedelta(days=10))) < timedelta(seconds=5)
        assert abs(datetime.fromisoformat(response["X-Sandbox-Now"]) - date) < timedelta(seconds=1)


def test_a_call_reads_the_clock_once_and_stamps_a_move_made_in_the_call(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert api.get("credits").status_code == 200
    assert sum('"sandbox_clock"' in q["sql"] for q in queries.captured_queries) == 1

    moved = api.post(CONTROL + "clock", {"advance_seconds": 5 * DAY})
    stamped = datetime.fromisoformat(moved["X-Sandbox-Now"])
    assert abs(stamped - datetime.fromisoformat(moved.json()["now"])) < timedelta(seconds=1)
    assert abs(stamped - (datetime.now(UTC) + timedelta(days=5))) < timedelta(seconds=5)


# --- billing ----------------------------------------------------------------------------------------


def test_the_seed_leaves_no_back_charges(api):
    start = api.now()
    api.advance(seconds=1)
    assert api.balance() == 42.5
    assert charged_since(api, start) == 0


def test_a_number_renews_at_each_28_day_boundary_of_its_purchase(api):
    number_id = buy(api)
    purchased_at = datetime.fromisoformat(api.number(number_id)["purchased_at"])
    api.advance(days=28, seconds=-60)
    assert [c["reason"] for c in charges_for(api, number_id)] == ["purchase"]
    api.advance(seconds=120)
    charges = charges_for(api, number_id)
    assert [c["reason"] for c in charges] == ["purchase", "renewal"]
    assert datetime.fromisoformat(charges[1]["at"]) == purchased_at + timedelta(days=28)
    assert charges[1]["amount"] == 5.0


def test_a_long_jump_charges_every_boundary_crossed(api):
    number_id = buy(api)
    purchased_at = datetime.fromisoformat(api.number(number_id)["purchased_at"])
    api.advance(days=28 * 3 + 1)
    assert [c["reason"] for c in charges_for(api, number_id)] == ["purchase"] + ["renewal"] * 3
    # The number's cycle moved on by exactly three: the next renewal is the fourth boundary, once.
    api.advance(days=26)
    assert len(charges_for(api, number_id)) == 4
    api.advance(days=2)
    charges = charges_for(api, number_id)
    assert [c["reason"] for c in charges] == ["purchase"] + ["renewal"] * 4
    assert datetime.fromisoformat(charges[-1]["at"]) == purchased_at + 4 * timedelta(days=28)


def test_the_balance_drops_by_exactly_the_charges(api):
    start = api.now()
    buy(api)
    api.advance(days=40)
    assert api.balance() == pytest.approx(42.5 - charged_since(api, start))
    assert charged_since(api, start) % 5 == 0 and charged_since(api, start) > 5


def test_the_balance_may_go_negative_through_renewals_but_not_purchases(api):
    api.set_balance(0)
    api.advance(days=29)
    assert api.balance() < 0
    number = api.search(area_code="512")[0]["phone_number"]
    assert_error(api.post("phone-numbers", {"phone_number": number}), 402, "INSUFFICIENT_CREDITS")


def test_a_pending_number_does_not_renew_and_a_reclaimed_one_keeps_its_cycle(api):
    number_id = buy(api)
    purchased_at = datetime.fromisoformat(api.number(number_id)["purchased_at"])
    api.advance(days=27)
    assert api.delete(f"phone-numbers/{number_id}").status_code == 200
    api.advance(days=2)  # the day-28 boundary passes while pending
    assert [c["reason"] for c in charges_for(api, number_id)] == ["purchase"]
    assert api.post(f"phone-numbers/{number_id}/reclaim").status_code == 200
    api.advance(days=1)
    assert [c["reason"] for c in charges_for(api, number_id)] == ["purchase"]  # skipped, never back-charged
    api.advance(days=27)  # past day 56
    charges = charges_for(api, number_id)
    assert [c["reason"] for c in charges] == ["purchase", "renewal"]
    assert datetime.fromisoformat(charges[1]["at"]) == purchased_at + timedelta(days=56)


def test_a_number_released_for_good_stops_billing(api):
    number_id = buy(api)
    api.delete(f"phone-numbers/{number_id}")
    api.advance(days=60)
    assert [c["reason"] for c in charges_for(api, number_id) if c["phone_number_id"]] == []
    purchase = [c for c in api.get(CONTROL + "charges").json()["charges"] if c["reason"] == "purchase"][-1]
    assert purchase["phone_number_id"] is None  # the ledger keeps the charge, the number is gone


def test_credits_show_renewals_right_after_the_clock_moves(api):
    api.advance(days=28)
    # Every active seeded number crossed exactly one boundary in 28 days.
    assert api.get(CONTROL + "balance").json()["balance"] == 42.5 - (57 + 6) * 5  # proj_eu shares the balance
