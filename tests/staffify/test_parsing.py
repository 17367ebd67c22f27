from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from numbers_app.staffify import (
    Address,
    Agent,
    Assignment,
    AvailableNumber,
    Country,
    Credits,
    PhoneNumber,
    Purchase,
    Reclaim,
    Release,
    StaffifyResponseError,
    parse_datetime,
)

from .conftest import NUMBER, Script, reply

CREDITS = {
    "balance": 42.5,
    "tier": "payg",
    "rate_per_minute": 0.15,
    "is_paused": False,
    "concurrent_limit": 10,
    "credits_expire_at": None,
    "updated_at": "2026-03-01T12:30:00Z",
}


def test_money_is_a_decimal_to_the_cent():
    credits = Credits.from_api(CREDITS)
    assert credits.balance == Decimal("42.50")
    assert str(credits.balance) == "42.50"


def test_money_carries_no_float_error():
    assert Credits.from_api({**CREDITS, "balance": 0.1 + 0.2}).balance == Decimal("0.30")
    assert Credits.from_api({**CREDITS, "balance": "19.99"}).balance == Decimal("19.99")


def test_the_rate_per_minute_is_kept_exact():
    assert Credits.from_api({**CREDITS, "rate_per_minute": 0.125}).rate_per_minute == Decimal("0.125")


def test_credits_read_every_documented_field():
    credits = Credits.from_api(CREDITS)
    assert credits.tier == "payg"
    assert credits.is_paused is False
    assert credits.concurrent_limit == 10
    assert credits.credits_expire_at is None
    assert credits.updated_at == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_a_time_with_z_is_aware_utc():
    parsed = parse_datetime("2026-03-01T12:30:00.250Z")
    assert parsed == datetime(2026, 3, 1, 12, 30, 0, 250000, tzinfo=UTC)
    assert parsed.tzinfo is UTC


def test_a_time_with_an_offset_is_converted_to_utc():
    parsed = parse_datetime("2026-03-01T13:30:00+01:00")
    assert parsed == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert parsed.tzinfo is UTC


def test_a_naive_time_is_taken_as_utc():
    assert parse_datetime("2026-03-01T12:30:00") == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_extra_fields_are_ignored():
    number = PhoneNumber.from_api({**NUMBER, "monthly_cost": 5, "carrier": {"name": "x"}})
    assert number.id == 42


def test_missing_undocumented_fields_are_none():
    number = PhoneNumber.from_api(NUMBER)
    assert number.country_code is None
    assert number.number_type is None
    assert number.purchased_at is None
    assert number.reclaim_before is None


def test_undocumented_fields_are_used_when_present():
    number = PhoneNumber.from_api(
        {
            **NUMBER,
            "status": "pending_release",
            "country_code": "NL",
            "number_type": "local",
            "purchased_at": "2026-01-01T00:00:00Z",
            "reclaim_before": "2026-03-08T00:00:00Z",
        }
    )
    assert (number.country_code, number.number_type) == ("NL", "local")
    assert number.purchased_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert number.reclaim_before == datetime(2026, 3, 8, tzinfo=UTC)


def test_a_malformed_undocumented_field_is_none():
    number = PhoneNumber.from_api({**NUMBER, "purchased_at": "last tuesday", "country_code": 31})
    assert number.purchased_at is None
    assert number.country_code is None


def test_a_number_without_an_agent_has_none():
    number = PhoneNumber.from_api({"id": 1, "phone_number": "+14155550001", "status": "active"})
    assert (number.agent_id, number.agent_name, number.tags) == (None, None, ())


def test_a_number_keeps_its_tags_as_a_tuple_and_its_raw_answer():
    number = PhoneNumber.from_api({**NUMBER, "tags": ["a", "b"], "carrier": "x"})
    assert number.tags == ("a", "b")
    assert number.raw["carrier"] == "x"


def test_a_missing_documented_field_is_a_response_error():
    with pytest.raises(StaffifyResponseError, match="'phone_number' is missing"):
        PhoneNumber.from_api({"id": 1, "status": "active"})


@pytest.mark.parametrize(
    "change",
    [{"id": "42"}, {"id": True}, {"status": 1}, {"tags": "support"}, {"tags": [1]}, {"agent_id": "7"}],
)
def test_a_wrong_type_is_a_response_error(change):
    with pytest.raises(StaffifyResponseError):
        PhoneNumber.from_api({**NUMBER, **change})


