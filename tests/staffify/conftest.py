"""The Staffify client against httpx.MockTransport: no sockets, no sleeping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from numbers_app.staffify import StaffifyClient

KEY = "sfy_live_" + "0a1b2c3d" * 6
ORG_KEY = "sfy_org_" + "9f8e7d6c" * 6
BASE_URL = "https://api.staffify.test/v1"

NUMBER = {
    "id": 42,
    "phone_number": "+14155551234",
    "status": "active",
    "agent_id": None,
    "agent_name": None,
    "tags": ["support"],
}


def reply(
    status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None, text: str | None = None
) -> httpx.Response:
    """A canned answer: JSON `body`, or raw `text`, or nothing."""
    headers = {"X-Request-Id": "req_test_1", **(headers or {})}
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


class Script:
    """A MockTransport handler that plays its answers in order (the last one repeats).

    An answer may be an httpx.Response, an httpx request error class (raised for the request) or any
    exception instance to raise.
    """

    def __init__(self, *answers: httpx.Response | type[httpx.RequestError] | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, type):
            raise answer("scripted failure", request=request)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Sleeps(list[float]):
    """Stands in for time.sleep: remembers each delay and returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(sleeps: Sleeps) -> Iterator[Callable[..., StaffifyClient]]:
    clients: list[StaffifyClient] = []

    def make(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> StaffifyClient:
        kwargs.setdefault("sleep", sleeps)
        base_url = kwargs.pop("base_url", BASE_URL)
        api_key = kwargs.pop("api_key", KEY)
        client = StaffifyClient(base_url, api_key, transport=httpx.MockTransport(handler), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
