from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from numbers_app.staffify import (
    NotFoundError,
    RateLimitError,
    ServerError,
    StaffifyConnectionError,
    StaffifyError,
    StaffifyTimeoutError,
    transport,
)

from .conftest import NUMBER, Script, reply

CREDITS = {"balance": 42.5, "tier": "payg"}
RATE_LIMITED = {"error": "Rate limit exceeded", "code": "RATE_LIMIT_EXCEEDED"}


def test_a_read_is_retried_after_a_server_error(make_client):
    script = Script(reply(503, {"code": "UNAVAILABLE", "message": "Busy"}), reply(200, CREDITS))
    assert make_client(script).credits().tier == "payg"
    assert len(script.requests) == 2


def test_a_read_is_retried_after_a_connect_error(make_client):
    script = Script(httpx.ConnectError, reply(200, CREDITS))
    assert make_client(script).credits().tier == "payg"
    assert len(script.requests) == 2


def test_a_read_is_retried_after_a_read_timeout(make_client):
    script = Script(httpx.ReadTimeout, reply(200, CREDITS))
    assert make_client(script).credits().tier == "payg"
    assert len(script.requests) == 2


def test_a_read_is_retried_after_a_rate_limit(make_client):
    script = Script(reply(429, RATE_LIMITED), reply(200, CREDITS))
    assert make_client(script).credits().tier == "payg"
    assert len(script.requests) == 2


def test_a_read_gives_up_after_max_retries(make_client):
    script = Script(reply(500, {"code": "INTERNAL", "message": "Oops"}))
    with pytest.raises(ServerError):
        make_client(script, max_retries=3).credits()
    assert len(script.requests) == 4


def test_no_retries_means_one_request(make_client, sleeps):
    script = Script(httpx.ConnectError)
    with pytest.raises(StaffifyConnectionError):
        make_client(script, max_retries=0).credits()
    assert len(script.requests) == 1
    assert sleeps == []


def test_a_client_error_is_never_retried(make_client, sleeps):
    script = Script(reply(404, {"code": "NOT_FOUND", "message": "No such number"}))
    with pytest.raises(NotFoundError):
        make_client(script).get_number(42)
    assert len(script.requests) == 1
    assert sleeps == []


def test_backoff_grows_exponentially_up_to_the_cap(make_client, sleeps):
    script = Script(reply(503, {"code": "UNAVAILABLE", "message": "Busy"}))
    client = make_client(script, max_retries=5, backoff_base=1.0, backoff_cap=4.0)
    with pytest.raises(ServerError):
        client.credits()
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(sleeps) == len(ceilings)
    for slept, ceiling in zip(sleeps, ceilings, strict=True):
        assert 0.75 * ceiling <= slept <= ceiling


def test_jitter_takes_off_at_most_a_quarter(make_client, sleeps, monkeypatch):
    script = Script(reply(503, {"code": "UNAVAILABLE", "message": "Busy"}))
    client = make_client(script, max_retries=1, backoff_base=2.0)
    for drawn in (0.0, 0.999999):
        monkeypatch.setattr(transport.random, "random", lambda drawn=drawn: drawn)
        with pytest.raises(ServerError):
            client.credits()
    assert sleeps[0] == 2.0
    assert sleeps[1] == pytest.approx(1.5, abs=1e-5)


def test_retry_after_in_the_body_is_honoured(make_client, sleeps):
    script = Script(reply(429, {**RATE_LIMITED, "retryAfter": 3}), reply(200, CREDITS))
    make_client(script).credits()
    assert sleeps == [3.0]


def test_a_retry_after_header_in_seconds_is_honoured(make_client, sleeps):
    script = Script(reply(429, RATE_LIMITED, headers={"Retry-After": "2"}), reply(200, CREDITS))
    make_client(script).credits()
    assert sleeps == [2.0]


def test_a_retry_after_header_as_a_date_is_honoured(make_client, sleeps):
    when = datetime.now(UTC) + timedelta(seconds=5)
    header = email.utils.format_datetime(when, usegmt=True)
    script = Script(reply(429, RATE_LIMITED, headers={"Retry-After": header}), reply(200, CREDITS))
    make_client(script).credits()
    assert 3.5 <= sleeps[0] <= 5.0


def test_the_rate_limit_reset_is_honoured(make_client, sleeps):
    reset = str(int(time.time()) + 6)
    script = Script(reply(429, RATE_LIMITED, headers={"X-RateLimit-Reset": reset}), reply(200, CREDITS))
    make_client(script).credits()
    assert 4.5 <= sleeps[0] <= 6.0