@pytest.mark.parametrize("balance", ["lots", None, True, [1], "NaN"])
def test_a_malformed_balance_is_a_response_error(balance):
    with pytest.raises(StaffifyResponseError, match="balance"):
        Credits.from_api({**CREDITS, "balance": balance})


def test_a_malformed_documented_time_is_a_response_error(make_client):
    client = make_client(Script(reply(200, {"pending_release": True, "id": 42, "reclaim_before": "soon"})))
    with pytest.raises(StaffifyResponseError, match="reclaim_before"):
        client.release(42)


def test_a_non_json_success_is_a_response_error(make_client):
    client = make_client(Script(reply(200, text="<html>Welcome</html>")))
    with pytest.raises(StaffifyResponseError) as excinfo:
        client.credits()
    assert excinfo.value.request_id == "req_test_1"
    assert excinfo.value.status == 200


def test_an_answer_of_the_wrong_shape_is_a_response_error(make_client):
    client = make_client(Script(reply(200, [CREDITS])))
    with pytest.raises(StaffifyResponseError, match="expected an object"):
        client.credits()


def test_a_page_without_its_list_is_a_response_error(make_client):
    client = make_client(Script(reply(200, {"numbers": [], "next_cursor": None})))
    with pytest.raises(StaffifyResponseError, match="phone_numbers"):
        client.list_numbers()


@pytest.mark.parametrize("key", [None, "numbers", "available_numbers", "phone_numbers", "data"])
def test_search_accepts_each_list_shape(make_client, key):
    found = [{"phone_number": "+14155550100", "country_code": "US", "number_type": "local", "area_code": "415"}]
    client = make_client(Script(reply(200, found if key is None else {key: found})))
    numbers = client.search_numbers(area_code="415")
    assert [n.phone_number for n in numbers] == ["+14155550100"]
    assert numbers[0].area_code == "415"
    assert numbers[0].locality is None


def test_search_without_a_list_is_a_response_error(make_client):
    client = make_client(Script(reply(200, {"results": "none"})))
    with pytest.raises(StaffifyResponseError, match="search answer"):
        client.search_numbers()


def test_release_reads_its_reclaim_deadline(make_client):
    answer = {"pending_release": True, "id": 42, "reclaim_before": "2026-03-08T10:00:00Z"}
    release = make_client(Script(reply(200, answer))).release(42)
    assert release.pending_release is True
    assert release.reclaim_before == datetime(2026, 3, 8, 10, tzinfo=UTC)


def test_set_tags_returns_the_number_when_the_answer_has_one(make_client):
    client = make_client(Script(reply(200, {**NUMBER, "tags": ["sales"]})))
    assert client.set_tags(42, ["sales"]).tags == ("sales",)


def test_set_tags_returns_none_when_the_answer_has_no_number(make_client):
    client = make_client(Script(reply(200, {"success": True})))
    assert client.set_tags(42, ["sales"]) is None


def test_set_tags_returns_none_on_an_empty_answer(make_client):
    client = make_client(Script(reply(204)))
    assert client.set_tags(42, ["sales"]) is None


def test_set_tags_refuses_a_bare_string(make_client):
    script = Script(reply(200, NUMBER))
    with pytest.raises(TypeError):
        make_client(script).set_tags(42, "sales")
    assert script.requests == []


@pytest.mark.parametrize(
    ("status", "usable"),
    [
        ("verified", True),
        ("partially_verified", True),
        ("pending", False),
        ("rejected", False),
        ("expired", False),
    ],
)
def test_an_address_is_usable_for_purchase_only_once_verified(status, usable):
    address = Address.from_api({"id": 7, "country_code": "NL", "status": status})
    assert address.usable_for_purchase is usable


def test_the_results_are_frozen():
    number = PhoneNumber.from_api(NUMBER)
    with pytest.raises(AttributeError):
        number.status = "gone"  # type: ignore[misc]


def test_a_malformed_answer_names_its_request_id(make_client):
    client = make_client(Script(reply(200, {"success": True, "id": "forty-two", "phone_number": "+1415"})))
    with pytest.raises(StaffifyResponseError) as excinfo:
        client.purchase_number("+14155551234")
    assert excinfo.value.request_id == "req_test_1"
    assert "'id' should be a whole number" in str(excinfo.value)


