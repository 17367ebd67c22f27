from __future__ import annotations

import threading

import httpx
import pytest

from numbers_app.staffify import StaffifyClient, get_client

from .conftest import KEY, ORG_KEY, Script, reply

CREDITS = {"balance": 10, "tier": "payg"}


@pytest.fixture
def script(settings) -> Script:
    """Every test here starts from a STAFFIFY_* change, so no client survives from elsewhere."""
    script = Script(reply(200, CREDITS))
    settings.STAFFIFY_API_URL = "http://testserver/sandbox/v1"
    settings.STAFFIFY_API_KEY = KEY
    settings.STAFFIFY_PROJECT_ID = None
    settings.STAFFIFY_TIMEOUT = 6.0
    settings.STAFFIFY_CONNECT_TIMEOUT = 2.0
    settings.STAFFIFY_MAX_RETRIES = 1
    settings.STAFFIFY_TRANSPORT = httpx.MockTransport(script)
    return script


def test_it_builds_the_client_from_settings(script):
    client = get_client()
    assert isinstance(client, StaffifyClient)
    assert client.base_url == "http://testserver/sandbox/v1"
    assert client.max_retries == 1


def test_it_sends_through_the_transport_setting_with_the_key(script):
    get_client().credits()
    request = script.requests[0]
    assert str(request.url) == "http://testserver/sandbox/v1/credits"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.extensions["timeout"]["read"] == 6.0
    assert request.extensions["timeout"]["connect"] == 2.0


def test_it_returns_one_shared_client(script):
    assert get_client() is get_client()


def test_it_hands_every_thread_the_same_client(script):
    barrier = threading.Barrier(8)
    clients = []

    def fetch() -> None:
        barrier.wait()
        clients.append(get_client())

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in clients}) == 1


def test_a_staffify_setting_change_rebuilds_it(script, settings):
    before = get_client()
    settings.STAFFIFY_MAX_RETRIES = 4
    after = get_client()
    assert after is not before
    assert after.max_retries == 4


def test_another_setting_change_keeps_it(script, settings):
    before = get_client()
    settings.TIME_ZONE = "UTC"
    assert get_client() is before


def test_an_org_key_sends_the_project_id(script, settings):
    settings.STAFFIFY_API_KEY = ORG_KEY
    settings.STAFFIFY_PROJECT_ID = "proj_abc123"
    get_client().credits()
    assert script.requests[0].headers["X-Project-Id"] == "proj_abc123"
