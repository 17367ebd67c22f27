"""Injected faults: the next N matching API calls fail or slow down; control calls never do."""

import time

import pytest

from sandbox.seed import OTHER_KEY

from .conftest import CONTROL, assert_error

pytestmark = pytest.mark.django_db


def test_a_503_hits_the_next_matching_call_only(api):
    api.fault(status=503, count=1, path_prefix="/v1/phone-numbers", delay_ms=0)
    response = api.get("phone-numbers")
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response["X-RateLimit-Limit"] == "300"  # still an authenticated answer
    assert api.get("phone-numbers").status_code == 200


def test_count_says_how_many_calls_fail(api):
    api.fault(status=500, count=2)
    assert_error(api.get("credits"), 500, "INTERNAL_ERROR")
    assert_error(api.get("agents"), 500, "INTERNAL_ERROR")
    assert api.get("credits").status_code == 200


def test_a_fault_waits_for_its_path(api):
    api.fault(status=502, path_prefix="/v1/phone-numbers/1001")
    assert api.get("credits").status_code == 200
    assert api.get("phone-numbers/1002").status_code == 200
    assert len(api.get(CONTROL + "faults").json()["faults"]) == 1
    assert_error(api.get("phone-numbers/1001"), 502, "BAD_GATEWAY")
    assert api.get(CONTROL + "faults").json()["faults"] == []


def test_a_fault_may_name_a_method(api):
    api.fault(status=503, method="post", path_prefix="/v1/phone-numbers")
    assert api.get("phone-numbers").status_code == 200
    number = api.search()[0]["phone_number"]
    assert_error(api.post("phone-numbers", {"phone_number": number}), 503, "SERVICE_UNAVAILABLE")
    assert api.balance() == 42.5  # the failed purchase did not happen


def test_a_429_fault_answers_the_rate_limit_body(api):
    api.fault(status=429, retry_after=7)
    response = api.get("credits")
    assert response.status_code == 429
    assert response.json() == {"error": "Rate limit exceeded", "code": "RATE_LIMIT_EXCEEDED", "retryAfter": 7}
    assert response["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("status", "code"),
    [(402, "INSUFFICIENT_CREDITS"), (422, "CARRIER_ERROR"), (504, "GATEWAY_TIMEOUT"), (418, "ERROR")],
)
def test_other_statuses_answer_documented_shapes(api, status, code):
    api.fault(status=status)
    assert_error(api.get("credits"), status, code)


def test_a_fault_may_carry_its_own_code_and_message(api):
    api.fault(status=422, code="CARRIER_REJECTED", message="The carrier said no.")
    body = assert_error(api.get("credits"), 422, "CARRIER_REJECTED")
    assert body["message"] == "The carrier said no."


def test_a_delay_only_fault_slows_the_call_which_then_happens(api):
    api.fault(status=None, delay_ms=300, method="POST", path_prefix="/v1/phone-numbers")
    number = api.search()[0]["phone_number"]
    started = time.monotonic()
    response = api.post("phone-numbers", {"phone_number": number})
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201
    assert api.balance() == 37.5


def test_faults_never_touch_control_calls(api):
    api.fault(status=503, count=5)
    assert api.get(CONTROL + "clock").status_code == 200
    assert api.put(CONTROL + "balance", {"balance": 10}).status_code == 200
    assert api.get(CONTROL + "faults").json()["faults"][0]["count"] == 5


def test_faults_come_after_authentication(api):
    api.fault(status=503)
    assert_error(api.as_key(None).get("credits"), 401, "MISSING_API_KEY")
    assert len(api.get(CONTROL + "faults").json()["faults"]) == 1


def test_faults_belong_to_the_project_that_set_them(api):
    api.fault(status=503)
    assert api.as_key(OTHER_KEY).get("credits").status_code == 200
    assert_error(api.get("credits"), 503, "SERVICE_UNAVAILABLE")


def test_get_lists_and_delete_clears_the_faults(api):
    created = api.fault(status=503, count=3, path_prefix="/v1/agents")
    assert created["count"] == 3 and created["path_prefix"] == "/v1/agents"
    assert [f["id"] for f in api.get(CONTROL + "faults").json()["faults"]] == [created["id"]]
    assert api.delete(CONTROL + "faults").json() == {"faults": []}
    assert api.get("agents").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"status": 200},
        {"status": "503"},
        {"status": 503, "count": 0},
        {"status": 503, "path_prefix": "v1/phone-numbers"},
        {"status": 503, "method": "FETCH"},
        {"status": None},
        {"status": 503, "delay_ms": -5},
        {"status": 503, "code": "x" * 51},
    ],
)
def test_a_bad_fault_is_refused(api, body):
    assert_error(api.post(CONTROL + "faults", body), 400, "VALIDATION_ERROR")
