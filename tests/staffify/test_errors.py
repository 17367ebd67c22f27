from __future__ import annotations

import logging

import httpx
import pytest

from numbers_app.staffify import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StaffifyConnectionError,
    StaffifyError,
    StaffifyResponseError,
    StaffifyStatusError,
    StaffifyTimeoutError,
    ValidationError,
)

from .conftest import KEY, Script, reply


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (402, PaymentRequiredError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
def test_each_status_family_has_its_class(make_client, status, error_class):
    client = make_client(Script(reply(status, {"code": "SOME_CODE", "message": "Nope"})), max_retries=0)
    with pytest.raises(error_class) as excinfo:
        client.get_number(42)
    assert excinfo.value.status == status
    assert isinstance(excinfo.value, StaffifyStatusError)


@pytest.mark.parametrize("status", [405, 418, 302])
def test_any_other_status_is_a_plain_status_error(make_client, status):
    client = make_client(Script(reply(status, {"code": "ODD", "message": "Odd"})))
    with pytest.raises(StaffifyStatusError) as excinfo:
        client.get_number(42)
    assert type(excinfo.value) is StaffifyStatusError
    assert excinfo.value.status == status


def test_the_classes_form_one_tree():
    assert issubclass(StaffifyConnectionError, StaffifyError)
    assert issubclass(StaffifyTimeoutError, StaffifyConnectionError)
    assert issubclass(StaffifyResponseError, StaffifyError)
    assert issubclass(StaffifyStatusError, StaffifyError)
    for cls in (
        ValidationError,
        AuthenticationError,
        PaymentRequiredError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        RateLimitError,
        ServerError,
    ):
        assert issubclass(cls, StaffifyStatusError)


def test_an_error_carries_code_message_and_request_id(make_client):
    answer = reply(402, {"code": "INSUFFICIENT_CREDITS", "message": "Balance below EUR 5.00"})
    answer.headers["X-Request-Id"] = "req_8f3a"
    client = make_client(Script(answer))
    with pytest.raises(PaymentRequiredError) as excinfo:
        client.purchase_number("+14155551234")
    error = excinfo.value
    assert (error.status, error.code, error.message, error.request_id) == (
        402,
        "INSUFFICIENT_CREDITS",
        "Balance below EUR 5.00",
        "req_8f3a",
    )


def test_the_string_shown_to_users_names_the_request_id(make_client):
    client = make_client(Script(reply(404, {"code": "NOT_FOUND", "message": "No such number"})))
    with pytest.raises(NotFoundError) as excinfo:
        client.get_number(7)
    assert str(excinfo.value) == "No such number (HTTP 404, NOT_FOUND, request id req_test_1)"


def test_a_validation_error_carries_field_details(make_client):
    body = {
        "code": "VALIDATION_ERROR",
        "message": "Validation failed",
        "details": {"tags": "At most 20 tags"},
    }
    client = make_client(Script(reply(400, body)))
    with pytest.raises(ValidationError) as excinfo:
        client.set_tags(42, ["x"] * 21)
    assert excinfo.value.details == {"tags": "At most 20 tags"}


def test_details_given_as_a_list_become_field_messages(make_client):
    body = {
        "code": "VALIDATION_ERROR",
        "message": "Validation failed",
        "details": [{"field": "address_id", "message": "Required outside US/CA"}],
    }
    client = make_client(Script(reply(400, body)))
    with pytest.raises(ValidationError) as excinfo:
        client.purchase_number("+31204567890", country_code="NL")
    assert excinfo.value.details == {"address_id": "Required outside US/CA"}


def test_the_text_may_come_under_error_instead_of_message(make_client):
    body = {"error": "Rate limit exceeded", "code": "RATE_LIMIT_EXCEEDED", "retryAfter": 43}
    client = make_client(Script(reply(429, body)))
    with pytest.raises(RateLimitError) as excinfo:
        client.credits()
    assert excinfo.value.message == "Rate limit exceeded"
    assert excinfo.value.code == "RATE_LIMIT_EXCEEDED"


def test_an_error_object_under_error_is_read_too(make_client):
    body = {"error": {"code": "NOT_FOUND", "message": "No such number"}}
    client = make_client(Script(reply(404, body)))
    with pytest.raises(NotFoundError) as excinfo:
        client.get_number(7)
    assert (excinfo.value.code, excinfo.value.message) == ("NOT_FOUND", "No such number")


def test_a_rate_limit_error_carries_retry_after(make_client):
    body = {"error": "Rate limit exceeded", "code": "RATE_LIMIT_EXCEEDED", "retryAfter": 43}
    client = make_client(Script(reply(429, body)))
    with pytest.raises(RateLimitError) as excinfo:
        client.credits()
    assert excinfo.value.retry_after == 43


def test_an_html_error_page_maps_by_status_with_a_generic_message(make_client):
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    client = make_client(Script(reply(502, text=page, headers={"Content-Type": "text/html"})), max_retries=0)
    with pytest.raises(ServerError) as excinfo:
        client.credits()
    assert excinfo.value.message == "Staffify answered GET /credits with HTTP 502 Bad Gateway"
    assert excinfo.value.code is None
    assert "<html>" not in str(excinfo.value)


def test_a_connect_error_is_a_connection_error_from_httpx(make_client):
    client = make_client(Script(httpx.ConnectError), max_retries=0)
    with pytest.raises(StaffifyConnectionError) as excinfo:
        client.credits()
    assert not isinstance(excinfo.value, StaffifyTimeoutError)
    assert isinstance(excinfo.value.__cause__, httpx.ConnectError)
    assert excinfo.value.status is None


@pytest.mark.parametrize(
    ("raised", "phase"),
    [
        (httpx.ConnectTimeout, "connect"),
        (httpx.ReadTimeout, "read"),
        (httpx.WriteTimeout, "write"),
        (httpx.PoolTimeout, "pool"),
    ],
)
def test_a_timeout_is_a_timeout_error_naming_its_phase(make_client, raised, phase):
    client = make_client(Script(raised), max_retries=0)
    with pytest.raises(StaffifyTimeoutError) as excinfo:
        client.credits()
    assert excinfo.value.phase == phase
    assert isinstance(excinfo.value.__cause__, raised)


def test_a_read_timeout_on_a_purchase_leaves_the_outcome_unknown(make_client):
    client = make_client(Script(httpx.ReadTimeout))
    with pytest.raises(StaffifyTimeoutError) as excinfo:
        client.purchase_number("+14155551234")
    assert excinfo.value.outcome_unknown is True


def test_a_dropped_connection_on_a_release_leaves_the_outcome_unknown(make_client):
    client = make_client(Script(httpx.RemoteProtocolError))
    with pytest.raises(StaffifyConnectionError) as excinfo:
        client.release(42)
    assert excinfo.value.outcome_unknown is True


def test_a_gateway_timeout_on_a_purchase_leaves_the_outcome_unknown(make_client):
    client = make_client(Script(reply(504, text="Gateway Timeout")))
    with pytest.raises(ServerError) as excinfo:
        client.purchase_number("+14155551234")
    assert excinfo.value.outcome_unknown is True


def test_a_connect_error_on_a_purchase_leaves_the_outcome_known(make_client):
    client = make_client(Script(httpx.ConnectError))
    with pytest.raises(StaffifyConnectionError) as excinfo:
        client.purchase_number("+14155551234")
    assert excinfo.value.outcome_unknown is False


def test_a_refusal_of_a_purchase_leaves_the_outcome_known(make_client):
    client = make_client(Script(reply(503, {"code": "UNAVAILABLE", "message": "Try later"})))
    with pytest.raises(ServerError) as excinfo:
        client.purchase_number("+14155551234")
    assert excinfo.value.outcome_unknown is False


def test_a_read_timeout_on_a_read_leaves_nothing_unknown(make_client):
    client = make_client(Script(httpx.ReadTimeout), max_retries=0)
    with pytest.raises(StaffifyTimeoutError) as excinfo:
        client.list_numbers()
    assert excinfo.value.outcome_unknown is False


def test_the_key_never_appears_in_str_or_repr(make_client):
    body = {
        "code": "INVALID_API_KEY",
        "message": f"Unknown key {KEY}",
        "details": {"authorization": f"Bearer {KEY}"},
    }
    client = make_client(Script(reply(401, body)))
    with pytest.raises(AuthenticationError) as excinfo:
        client.credits()
    error = excinfo.value
    for text in (str(error), repr(error), error.message, repr(error.details), repr(client)):
        assert KEY not in text


def test_the_key_never_appears_in_the_logs(make_client, caplog):
    body = {"code": "INVALID_API_KEY", "message": f"Unknown key {KEY}"}
    client = make_client(Script(httpx.ConnectError(f"refused for {KEY}"), reply(401, body)))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError):
        client.credits()
    assert caplog.records
    assert KEY not in caplog.text
    assert "Authorization" not in caplog.text
