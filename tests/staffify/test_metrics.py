"""The client's Prometheus counters (numbers_app.staffify.metrics): every attempt by route template,
method and status, its latency, the 429s and the retries, whatever calls the client."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY

from numbers_app.staffify import RateLimitError, StaffifyConnectionError, metrics

from .conftest import NUMBER, Script, reply

RATE_LIMITED = {"error": "Rate limit exceeded", "code": "RATE_LIMIT_EXCEEDED", "retryAfter": 1}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/phone-numbers", "/phone-numbers"),
        ("/phone-numbers/42", "/phone-numbers/{id}"),
        ("/phone-numbers/42/assign", "/phone-numbers/{id}/assign"),
        ("/phone-numbers/search?country_code=NL", "/phone-numbers/search"),
        ("/addresses/7/check-status", "/addresses/{id}/check-status"),
        ("/agents/agent_28c51f81", "/agents/{id}"),
    ],
)
def test_an_endpoint_is_its_route_template(path, template):
    assert metrics.endpoint(path) == template


def test_each_attempt_is_counted_with_its_status_and_latency(make_client):
    labels = {"endpoint": "/phone-numbers/{id}", "method": "GET"}
    before = {
        "503": value("staffify_requests_total", **labels, status="503"),
        "200": value("staffify_requests_total", **labels, status="200"),
        "count": value("staffify_request_duration_seconds_count", **labels),
        "retries": value("staffify_retries_total", **labels, reason="server_error"),
    }
    script = Script(reply(503, {"code": "UNAVAILABLE", "message": "Busy"}), reply(200, NUMBER))
    make_client(script).get_number(42)
    assert value("staffify_requests_total", **labels, status="503") - before["503"] == 1
    assert value("staffify_requests_total", **labels, status="200") - before["200"] == 1
    assert value("staffify_request_duration_seconds_count", **labels) - before["count"] == 2
    assert value("staffify_retries_total", **labels, reason="server_error") - before["retries"] == 1


def test_a_429_is_counted_and_so_is_its_retry(make_client, sleeps):
    labels = {"endpoint": "/phone-numbers/{id}/assign", "method": "PUT"}
    limited = value("staffify_rate_limited_total", **labels)
    retried = value("staffify_retries_total", **labels, reason="rate_limited")
    waited = value("staffify_retry_wait_seconds_total")
    script = Script(reply(429, RATE_LIMITED), reply(200, {"success": True, "phone_number_id": 42, "agent_id": 7}))
    make_client(script).assign(42, 7)
    assert value("staffify_rate_limited_total", **labels) - limited == 1
    assert value("staffify_retries_total", **labels, reason="rate_limited") - retried == 1
    assert value("staffify_retry_wait_seconds_total") - waited == pytest.approx(1.0)


def test_a_429_given_up_is_counted_once_without_a_retry(make_client):
    labels = {"endpoint": "/phone-numbers/{id}", "method": "DELETE"}
    limited = value("staffify_rate_limited_total", **labels)
    retried = value("staffify_retries_total", **labels, reason="rate_limited")
    with pytest.raises(RateLimitError):
        make_client(Script(reply(429, RATE_LIMITED))).release(42)  # a release is sent once
    assert value("staffify_rate_limited_total", **labels) - limited == 1
    assert value("staffify_retries_total", **labels, reason="rate_limited") - retried == 0


def test_no_answer_is_counted_as_status_none(make_client):
    labels = {"endpoint": "/credits", "method": "GET", "status": "none"}
    before = value("staffify_requests_total", **labels)
    with pytest.raises(StaffifyConnectionError):
        make_client(Script(httpx.ConnectError), max_retries=0).credits()
    assert value("staffify_requests_total", **labels) - before == 1
