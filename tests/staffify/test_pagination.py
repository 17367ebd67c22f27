from __future__ import annotations

import logging

from .conftest import NUMBER, Script, reply


def number(number_id: int) -> dict:
    return {**NUMBER, "id": number_id, "phone_number": f"+1415555{number_id:04d}"}


def agent(agent_id: int) -> dict:
    return {"id": agent_id, "public_id": f"agent_{agent_id:08x}", "name": f"Agent {agent_id}"}


def test_list_numbers_returns_one_page_and_its_cursor(make_client):
    script = Script(reply(200, {"phone_numbers": [number(1), number(2)], "next_cursor": 2}))
    page = make_client(script).list_numbers(limit=2)
    assert [n.id for n in page.numbers] == [1, 2]
    assert page.next_cursor == 2


def test_iter_numbers_follows_the_cursors_until_there_is_none(make_client):
    script = Script(
        reply(200, {"phone_numbers": [number(1), number(2)], "next_cursor": 2}),
        reply(200, {"phone_numbers": [number(3), number(4)], "next_cursor": "4"}),
        reply(200, {"phone_numbers": [number(5)], "next_cursor": None}),
    )
    numbers = list(make_client(script).iter_numbers(page_size=2))
    assert [n.id for n in numbers] == [1, 2, 3, 4, 5]
    assert [r.url.params.get("after") for r in script.requests] == [None, "2", "4"]
    assert {r.url.params["limit"] for r in script.requests} == {"2"}


def test_iter_numbers_fetches_a_page_only_when_needed(make_client):
    script = Script(
        reply(200, {"phone_numbers": [number(1)], "next_cursor": 1}),
        reply(200, {"phone_numbers": [number(2)], "next_cursor": None}),
    )
    first = next(make_client(script).iter_numbers())
    assert first.id == 1
    assert len(script.requests) == 1


def test_iter_numbers_asks_for_a_hundred_at_a_time_by_default(make_client):
    script = Script(reply(200, {"phone_numbers": [], "next_cursor": None}))
    assert list(make_client(script).iter_numbers()) == []
    assert script.requests[0].url.params["limit"] == "100"


def test_a_missing_next_cursor_means_the_last_page(make_client):
    script = Script(reply(200, {"phone_numbers": [number(1)]}))
    assert [n.id for n in make_client(script).iter_numbers()] == [1]
    assert len(script.requests) == 1


def test_paging_stops_on_a_repeated_cursor(make_client, caplog):
    script = Script(
        reply(200, {"phone_numbers": [number(1)], "next_cursor": "a"}),
        reply(200, {"phone_numbers": [number(2)], "next_cursor": "b"}),
        reply(200, {"phone_numbers": [number(3)], "next_cursor": "a"}),
        RuntimeError("paged past the repeated cursor"),
    )
    with caplog.at_level(logging.WARNING):
        numbers = list(make_client(script).iter_numbers())
    assert [n.id for n in numbers] == [1, 2, 3]
    assert len(script.requests) == 3
    assert "repeated the cursor" in caplog.text


def test_paging_stops_on_an_empty_page(make_client):
    script = Script(
        reply(200, {"phone_numbers": [], "next_cursor": "again"}),
        RuntimeError("paged past an empty page"),
    )
    assert list(make_client(script).iter_numbers()) == []
    assert len(script.requests) == 1


def test_agents_gathers_every_page(make_client):
    script = Script(
        reply(200, {"agents": [agent(1), agent(2)], "next_cursor": 2}),
        reply(200, {"agents": [agent(3)], "next_cursor": None}),
    )
    agents = make_client(script).agents()
    assert [a.id for a in agents] == [1, 2, 3]
    assert [r.url.params.get("after") for r in script.requests] == [None, "2"]


def test_iter_agents_walks_the_pages_lazily(make_client):
    script = Script(
        reply(200, {"agents": [agent(1)], "next_cursor": 1}),
        reply(200, {"agents": [agent(2)], "next_cursor": None}),
    )
    agents = make_client(script).iter_agents(page_size=1)
    assert next(agents).id == 1
    assert len(script.requests) == 1
    assert next(agents).id == 2
    assert script.requests[1].url.params["after"] == "1"