def test_a_retry_after_on_a_server_error_is_honoured(make_client, sleeps):
    busy = reply(503, {"code": "UNAVAILABLE", "message": "Busy"}, headers={"Retry-After": "1.5"})
    make_client(Script(busy, reply(200, CREDITS))).credits()
    assert sleeps == [1.5]


def test_a_wait_longer_than_the_cap_is_not_waited_for(make_client, sleeps):
    script = Script(reply(429, {**RATE_LIMITED, "retryAfter": 43}))
    with pytest.raises(RateLimitError) as excinfo:
        make_client(script, retry_after_cap=10.0).credits()
    assert len(script.requests) == 1
    assert sleeps == []
    assert excinfo.value.retry_after == 43


def test_a_wait_within_the_cap_is_waited_for(make_client, sleeps):
    script = Script(reply(429, {**RATE_LIMITED, "retryAfter": 10}), reply(200, CREDITS))
    make_client(script, retry_after_cap=10.0).credits()
    assert sleeps == [10.0]


ONE_SHOT_CALLS = {
    "purchase": lambda client: client.purchase_number("+14155551234"),
    "release": lambda client: client.release(42),
    "reclaim": lambda client: client.reclaim(42),
    "unassign": lambda client: client.unassign(42),
}
FAILURES = {
    "server error": (reply(500, {"code": "INTERNAL", "message": "Oops"}), ServerError),
    "bad gateway": (reply(502, text="<html>Bad Gateway</html>"), ServerError),
    "rate limit": (reply(429, {**RATE_LIMITED, "retryAfter": 1}), RateLimitError),
    "read timeout": (httpx.ReadTimeout, StaffifyTimeoutError),
    "dropped connection": (httpx.RemoteProtocolError, StaffifyConnectionError),
    "connect error": (httpx.ConnectError, StaffifyConnectionError),
    "connect timeout": (httpx.ConnectTimeout, StaffifyTimeoutError),
}


@pytest.mark.parametrize("call", ONE_SHOT_CALLS.values(), ids=ONE_SHOT_CALLS.keys())
@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_purchase_release_reclaim_and_unassign_are_sent_once(make_client, sleeps, call, failure):
    answer, error_class = failure
    script = Script(answer, reply(200, {"success": True}))
    with pytest.raises(error_class):
        call(make_client(script, max_retries=5))
    assert len(script.requests) == 1
    assert sleeps == []


def test_set_tags_is_retried_after_a_server_error(make_client):
    script = Script(reply(503, {"code": "UNAVAILABLE", "message": "Busy"}), reply(200, NUMBER))
    assert make_client(script).set_tags(42, ["support"]).id == 42
    assert len(script.requests) == 2


def test_assign_is_retried_after_a_connect_error(make_client):
    answer = reply(200, {"success": True, "phone_number_id": 42, "agent_id": 7})
    script = Script(httpx.ConnectError, answer)
    assert make_client(script).assign(42, 7).agent_id == 7
    assert len(script.requests) == 2


def test_assign_is_retried_after_a_rate_limit(make_client):
    answer = reply(200, {"success": True, "phone_number_id": 42, "agent_id": 7})
    script = Script(reply(429, {**RATE_LIMITED, "retryAfter": 1}), answer)
    assert make_client(script).assign(42, 7).agent_id == 7
    assert len(script.requests) == 2


def test_assign_is_not_retried_after_a_read_timeout(make_client):
    script = Script(httpx.ReadTimeout, reply(200, {"success": True, "phone_number_id": 42, "agent_id": 7}))
    with pytest.raises(StaffifyTimeoutError):
        make_client(script).assign(42, 7)
    assert len(script.requests) == 1


def test_the_last_error_is_the_one_raised(make_client):
    script = Script(httpx.ConnectError, reply(503, {"code": "STILL_DOWN", "message": "Down"}))
    with pytest.raises(StaffifyError) as excinfo:
        make_client(script, max_retries=1).credits()
    assert excinfo.value.code == "STILL_DOWN"


def test_a_lockout_for_failed_logins_is_not_retried(make_client, sleeps):
    script = Script(reply(429, {"code": "AUTH_RATE_LIMITED", "message": "Too many failed attempts"}))
    with pytest.raises(RateLimitError):
        make_client(script).credits()
    assert len(script.requests) == 1
    assert sleeps == []
