from __future__ import annotations

import json

import pytest

from numbers_app.staffify import StaffifyClient

from .conftest import BASE_URL, KEY, NUMBER, ORG_KEY, Script, reply


def test_it_sends_the_key_as_a_bearer_token(make_client):
    script = Script(reply(200, {"countries": []}))
    make_client(script).countries()
    assert script.requests[0].headers["Authorization"] == f"Bearer {KEY}"


def test_it_sends_the_project_id_with_an_org_key(make_client):
    script = Script(reply(200, {"countries": []}))
    make_client(script, api_key=ORG_KEY, project_id="proj_abc123").countries()
    assert script.requests[0].headers["Authorization"] == f"Bearer {ORG_KEY}"
    assert script.requests[0].headers["X-Project-Id"] == "proj_abc123"


def test_it_sends_no_project_id_with_a_project_key(make_client):
    script = Script(reply(200, {"countries": []}))
    make_client(script).countries()
    assert "X-Project-Id" not in script.requests[0].headers


def test_it_refuses_an_org_key_without_a_project_id():
    with pytest.raises(ValueError, match="project_id") as excinfo:
        StaffifyClient(BASE_URL, ORG_KEY)
    assert ORG_KEY not in str(excinfo.value)


def test_it_refuses_an_empty_key():
    with pytest.raises(ValueError, match="key is required"):
        StaffifyClient(BASE_URL, "")


def test_it_identifies_itself_with_a_user_agent(make_client):
    script = Script(reply(200, {"countries": []}))
    make_client(script).countries()
    assert script.requests[0].headers["User-Agent"] == "staffify-numbers-dashboard/0.1"


def test_the_user_agent_can_be_chosen(make_client):
    script = Script(reply(200, {"countries": []}))
    make_client(script, user_agent="numbers-bench/2").countries()
    assert script.requests[0].headers["User-Agent"] == "numbers-bench/2"


def test_it_sends_json_bodies_as_json(make_client):
    script = Script(reply(200, NUMBER))
    make_client(script).set_tags(42, ["sales"])
    request = script.requests[0]
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"tags": ["sales"]}


def test_it_asks_for_json(make_client):
    script = Script(reply(200, {"countries": []}))
    make_client(script).countries()
    assert script.requests[0].headers["Accept"] == "application/json"


def test_it_uses_explicit_connect_and_read_timeouts(make_client):
    script = Script(reply(200, {"countries": []}))
    make_client(script, timeout=7.5, connect_timeout=1.5).countries()
    timeout = script.requests[0].extensions["timeout"]
    assert timeout["connect"] == 1.5
    assert timeout["read"] == 7.5


def test_it_keeps_no_cookies_between_calls(make_client):
    script = Script(
        reply(200, {"countries": []}, headers={"Set-Cookie": "sessionid=abc; Path=/"}),
        reply(200, {"countries": []}),
    )
    client = make_client(script)
    client.countries()
    client.countries()
    assert "Cookie" not in script.requests[1].headers
