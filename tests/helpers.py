"""Small helpers the test modules share: htmx's request header, and the sandbox read and driven
through its API (a number's state, its clock, its faults). Fixtures live in tests/conftest.py."""

from __future__ import annotations

import json
from datetime import datetime

import httpx

from numbers_app import staffify, tasks
from numbers_app.staffify import lookups

# The header htmx sends with each of its requests: the views answer with a fragment instead of a page.
HX = {"HX-Request": "true"}


def state(sandbox: httpx.Client, number_id: int) -> dict:
    """Number NUMBER_ID as the sandbox has it (what Staffify says, not the dashboard's mirror)."""
    return sandbox.get(f"/v1/phone-numbers/{number_id}").json()


def unassigned_active(sandbox: httpx.Client) -> int:
    """The id of an active number of the account that has no agent."""
    numbers = sandbox.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
    return next(n["id"] for n in numbers if n["status"] == "active" and n["agent_id"] is None)


def sandbox_now(sandbox: httpx.Client) -> datetime:
    """The sandbox clock's time (Staffify's "now", which tests move forward)."""
    return staffify.parse_datetime(sandbox.get("/control/clock").json()["now"])


def advance_to(sandbox: httpx.Client, moment: datetime) -> None:
    """Moves the sandbox clock forward to MOMENT (it only moves forward). Renewals it charges meanwhile
    change Staffify's balance: the worker reads it anew (on its schedule, here at once), and its call
    shows every process Staffify's new clock."""
    seconds = (moment - sandbox_now(sandbox)).total_seconds()
    assert seconds > 0, "the sandbox clock is already past that moment"
    response = sandbox.post("/control/clock", json={"advance_seconds": seconds})
    assert response.status_code == 200, response.text
    lookups.forget_balance()
    tasks.refresh_balance.call()


def fault(sandbox: httpx.Client, path_prefix: str = "/v1/phone-numbers", **spec) -> None:
    """The sandbox fails its next call under PATH_PREFIX, once unless SPEC says `count`; SPEC is the
    rest of what /control/faults takes (`status`, `method`, `delay_ms`, `act_first`)."""
    response = sandbox.post("/control/faults", json={"count": 1, "path_prefix": path_prefix, **spec})
    assert response.status_code == 201, response.text


def toast_of(response) -> dict:
    """The toast an htmx answer asks the page to show (its HX-Trigger header)."""
    return json.loads(response["HX-Trigger"])["toast"]
