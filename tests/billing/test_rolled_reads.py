"""The billing page reads charges Staffify's clock has passed without writing them: the rows due before
the earliest rolled-forward charge are read in the index's order, and only the passed rows and those due
from that charge on are ordered by the rolled charge in SQL (statement.charge_order). Every window,
filter, the CSV's values and the runway equal what a rolled-forward mirror gives."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from numbers_app import cycles
from numbers_app.billing import statement
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberRecord

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CYCLE = timedelta(days=28)


def create(staffify_id: int, **fields) -> None:
    NumberRecord.objects.create(staffify_id=staffify_id, phone_number=f"+1206555{staffify_id:04d}", **fields)


def dated(staffify_id: int, due, agent_id=None) -> None:
    create(staffify_id, last_status="active", purchased_at=due - CYCLE, next_charge_at=due, agent_id=agent_id)


@pytest.fixture
def account():
    """37 numbers: dated ones due over the next 28 days, some sharing a next charge; 9 whose charge
    passed since the mirror set it (one exactly a cycle ago, one nearly 3 cycles ago); undated active
    ones; pending ones."""
    now = timezone.now()
    for i in range(24):
        dated(100 + i, now + timedelta(hours=29 * (i % 12) + 1), None if i % 3 else 7)  # pairs share a charge
    for i, hours_ago in enumerate([1, 1, 5, 30, 200, 600, 24 * 28, 24 * 28 + 1, 24 * 80]):
        dated(150 + i, now - timedelta(hours=hours_ago), None if i % 2 else 8)
    for i in range(2):
        create(200 + i, last_status="active", next_charge_at=None)
    for i, hours in enumerate([30, 2]):
        create(300 + i, last_status="pending_release", reclaim_before=now + timedelta(hours=hours))
    return now


def charges(rows) -> list:
    return [(r.staffify_id, r.effective) for r in rows]


def by_hand(now) -> list:
    """The table's order worked out here: each passed charge moved on by whole cycles past NOW."""

    def charge(r: NumberRecord):
        if r.next_charge_at is None:
            return None
        due = r.next_charge_at
        while due <= now:
            due += CYCLE
        return due

    far = now + timedelta(days=10_000)

    def key(r: NumberRecord):
        group = 0 if r.next_charge_at else 1 if r.last_status == "active" else 2
        return (charge(r) or far, group, r.reclaim_before or far, r.staffify_id)

    return [(r.staffify_id, charge(r)) for r in sorted(mirror.owned(), key=key)]


def test_every_window_and_filter_reads_the_rolled_forward_order(account):
    now, records = account, mirror.owned()
    oldest = statement.oldest_charge(records)
    assert oldest < now

    table = statement.table(records, now, oldest)

    everything = by_hand(now)
    assert len(table.segments) == 4 and len(everything) == 37
    assert charges(table) == everything
    assert len(table) == 37
    for start in range(0, 40):
        for size in (1, 2, 7, 13, 50):
            assert charges(table[start : start + size]) == everything[start : start + size], (start, size)
    idle = [(i, due) for i, due in everything if NumberRecord.objects.filter(statement.IDLE, staffify_id=i).exists()]
    assert charges(table.filter(statement.IDLE)[:50]) == idle
    agent = [(i, due) for i, due in everything if NumberRecord.objects.get(staffify_id=i).agent_id == 8]
    assert charges(statement.table(records.filter(agent_id=8), now, oldest)) == agent
    assert list(table.values_list("staffify_id", "effective")) == everything


def test_the_reads_equal_a_rolled_forward_mirror_and_write_nothing(account):
    now, records = account, mirror.owned()
    oldest = statement.oldest_charge(records)
    balances = [Decimal(b) for b in range(0, 400, 5)]
    with CaptureQueriesContext(connection) as queries:
        read = charges(statement.table(records, now, oldest))
        totals = statement.totals(records, now, oldest)
        runways = [statement.runway(b, records, totals, now, oldest) for b in balances]
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]

    assert statement.roll_forward(records, now) == 9  # what the worker does (tasks.roll_charges_forward)

    oldest = statement.oldest_charge(records)
    assert oldest > now
    assert charges(statement.table(records, now, oldest)) == read
    totals = statement.totals(records, now, oldest)
    assert [statement.runway(b, records, totals, now, oldest) for b in balances] == runways
    assert any(runways)


def test_only_the_charges_passed_since_the_worker_ran_are_ordered_apart(db):
    """The usual case: the worker rolled the mirror forward a minute ago, so the rows renewed since are
    the only ones ordered by their rolled charge; every other is read in the index's order."""
    now = timezone.now()
    for i in range(30):
        dated(100 + i, now + timedelta(hours=20 * i + 1))
    dated(200, now - timedelta(minutes=1))
    dated(201, now - timedelta(minutes=2))
    records = mirror.owned()
    oldest = statement.oldest_charge(records)

    with CaptureQueriesContext(connection) as queries:
        table = statement.table(records, now, oldest)
        page = table[0:20]
    head, tail, *_ = table.segments

    assert [r.staffify_id for r in page] == [100 + i for i in range(20)]
    assert tail.count() == 2  # the two renewed since: due a cycle on, last
    last = table[30:32]
    assert [r.staffify_id for r in last] == [201, 200]
    assert charges(last)[1] == (200, cycles.cycle_at(now - timedelta(minutes=1), now).end)
    assert "CASE" not in queries.captured_queries[-1]["sql"].upper()  # page 1 read from the index's order


@pytest.mark.parametrize("passed", [True, False], ids=["charges passed", "rolled forward"])
def test_the_runways_nth_charge_skips_quarter_hours_and_equals_the_tables_order(account, passed):
    """The runway's k-th dated charge, found from the quarter hours kept with the mirror, is the one at
    that place in the table's order, at every place, gross and net of scheduled releases (a release
    takes its number out of the order), with charges behind NOW and once the worker rolled them."""
    from numbers_app.models import ScheduledRelease

    now = account
    records = mirror.owned()
    for i in range(3):  # 10 more due in one quarter hour: the skipping lands inside a busy one
        dated(400 + i, statement._slot_edge(now + timedelta(days=3), up=True) + timedelta(minutes=i))
    if not passed:
        statement.roll_forward(records, now)
        mirror.changed()
    released = [100, 105, 151, 401]
    for staffify_id in released:
        record = NumberRecord.objects.get(staffify_id=staffify_id)
        assert record.next_charge_at is not None
        due = record.next_charge_at if record.next_charge_at > now else now + timedelta(minutes=5)
        ScheduledRelease.objects.create(
            staffify_id=staffify_id, phone_number=record.phone_number, charge_at=due, run_at=due - timedelta(hours=1)
        )
    dated_order = [(sid, due) for sid, due in by_hand(now) if due is not None]
    oldest = statement.oldest_charge(records)
    assert (oldest <= now) is passed
    for netted in (False, True):
        expected = [due for sid, due in dated_order if not (netted and sid in released)]
        found = [statement._nth_charge(records, now, oldest, i, netted) for i in range(len(expected) + 1)]
        assert found == [*expected, None], netted
        project = NumberRecord.objects.values_list("project_id", flat=True).first()
        per_project = [
            statement._nth_charge(records, now, oldest, i, netted, [project or 0]) for i in range(len(expected))
        ]
        assert per_project == expected
        if not passed:  # nothing behind NOW: every place is found from the kept quarter hours alone
            shown = statement.net_of_scheduled(records, now) if netted else records
            by_slots = [statement._nth_by_slots(records, shown, now, i, None, netted) for i in range(len(expected))]
            assert by_slots == expected
