"""Billing from figures kept with the mirror (statement.figures): one pass over the mirror per mirror
version, not per page load; every change to the mirror (a write, a sync, the worker rolling charges
forward) gives figures equal to those computed afresh."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from numbers_app import tasks
from numbers_app.models import NumberRecord
from tests.billing.test_billing_page import amount, as_of, page
from tests.helpers import HX, advance_to

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def idle(html: str) -> int:
    found = re.search(r'id="idle-summary" data-count="(\d+)"', html)
    return int(found.group(1)) if found else 0


def chart(html: str) -> list[str]:
    return re.findall(r'<text class="amount[^"]*"[^>]*>([\d.]+)</text>', html)


def figures(html: str) -> tuple:
    return amount(html, "due-7"), amount(html, "due-28"), amount(html, "cost-28"), idle(html), chart(html)


def afresh(client) -> tuple:
    """The same page with nothing kept: what the figures must equal."""
    cache.delete_many([k for k in cache._cache if "billing:figures" in k])  # type: ignore[attr-defined]  # locmem
    return figures(page(client))


def test_a_second_load_reads_no_whole_table(lead, mirrored):
    page(lead)
    with CaptureQueriesContext(connection) as queries:
        html = page(lead)
    whole = [
        q["sql"]
        for q in queries
        if "GROUP BY" in q["sql"] or 'COUNT("numbers_numberrecord"."id") AS "numbers"' in q["sql"]
    ]
    assert whole == [], whole
    assert figures(html) == afresh(lead)


def test_a_write_through_the_dashboard_changes_the_kept_figures(lead, ops, mirrored):
    before = page(lead)
    record = NumberRecord.objects.filter(last_status="active", agent_id__isnull=True).first()
    assert ops.post(f"/numbers/{record.staffify_id}/agent", {"agent_id": "110"}, headers=HX).status_code == 200
    after = page(lead)
    assert idle(after) == idle(before) - 1
    assert figures(after) == afresh(lead)


def test_the_worker_rolling_charges_forward_changes_the_kept_figures(lead, mirrored):
    now = as_of(page(lead))
    advance_to(mirrored, now + timedelta(days=3))  # charges of the next 3 days pass: behind Staffify's clock
    behind = figures(page(lead))  # kept, with the charges behind now rolled forward in the read
    assert tasks.roll_charges_forward.call() > 0
    rolled = page(lead)
    assert figures(rolled)[:4] == behind[:4]
    assert figures(rolled) == afresh(lead)
