"""Release (only active and unassigned) into a 7-day window, reclaim inside it, gone after it."""

from datetime import datetime, timedelta

import pytest

from .conftest import assert_error

pytestmark = pytest.mark.django_db

WINDOW = timedelta(days=7)


def released(api, number_id: int = 1001) -> dict:
    api.delete(f"phone-numbers/{number_id}/assign")
    response = api.delete(f"phone-numbers/{number_id}")
    assert response.status_code == 200, response.content
    return response.json()


def test_an_assigned_number_cannot_be_released(api):
    assert api.number(1001)["agent_id"] is not None
    assert_error(api.delete("phone-numbers/1001"), 409, "AGENT_ASSIGNED")
    assert api.number(1001)["status"] == "active"


def test_release_starts_a_seven_day_window(api):
    now = api.now()
    body = released(api)
    assert set(body) == {"pending_release", "id", "reclaim_before"}
    assert body["pending_release"] is True and body["id"] == 1001
    deadline = datetime.fromisoformat(body["reclaim_before"])
    assert abs(deadline - (now + WINDOW)) < timedelta(seconds=5)
    number = api.number(1001)
    assert number["status"] == "pending_release"
    assert datetime.fromisoformat(number["reclaim_before"]) == deadline


def test_a_pending_number_cannot_be_released_again(api):
    released(api)
    assert_error(api.delete("phone-numbers/1001"), 409, "ALREADY_PENDING_RELEASE")


def test_an_active_number_cannot_be_reclaimed(api):
    assert_error(api.post("phone-numbers/1001/reclaim"), 409, "NOT_PENDING_RELEASE")


def test_reclaim_inside_the_window_makes_it_active_again(api):
    released(api)
    api.advance(days=6, seconds=23 * 3600)
    response = api.post("phone-numbers/1001/reclaim")
    assert response.status_code == 200
    assert response.json() == {"reclaimed": True, "id": 1001, "status": "active"}
    number = api.number(1001)
    assert number["status"] == "active" and number["reclaim_before"] is None
    assert api.delete("phone-numbers/1001").status_code == 200  # and it can be released again


def test_after_the_window_the_number_is_gone(api):
    phone_number = api.number(1001)["phone_number"]
    released(api)
    api.advance(days=7, seconds=1)
    assert_error(api.get("phone-numbers/1001"), 404, "NOT_FOUND")
    assert_error(api.post("phone-numbers/1001/reclaim"), 404, "NOT_FOUND")
    ids = [n["id"] for n in api.get("phone-numbers?limit=100").json()["phone_numbers"]]
    assert 1001 not in ids
    # And it is for sale again.
    assert phone_number in {n["phone_number"] for n in api.search(area_code=phone_number[2:5], limit=100)}


def test_the_seeded_pending_numbers_sit_at_different_points_of_their_window(api):
    now = api.now()
    left = {
        number_id: datetime.fromisoformat(api.number(number_id)["reclaim_before"]) - now
        for number_id in (1006, 1021, 1036)
    }
    assert abs(left[1006] - timedelta(days=0.5)) < timedelta(minutes=1)
    assert abs(left[1021] - timedelta(days=3)) < timedelta(minutes=1)
    assert abs(left[1036] - timedelta(days=6)) < timedelta(minutes=1)


def test_the_seeded_pending_numbers_expire_one_after_another(api):
    api.advance(days=1)
    assert api.get("phone-numbers/1006").status_code == 404
    assert api.post("phone-numbers/1021/reclaim").status_code == 200
    api.advance(days=4.9)
    assert api.get("phone-numbers/1036").status_code == 200
    api.advance(days=0.2)
    assert api.get("phone-numbers/1036").status_code == 404
    assert api.number(1021)["status"] == "active"


def test_releasing_or_reclaiming_an_unknown_number_is_not_found(api):
    assert_error(api.delete("phone-numbers/424242"), 404, "NOT_FOUND")
    assert_error(api.post("phone-numbers/424242/reclaim"), 404, "NOT_FOUND")
