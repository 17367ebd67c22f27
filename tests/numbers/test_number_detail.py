"""A number's page: everything known about it, its actions, its cycle and its history."""

import pytest

from numbers import billing, staffify


@pytest.mark.django_db
def test_it_shows_the_current_cycle_and_the_next_charge(ops, staffify_sandbox):
    number = staffify_sandbox.get("/v1/phone-numbers/1001").json()
    now = staffify.parse_datetime(staffify_sandbox.get("/control/clock").json()["now"])
    cycle = billing.cycle_at(staffify.parse_datetime(number["purchased_at"]), now)
    html = ops.get("/numbers/1001/").content.decode()
    assert f'datetime="{cycle.end.isoformat().replace("+00:00", "Z")}"' in html
    assert f"in {billing.days_until(cycle.end, now)} day" in html
    assert 'id="number-1001"' in html  # the row with its actions


@pytest.mark.django_db
def test_a_pending_number_has_no_next_charge(ops, staffify_sandbox):
    html = ops.get("/numbers/1036/").content.decode()
    assert "Next charge" not in html
    assert "not renewing while pending release" in html
