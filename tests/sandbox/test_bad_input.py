"""Bad input of every kind answers the documented error JSON: never HTML, never a 500 by accident."""

import pytest

from .conftest import API, CONTROL, assert_error

pytestmark = pytest.mark.django_db

WRITES = [
    ("POST", "phone-numbers"),
    ("PATCH", "phone-numbers/1001"),
    ("PUT", "phone-numbers/1001/assign"),
    ("POST", CONTROL + "clock"),
    ("PUT", CONTROL + "balance"),
    ("POST", CONTROL + "faults"),
    ("PUT", CONTROL + "rate-limit"),
]


@pytest.mark.parametrize(
    "raw",
    ['{"tags": [', "not json", '{"a": NaN}', b"\xff\xfe", "[1, 2]", '"text"', "[" * 100_000],
    ids=["truncated", "text", "nan", "not-utf8", "array", "string", "deep"],
)
def test_a_malformed_body_is_a_validation_error_everywhere(api, raw):
    for method, path in WRITES:
        body = assert_error(api.call(method, path, raw=raw), 400, "VALIDATION_ERROR")
        assert "body" in body["details"], (method, path)


def test_a_body_over_the_size_limit_is_413_json(api):
    raw = '{"tags": ["' + "x" * 3_000_000 + '"]}'
    assert_error(api.patch("phone-numbers/1001", raw=raw), 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "path",
    [
        API + "nothing",
        API + "phone-numbers/1001/explode",
        API + "phone-numbers//",
        API,
        CONTROL,
        "/sandbox/",
        "/sandbox/v2/phone-numbers",
    ],
)
def test_an_unknown_route_is_a_json_404(api, path):
    response = api.get(path)
    assert_error(response, 404, "NOT_FOUND")
    assert b"<html" not in response.content.lower()


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "phone-numbers", "GET, POST"),
        ("POST", "phone-numbers/search", "GET"),
        ("PUT", "phone-numbers/1001", "DELETE, GET, PATCH"),
        ("GET", "phone-numbers/1001/assign", "DELETE, PUT"),
        ("GET", "phone-numbers/1001/reclaim", "POST"),
        ("POST", "credits", "GET"),
        ("HEAD", "agents", "GET"),
    ],
)
def test_a_wrong_method_is_a_json_405(api, method, path, allowed):
    response = api.call(method, path)
    assert response.status_code == 405
    assert response["Allow"] == allowed
    if method != "HEAD":
        assert_error(response, 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("path", ["credits/", "phone-numbers/1001/", "phone-numbers/search/?limit=2", "agents/"])
def test_a_trailing_slash_is_accepted(api, path):
    assert api.get(path).status_code == 200


def test_an_unexpected_failure_is_a_500_json_with_a_request_id(api, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("sandbox.inventory.search", explode)
    response = api.get("phone-numbers/search")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "boom" not in body["message"]


def test_unicode_and_control_characters_in_query_strings_are_refused_cleanly(api):
    assert_error(api.get("phone-numbers/search?contains=%00"), 400, "VALIDATION_ERROR")
    assert_error(api.get("phone-numbers/search?country_code=%C3%A9"), 400, "VALIDATION_ERROR")
    assert_error(api.get("phone-numbers?after=%00"), 400, "VALIDATION_ERROR")
    assert_error(api.get("phone-numbers/%00"), 404, "NOT_FOUND")


def test_strange_values_in_the_purchase_body_are_validation_errors(api):
    for body in [
        {"phone_number": "+1415\x005551234"},
        {"phone_number": None},
        {"phone_number": ["+14155551234"]},
    ]:
        assert_error(api.post("phone-numbers", body), 400, "VALIDATION_ERROR")
    weird_city = {
        "phone_number": "+31204567890",
        "country_code": "NL",
        "address_id": 7,
        "city_code": "0\x0020",
    }
    assert_error(api.post("phone-numbers", weird_city), 400, "VALIDATION_ERROR")
    assert_error(api.post("phone-numbers", {"phone_number": "+14155551234", "address_id": 2**70}), 400,
                 "VALIDATION_ERROR")  # fmt: skip
    assert_error(api.put("phone-numbers/1001/assign", {"agent_id": 2**64}), 400, "VALIDATION_ERROR")
