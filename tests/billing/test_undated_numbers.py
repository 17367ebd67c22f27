"""Billing when Staffify sends no purchase time (its documented number object has none): every active
number still counts in the 28-day figures (exactly), the 7-day figure is a bound, the runway is the
earliest date the balance could run out, and the warning follows it. Operations can then tell the
dashboard a number's purchase instant, on its page or from a CSV."""

import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from numbers_app import staffify
from numbers_app.mirror import store as mirror
from numbers_app.models import AuditEntry, NumberRecord
from tests.billing.test_billing_page import (
    amount,
    as_of,
    cell_instant,
    count,
    expected_next,
    numbers,
    page,
    purchased,
    row,
    runway,
    strip_purchase_time,
)
from tests.conftest import worker_reads_balance

pytestmark = pytest.mark.django_db

CYCLE = timedelta(days=28)
WEEK = timedelta(days=7)


def sync() -> None:
    """The worker's round: the mirror, and the balance the pages show."""
    assert mirror.sync(staffify.get_client()).state == "ok"
    worker_reads_balance()


@pytest.fixture
def undated(staffify_sandbox, monkeypatch):
    """The seeded account (57 active, 3 pending, EUR 42.50) as the documented API shows it: no dates."""
    strip_purchase_time(monkeypatch, {n["id"] for n in numbers(staffify_sandbox)})
    sync()
    assert not NumberRecord.objects.filter(purchased_at__isnull=False).exists()
    return staffify_sandbox


@pytest.mark.postgres
def test_an_undated_account_has_exact_28_day_totals_and_a_7_day_bound(lead, undated):
    html = page(lead)
    assert re.search(r'id="active-count">57<', html)
    assert amount(html, "cost-28") == Decimal("285.00")
    assert amount(html, "due-28") == Decimal("285.00")  # every active number is charged once in 28 days
    assert count(html, "due-28") == 57
    assert amount(html, "due-7") == Decimal("285.00")
    assert 'data-bound="upper">EUR 285.00' in html and '<span class="bound">up to</span>' in html
    assert "57 active numbers have an unknown purchase date" in html
    assert "the 7-day figure counts them all, so it is an upper bound" in html


@pytest.mark.postgres
def test_an_undated_account_runs_out_at_the_earliest_now_and_is_warned(lead, undated):
    html = page(lead)
    now = as_of(html)
    assert runway(html) == now  # EUR 42.50 covers 8 renewals: the 9th, were they all due now, is not covered
    assert 'data-bound="earliest"' in html and "as early as" in html
    alert = re.search(r'id="balance-alert">(.*?)</div>', html, re.S).group(1)
    assert (
        "The balance EUR 42.50 does not cover the up to EUR 285.00 due in the next 7 days; it runs out as early as"
        in alert
    )
    assert "57 numbers of unknown purchase date counted as renewing now" in alert


@pytest.mark.postgres
def test_the_earliest_runout_wraps_into_later_cycles(lead, undated):
    undated.put("/control/balance", json={"balance": 1000})  # 200 renewals covered: the 201st fails
    worker_reads_balance()
    html = page(lead)
    now = as_of(html)
    assert runway(html) == now + 3 * CYCLE  # 57 a cycle: the 201st is in the 4th cycle, at its earliest
    assert 'id="balance-alert"' not in html


@pytest.mark.postgres
def test_a_mixed_account_counts_undated_numbers_first_in_the_runway(lead, staffify_sandbox, monkeypatch):
    strip_purchase_time(monkeypatch, {1001, 1002})
    NumberRecord.objects.all().delete()
    sync()
    staffify_sandbox.put("/control/balance", json={"balance": 12})  # covers 2 renewals: the 3rd fails
    worker_reads_balance()
    html = page(lead)
    now = as_of(html)
    dated = [n for n in numbers(staffify_sandbox) if n["status"] == "active" and n["id"] not in (1001, 1002)]
    soonest = min(expected_next(n, now) for n in dated)
    assert runway(html) == soonest  # the two undated ones "renewed now", then the first dated charge
    in_week = [n for n in dated if expected_next(n, now) <= now + WEEK]
    assert amount(html, "due-7") == Decimal(5) * (len(in_week) + 2)
    assert amount(html, "due-28") == Decimal(5) * 57


def test_an_undated_row_says_it_was_bought_before_the_dashboard_first_saw_it(lead, undated):
    html = page(lead)
    record = NumberRecord.objects.get(staffify_id=1001)
    cells = row(html, 1001)
    assert "unknown: some time within 28 days" in cells
    assert "bought before" in cells
    bound = re.search(r'bought before <time datetime="([^"]+)"', cells).group(1)
    assert staffify.parse_datetime(bound) == record.first_seen_at


