"""The billing table read as index-ordered segments gives exactly the order of the one sorted query it
replaced: dated numbers by next charge (then id), undated active ones, then the rest by reclaim deadline
(none last, then id), whatever window the paginator, the lists or the CSV ask for."""

from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.utils import timezone

from numbers_app.billing import statement
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberRecord

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def account():
    now = timezone.now()
    rows = []
    for i in range(12):  # dated, some sharing a next charge (ties go by id)
        due = now + timedelta(hours=5 * (i % 5) + 1)
        agent = None if i % 3 else 7
        rows.append(
            dict(staffify_id=100 + i, last_status="active", purchased_at=due - timedelta(days=28), next_charge_at=due)
            | {"agent_id": agent}
        )
    for i in range(4):  # undated active
        rows.append(dict(staffify_id=200 - i, last_status="active", next_charge_at=None))
    for i, hours in enumerate([30, None, 2, None, 30]):  # pending: by deadline, none last, then id
        deadline = now + timedelta(hours=hours) if hours is not None else None
        rows.append(dict(staffify_id=300 + i, last_status="pending_release", reclaim_before=deadline))
    rows.append(dict(staffify_id=400, last_status="active", next_charge_at=now, gone_at=now))  # gone: never shown
    for row in rows:
        NumberRecord.objects.create(phone_number=f"+1206555{row['staffify_id']:04d}", **row)
    return now


def expected_order(now) -> list[int]:
    def key(r: NumberRecord):
        group = 0 if r.next_charge_at else 1 if r.last_status == "active" else 2
        far = now + timedelta(days=10_000)
        return (r.next_charge_at or far, group, r.reclaim_before or far, r.staffify_id)

    return [r.staffify_id for r in sorted(mirror.owned(), key=key)]


def ids(rows) -> list[int]:
    return [r.staffify_id for r in rows]


def test_every_window_matches_the_one_sorted_order(account):
    now = account
    table = statement.table(mirror.owned(), now, statement.oldest_charge(mirror.owned()))
    assert len(table.segments) == 3  # nothing to roll forward: read by segments
    order = expected_order(now)
    assert len(order) == 21 and ids(table) == order
    for start in range(0, 24):
        for size in (1, 3, 5, 13, 50):
            assert ids(table[start : start + size]) == order[start : start + size], (start, size)
    assert table[12].staffify_id == order[12]
    with pytest.raises(IndexError):
        table[21]
    assert len(table) == 21
    assert [row[0] for row in table.values_list("staffify_id")] == order


def test_the_paginator_and_the_lists_read_the_same_order(account):
    now = account
    table = statement.table(mirror.owned(), now, statement.oldest_charge(mirror.owned()))
    order = expected_order(now)
    pages = Paginator(table, 5)
    assert sum((ids(pages.page(n).object_list) for n in pages.page_range), []) == order
    idle = [i for i in order if NumberRecord.objects.get(staffify_id=i).agent_id is None]
    idle = [i for i in idle if NumberRecord.objects.get(staffify_id=i).last_status == "active"]
    assert ids(table.filter(statement.IDLE)[:50]) == idle
    assert ids(statement.pending(mirror.owned())) == [i for i in order if i >= 300]


def test_with_charges_behind_the_clock_they_are_ordered_by_the_rolled_charge_apart(account):
    now = account + timedelta(hours=6)  # the first few charges are now behind
    oldest = statement.oldest_charge(mirror.owned())
    assert oldest <= now
    table = statement.table(mirror.owned(), now, oldest)
    assert len(table.segments) == 4  # due before the first rolled charge; from it on and the passed ones; ...
    before = ids(table)
    assert statement.roll_forward(mirror.owned(), now) == 6  # the worker rolls them forward, then 3 segments
    rolled = statement.table(mirror.owned(), now, statement.oldest_charge(mirror.owned()))
    assert len(rolled.segments) == 3
    assert ids(rolled) == before == expected_order(now)
    assert before[6:12] == [100, 105, 110, 101, 106, 111]  # the charges that were behind: last of the dated


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_sync_that_added_many_numbers_refreshes_postgresql_statistics(staffify_sandbox, monkeypatch):
    from numbers_app import staffify

    monkeypatch.setattr(mirror, "ANALYZE_AFTER", 10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_reset()")
    assert mirror.sync(staffify.get_client()).created >= 10
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN (%s, %s) AND last_analyze IS NOT NULL",
            [NumberRecord._meta.db_table, "numbers_numbertag"],
        )
        assert cursor.fetchone()[0] == 2
