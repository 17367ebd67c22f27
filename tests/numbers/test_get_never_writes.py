"""A page only reads: a GET of the billing page, the costs and agents pages or of a number's page writes
nothing to the dashboard's own tables. The number's page refreshes the number's mirror row only when
Staffify reports something that differs from it, and moves the mirror's version (which throws away the
owned list's cached counts) only when what changed is something those counts depend on."""

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from numbers_app import staffify
from numbers_app.billing import statement
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberRecord, NumberTag, Project
from numbers_app.scheduled import releases
from numbers_app.staffify import lookups
from tests.billing.test_billing_page import (
    advance_to,
    amount,
    as_of,
    cell_instant,
    count,
    every_page,
    page,
    read_csv,
    row,
    row_ids,
    runway,
    set_balance,
)

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def dashboard_writes(queries) -> list[str]:
    """The statements that changed the dashboard's own tables (the in-process sandbox stands in for
    Staffify: what it writes is Staffify's business)."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(WRITES) and "sandbox_" not in q["sql"].split("(")[0]
    ]


def get(client, path: str) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200
    return body.decode(), dashboard_writes(queries.captured_queries)


# --- the number's page ---------------------------------------------------------------------------


def test_the_number_page_writes_nothing_when_staffify_says_what_the_mirror_says(ops, mirrored):
    version = mirror.version()
    before = NumberRecord.objects.get(staffify_id=1001)

    html, writes = get(ops, "/p/main/numbers/1001/")

    assert 'id="number-1001"' in html
    assert writes == []
    assert mirror.version() == version  # the list's cached counts are kept
    assert NumberRecord.objects.get(staffify_id=1001).last_seen_at == before.last_seen_at


def test_the_number_page_refreshes_its_row_when_staffify_reports_a_change(ops, mirrored):
    mirrored.put("/v1/phone-numbers/1001/assign", json={"agent_id": 106})  # changed outside the dashboard
    version = mirror.version()

    html, writes = get(ops, "/p/main/numbers/1001/")

    assert writes  # the row follows what Staffify said
    record = NumberRecord.objects.get(staffify_id=1001)
    assert record.agent_id == 106
    assert mirror.version() > version  # an agent filter's count changed: the cached counts go

    _, again = get(ops, "/p/main/numbers/1001/")
    assert again == []  # now the row says what Staffify says


def test_a_change_no_count_depends_on_keeps_the_counts(mirrored):
    record = NumberRecord.objects.get(staffify_id=1001)
    number = replace(mirror.as_number(record), agent_name="Renamed outside", number_type="toll_free")
    version = mirror.version()

    refreshed = mirror.refresh_if_changed(number)

    assert (refreshed.agent_name, refreshed.number_type) == ("Renamed outside", "toll_free")
    assert NumberRecord.objects.get(staffify_id=1001).agent_name == "Renamed outside"
    assert mirror.version() == version  # names and types are no filter: every count still holds


def test_a_number_the_mirror_does_not_know_is_added(mirrored):
    number = staffify.PhoneNumber(id=999_001, phone_number="+12065550199", status="active", tags=("new",))
    version = mirror.version()

    record = mirror.refresh_if_changed(number)

    assert record.pk and mirror.owned().filter(staffify_id=999_001).exists()
    assert list(NumberTag.objects.filter(tag="new").values_list("staffify_id", flat=True)) == [999_001]
    assert mirror.version() > version


# --- the billing page ----------------------------------------------------------------------------


def test_the_billing_page_writes_nothing_though_charges_are_behind_the_clock(lead, mirrored):
    now = as_of(page(lead))
    advance_to(mirrored, now + timedelta(days=3))  # some renewals happened since the sync
    assert NumberRecord.objects.filter(last_status="active", next_charge_at__lte=now + timedelta(days=3)).exists()

    _, writes = get(lead, "/p/main/billing/")
    assert writes == []
    _, writes = get(lead, "/p/main/billing/?page=2")
    assert writes == []
    _, writes = get(lead, "/p/main/billing/?format=csv")
    assert writes == []


def test_the_billing_figures_are_those_of_a_rolled_forward_mirror(lead, mirrored):
    """What the page shows with charges behind the clock is what it shows once the worker has rolled
    them forward in the mirror (numbers_app.tasks.roll_charges_forward)."""
    from numbers_app import tasks

    set_balance(mirrored, 700)  # a runway a few cycles out
    later = as_of(page(lead)) + timedelta(days=10, hours=5)
    advance_to(mirrored, later)
    read_only = figures(every_page(lead))
    read_only_csv = csv_rows(lead)
    behind = NumberRecord.objects.filter(last_status="active", next_charge_at__lte=later)
    renewed = behind.count()
    assert renewed > 10  # renewed since the sync: the page rolled them forward in its reads only

    assert tasks.roll_charges_forward.call() == renewed
    assert not behind.exists()
    rolled = figures(every_page(lead))

    assert read_only == rolled
    assert read_only_csv == csv_rows(lead)
    assert len(read_only["table"]) == 60 and read_only["runway"] is not None


def test_the_costs_and_agents_pages_write_nothing(lead, ops_user, mirrored):
    Project.configured()  # the served projects' rows are made when first read (once), not by these pages
    now = lookups.staffify_now()
    record = mirror.owned().filter(statement.DATED, next_charge_at__gt=now).first()
    assert record is not None
    releases.schedule(record, ops_user, unassign_first=True, now=now)  # what billing and costs net
    for path in [
        "/p/main/billing/costs",
        "/p/main/billing/costs?group=tag&start=2026-01-01",
        "/p/main/billing/costs?group=country&format=csv",
        "/p/main/agents/",
        "/p/main/billing/",
    ]:
        _, writes = get(lead, path)
        assert writes == [], path


def csv_rows(client) -> list[list[str]]:
    """The CSV's rows in order, without "days until" (it counts from the instant of the download)."""
    header, rows, _ = read_csv(client)
    days = header.index("days until")
    return [row[:days] + row[days + 1 :] for row in rows]


def figures(html: str) -> dict:
    """What the billing page says, without the instant it was read at (which moves between loads)."""
    return {
        "table": [(i, cell_instant(row(html, i), "Next charge")) for i in row_ids(html)],
        "due_7": (amount(html, "due-7"), count(html, "due-7")),
        "due_28": amount(html, "due-28"),
        "chart": re.findall(r'<text class="amount[^"]*"[^>]*>([\d.]+)</text>', html),
        "idle": re.findall(r'<tr id="idle-(\d+)"', html),
        "runway": runway(html),
    }


def test_the_worker_rolls_the_charges_forward_every_minute(settings):
    from numbers_app import tasks
    from numbers_app.schedule import REGISTRY

    assert REGISTRY[tasks.roll_charges_forward.module_path].seconds == settings.BILLING_ROLL_SECONDS == 60
