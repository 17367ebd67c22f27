"""Billing from the mirror on an account bigger than a page: 0 Staffify calls for the numbers, 50 rows a
page in the order of the next charge, bounded lists, and a streamed CSV of every number."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from numbers_app import staffify
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberRecord
from tests.billing.test_billing_page import amount, as_of, cell_instant, expected_next, numbers, page, row, row_ids
from tests.conftest import sandbox_numbers

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CYCLE = timedelta(days=28)


@pytest.fixture
def grown(staffify_sandbox):
    """The demo account grown to 260 numbers, walked into the mirror."""
    from sandbox import grow

    grow.grow(numbers=260, agents=None)
    assert mirror.sync(staffify.get_client()).state == "ok"
    return staffify_sandbox


def test_the_table_is_paginated_at_50_in_next_charge_order_over_the_whole_account(lead, grown):
    owned = sandbox_numbers(grown)
    assert len(owned) == 260
    first = page(lead)
    assert len(row_ids(first)) == 50
    assert "Page 1 of 6" in first and 'href="?page=2" rel="next"' in first
    ids, dues = [], []
    for n in range(1, 7):
        html = page(lead, f"page={n}")
        ids += row_ids(html)
        dues += [cell_instant(row(html, i), "Next charge") for i in row_ids(html)]
    assert sorted(ids) == sorted(n["id"] for n in owned)  # every number once
    dated = [d for d in dues if d is not None]
    assert dated == sorted(dated) and dues[: len(dated)] == dated  # soonest first, then the rest
    now = as_of(first)
    by_id = {n["id"]: n for n in owned}
    for number_id, due in zip(ids, dues, strict=True):
        if by_id[number_id]["status"] == "active":
            assert due == expected_next(by_id[number_id], now)


def test_the_totals_count_the_whole_account_not_the_page(lead, grown):
    active = [n for n in sandbox_numbers(grown) if n["status"] == "active"]
    html = page(lead)
    assert re.search(rf'id="active-count">{len(active)}<', html)
    assert amount(html, "cost-28") == amount(html, "due-28") == Decimal(5) * len(active)
    now = as_of(html)
    in_week = [n for n in active if expected_next(n, now) <= now + timedelta(days=7)]
    assert amount(html, "due-7") == Decimal(5) * len(in_week)


def test_the_filters_and_pages_work_together(lead, grown):
    idle = [n for n in sandbox_numbers(grown) if n["status"] == "active" and n["agent_id"] is None]
    assert len(idle) > 50
    html = page(lead, "agent=none&page=2")
    assert "Page 2 of" in html and 'href="?agent=none&amp;page=1" rel="prev"' in html


def test_the_idle_list_is_bounded_and_links_to_the_owned_list(lead, grown):
    idle = [n for n in sandbox_numbers(grown) if n["status"] == "active" and n["agent_id"] is None]
    html = page(lead)
    section = re.search(r'id="paying-for-nothing".*?</section>', html, re.S).group(0)
    assert len(re.findall(r'<tr id="idle-\d+"', section)) == 50
    assert f'data-count="{len(idle)}"' in section
    assert f'The first 50 of {len(idle)}, soonest charge first. <a href="/?status=active&amp;agent=none">' in section
    assert len(lead.get("/?status=active&agent=none").content.decode().split('<tr id="number-')) > 1


def test_the_csv_streams_every_number_with_no_staffify_call(lead, grown):
    with staffify.track_calls() as stats:
        response = lead.get("/billing/?format=csv")
        assert response.streaming
        body = b"".join(response.streaming_content).decode()
    assert stats.calls == 0
    header, *lines = list(csv.reader(io.StringIO(body)))
    assert header[0] == "number"
    assert len(lines) == 260 == NumberRecord.objects.count()
    assert sorted(line[0] for line in lines) == sorted(n["phone_number"] for n in sandbox_numbers(grown))


def test_the_page_makes_no_staffify_call_whatever_the_account_size(lead, grown):
    with staffify.track_calls() as stats:
        page(lead, "page=3")
    assert stats.calls == 0  # the numbers from the mirror, the balance as the worker read it


def test_a_stale_next_charge_is_rolled_forward_on_staffifys_clock(lead, mirrored):
    """The sandbox's clock runs 40 days and 5 hours ahead and no sync has run since: the mirror's
    next_charge_at are in the past; the page rolls each forward by whole cycles."""
    from tests.billing.test_billing_page import every_page
    from tests.helpers import advance_to

    before = as_of(page(lead))
    advance_to(mirrored, before + timedelta(days=40, hours=5))
    assert NumberRecord.objects.filter(next_charge_at__lte=before + timedelta(days=40)).exists()
    html = every_page(lead)
    now = as_of(html)
    active = [n for n in numbers(mirrored) if n["status"] == "active"]
    for number in active:
        assert cell_instant(row(html, number["id"]), "Next charge") == expected_next(number, now)
    in_week = [n for n in active if expected_next(n, now) <= now + timedelta(days=7)]
    assert amount(html, "due-7") == Decimal(5) * len(in_week)
    svg_amounts = re.findall(r'<text class="amount[^"]*"[^>]*>([\d.]+)</text>', html)
    assert sum(Decimal(a) for a in svg_amounts) == Decimal(5) * len(active)


def test_a_charge_exactly_now_has_been_made(db):
    from numbers_app.billing import statement

    now = staffify.parse_datetime("2026-03-01T12:00:00Z")
    NumberRecord.objects.create(staffify_id=1, phone_number="+15550000001", last_status="active", next_charge_at=now)
    NumberRecord.objects.create(
        staffify_id=2, phone_number="+15550000002", last_status="active", next_charge_at=now - 3 * CYCLE
    )
    NumberRecord.objects.create(
        staffify_id=3,
        phone_number="+15550000003",
        last_status="active",
        next_charge_at=now - CYCLE + timedelta(seconds=1),
    )
    records = mirror.owned()
    rows = statement.table(records, now, statement.oldest_charge(records))
    assert {r.staffify_id: r.effective for r in rows} == {  # type: ignore[attr-defined]  # annotated
        1: now + CYCLE,
        2: now + CYCLE,
        3: now + timedelta(seconds=1),
    }