# --- The typed models (pydantic dataclasses) --------------------------------------------------

ANSWERS: list[tuple[Callable[[Any], object], dict[str, Any]]] = [
    (PhoneNumber.from_api, NUMBER),
    (AvailableNumber.from_api, {"phone_number": "+14155550100"}),
    (Country.from_api, {"code": "US", "name": "United States", "requires_address": False}),
    (Agent.from_api, {"id": 7, "name": "Reception"}),
    (Address.from_api, {"id": 7, "country_code": "NL", "status": "verified"}),
    (Credits.from_api, CREDITS),
    (Purchase.from_api, {"success": True, "id": 42, "phone_number": "+14155551234"}),
    (Assignment.from_api, {"success": True, "phone_number_id": 42, "agent_id": 7}),
    (Release.from_api, {"pending_release": True, "id": 42}),
    (Reclaim.from_api, {"reclaimed": True, "id": 42, "status": "active"}),
]


@pytest.mark.parametrize(("parse", "answer"), ANSWERS)
def test_every_answer_ignores_a_field_it_does_not_know(parse, answer):
    assert parse({**answer, "added_in_v2": {"nested": [1, 2]}}) == parse(answer)


@pytest.mark.parametrize(("parse", "answer"), ANSWERS)
@pytest.mark.parametrize("junk", [None, [], "ok", 42, True])
def test_every_answer_that_is_not_an_object_is_a_response_error(parse, answer, junk):
    with pytest.raises(StaffifyResponseError, match="expected an object"):
        parse(junk)


@pytest.mark.parametrize(("parse", "answer"), ANSWERS)
def test_every_answer_names_a_wrong_field_without_letting_pydantic_out(parse, answer):
    first = next(iter(key for key in answer if key not in ("success", "reclaimed")))
    with pytest.raises(StaffifyResponseError) as excinfo:
        parse({**answer, first: {"unexpected": "object"}})
    assert f"'{first}' should be" in excinfo.value.message
    assert not isinstance(excinfo.value.__cause__, pydantic.ValidationError)
    assert excinfo.value.__suppress_context__


def test_a_wrong_type_is_named_in_one_sentence():
    with pytest.raises(StaffifyResponseError) as excinfo:
        PhoneNumber.from_api({**NUMBER, "id": "42"})
    assert excinfo.value.message == (
        "Staffify sent an unexpected phone number: 'id' should be a whole number, got the text '42'."
    )


def test_a_wrong_tag_is_named_by_its_position():
    with pytest.raises(StaffifyResponseError) as excinfo:
        PhoneNumber.from_api({**NUMBER, "tags": ["sales", 7]})
    assert (
        excinfo.value.message == "Staffify sent an unexpected phone number: 'tags[1]' should be text, got the number 7."
    )


def test_a_long_wrong_value_is_cut_short_in_the_sentence():
    with pytest.raises(StaffifyResponseError) as excinfo:
        Country.from_api({"code": "US", "name": "United States", "requires_address": "x" * 500})
    assert "'requires_address' should be true or false" in excinfo.value.message
    assert len(excinfo.value.message) < 150


def test_a_wrong_number_in_a_page_is_named_by_its_position(make_client):
    page = {"phone_numbers": [NUMBER, {**NUMBER, "id": 43, "status": None}], "next_cursor": None}
    with pytest.raises(StaffifyResponseError) as excinfo:
        make_client(Script(reply(200, page))).list_numbers()
    assert excinfo.value.message == (
        "Staffify sent an unexpected phone number: 'status' should be text, got null "
        "(item 2 of the list of phone numbers)."
    )
    assert excinfo.value.request_id == "req_test_1"


def test_a_wrong_agent_in_a_page_is_named_by_its_position(make_client):
    page = {"agents": [{"id": 1, "name": "A"}, {"id": "2", "name": "B"}], "next_cursor": None}
    with pytest.raises(StaffifyResponseError, match=r"'id' should be a whole number.*\(item 2 of the list of agents\)"):
        make_client(Script(reply(200, page))).agents()


