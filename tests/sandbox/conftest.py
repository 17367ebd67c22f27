"""Fixtures for the sandbox: a seeded database and an HTTP helper that sends JSON with a key."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from django.test import Client

from sandbox.seed import DEMO_KEY
from tests.seeding import seed_sandbox

API = "/sandbox/v1/"
CONTROL = "/sandbox/control/"


class Api:
    """Calls the sandbox through Django's test client. Relative paths are under /sandbox/v1/."""

    def __init__(self, client: Client, key: str | None = DEMO_KEY, **headers: str) -> None:
        self.client = client
        self.key = key
        self.headers = headers

    def as_key(self, key: str | None, **headers: str) -> Api:
        return Api(self.client, key, **headers)

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | str | None = None, **headers: str):
        url = path if path.startswith("/") else API + path
        all_headers = dict(self.headers)
        if self.key:
            all_headers["Authorization"] = f"Bearer {self.key}"
        all_headers.update(headers)
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.generic(method, url, data, content_type="application/json", headers=all_headers)

    def get(self, path: str, **headers: str):
        return self.call("GET", path, **headers)

    def post(self, path: str, body: Any = None, **kwargs: Any):
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any):
        return self.call("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any):
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self.call("DELETE", path, **kwargs)

    # --- control -------------------------------------------------------------------------------

    def advance(self, *, days: float = 0, seconds: float = 0) -> datetime:
        response = self.post(CONTROL + "clock", {"advance_seconds": days * 86400 + seconds})
        assert response.status_code == 200, response.content
        return datetime.fromisoformat(response.json()["now"])

    def now(self) -> datetime:
        return datetime.fromisoformat(self.get(CONTROL + "clock").json()["now"])

    def balance(self) -> float:
        return self.get("credits").json()["balance"]

    def set_balance(self, value: float | str) -> None:
        response = self.put(CONTROL + "balance", {"balance": value})
        assert response.status_code == 200, response.content

    def fault(self, **body: Any) -> dict:
        response = self.post(CONTROL + "faults", body)
        assert response.status_code == 201, response.content
        return response.json()

    def number(self, number_id: int) -> dict:
        response = self.get(f"phone-numbers/{number_id}")
        assert response.status_code == 200, response.content
        return response.json()

    def search(self, **query: Any) -> list[dict]:
        response = self.get("phone-numbers/search?" + "&".join(f"{k}={v}" for k, v in query.items()))
        assert response.status_code == 200, response.content
        return response.json()["numbers"]


@pytest.fixture
def seeded(db) -> None:
    seed_sandbox()


@pytest.fixture
def api(client: Client, seeded: None) -> Api:
    return Api(client)


def assert_error(response, status: int, code: str) -> dict:
    """The documented error JSON: status, machine code, human text, a request id."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["X-Request-Id"].startswith("req_")
    body = response.json()
    assert body["code"] == code, body
    assert body.get("message") or body.get("error")
    return body
