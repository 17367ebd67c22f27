"""Every date a person types is bounded, with a sentence: the audit log's filters (and its CSV, never
silently empty for a bad filter), a number's purchase time and the purchase-time CSV. Dates at the ends
of Python's calendar (0001-01-01, 9999-12-31) once overflowed into 500s when moved to UTC."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from numbers_app.models import AuditEntry, NumberRecord, Preference

pytestmark = pytest.mark.django_db

BOUNDS = "Choose a date between 1 January 2000 and 31 December 2099."


@pytest.fixture
def in_los_angeles(lead_user):
    Preference.objects.create(user=lead_user, time_zone="America/Los_Angeles")


@pytest.mark.parametrize("query", ["since=0001-01-01", "until=0001-01-01", "since=9999-12-31", "until=9999-12-31"])
def test_the_audit_filter_says_the_bounds(lead, in_los_angeles, query):
    response = lead.get(f"/p/main/audit/?{query}")
    assert response.status_code == 200
    assert BOUNDS in response.content.decode()


def test_the_audit_filter_takes_a_date_within_the_bounds(lead, in_los_angeles, lead_user):
    AuditEntry.objects.create(user=lead_user, username="lead", action="assign", outcome="ok", number_id=1)
    response = lead.get("/p/main/audit/?since=2000-01-01&until=2099-12-31")
    assert response.status_code == 200 and BOUNDS not in response.content.decode()
    assert 'data-action="assign"' in response.content.decode() or "Assign" in response.content.decode()


@pytest.mark.parametrize(
    "query", ["until=9999-12-31", "since=0001-01-01", "since=2026-02-30", "since=2026-03-02&until=2026-03-01"]
)
def test_the_audit_csv_refuses_a_bad_filter_with_its_sentence(lead, in_los_angeles, query):
    response = lead.get(f"/p/main/audit/?format=csv&{query}")
    assert response.status_code == 400
    said = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
    assert "The export was not made" in said
    assert "when (UTC)" not in said  # not an empty export that looks like "nothing happened"


@pytest.fixture
def owned(ops, staffify_sandbox, ops_user):
    from numbers_app import staffify
    from numbers_app.mirror import store as mirror

    Preference.objects.create(user=ops_user, time_zone="America/Los_Angeles")
    assert mirror.sync(staffify.get_client()).state == "ok"
    return NumberRecord.objects.filter(last_status="active").order_by("staffify_id").first()


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1999-12-31T23:59:59Z"])
def test_the_purchase_time_csv_bounds_each_line(ops, owned, instant):
    assert owned.phone_number == "+12125211128"  # the probe's line: an owned number
    text = f"phone_number,purchased_at\n+12125211128,{instant}\n+19995550100,{instant}\n"
    upload = SimpleUploadedFile("times.csv", text.encode(), content_type="text/csv")
    response = ops.post("/p/main/billing/purchase-times", {"file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Line 2: “{instant}”: {BOUNDS}" in html
    assert f"Line 3: “{instant}”: {BOUNDS}" in html


@pytest.mark.parametrize("typed", ["0001-01-01T00:00:00", "9999-12-31T23:59:59"])
def test_a_numbers_purchase_time_is_bounded(ops, owned, typed):
    response = ops.post(f"/p/main/numbers/{owned.staffify_id}/purchase-time", {"purchased_at": typed})
    assert response.status_code == 400
    assert BOUNDS in response.content.decode()
    assert not AuditEntry.objects.filter(action="purchase_time").exists()
