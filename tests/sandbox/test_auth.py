"""Authentication exactly as documented: Bearer or X-Api-Key, the key format, scopes, org keys."""

import pytest

from sandbox.seed import DEMO_KEY, ORG_KEY, OTHER_KEY, READ_KEY, REVOKED_KEY

from .conftest import CONTROL, assert_error

pytestmark = pytest.mark.django_db


def test_it_accepts_the_key_as_a_bearer_token(api):
    response = api.get("credits")
    assert response.status_code == 200
    assert response.json()["balance"] == 42.5


def test_it_accepts_the_key_in_x_api_key(api):
    response = api.as_key(None).get("credits", **{"X-Api-Key": DEMO_KEY})
    assert response.status_code == 200


def test_it_answers_missing_api_key_without_a_key(api):
    assert_error(api.as_key(None).get("phone-numbers"), 401, "MISSING_API_KEY")


@pytest.mark.parametrize(
    "key",
    [
        "sfy_live_" + "0123456789ABCDEF" * 3,  # upper case hex
        "sfy_live_" + "0123456789abcdef" * 2,  # too short
        "sfy_live_" + "0123456789abcdef" * 3 + "0",  # too long
        "sfy_test_" + "0123456789abcdef" * 3,  # unknown kind
        "sk_live_" + "0123456789abcdef" * 3,
        "sfy_live_" + "0123456789abcdeg" * 3,
    ],
)
def test_it_rejects_a_malformed_key(api, key):
    assert_error(api.as_key(key).get("phone-numbers"), 401, "INVALID_API_KEY")


def test_it_rejects_an_unknown_well_formed_key(api):
    assert_error(api.as_key("sfy_live_" + "a" * 48).get("phone-numbers"), 401, "INVALID_API_KEY")


def test_it_rejects_a_revoked_key(api):
    assert_error(api.as_key(REVOKED_KEY).get("phone-numbers"), 401, "INVALID_API_KEY")


def test_it_rejects_another_authorization_scheme(api):
    response = api.as_key(None).get("credits", Authorization=f"Basic {DEMO_KEY}")
    assert_error(response, 401, "INVALID_API_KEY")


def test_it_rejects_two_different_keys(api):
    response = api.get("credits", **{"X-Api-Key": OTHER_KEY})
    assert_error(response, 401, "INVALID_API_KEY")


def test_an_unauthenticated_answer_carries_a_request_id_but_no_rate_limit_headers(api):
    response = api.as_key(None).get("credits")
    assert response["X-Request-Id"].startswith("req_")
    assert "X-RateLimit-Reset" not in response


def test_a_read_key_may_read(api):
    assert api.as_key(READ_KEY).get("phone-numbers").status_code == 200
    assert api.as_key(READ_KEY).get(CONTROL + "clock").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "phone-numbers", {"phone_number": "+14155551234"}),
        ("PATCH", "phone-numbers/1001", {"tags": []}),
        ("PUT", "phone-numbers/1001/assign", {"agent_id": 101}),
        ("DELETE", "phone-numbers/1001/assign", None),
        ("DELETE", "phone-numbers/1001", None),
        ("POST", "phone-numbers/1036/reclaim", None),
        ("POST", CONTROL + "clock", {"advance_seconds": 1}),
        ("PUT", CONTROL + "balance", {"balance": 1000}),
    ],
)
def test_a_read_key_gets_read_only_key_on_any_write(api, method, path, body):
    assert_error(api.as_key(READ_KEY).call(method, path, body), 403, "READ_ONLY_KEY")
    assert api.balance() == 42.5
    assert api.number(1001)["agent_id"] is not None


def test_an_org_key_works_with_x_project_id(api):
    response = api.as_key(ORG_KEY, **{"X-Project-Id": "proj_demo"}).get("phone-numbers?limit=100")
    assert response.status_code == 200
    assert len(response.json()["phone_numbers"]) == 60


def test_an_org_key_without_x_project_id_gets_missing_project_id(api):
    assert_error(api.as_key(ORG_KEY).get("phone-numbers"), 400, "MISSING_PROJECT_ID")


def test_an_org_key_may_not_name_another_organisations_project(api):
    response = api.as_key(ORG_KEY, **{"X-Project-Id": "proj_other"}).get("phone-numbers")
    assert_error(response, 403, "PROJECT_FORBIDDEN")


def test_a_malformed_project_id_is_refused(api):
    response = api.as_key(ORG_KEY, **{"X-Project-Id": "demo"}).get("phone-numbers")
    assert_error(response, 400, "INVALID_PROJECT_ID")


def test_a_project_key_naming_another_project_is_refused(api):
    response = api.get("phone-numbers", **{"X-Project-Id": "proj_other"})
    assert_error(response, 403, "PROJECT_FORBIDDEN")
    assert api.get("phone-numbers", **{"X-Project-Id": "proj_demo"}).status_code == 200


def test_more_than_100_failed_authentications_from_one_address_get_auth_rate_limited(api, client):
    bad = api.as_key("sfy_live_" + "b" * 48)
    for _ in range(100):
        assert bad.get("credits").status_code == 401
    body = assert_error(bad.get("credits"), 429, "AUTH_RATE_LIMITED")
    assert body["retryAfter"] > 0
    # Even the right key is refused from that address for a while; another address is not.
    blocked = api.get("credits")
    assert_error(blocked, 429, "AUTH_RATE_LIMITED")
    assert int(blocked["Retry-After"]) > 0
    other_address = client.get(
        "/sandbox/v1/credits", headers={"Authorization": f"Bearer {DEMO_KEY}"}, REMOTE_ADDR="10.1.2.3"
    )
    assert other_address.status_code == 200


def test_the_auth_limit_lifts_after_15_minutes(api, client):
    bad = api.as_key("sfy_live_" + "b" * 48)
    for _ in range(100):
        bad.get("credits")
    assert api.get("credits").status_code == 429
    # Control calls are blocked too, so the clock is moved from another address.
    moved = client.post(
        CONTROL + "clock",
        {"advance_seconds": 15 * 60 + 1},
        content_type="application/json",
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert moved.status_code == 200
    assert api.get("credits").status_code == 200