@pytest.mark.parametrize(
    ("method", "answer"),
    [
        ("countries", {"countries": [{"code": "US", "name": "United States", "requires_address": "no"}]}),
        ("addresses", {"addresses": [{"id": 7, "country_code": "NL"}]}),
        ("search_numbers", {"numbers": [{"phone_number": 14155550100}]}),
    ],
)
def test_a_wrong_item_in_a_list_is_a_response_error(make_client, method, answer):
    client = make_client(Script(reply(200, answer)))
    with pytest.raises(StaffifyResponseError, match=r"\(item 1 of the "):
        getattr(client, method)()


@pytest.mark.parametrize(("cursor", "expected"), [("c2", "c2"), (200, 200), ("", None), (None, None)])
def test_the_cursor_is_text_or_a_number(make_client, cursor, expected):
    client = make_client(Script(reply(200, {"phone_numbers": [NUMBER], "next_cursor": cursor})))
    assert client.list_numbers().next_cursor == expected


@pytest.mark.parametrize("cursor", [True, 1.5, ["c2"]])
def test_a_malformed_cursor_is_a_response_error(make_client, cursor):
    client = make_client(Script(reply(200, {"phone_numbers": [NUMBER], "next_cursor": cursor})))
    with pytest.raises(StaffifyResponseError, match="'next_cursor' should be text or a number"):
        client.list_numbers()


def test_a_balance_too_large_for_cents_is_a_response_error():
    with pytest.raises(StaffifyResponseError, match="'balance' should be an amount of money"):
        Credits.from_api({**CREDITS, "balance": "1e400"})


def test_money_rounds_half_up_to_the_cent():
    assert Credits.from_api({**CREDITS, "balance": 0.125}).balance == Decimal("0.13")
    assert Credits.from_api({**CREDITS, "balance": 7}).balance == Decimal("7.00")


def test_optional_documented_fields_may_be_missing():
    credits = Credits.from_api({"balance": 1})
    assert (credits.tier, credits.rate_per_minute, credits.is_paused, credits.updated_at) == (None, None, None, None)


def test_a_malformed_optional_documented_field_is_still_a_response_error():
    with pytest.raises(StaffifyResponseError, match="'concurrent_limit' should be a whole number"):
        Credits.from_api({**CREDITS, "concurrent_limit": "10"})


def test_created_at_stands_in_for_a_missing_or_malformed_purchase_time():
    created = {**NUMBER, "created_at": "2026-01-01T01:00:00+01:00"}
    assert PhoneNumber.from_api(created).purchased_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert PhoneNumber.from_api({**created, "purchased_at": "soon"}).purchased_at == datetime(2026, 1, 1, tzinfo=UTC)
    both = {**created, "purchased_at": "2026-02-01T00:00:00Z"}
    assert PhoneNumber.from_api(both).purchased_at == datetime(2026, 2, 1, tzinfo=UTC)


def test_times_are_aware_utc_whatever_offset_staffify_used():
    release = Release.from_api({"pending_release": True, "id": 42, "reclaim_before": "2026-03-08T12:00:00+05:30"})
    assert release.reclaim_before == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    assert release.reclaim_before is not None and release.reclaim_before.tzinfo is UTC


def test_replace_gives_a_changed_copy_and_keeps_the_raw_answer():
    number = PhoneNumber.from_api({**NUMBER, "carrier": "x"})
    deadline = datetime(2026, 3, 8, 12, tzinfo=timezone(timedelta(hours=2)))
    after = dataclasses.replace(number, status="pending_release", reclaim_before=deadline)
    assert (after.status, after.id, after.tags) == ("pending_release", 42, ("support",))
    assert after.reclaim_before == deadline and after.reclaim_before.tzinfo is UTC
    assert after.raw["carrier"] == "x"
    assert number.status == "active"


def test_replace_refuses_a_wrong_type():
    number = PhoneNumber.from_api(NUMBER)
    with pytest.raises(pydantic.ValidationError):
        dataclasses.replace(number, agent_id="7")  # type: ignore[arg-type]  # mypy sees it too


def test_a_number_from_the_api_equals_itself_but_not_a_changed_copy():
    number = PhoneNumber.from_api({**NUMBER, "carrier": "x"})
    assert number == PhoneNumber.from_api(NUMBER)  # raw is left out of comparisons
    assert number != dataclasses.replace(number, tags=("sales",))


def test_a_client_built_here_reads_a_wrapped_number(make_client):
    client = make_client(Script(reply(200, {"data": {**NUMBER, "status": "pending_release"}})))
    assert client.get_number(42).status == "pending_release"
