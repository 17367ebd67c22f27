"""One date style in the viewer's zone (never a raw ISO timestamp), codes read as words, buttons named
with their number, and the owned list's purchase date, sortable."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from numbers_app.models import AuditEntry, NumberRecord, Preference
from numbers_app.text.presenters import format_phone

PURCHASED = re.compile(r'<td class="purchased">(?:<time datetime="([^"]+)")?')


def purchased_column(html: str) -> list[str | None]:
    return [value or None for value in PURCHASED.findall(html)]


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["purchased", "-purchased"])
def test_the_owned_list_shows_and_sorts_by_purchase_date(ops, mirrored, sort):
    html = ops.get(f"/?sort={sort}").content.decode()
    shown = purchased_column(html)
    assert len(shown) == 50
    dated = [value for value in shown if value]
    assert len(dated) >= 10, "the seed's numbers bought here have a purchase date"
    assert dated == sorted(dated, reverse=sort.startswith("-"))
    # Unknown dates come last either way (nulls last), after every known one.
    assert shown[: len(dated)] == dated
    state = "descending" if sort.startswith("-") else "ascending"
    assert f'<th scope="col" aria-sort="{state}"><a class="sort" href="?sort=' in html
    assert ">Purchased</a></th>" in html


@pytest.mark.django_db
def test_the_audit_log_shows_a_release_deadline_in_the_viewers_zone(ops, ops_user):
    Preference.objects.create(user=ops_user, time_zone="America/New_York")
    AuditEntry.objects.create(
        user=ops_user,
        username="ops",
        action="release",
        number_id=1002,
        phone_number="+493058149019",
        outcome="ok",
        at=datetime(2026, 11, 27, 12, 36, tzinfo=UTC),
        before={"status": "active"},
        after={"status": "pending_release", "reclaim_before": "2026-12-04T12:36:00+00:00"},
    )
    html = ops.get("/audit/").content.decode()
    change = re.search(r'<td data-label="Change">(.*?)</td>', html, re.S)
    assert change is not None
    assert change.group(1) == (
        'status: active → pending release (reclaimable until <time datetime="2026-12-04T12:36:00Z" '
        'title="2026-12-04 12:36:00 UTC">4 Dec 2026, 07:36 EST</time>)'
    )
    # The CSV keeps the instant as Staffify sent it, for machines.
    rows = list(csv.reader(io.StringIO(b"".join(ops.get("/audit/?format=csv").streaming_content).decode())))
    assert rows[1][6] == "status: active → pending release (reclaimable until 2026-12-04T12:36:00+00:00)"


@pytest.mark.django_db
def test_the_audit_logs_change_column_escapes_what_was_asked(ops, ops_user):
    AuditEntry.objects.create(
        user=ops_user, username="ops", action="tags", number_id=1001, outcome="invalid", after={"tags_text": "<b>x</b>"}
    )
    html = ops.get("/audit/").content.decode()
    assert "tags: asked for “&lt;b&gt;x&lt;/b&gt;” (asked)" in html
    assert "<b>x</b>" not in html


@pytest.mark.django_db
def test_a_pending_number_reads_pending_release_in_words(ops, mirrored):
    pending = NumberRecord.objects.filter(last_status="pending_release").order_by("staffify_id").first()
    assert pending is not None
    html = ops.get(f"/numbers/{pending.staffify_id}/").content.decode()
    assert "<dt>Status</dt><dd>pending release — " in html
    assert "pendingrelease" not in html


@pytest.mark.django_db
def test_row_buttons_are_named_with_their_number(ops, mirrored):
    html = ops.get("/").content.decode()
    active = NumberRecord.objects.get(staffify_id=1001)
    display = format_phone(active.phone_number)
    row = html[html.index('<tr id="number-1001"') :]
    row = row[: row.index("</tr>")]
    assert f'Release<span class="vh"> {display}</span></button>' in row
    assert f'<span class="vh">: edit the tags of {display}</span>' in row
    assert 'aria-label="Edit tags' not in html
    assert "<caption" in html


def test_an_address_status_reads_in_words_in_the_buy_dialog():
    from types import SimpleNamespace

    from django.template.loader import render_to_string

    address = SimpleNamespace(
        id=7,
        city_code="020",
        company_name="Acme",
        street_address="Dam 1",
        city="Amsterdam",
        status="partially_verified",
    )
    html = render_to_string(
        "numbers/_buy_dialog.html",
        {"addresses": [address], "country_code": "NL", "price": "5.00", "rules": {"CYCLE_DAYS": 28}},
    )
    assert "· Partially verified</option>" in html
    assert "Partiallyverified" not in html
