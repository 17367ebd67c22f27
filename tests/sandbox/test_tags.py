"""PATCH tags: an array of strings, at most 20, each at most 50 characters; it replaces the tags."""

import pytest

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_it_replaces_the_tags_and_answers_the_number(api):
    response = api.patch("phone-numbers/1001", {"tags": ["support", "café"]})
    assert response.status_code == 200
    assert response.json()["tags"] == ["support", "café"]
    assert response.json()["id"] == 1001
    assert api.number(1001)["tags"] == ["support", "café"]


def test_an_empty_list_clears_the_tags(api):
    assert api.patch("phone-numbers/1001", {"tags": []}).json()["tags"] == []


def test_twenty_tags_of_fifty_characters_are_allowed(api):
    tags = [f"{i:02d}" + "x" * 48 for i in range(20)]
    assert api.patch("phone-numbers/1001", {"tags": tags}).json()["tags"] == tags


@pytest.mark.parametrize(
    "tags",
    [
        [f"t{i}" for i in range(21)],
        ["x" * 51],
        "support",
        {"a": 1},
        [1, 2],
        ["ok", None],
        [""],
        ["  "],
        ["bad\x00tag"],
        None,
    ],
)
def test_bad_tags_are_a_validation_error_and_change_nothing(api, tags):
    before = api.number(1001)["tags"]
    body = assert_error(api.patch("phone-numbers/1001", {"tags": tags}), 400, "VALIDATION_ERROR")
    assert "tags" in body["details"]
    assert api.number(1001)["tags"] == before


def test_tags_are_required(api):
    assert_error(api.patch("phone-numbers/1001", {}), 400, "VALIDATION_ERROR")


def test_only_tags_can_be_patched(api):
    body = assert_error(api.patch("phone-numbers/1001", {"tags": [], "agent_id": 102}), 400, "VALIDATION_ERROR")
    assert "agent_id" in body["details"]


def test_a_pending_number_may_still_be_tagged(api):
    assert api.patch("phone-numbers/1036", {"tags": ["leaving"]}).json()["tags"] == ["leaving"]


def test_tagging_an_unknown_number_is_not_found(api):
    assert_error(api.patch("phone-numbers/424242", {"tags": []}), 404, "NOT_FOUND")
