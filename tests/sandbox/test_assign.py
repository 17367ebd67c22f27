"""Assign (replaces, never 409) and unassign (204; 409 when nothing is assigned)."""

import pytest

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def unassigned_active(api) -> int:
    numbers = api.get("phone-numbers?limit=100").json()["phone_numbers"]
    return next(n["id"] for n in numbers if n["status"] == "active" and n["agent_id"] is None)


def test_it_assigns_an_agent(api):
    number_id = unassigned_active(api)
    response = api.put(f"phone-numbers/{number_id}/assign", {"agent_id": 104})
    assert response.status_code == 200
    assert response.json() == {"success": True, "phone_number_id": number_id, "agent_id": 104}
    number = api.number(number_id)
    assert (number["agent_id"], number["agent_name"]) == (104, "After-hours Line")


def test_assigning_again_replaces_the_agent_and_never_conflicts(api):
    assert api.number(1001)["agent_id"] is not None
    assert api.put("phone-numbers/1001/assign", {"agent_id": 110}).status_code == 200
    assert api.put("phone-numbers/1001/assign", {"agent_id": 110}).status_code == 200
    assert api.number(1001)["agent_id"] == 110


@pytest.mark.parametrize("agent_id", [999, 900])  # unknown, and another project's agent
def test_an_unknown_agent_is_not_found(api, agent_id):
    before = api.number(1001)["agent_id"]
    assert_error(api.put("phone-numbers/1001/assign", {"agent_id": agent_id}), 404, "NOT_FOUND")
    assert api.number(1001)["agent_id"] == before


@pytest.mark.parametrize("body", [{}, {"agent_id": "101"}, {"agent_id": 101.0}, {"agent_id": True}, {"agent_id": -1}])
def test_agent_id_must_be_an_integer(api, body):
    result = assert_error(api.put("phone-numbers/1001/assign", body), 400, "VALIDATION_ERROR")
    assert "agent_id" in result["details"]


def test_an_unknown_number_is_not_found(api):
    assert_error(api.put("phone-numbers/424242/assign", {"agent_id": 101}), 404, "NOT_FOUND")


def test_a_pending_number_cannot_be_assigned(api):
    assert_error(api.put("phone-numbers/1036/assign", {"agent_id": 101}), 409, "NOT_ACTIVE")


def test_unassign_answers_204_without_a_body(api):
    response = api.delete("phone-numbers/1001/assign")
    assert response.status_code == 204
    assert response.content == b""
    assert response["X-Request-Id"].startswith("req_")
    assert (api.number(1001)["agent_id"], api.number(1001)["agent_name"]) == (None, None)


def test_unassign_without_an_agent_is_409(api):
    api.delete("phone-numbers/1001/assign")
    assert_error(api.delete("phone-numbers/1001/assign"), 409, "NO_AGENT_ASSIGNED")


def test_unassigning_an_unknown_number_is_not_found(api):
    assert_error(api.delete("phone-numbers/424242/assign"), 404, "NOT_FOUND")
