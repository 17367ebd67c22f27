"""A write lives at most `write_lifetime` in the client (two whole attempts, from its timeouts): a retry
that would end later is not made, so the sweeper may take a write older than that for abandoned."""

import pytest

from numbers_app import staffify
from numbers_app.staffify import transport
from tests.staffify.conftest import NUMBER, Script, reply

BUSY = reply(503, {"error": {"code": "UNAVAILABLE", "message": "busy"}}, headers={"Retry-After": "3"})


def test_the_lifetime_comes_from_the_timeouts():
    assert transport.write_lifetime(10, 3) == 46  # the defaults: two attempts of connect + send + answer
    assert staffify.write_lifetime(1, 0.5) == 5


ASSIGNED = reply(200, {"success": True, "phone_number_id": 42, "agent_id": 7})


def test_a_write_is_not_retried_past_its_lifetime(make_client, sleeps):
    script = Script(BUSY, ASSIGNED)
    client = make_client(script, timeout=1, connect_timeout=0.5)  # lifetime 5 s; 3 s wait + 2.5 s attempt
    with pytest.raises(staffify.StaffifyError):
        client.assign(42, 7)
    assert len(script.requests) == 1 and sleeps == []


def test_a_write_is_retried_within_its_lifetime(make_client, sleeps):
    script = Script(BUSY, ASSIGNED)
    client = make_client(script)  # the default timeouts: 46 s; 3 s wait + 23 s attempt fits
    client.assign(42, 7)
    assert len(script.requests) == 2 and sleeps == [3]


def test_a_read_is_not_bound_by_it(make_client, sleeps):
    script = Script(BUSY, reply(200, NUMBER))
    client = make_client(script, timeout=1, connect_timeout=0.5)
    client.get_number(42)
    assert len(script.requests) == 2
