from __future__ import annotations

import threading

import httpx
import pytest

from numbers_app.staffify import NotFoundError, StaffifyConnectionError, track_calls

from .conftest import Script, reply

CREDITS = {"balance": 10, "tier": "payg"}


def test_calls_outside_a_block_are_not_counted_anywhere(make_client):
    client = make_client(Script(reply(200, CREDITS)))
    client.credits()
    with track_calls() as stats:
        pass
    assert stats.calls == 0


def test_it_counts_each_call_with_method_path_status_and_time(make_client):
    client = make_client(Script(reply(200, CREDITS), reply(404, {"code": "NOT_FOUND", "message": "No"})))
    with track_calls() as stats:
        client.credits()
        with pytest.raises(NotFoundError):
            client.get_number(9)
    assert stats.calls == 2
    assert [request[:3] for request in stats.requests] == [
        ("GET", "/credits", 200),
        ("GET", "/phone-numbers/9", 404),
    ]
    assert stats.seconds == pytest.approx(sum(request[3] for request in stats.requests))
    assert all(request[3] >= 0 for request in stats.requests)


def test_it_counts_every_attempt_including_retries(make_client):
    script = Script(reply(503, {"code": "UNAVAILABLE", "message": "Busy"}), reply(200, CREDITS))
    client = make_client(script)
    with track_calls() as stats:
        client.credits()
    assert stats.calls == 2
    assert [request[2] for request in stats.requests] == [503, 200]


def test_an_attempt_without_an_answer_is_counted_without_a_status(make_client):
    client = make_client(Script(httpx.ConnectError), max_retries=1)
    with track_calls() as stats, pytest.raises(StaffifyConnectionError):
        client.credits()
    assert [request[2] for request in stats.requests] == [None, None]


def test_the_time_slept_between_retries_is_kept_apart(make_client, sleeps):
    client = make_client(Script(reply(429, {"error": "Slow down", "retryAfter": 2}), reply(200, CREDITS)))
    with track_calls() as stats:
        client.credits()
    assert stats.backoff_seconds == 2.0
    assert stats.seconds < 2.0


def test_nested_blocks_both_count(make_client):
    client = make_client(Script(reply(200, CREDITS)))
    with track_calls() as outer:
        client.credits()
        with track_calls() as inner:
            client.credits()
    assert (outer.calls, inner.calls) == (2, 1)


def test_blocks_in_other_threads_count_apart(make_client):
    client = make_client(Script(reply(200, CREDITS)))
    counts = {}

    def work(name: str, calls: int) -> None:
        with track_calls() as stats:
            for _ in range(calls):
                client.credits()
        counts[name] = stats.calls

    threads = [threading.Thread(target=work, args=(name, n)) for name, n in (("a", 1), ("b", 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == {"a": 1, "b": 3}
