"""Per-project, per-minute rate limiting with the documented headers and 429 body."""

from datetime import UTC, datetime

import pytest

from sandbox.seed import OTHER_KEY

from .conftest import CONTROL, assert_error

pytestmark = pytest.mark.django_db

# On the PostgreSQL pass too (@pytest.mark.postgres): the counter, updated in place (its validation
# and headers run on SQLite only).


def start_of_a_minute(api) -> None:
    """Move the sandbox clock just past a minute boundary, so a test has the whole window."""
    now = api.now()
    api.advance(seconds=60 - now.second - now.microsecond / 1e6 + 0.5)


def limit(api, per_minute) -> dict:
    response = api.put(CONTROL + "rate-limit", {"per_minute": per_minute})
    assert response.status_code == 200, response.content
    return response.json()


def test_every_authenticated_answer_carries_the_headers(api):
    start_of_a_minute(api)
    first, second = api.get("credits"), api.get("phone-numbers/424242")
    assert first["X-RateLimit-Limit"] == "300" and first["X-RateLimit-Tier"] == "payg"
    assert first["X-Concurrent-Call-Limit"] == "10"
    assert int(first["X-RateLimit-Remaining"]) == int(second["X-RateLimit-Remaining"]) + 1
    assert second.status_code == 404 and "X-RateLimit-Reset" in second
    reset = int(first["X-RateLimit-Reset"])
    assert reset % 60 == 0
    assert 0 < reset - api.now().timestamp() <= 60


@pytest.mark.postgres
def test_past_the_limit_it_answers_the_documented_429(api):
    start_of_a_minute(api)
    limit(api, 3)
    for _ in range(3):
        assert api.get("credits").status_code == 200
    response = api.get("credits")
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"error", "code", "retryAfter"}
    assert body["error"] == "Rate limit exceeded" and body["code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= body["retryAfter"] <= 60
    assert response["Retry-After"] == str(body["retryAfter"])
    assert response["X-RateLimit-Remaining"] == "0"


@pytest.mark.postgres
def test_the_next_window_is_open_again(api):
    start_of_a_minute(api)
    limit(api, 1)
    assert api.get("credits").status_code == 200
    assert api.get("credits").status_code == 429
    api.advance(seconds=60)
    assert api.get("credits").status_code == 200


def test_control_calls_are_not_counted_nor_limited(api):
    start_of_a_minute(api)
    limit(api, 1)
    for _ in range(5):
        assert api.get(CONTROL + "clock").status_code == 200
    assert api.get("credits").status_code == 200
    assert api.get("credits").status_code == 429
    assert api.get(CONTROL + "balance").status_code == 200


@pytest.mark.postgres
def test_each_project_has_its_own_count(api):
    start_of_a_minute(api)
    limit(api, 1)
    api.get("credits")
    assert api.get("credits").status_code == 429
    other = api.as_key(OTHER_KEY).get("credits")
    assert other.status_code == 200 and other["X-RateLimit-Limit"] == "300"


@pytest.mark.parametrize("per_minute", [None, 0])
def test_unlimited_is_enterprise_without_limit_or_remaining(api, per_minute):
    assert limit(api, per_minute) == {"per_minute": None, "tier": "enterprise"}
    for _ in range(3):
        response = api.get("credits")
        assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response and "X-RateLimit-Remaining" not in response
    assert response["X-RateLimit-Tier"] == "enterprise" and "X-RateLimit-Reset" in response


def test_known_limits_name_their_tier(api):
    assert limit(api, 600)["tier"] == "starter"
    assert limit(api, 1200)["tier"] == "growth"
    assert limit(api, 5)["tier"] == "custom"
    assert api.get("credits").json()["tier"] == "custom"


@pytest.mark.parametrize("body", [{}, {"per_minute": -1}, {"per_minute": "10"}, {"per_minute": 1.5}])
def test_a_bad_limit_is_refused(api, body):
    assert_error(api.put(CONTROL + "rate-limit", body), 400, "VALIDATION_ERROR")


@pytest.mark.postgres
def test_reset_epoch_is_in_the_sandbox_clocks_time(api):
    api.advance(days=2)
    reset = int(api.get("credits")["X-RateLimit-Reset"])
    assert reset > datetime.now(UTC).timestamp() + 2 * 86400 - 60
