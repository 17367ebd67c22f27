"""Billing nets scheduled releases: a number released before its next charge is never charged again,
so the 7- and 28-day totals, the runway and the chart leave it out, with the gross beside them."""

from datetime import timedelta

import pytest

from numbers_app.billing import statement
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberRecord, ScheduledRelease
from numbers_app.scheduled import releases
from numbers_app.staffify import lookups
from tests.billing.test_billing_page import amount, count, page, set_balance

pytestmark = pytest.mark.django_db


def soonest_dated(now) -> NumberRecord:
    found = mirror.owned().filter(statement.DATED, next_charge_at__gt=now).order_by("next_charge_at").first()
    assert found is not None
    return found


def test_the_totals_are_net_of_a_scheduled_release_with_the_gross_beside(lead, ops_user, mirrored):
    set_balance(mirrored, "12.00")
    before = page(lead)
    gross_28, gross_7 = amount(before, "due-28"), amount(before, "due-7")
    assert "due-28-gross" not in before  # nothing scheduled: one figure
    now = lookups.staffify_now()
    record = soonest_dated(now)
    assert record.next_charge_at <= now + timedelta(days=7), "the seed has a renewal this week"
    releases.schedule(record, ops_user, unassign_first=True, now=now)
    html = page(lead)
    assert amount(html, "due-28") == gross_28 - 5
    assert amount(html, "due-7") == gross_7 - 5
    assert amount(html, "due-28-gross") == gross_28 and amount(html, "due-7-gross") == gross_7
    assert "net of scheduled releases" in html
    assert count(html, "due-28") == count(before, "due-28") - 1


def test_the_runway_and_the_chart_leave_the_released_number_out(lead, ops_user, mirrored):
    now = lookups.staffify_now()
    first = soonest_dated(now)
    set_balance(mirrored, "0.00")  # the first renewal after now is the one the balance cannot cover
    gross = page(lead)
    releases.schedule(first, ops_user, unassign_first=True, now=now)
    html = page(lead)
    assert 'id="runway-gross"' in html
    runway_gross = gross.split('id="runway" data-at="')[1].split('"')[0]
    runway_net = html.split('id="runway" data-at="')[1].split('"')[0]
    assert runway_net > runway_gross
    assert "left out" in html  # the chart's caption says it is net


def test_a_scheduled_release_whose_charge_passed_is_not_netted(lead, ops_user, mirrored):
    now = lookups.staffify_now()
    record = soonest_dated(now)
    releases.schedule(record, ops_user, unassign_first=True, now=now)
    ScheduledRelease.objects.update(charge_at=now - timedelta(minutes=1))  # late: the charge was made
    assert statement.net_of_scheduled(mirror.owned(), now).filter(pk=record.pk).exists()
