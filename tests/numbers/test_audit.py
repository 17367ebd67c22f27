"""The audit log: every action and every refused or failed attempt, with who, when, what and how."""

import csv
import io
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from numbers_app.models import AuditEntry
from tests.helpers import HX
from tests.numbers.buying import buy, confirm, search, token_of


def only_entry(**filters) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(**filters))
    assert len(entries) == 1, entries
    return entries[0]


@pytest.mark.django_db
def test_an_assignment_is_recorded_with_before_and_after(support, staffify_sandbox):
    before = staffify_sandbox.get("/v1/phone-numbers/1001").json()
    support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    entry = only_entry(action="assign")
    assert (entry.username, entry.number_id, entry.phone_number, entry.outcome) == (
        "support",
        1001,
        before["phone_number"],
        "ok",
    )
    assert entry.before["agent_id"] == before["agent_id"] and entry.after["agent_id"] == 110
    assert entry.after["agent_name"] == "Survey Caller"


@pytest.mark.django_db
def test_unassign_tags_release_and_reclaim_are_recorded(ops, staffify_sandbox):
    ops.post("/p/main/numbers/1001/agent", {"agent_id": ""}, headers=HX)
    ops.post("/p/main/numbers/1001/tags", {"tags": "a, b"}, headers=HX)
    ops.post("/p/main/numbers/1001/release/confirm", headers=HX)
    ops.post("/p/main/numbers/1001/reclaim", headers=HX)
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "outcome"))
    assert actions == [("unassign", "ok"), ("tags", "ok"), ("release", "ok"), ("reclaim", "ok")]
    tags = only_entry(action="tags")
    assert tags.after["tags"] == ["a", "b"]
    release = only_entry(action="release")
    assert release.before["status"] == "active" and release.after["status"] == "pending_release"
    assert release.after["reclaim_before"]


@pytest.mark.django_db
def test_unassign_and_release_records_both(ops, staffify_sandbox):
    ops.post("/p/main/numbers/1002/release/confirm", {"unassign_first": "1"}, headers=HX)
    assert list(AuditEntry.objects.order_by("id").values_list("action", "outcome")) == [
        ("unassign", "ok"),
        ("release", "ok"),
    ]


@pytest.mark.django_db
def test_a_purchase_is_recorded(ops, staffify_sandbox):
    number = search(staffify_sandbox, country_code="NL", city_code="020", limit=1)[0]
    html = confirm(ops, number)
    buy(ops, number, token_of(html), address_id="7")
    entry = only_entry(action="buy")
    assert entry.outcome == "ok" and entry.number_id and entry.phone_number == number["phone_number"]
    assert entry.after["address_id"] == 7 and entry.after["city_code"] == "020"


@pytest.mark.django_db
def test_a_failed_call_is_recorded_with_the_staffify_error(support, staffify_sandbox):
    support.get("/p/main/")
    staffify_sandbox.post(
        "/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/phone-numbers/1001/assign"}
    )
    support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    entry = only_entry(action="assign")
    assert (entry.outcome, entry.http_status) == ("error", 503)
    assert entry.request_id.startswith("req_") and entry.error_code


@pytest.mark.django_db
def test_a_402_is_recorded(ops, staffify_sandbox):
    number = search(staffify_sandbox, country_code="US", limit=1)[0]
    html = confirm(ops, number)
    staffify_sandbox.put("/control/balance", json={"balance": 1})
    buy(ops, number, token_of(html))
    entry = only_entry(action="buy")
    assert (entry.outcome, entry.http_status, entry.error_code) == ("error", 402, "INSUFFICIENT_CREDITS")
    assert entry.number_id is None  # nothing was bought, so no number


@pytest.mark.django_db
def test_a_refused_role_is_recorded(lead, staffify_sandbox):
    lead.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    entry = only_entry(action="assign")
    assert (entry.outcome, entry.username, entry.number_id) == ("denied", "lead", 1001)


@pytest.mark.django_db
def test_invalid_input_is_recorded(support, staffify_sandbox):
    support.post("/p/main/numbers/1001/tags", {"tags": ", ".join(f"t{i}" for i in range(21))}, headers=HX)
    entry = only_entry(action="tags")
    assert entry.outcome == "invalid" and "At most 20 tags" in entry.message


@pytest.mark.django_db
def test_nothing_is_recorded_as_done_that_did_not_happen(support, staffify_sandbox):
    support.get("/p/main/")
    staffify_sandbox.post("/control/faults", json={"status": 500, "count": 5, "path_prefix": "/v1/phone-numbers/1001"})
    support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    assert not AuditEntry.objects.filter(outcome="ok").exists()


