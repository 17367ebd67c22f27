"""Another project's resources answer 404, exactly like unknown ones."""

import pytest

from sandbox.seed import OTHER_KEY

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "phone-numbers/900", None),
        ("PATCH", "phone-numbers/900", {"tags": ["mine"]}),
        ("PUT", "phone-numbers/900/assign", {"agent_id": 101}),
        ("DELETE", "phone-numbers/900/assign", None),
        ("DELETE", "phone-numbers/900", None),
        ("POST", "phone-numbers/900/reclaim", None),
        ("PUT", "phone-numbers/1001/assign", {"agent_id": 900}),
    ],
)
def test_the_demo_key_cannot_touch_another_projects_number_or_agent(api, method, path, body):
    assert_error(api.call(method, path, body), 404, "NOT_FOUND")
    theirs = api.as_key(OTHER_KEY).get("phone-numbers/900").json()
    assert theirs["agent_id"] == 900 and theirs["tags"] == ["other"] and theirs["status"] == "active"


def test_lists_show_only_the_callers_project(api):
    demo_ids = {n["id"] for n in api.get("phone-numbers?limit=100").json()["phone_numbers"]}
    assert 900 not in demo_ids
    assert 900 not in {a["id"] for a in api.get("agents").json()["agents"]}
    assert 12 not in {a["id"] for a in api.get("addresses").json()["addresses"]}


def test_the_other_project_sees_its_own_things_only(api):
    other = api.as_key(OTHER_KEY)
    assert [n["id"] for n in other.get("phone-numbers").json()["phone_numbers"]] == [900]
    assert [a["id"] for a in other.get("agents").json()["agents"]] == [900]
    assert_error(other.get("phone-numbers/1001"), 404, "NOT_FOUND")
    assert other.get("credits").json()["balance"] == 100.0


def test_balances_are_per_project(api):
    number = api.search()[0]["phone_number"]
    api.post("phone-numbers", {"phone_number": number})
    assert api.balance() == 37.5
    assert api.as_key(OTHER_KEY).get("credits").json()["balance"] == 100.0
