"""A number's page: everything known about it, its actions, its cycle and its history."""

from datetime import timedelta

import pytest

from numbers_app import staffify
from tests.helpers import sandbox_now


@pytest.mark.django_db
def test_it_shows_the_current_cycle_and_the_next_charge(ops, staffify_sandbox):
    number = staffify_sandbox.get("/v1/phone-numbers/1001").json()
    now = sandbox_now(staffify_sandbox)
    # Worked out here, not with the code under test: the first purchase + k x 28 days after now.
    next_charge = staffify.parse_datetime(number["purchased_at"])
    while next_charge <= now:
        next_charge += timedelta(days=28)
    days = -(-(next_charge - now) // timedelta(days=1))  # whole days, rounded up
    html = ops.get("/p/main/numbers/1001/").content.decode()
    assert f'datetime="{next_charge.isoformat().replace("+00:00", "Z")}"' in html
    assert f"in {days} day" in html
    assert 'id="number-1001"' in html  # the row with its actions


@pytest.mark.django_db
def test_a_pending_number_has_no_next_charge(ops, staffify_sandbox):
    html = ops.get("/p/main/numbers/1036/").content.decode()
    assert "<dt>Next charge</dt>" not in html
    assert "not renewing while pending release" in html
