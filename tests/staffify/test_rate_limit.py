from __future__ import annotations

from datetime import UTC, datetime

import pytest

from numbers_app.staffify import RateLimit, RateLimitError

from .conftest import Script, reply

CREDITS = {"balance": 10, "tier": "payg"}
PAYG = {
    "X-RateLimit-Limit": "300",
    "X-RateLimit-Remaining": "297",
    "X-RateLimit-Reset": "1772368260",
    "X-RateLimit-Tier": "payg",
    "X-Concurrent-Call-Limit": "10",
}


def test_nothing_is_known_before_the_first_answer(make_client):
    assert make_client(Script(reply(200, CREDITS))).rate_limit is None


def test_it_remembers_the_budget_of_the_latest_answer(make_client):
    client = make_client(Script(reply(200, CREDITS, headers=PAYG)))
    client.credits()
    assert client.rate_limit == RateLimit(
        limit=300,
        remaining=297,
        reset=datetime(2026, 3, 1, 12, 31, tzinfo=UTC),
        tier="payg",
        concurrent_call_limit=10,
    )


def test_a_newer_answer_replaces_the_budget(make_client):
    client = make_client(
        Script(
            reply(200, CREDITS, headers=PAYG),
            reply(200, CREDITS, headers={**PAYG, "X-RateLimit-Remaining": "296"}),
        )
    )
    client.credits()
    client.credits()
    assert client.rate_limit.remaining == 296


def test_the_reset_is_an_aware_datetime(make_client):
    client = make_client(Script(reply(200, CREDITS, headers=PAYG)))
    client.credits()
    assert client.rate_limit.reset.tzinfo is UTC


def test_enterprise_has_no_limit_nor_remaining(make_client):
    headers = {"X-RateLimit-Reset": "1772368260", "X-RateLimit-Tier": "enterprise"}
    client = make_client(Script(reply(200, CREDITS, headers=headers)))
    client.credits()
    assert client.rate_limit.tier == "enterprise"
    assert client.rate_limit.limit is None
    assert client.rate_limit.remaining is None


def test_an_answer_without_the_headers_keeps_the_last_budget(make_client):
    client = make_client(Script(reply(200, CREDITS, headers=PAYG), reply(200, CREDITS)))
    client.credits()
    client.credits()
    assert client.rate_limit.remaining == 297


def test_a_rate_limited_answer_updates_the_budget(make_client):
    headers = {**PAYG, "X-RateLimit-Remaining": "0"}
    client = make_client(Script(reply(429, {"error": "Rate limit exceeded", "retryAfter": 43}, headers=headers)))
    with pytest.raises(RateLimitError):
        client.credits()
    assert client.rate_limit.remaining == 0


def test_malformed_headers_are_left_unknown(make_client):
    headers = {"X-RateLimit-Limit": "lots", "X-RateLimit-Remaining": "-1", "X-RateLimit-Tier": "payg"}
    client = make_client(Script(reply(200, CREDITS, headers=headers)))
    client.credits()
    assert client.rate_limit == RateLimit(limit=None, remaining=None, reset=None, tier="payg")


def test_it_remembers_staffify_clock_from_the_date_header():
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    import httpx

    from numbers_app.staffify import StaffifyClient

    ahead = datetime.now(UTC) + timedelta(days=3)
    date = format_datetime(ahead, usegmt=True)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"countries": []}, headers={"Date": date}))
    client = StaffifyClient("https://api.example/v1", "sfy_live_" + "a" * 48, transport=transport)
    assert client.clock_skew == timedelta(0)
    client.countries()
    assert abs(client.clock_skew - timedelta(days=3)).total_seconds() < 2


def test_the_sandbox_clock_header_wins_over_a_rewritten_date():
    from datetime import UTC, datetime, timedelta

    import httpx

    from numbers_app.staffify import StaffifyClient

    ahead = datetime.now(UTC) + timedelta(days=8)
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"countries": []}, headers={"X-Sandbox-Now": ahead.isoformat()})
    )
    client = StaffifyClient("https://api.example/v1", "sfy_live_" + "a" * 48, transport=transport)
    client.countries()
    assert abs(client.clock_skew - timedelta(days=8)).total_seconds() < 2
