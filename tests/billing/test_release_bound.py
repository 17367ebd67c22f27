"""A number released outside the dashboard, first seen already pending release, with no deadline from
Staffify (the documented number object has none): it was released before the dashboard first saw it,
so its deadline is at most first seen + 7 days. Rows, the number page and billing show that bound,
labelled as one, with a countdown."""

import re
from datetime import timedelta

import pytest

from numbers_app import staffify
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberRecord

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PENDING = (1006, 1021, 1036)


@pytest.fixture
def undated_releases(staffify_sandbox, monkeypatch):
    original = staffify.PhoneNumber.from_api.__func__  # type: ignore[attr-defined]  # the classmethod's function

    def without(cls, data):
        return original(cls, {k: v for k, v in data.items() if k != "reclaim_before"})

    monkeypatch.setattr(staffify.PhoneNumber, "from_api", classmethod(without))
    assert mirror.sync(staffify.get_client()).state == "ok"
    return staffify_sandbox


def bound_of(number_id: int):
    record = NumberRecord.objects.get(staffify_id=number_id)
    assert record.reclaim_before is None and record.last_status == "pending_release"
    return record.first_seen_at + timedelta(days=7)


def test_the_list_row_shows_the_latest_possible_deadline_as_a_bound(ops, undated_releases):
    html = ops.get("/p/main/?status=pending_release").content.decode()
    for number_id in PENDING:
        row = re.search(rf'<tr id="number-{number_id}".*?</tr>', html, re.S).group(0)
        deadline = bound_of(number_id)
        stamp = re.search(r'data-bound="latest" data-deadline="([^"]+)"', row).group(1)
        assert staffify.parse_datetime(stamp) == deadline
        assert "At most:" in row and "reclaim before at most" in row
        assert "the real deadline may be earlier" in row
        assert "Deadline unknown" not in row


def test_the_number_page_says_reclaim_before_at_most(ops, undated_releases):
    html = ops.get("/p/main/numbers/1006/").content.decode()
    said = re.search(r'<span id="reclaim-bound">(.*?)</span>', html).group(1)
    assert said.startswith("reclaim before at most ")
    assert "a bound: it was released outside this dashboard before" in html
    assert 'data-bound="latest"' in html  # the row's countdown


def test_billing_lists_the_bound_for_pending_numbers(lead, undated_releases):
    html = lead.get("/p/main/billing/").content.decode()
    section = re.search(r'id="pending-release".*?</section>', html, re.S).group(0)
    for number_id in PENDING:
        row = re.search(rf'<tr id="pending-{number_id}".*?</tr>', section, re.S).group(0)
        assert '<span class="bound">at most</span>' in row
        stamp = re.search(r'<time datetime="([^"]+)"', row).group(1)
        assert staffify.parse_datetime(stamp) == bound_of(number_id)


def test_a_known_deadline_is_shown_as_the_deadline(ops, staffify_sandbox):
    assert mirror.sync(staffify.get_client()).state == "ok"
    html = ops.get("/p/main/?status=pending_release").content.decode()
    row = re.search(r'<tr id="number-1006".*?</tr>', html, re.S).group(0)
    assert "at most" not in row and "data-countdown" in row


def test_a_number_released_elsewhere_after_a_sync_is_bounded_by_the_sync_that_found_it(ops, undated_releases):
    first_seen = NumberRecord.objects.get(staffify_id=1001).first_seen_at
    undated_releases.delete("/v1/phone-numbers/1001/assign")
    assert undated_releases.delete("/v1/phone-numbers/1001").status_code == 200  # released in Staffify's console
    run = mirror.sync(staffify.get_client())
    record = NumberRecord.objects.get(staffify_id=1001)
    assert record.last_status == "pending_release" and record.reclaim_before is None
    assert run.started_at < record.pending_seen_at and record.first_seen_at == first_seen
    html = ops.get("/p/main/?status=pending_release").content.decode()
    row = re.search(r'<tr id="number-1001".*?</tr>', html, re.S).group(0)
    stamp = re.search(r'data-bound="latest" data-deadline="([^"]+)"', row).group(1)
    assert staffify.parse_datetime(stamp) == record.pending_seen_at + timedelta(days=7)
