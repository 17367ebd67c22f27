"""Next charges that Staffify's clock has passed are moved forward in the mirror itself, on each number's
own 28-day grid, so the billing figures read the plain column (statement.roll_forward)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from numbers_app.billing import statement
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberRecord

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CYCLE = timedelta(days=28)


def record(staffify_id: int, **fields) -> NumberRecord:
    return NumberRecord.objects.create(staffify_id=staffify_id, phone_number=f"+1206555{staffify_id:04d}", **fields)


def test_passed_charges_move_onto_their_own_grid_and_nothing_else_changes():
    now = timezone.now()
    bought = now - timedelta(days=60, hours=3)  # charged at +28 and +56 days; next at +84
    behind = record(1, last_status="active", purchased_at=bought, next_charge_at=bought + 2 * CYCLE)
    far_behind = record(2, last_status="active", purchased_at=bought, next_charge_at=bought + CYCLE)
    ahead = record(3, last_status="active", purchased_at=bought, next_charge_at=bought + 3 * CYCLE + timedelta(1))
    pending = record(4, last_status="pending_release", purchased_at=bought, next_charge_at=None)
    gone = record(5, last_status="active", purchased_at=bought, next_charge_at=bought + CYCLE, gone_at=now)

    assert statement.roll_forward(mirror.owned(), now) == 2

    for row in (behind, far_behind):
        row.refresh_from_db()
        assert row.next_charge_at == bought + 3 * CYCLE
    for row, was in ((ahead, ahead.next_charge_at), (pending, None), (gone, gone.next_charge_at)):
        row.refresh_from_db()
        assert row.next_charge_at == was
    assert statement.oldest_charge(mirror.owned()) > now
    assert statement.roll_forward(mirror.owned(), now) == 0  # nothing left behind


def test_more_rows_than_a_batch_are_all_moved(monkeypatch):
    monkeypatch.setattr(statement, "ROLL_BATCH", 2)
    now = timezone.now()
    bought = now - timedelta(days=30)
    for i in range(5):
        record(10 + i, last_status="active", purchased_at=bought + timedelta(minutes=i), next_charge_at=bought + CYCLE)

    assert statement.roll_forward(mirror.owned(), now) == 5

    dues = list(NumberRecord.objects.order_by("next_charge_at").values_list("next_charge_at", flat=True))
    assert dues == [bought + timedelta(minutes=i) + 2 * CYCLE for i in range(5)]


def test_the_chart_counts_each_day_as_placing_every_charge_by_hand_does():
    zone = ZoneInfo("America/New_York")
    now = timezone.now()
    dues = [now + timedelta(hours=h) for h in (1, 5, 23, 24, 49, 200, 400, 671)]
    for i, due in enumerate(dues):
        record(100 + i, last_status="active", purchased_at=due - CYCLE, next_charge_at=due)
    record(
        200,
        last_status="active",
        purchased_at=now - 2 * CYCLE - timedelta(hours=2),
        next_charge_at=now - CYCLE - timedelta(hours=2),
    )
    rolled = now - timedelta(hours=2) + CYCLE  # the row a whole cycle behind, on its own grid

    buckets = statement.daily_buckets(mirror.owned(), now, zone)

    expected: dict = {}
    for due in [*dues, rolled]:
        day = due.astimezone(zone).date()
        expected[day] = expected.get(day, 0) + 1
    assert {b.day: b.count for b in buckets if b.count} == expected
    assert buckets[0].day == now.astimezone(zone).date() and len(buckets) in (28, 29)
