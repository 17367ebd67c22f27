"""The shared Staffify budget: pages first, background work within a reserve, 429s respected."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from django.core.cache import caches

from numbers_app.staffify import budget

from .conftest import REDIS_URL, ROOT, base_env, unavailable

NOW = 1_800_000_000.0
RESET = NOW + 40


def headers(limit=300, remaining=300, reset=RESET):
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(reset)),
    }


def test_anything_is_allowed_before_staffify_has_said_anything():
    assert budget.allow("page", now=NOW)
    assert budget.allow("background", now=NOW)
    assert budget.wait_time("background", now=NOW) == 0.0


def test_background_work_is_allowed_while_more_than_the_reserve_remains():
    budget.record(headers(remaining=91), now=NOW)  # the reserve of 300 is 90
    assert budget.allow("background", now=NOW)


def test_background_work_waits_for_the_window_once_the_reserve_is_reached():
    budget.record(headers(remaining=90), now=NOW)
    assert not budget.allow("background", now=NOW)
    assert budget.wait_time("background", now=NOW) == pytest.approx(40)
    assert budget.allow("background", now=RESET + 1)  # a new window: the next answer says more


def test_pages_are_allowed_even_with_the_budget_nearly_spent():
    budget.record(headers(remaining=1), now=NOW)
    assert budget.allow("page", now=NOW)
    assert budget.wait_time("page", now=NOW) == 0.0


def test_the_reserve_follows_the_setting(settings):
    settings.STAFFIFY_BACKGROUND_RESERVE = 0.5
    budget.record(headers(remaining=120), now=NOW)
    assert not budget.allow("background", now=NOW)
    settings.STAFFIFY_BACKGROUND_RESERVE = 0.3
    assert budget.allow("background", now=NOW)


def test_an_unlimited_organisation_is_never_held_back():
    budget.record({"X-RateLimit-Reset": str(int(RESET)), "X-RateLimit-Tier": "enterprise"}, now=NOW)
    assert budget.allow("background", now=NOW)


def test_an_answer_without_rate_limit_headers_changes_nothing():
    budget.record(headers(remaining=10), now=NOW)
    budget.record({"Content-Type": "application/json"}, now=NOW)
    assert budget.state().remaining == 10


def test_a_late_answer_from_the_same_window_does_not_raise_the_count():
    budget.record(headers(remaining=50), now=NOW)
    budget.record(headers(remaining=200), now=NOW + 1)
    assert budget.state().remaining == 50


def test_a_new_window_replaces_the_count():
    budget.record(headers(remaining=50), now=NOW)
    budget.record(headers(remaining=299, reset=RESET + 60), now=RESET + 1)
    assert budget.state().remaining == 299


def test_a_429_pauses_pages_for_its_retry_after_and_background_work_until_the_window_resets():
    budget.record(headers(remaining=200), now=NOW)
    budget.note_rate_limited(5, now=NOW)
    assert not budget.allow("page", now=NOW)
    assert budget.wait_time("page", now=NOW) == pytest.approx(5)
    assert budget.allow("page", now=NOW + 6)
    assert not budget.allow("background", now=NOW + 6)
    assert budget.wait_time("background", now=NOW + 6) == pytest.approx(34)
    assert budget.allow("background", now=RESET + 1)


def test_a_429_longer_than_the_window_pauses_background_work_for_all_of_it():
    budget.record(headers(remaining=200), now=NOW)
    budget.note_rate_limited(90, now=NOW)
    assert not budget.allow("background", now=RESET + 10)
    assert budget.allow("background", now=NOW + 91)


def test_organisations_have_budgets_of_their_own():
    budget.record(headers(remaining=0), org="one", now=NOW)
    assert not budget.allow("background", org="one", now=NOW)
    assert budget.allow("background", org="two", now=NOW)


def test_the_budget_is_named_without_the_api_key(settings):
    assert settings.STAFFIFY_API_KEY not in budget._cache_key(None)
    first = budget.organisation()
    settings.STAFFIFY_API_KEY = "sfy_live_" + "b" * 48
    assert budget.organisation() != first


def test_it_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        budget.allow("urgent")  # type: ignore[arg-type]


@pytest.fixture
def redis_cache(settings):
    """The default cache on the local Redis, under a key prefix of this test's own."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        unavailable(f"Redis at {REDIS_URL}")
    prefix = f"budget-test-{uuid.uuid4().hex[:8]}"
    url = f"{REDIS_URL}?key_prefix={prefix}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield url, prefix
    caches["default"].delete(budget._cache_key(None))


def test_a_429_seen_by_one_process_pauses_the_worker_in_another_through_redis(redis_cache):
    url, prefix = redis_cache
    code = (
        "import django, time; django.setup()\n"
        "from django.core.cache import caches; from numbers_app.staffify import budget\n"
        f"assert type(caches['default']).__name__ == 'RedisCache' and caches['default'].key_prefix == {prefix!r}\n"
        "budget.record({'X-RateLimit-Limit': '300', 'X-RateLimit-Remaining': '200',"
        " 'X-RateLimit-Reset': str(int(time.time()) + 40)})\n"
        "budget.note_rate_limited(5)\n"
    )
    assert budget.allow("background")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base_env(CACHE_URL=url), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert not budget.allow("page")
    assert not budget.allow("background")
    assert 30 < budget.wait_time("background") <= 40