def _entries(ops_user, support_user):
    now = timezone.now()
    rows = [
        (ops_user, "buy", 1070, "+14155550101", "ok", now - timedelta(days=3)),
        (support_user, "assign", 1001, "+12125211128", "ok", now - timedelta(days=1)),
        (support_user, "tags", 1001, "+12125211128", "invalid", now - timedelta(hours=2)),
        (ops_user, "release", 1002, "+493058149019", "error", now),
    ]
    for user, action, number_id, phone, outcome, at in rows:
        AuditEntry.objects.create(
            user=user,
            username=user.username,
            action=action,
            number_id=number_id,
            phone_number=phone,
            outcome=outcome,
            at=at,
            before={"tags": ["=cmd|' /C calc'!A0"]},
            after={"tags": ["x"]},
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 4),
        ("user=support", 2),
        ("action=release", 1),
        ("outcome=ok", 2),
        ("number=1001", 2),
        ("number=4155550101", 1),
        ("number=%2B49", 1),
    ],
)
def test_the_log_filters(ops, ops_user, support_user, query, expected):
    _entries(ops_user, support_user)
    html = ops.get(f"/p/main/audit/?{query}", headers={**HX, "HX-Target": "audit-table"}).content.decode()
    assert html.count('<tr id="audit-') == expected


@pytest.mark.django_db
def test_the_log_filters_by_date_in_the_viewers_zone(ops, ops_user, support_user):
    _entries(ops_user, support_user)
    today = timezone.localdate()
    html = ops.get(f"/p/main/audit/?since={today - timedelta(days=1)}&until={today}").content.decode()
    assert html.count('<tr id="audit-') == 3
    bad = ops.get(f"/p/main/audit/?since={today}&until={today - timedelta(days=2)}").content.decode()
    assert "&#x27;From&#x27; is after &#x27;To&#x27;." in bad


@pytest.mark.django_db
def test_the_csv_has_what_the_filter_shows_and_cannot_run_formulas(ops, ops_user, support_user):
    _entries(ops_user, support_user)
    response = ops.get("/p/main/audit/?user=support&format=csv")
    assert response["Content-Disposition"].startswith('attachment; filename="staffify-audit-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["when (UTC)", "when (local)", "user", "action"]
    assert [r[2] for r in rows[1:]] == ["support", "support"]
    assert all(not cell.startswith("=") for row in rows for cell in row)
    assert rows[1][5] == "+12125211128"  # a phone number stays a phone number


@pytest.mark.django_db
def test_a_numbers_history_is_on_its_detail_page(support, staffify_sandbox):
    support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    html = support.get("/p/main/numbers/1001/").content.decode()
    assert "History through this dashboard" in html
    assert "agent: Sales Assistant → Survey Caller" in html


@pytest.mark.django_db
def test_the_admin_shows_the_log_read_only(admin_client, ops_user, support_user):
    _entries(ops_user, support_user)
    entry = AuditEntry.objects.first()
    assert admin_client.get("/admin/numbers/auditentry/").status_code == 200
    assert admin_client.get("/admin/numbers/auditentry/add/").status_code == 403
    assert admin_client.get(f"/admin/numbers/auditentry/{entry.pk}/delete/").status_code == 403
    page = admin_client.get(f"/admin/numbers/auditentry/{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in page


@pytest.mark.django_db
def test_times_show_in_the_viewers_zone_with_utc_on_hover(ops, ops_user, support_user):
    _entries(ops_user, support_user)
    entry = AuditEntry.objects.get(action="release")
    utc = entry.at.astimezone(UTC)
    ops.post("/account/preferences", {"time_zone": "America/New_York"})
    html = ops.get("/p/main/audit/").content.decode()
    local = entry.at.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert f'title="{utc:%Y-%m-%d %H:%M:%S} UTC"' in html
    assert f"{local:%H:%M:%S}" in html


@pytest.mark.django_db
def test_a_failed_change_says_what_was_asked(support, staffify_sandbox):
    support.get("/p/main/")
    staffify_sandbox.post(
        "/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/phone-numbers/1001/assign"}
    )
    support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    from numbers_app.audit.log import change_summary

    assert change_summary(only_entry(action="assign")) == "agent: Sales Assistant → Survey Caller (asked)"


@pytest.mark.django_db
def test_the_last_7_days_preset_keeps_the_other_filters(ops):
    from datetime import timedelta

    from django.utils import timezone

    since = (timezone.localdate() - timedelta(days=6)).isoformat()
    html = ops.get("/p/main/audit/?action=outside&until=2026-01-01").content.decode()
    assert f'href="/p/main/audit/?action=outside&amp;since={since}">Last 7 days</a>' in html
    html = ops.get(f"/p/main/audit/?since={since}").content.decode()
    assert 'aria-current="true">Last 7 days</a>' in html
