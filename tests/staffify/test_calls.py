from __future__ import annotations

import json

import httpx
import pytest

from numbers_app.staffify import StaffifyClient

from .conftest import KEY, NUMBER, Script, reply


def sent(script: Script) -> tuple[str, str, dict[str, str]]:
    request = script.requests[-1]
    return request.method, request.url.path, dict(request.url.params)


def body(script: Script):
    return json.loads(script.requests[-1].content)


def test_search_numbers_sends_the_documented_query(make_client):
    script = Script(reply(200, {"numbers": []}))
    make_client(script).search_numbers(country_code="NL", number_type="mobile", city_code="020", contains="45", limit=5)
    assert sent(script) == (
        "GET",
        "/v1/phone-numbers/search",
        {"country_code": "NL", "type": "mobile", "city_code": "020", "contains": "45", "limit": "5"},
    )


def test_search_numbers_defaults_to_local_us_numbers(make_client):
    script = Script(reply(200, {"numbers": []}))
    make_client(script).search_numbers()
    assert sent(script) == ("GET", "/v1/phone-numbers/search", {"country_code": "US", "type": "local"})


def test_search_numbers_sends_an_area_code(make_client):
    script = Script(reply(200, {"numbers": []}))
    make_client(script).search_numbers(area_code="415")
    assert sent(script)[2]["area_code"] == "415"


def test_purchase_number_posts_the_chosen_number(make_client):
    script = Script(reply(200, {"success": True, "id": 43, "phone_number": "+31204567890"}))
    purchase = make_client(script).purchase_number(
        "+31204567890", country_code="NL", number_type="local", address_id=7, city_code="020"
    )
    assert sent(script) == ("POST", "/v1/phone-numbers", {})
    assert body(script) == {
        "phone_number": "+31204567890",
        "country_code": "NL",
        "number_type": "local",
        "address_id": 7,
        "city_code": "020",
    }
    assert (purchase.id, purchase.phone_number) == (43, "+31204567890")


def test_purchase_number_leaves_out_what_was_not_given(make_client):
    script = Script(reply(200, {"success": True, "id": 42, "phone_number": "+14155551234"}))
    make_client(script).purchase_number("+14155551234")
    assert body(script) == {"phone_number": "+14155551234", "country_code": "US", "number_type": "local"}


def test_list_numbers_sends_the_cursor_and_limit(make_client):
    script = Script(reply(200, {"phone_numbers": [], "next_cursor": None}))
    make_client(script).list_numbers(after=40, limit=20)
    assert sent(script) == ("GET", "/v1/phone-numbers", {"after": "40", "limit": "20"})


def test_list_numbers_sends_no_query_by_default(make_client):
    script = Script(reply(200, {"phone_numbers": [], "next_cursor": None}))
    make_client(script).list_numbers()
    assert sent(script) == ("GET", "/v1/phone-numbers", {})


def test_get_number_gets_one_number(make_client):
    script = Script(reply(200, NUMBER))
    number = make_client(script).get_number(42)
    assert sent(script) == ("GET", "/v1/phone-numbers/42", {})
    assert number.phone_number == "+14155551234"


def test_set_tags_patches_the_tags(make_client):
    script = Script(reply(200, NUMBER))
    make_client(script).set_tags(42, ["support", "amsterdam"])
    assert sent(script) == ("PATCH", "/v1/phone-numbers/42", {})
    assert body(script) == {"tags": ["support", "amsterdam"]}


def test_assign_puts_the_agent(make_client):
    script = Script(reply(200, {"success": True, "phone_number_id": 42, "agent_id": 123}))
    assignment = make_client(script).assign(42, 123)
    assert sent(script) == ("PUT", "/v1/phone-numbers/42/assign", {})
    assert body(script) == {"agent_id": 123}
    assert (assignment.phone_number_id, assignment.agent_id) == (42, 123)


def test_unassign_deletes_the_assignment(make_client):
    script = Script(reply(204))
    assert make_client(script).unassign(42) is None
    assert sent(script) == ("DELETE", "/v1/phone-numbers/42/assign", {})
    assert script.requests[-1].content == b""


def test_release_deletes_the_number(make_client):
    script = Script(reply(200, {"pending_release": True, "id": 42, "reclaim_before": "2026-03-08T10:00:00Z"}))
    release = make_client(script).release(42)
    assert sent(script) == ("DELETE", "/v1/phone-numbers/42", {})
    assert (release.id, release.pending_release) == (42, True)


def test_reclaim_posts_to_reclaim(make_client):
    script = Script(reply(200, {"reclaimed": True, "id": 42, "status": "active"}))
    reclaim = make_client(script).reclaim(42)
    assert sent(script) == ("POST", "/v1/phone-numbers/42/reclaim", {})
    assert (reclaim.id, reclaim.status) == (42, "active")


def test_countries_lists_the_countries(make_client):
    answer = {"countries": [{"code": "NL", "name": "Netherlands", "requires_address": True}]}
    script = Script(reply(200, answer))
    countries = make_client(script).countries()
    assert sent(script) == ("GET", "/v1/phone-numbers/countries", {})
    assert [(c.code, c.name, c.requires_address) for c in countries] == [("NL", "Netherlands", True)]


def test_agents_lists_the_agents(make_client):
    answer = {
        "agents": [{"id": 123, "public_id": "agent_28c51f81", "name": "Support Bot", "language": "nl", "voice": "v1"}],
        "next_cursor": None,
    }
    script = Script(reply(200, answer))
    agents = make_client(script).agents()
    assert sent(script) == ("GET", "/v1/agents", {"limit": "100"})
    assert [(a.id, a.public_id, a.name, a.language, a.voice) for a in agents] == [
        (123, "agent_28c51f81", "Support Bot", "nl", "v1")
    ]


def test_addresses_lists_the_addresses(make_client):
    answer = {
        "addresses": [
            {
                "id": 7,
                "country_code": "NL",
                "city": "Amsterdam",
                "city_code": "020",
                "postal_code": "1012 AB",
                "street_address": "Dam 1",
                "company_name": None,
                "status": "verified",
            }
        ]
    }
    script = Script(reply(200, answer))
    addresses = make_client(script).addresses()
    assert sent(script) == ("GET", "/v1/addresses", {})
    assert addresses[0].city_code == "020"
    assert addresses[0].usable_for_purchase


def test_credits_gets_the_balance(make_client):
    script = Script(reply(200, {"balance": 42.5, "tier": "payg"}))
    assert str(make_client(script).credits().balance) == "42.50"
    assert sent(script) == ("GET", "/v1/credits", {})


@pytest.mark.parametrize("bad_id", ["../credits", "42/assign", 4.2, None, True])
def test_an_id_that_is_not_a_whole_number_is_refused(make_client, bad_id):
    script = Script(reply(200, NUMBER))
    with pytest.raises(TypeError):
        make_client(script).get_number(bad_id)
    assert script.requests == []


def test_a_numeric_string_id_is_accepted(make_client):
    script = Script(reply(200, NUMBER))
    make_client(script).get_number("42")
    assert sent(script)[1] == "/v1/phone-numbers/42"


def test_it_works_over_a_wsgi_transport_under_a_path_prefix():
    seen = []

    def app(environ, start_response):
        seen.append((environ["PATH_INFO"], environ["HTTP_AUTHORIZATION"]))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"balance": 1, "tier": "payg"}).encode()]

    client = StaffifyClient("http://testserver/sandbox/v1", KEY, transport=httpx.WSGITransport(app=app))
    with client:
        client.credits()
    assert seen == [("/sandbox/v1/credits", f"Bearer {KEY}")]