# --- the purchase instant, told by Operations ------------------------------------------------------


@pytest.mark.postgres
def test_operations_set_a_purchase_instant_on_the_number_page(ops, undated):
    truth = next(n for n in numbers(undated) if n["id"] == 1001)
    html = ops.get("/numbers/1001/").content.decode()
    assert 'id="purchase-time-form"' in html and "it was bought before then" in html
    local = purchased(truth).astimezone(ZoneInfo("Europe/Amsterdam"))
    response = ops.post("/numbers/1001/purchase-time", {"purchased_at": local.strftime("%Y-%m-%dT%H:%M:%S")})
    assert response.status_code == 302
    record = NumberRecord.objects.get(staffify_id=1001)
    assert record.purchased_at == purchased(truth).replace(microsecond=0)
    assert record.next_charge_at is not None
    entry = AuditEntry.objects.get(action="purchase_time", number_id=1001)
    assert entry.username == "ops" and entry.outcome == "ok"
    assert entry.before == {"purchased_at": None}
    html = page(ops)
    assert cell_instant(row(html, 1001), "Next charge") == expected_next(
        {"purchased_at": record.purchased_at.isoformat()}, as_of(html)
    )


@pytest.mark.postgres
def test_a_purchase_instant_after_the_first_sighting_is_refused(ops, undated):
    response = ops.post("/numbers/1001/purchase-time", {"purchased_at": "2099-01-01T10:00:00"})
    assert response.status_code == 400
    assert "That is in the future on Staffify&#x27;s clock." in response.content.decode()
    assert NumberRecord.objects.get(staffify_id=1001).purchased_at is None
    assert not AuditEntry.objects.filter(action="purchase_time", outcome="ok").exists()


@pytest.mark.parametrize("who", ["support", "lead"])
def test_only_operations_may_set_a_purchase_instant(request, who, undated):
    client = request.getfixturevalue(who)
    response = client.post("/numbers/1001/purchase-time", {"purchased_at": "2025-01-01T10:00:00"})
    assert response.status_code == 403
    assert NumberRecord.objects.get(staffify_id=1001).purchased_at is None
    assert AuditEntry.objects.get(action="purchase_time").outcome == "denied"
    assert client.get("/billing/purchase-times").status_code == 403


@pytest.mark.postgres
def test_a_csv_import_previews_then_applies(ops, undated):
    owned = {n["id"]: n for n in numbers(undated)}
    text = "\n".join(
        [
            "phone_number,purchased_at",
            f"{owned[1001]['phone_number']},{owned[1001]['purchased_at']}",
            f"{owned[1002]['phone_number']},not a date",
            "+19999999999,2025-01-01T00:00:00Z",
            f"{owned[1003]['phone_number']},2099-01-01T00:00:00Z",
            f"{owned[1004]['phone_number']},{owned[1004]['purchased_at']}",
            f"{owned[1001]['phone_number']},2025-01-01T00:00:00Z",
            "=cmd,2025-01-01T00:00:00Z",
        ]
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("times.csv", text.encode(), content_type="text/csv")
    html = ops.post("/billing/purchase-times", {"file": upload}).content.decode()
    assert 'data-changes="2" data-unchanged="0" data-errors="4" data-unknown="1"' in html
    assert "Line 3: “not a date” is no date and time" in html
    assert "Line 4: +19999999999" in html
    assert "Line 5: " in html and "That is in the future" in html
    assert "Line 7: " in html and "is on line 2 already" in html
    assert "Line 8: “=cmd” is no phone number" in html
    assert NumberRecord.objects.filter(purchased_at__isnull=False).count() == 0  # a preview writes nothing
    assert not AuditEntry.objects.filter(action="purchase_time").exists()

    response = ops.post("/billing/purchase-times", {"csv_text": text, "apply": "1"})
    assert response.status_code == 302
    for number_id in (1001, 1004):
        record = NumberRecord.objects.get(staffify_id=number_id)
        assert record.purchased_at == purchased(owned[number_id])
        assert record.next_charge_at is not None
    assert NumberRecord.objects.filter(purchased_at__isnull=False).count() == 2
    assert AuditEntry.objects.filter(action="purchase_time", outcome="ok").count() == 2
    html = page(ops)
    assert "55 active numbers have an unknown purchase date" in html


def test_an_import_without_the_header_is_explained(ops, undated):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("times.csv", b"+31201234567,2025-01-01T00:00:00Z\n", content_type="text/csv")
    html = ops.post("/billing/purchase-times", {"file": upload}).content.decode()
    assert "Line 1: The first line must name the columns: phone_number,purchased_at." in html
    assert "Nothing to save." in html
