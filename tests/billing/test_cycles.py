"""The 28-day cycle arithmetic of numbers/billing.py: pure functions, no database, no HTTP."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from numbers_app import cycles as billing

AMS = ZoneInfo("Europe/Amsterdam")
NYC = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
DAYS_28 = timedelta(days=28)
EUR5 = Decimal("5.00")


@dataclass
class Number:
    id: int
    purchased_at: datetime | None
    status: str = "active"


def utc(*args) -> datetime:
    return datetime(*args).replace(tzinfo=UTC)


P = utc(2025, 1, 10, 9, 15)


# --- cycles and their boundaries -------------------------------------------------------------


def test_the_purchase_instant_starts_cycle_zero():
    cycle = billing.cycle_at(P, P)
    assert cycle == billing.Cycle(index=0, start=P, end=P + DAYS_28)


def test_a_microsecond_before_28_days_is_still_the_first_cycle():
    cycle = billing.cycle_at(P, P + DAYS_28 - timedelta(microseconds=1))
    assert cycle.index == 0
    assert billing.next_charge(P, P + DAYS_28 - timedelta(microseconds=1)) == P + DAYS_28


def test_exactly_28_days_later_the_renewal_has_happened_and_the_next_is_28_days_on():
    cycle = billing.cycle_at(P, P + DAYS_28)
    assert cycle == billing.Cycle(index=1, start=P + DAYS_28, end=P + 2 * DAYS_28)
    assert billing.next_charge(P, P + DAYS_28) == P + 2 * DAYS_28


def test_a_microsecond_after_28_days_is_the_second_cycle():
    assert billing.cycle_at(P, P + DAYS_28 + timedelta(microseconds=1)).index == 1


def test_many_cycles_later_the_start_is_still_purchase_plus_k_times_28_days():
    now = P + timedelta(days=28 * 40 + 3)
    cycle = billing.cycle_at(P, now)
    assert cycle.index == 40
    assert cycle.start == P + 40 * DAYS_28
    assert cycle.end - cycle.start == timedelta(hours=28 * 24)


def test_a_clock_behind_the_purchase_gives_the_purchase_cycle():
    assert billing.cycle_at(P, P - timedelta(seconds=2)) == billing.Cycle(0, P, P + DAYS_28)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        billing.cycle_at(datetime(2025, 1, 1), P)  # noqa: DTZ001


# --- never a calendar month ------------------------------------------------------------------


def test_a_january_31_purchase_renews_on_february_28_then_march_28_never_a_month_later():
    bought = utc(2025, 1, 31, 12, 0)
    charges = billing.charges_between([Number(1, bought)], bought, bought + timedelta(days=120))
    expected = [date(2025, 2, 28), date(2025, 3, 28), date(2025, 4, 25), date(2025, 5, 23)]
    assert [c.at.date() for c in charges] == expected


def test_in_a_leap_year_january_31_still_renews_on_february_28_not_29():
    bought = utc(2024, 1, 31, 12, 0)
    assert billing.next_charge(bought, bought) == utc(2024, 2, 28, 12, 0)


def test_a_december_31_purchase_renews_on_january_28():
    bought = utc(2024, 12, 31, 18, 0)
    assert billing.next_charge(bought, bought) == utc(2025, 1, 28, 18, 0)


def test_thirteen_cycles_make_364_days_not_a_year():
    bought = utc(2025, 3, 1, 8, 0)
    charges = billing.charges_between([Number(1, bought)], bought, bought + timedelta(days=365))
    assert len(charges) == 13
    assert charges[-1].at == utc(2026, 2, 28, 8, 0)


# --- local time: 23:30 purchases and daylight saving --------------------------------------------


def test_a_purchase_at_2330_amsterdam_renews_at_2330_amsterdam_in_winter():
    bought = datetime(2025, 1, 10, 23, 30, tzinfo=AMS)  # 22:30 UTC
    renewal = billing.next_charge(bought, bought)
    assert renewal == utc(2025, 2, 7, 22, 30)
    assert renewal.astimezone(AMS).date() == date(2025, 2, 7)
    assert renewal.astimezone(AMS).time().isoformat() == "23:30:00"


def test_a_purchase_at_2330_amsterdam_before_summer_time_renews_after_midnight_the_next_local_day():
    bought = datetime(2025, 3, 8, 23, 30, tzinfo=AMS)  # 22:30 UTC, CET
    renewal = billing.next_charge(bought, bought)
    assert renewal == utc(2025, 4, 5, 22, 30)  # exactly 28 x 24 hours
    local = renewal.astimezone(AMS)
    assert (local.date(), local.hour, local.minute) == (date(2025, 4, 6), 0, 30)  # CEST


def test_a_2330_renewal_lands_on_the_viewers_own_local_day():
    bought = datetime(2025, 1, 10, 23, 30, tzinfo=AMS)
    charges = billing.charges_between([Number(1, bought)], bought, bought + DAYS_28)
    assert charges[0].at.astimezone(AMS).date() == date(2025, 2, 7)
    assert charges[0].at.astimezone(NYC).date() == date(2025, 2, 7)  # 17:30 EST
    assert charges[0].at.astimezone(TOKYO).date() == date(2025, 2, 8)  # 07:30 JST


def test_python_wall_clock_arithmetic_is_not_used_across_spring_forward_in_amsterdam():
    # Python adds 28 days to an Amsterdam datetime on the wall clock (10:00 -> 10:00, 23 h short);
    # Staffify bills 28 x 24 hours, so the renewal is at 11:00 local summer time.
    bought = datetime(2025, 3, 10, 10, 0, tzinfo=AMS)  # 09:00 UTC
    renewal = billing.next_charge(bought, bought)
    assert renewal == utc(2025, 4, 7, 9, 0)
    assert renewal - bought.astimezone(UTC) == timedelta(hours=672)
    assert renewal.astimezone(AMS).hour == 11
    assert bought + DAYS_28 != renewal  # the trap the module avoids


def test_fall_back_in_amsterdam_moves_the_local_charge_an_hour_earlier():
    bought = datetime(2025, 10, 10, 10, 0, tzinfo=AMS)  # CEST, 08:00 UTC
    renewal = billing.next_charge(bought, bought)
    assert renewal == utc(2025, 11, 7, 8, 0)
    assert renewal.astimezone(AMS).hour == 9  # CET


def test_a_charge_in_the_repeated_fall_back_hour_is_one_instant():
    bought = datetime(2025, 9, 28, 2, 30, tzinfo=AMS)  # CEST, 00:30 UTC
    first, second = billing.charges_between([Number(1, bought)], bought, bought + 2 * DAYS_28)
    assert first.at == utc(2025, 10, 26, 0, 30)  # 02:30 CEST, the first of the two 02:30s
    assert first.at.astimezone(AMS).utcoffset() == timedelta(hours=2)
    assert second.at.astimezone(AMS).hour == 1  # 01:30 CET


def test_spring_forward_in_new_york_moves_the_local_charge_an_hour_later():
    bought = datetime(2025, 2, 20, 9, 0, tzinfo=NYC)  # EST, 14:00 UTC
    renewal = billing.next_charge(bought, bought)
    assert renewal == utc(2025, 3, 20, 14, 0)
    assert renewal.astimezone(NYC).hour == 10  # EDT


def test_fall_back_in_new_york_moves_the_local_charge_an_hour_earlier():
    bought = datetime(2025, 10, 20, 9, 0, tzinfo=NYC)  # EDT, 13:00 UTC
    renewal = billing.next_charge(bought, bought)
    assert renewal == utc(2025, 11, 17, 13, 0)
    assert renewal.astimezone(NYC).hour == 8  # EST


def test_cycle_at_takes_any_zone_and_answers_in_utc():
    bought = datetime(2025, 3, 10, 10, 0, tzinfo=AMS)
    now = datetime(2025, 4, 7, 10, 30, tzinfo=AMS)  # 08:30 UTC: half an hour before the renewal
    cycle = billing.cycle_at(bought, now)
    assert cycle.index == 0
    assert cycle.end == utc(2025, 4, 7, 9, 0)
    assert cycle.start.tzinfo is UTC


# --- days until ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ahead", "days"),
    [
        (timedelta(hours=2), 1),
        (timedelta(days=1), 1),
        (timedelta(days=1, microseconds=1), 2),
        (timedelta(days=7), 7),
        (timedelta(days=7, seconds=1), 8),
        (timedelta(days=28), 28),
    ],
)
def test_days_until_counts_24_hour_days_rounded_up(ahead, days):
    assert billing.days_until(P + ahead, P) == days


def test_days_until_a_dst_day_still_counts_24_hour_days():
    now = datetime(2025, 3, 29, 12, 0, tzinfo=AMS)
    assert billing.days_until(now + timedelta(hours=24), now) == 1


# --- charges in a window ---------------------------------------------------------------------


def test_the_window_leaves_out_its_start_and_keeps_its_end():
    numbers = [Number(1, P), Number(2, P - DAYS_28 + timedelta(days=7))]
    charges = billing.charges_between(numbers, P, P + timedelta(days=7))
    assert [(c.number_id, c.at) for c in charges] == [(2, P + timedelta(days=7))]
    assert billing.charges_between(numbers, P + DAYS_28 - timedelta(days=1), P + DAYS_28)[0].number_id == 1


def test_pending_and_unknown_purchase_numbers_have_no_charges():
    numbers = [Number(1, P), Number(2, P, "pending_release"), Number(3, None)]
    charges = billing.charges_between(numbers, P, P + DAYS_28)
    assert [c.number_id for c in charges] == [1]
    assert billing.total(charges) == EUR5


def test_a_window_longer_than_a_cycle_counts_every_renewal_in_it():
    charges = billing.charges_between([Number(1, P)], P, P + 3 * DAYS_28)
    assert [c.at for c in charges] == [P + DAYS_28, P + 2 * DAYS_28, P + 3 * DAYS_28]
    assert billing.total(charges) == Decimal("15.00")


def test_charges_come_in_time_order_then_by_number():
    numbers = [Number(3, P + timedelta(days=1)), Number(2, P), Number(1, P)]
    charges = billing.charges_between(numbers, P, P + DAYS_28 + timedelta(days=1))
    assert [c.number_id for c in charges] == [1, 2, 3]


def test_every_active_number_renews_exactly_once_in_any_28_day_window():
    numbers = [Number(i, P - timedelta(hours=37 * i)) for i in range(1, 40)]
    for offset in (0, 5, 13.5, 27):
        start = P + timedelta(days=offset)
        charges = billing.charges_between(numbers, start, start + DAYS_28)
        assert sorted(c.number_id for c in charges) == list(range(1, 40))


# --- runway ----------------------------------------------------------------------------------


def three_numbers():
    # Renewals 1, 2 and 3 days from P, then 29, 30, 31 ...
    return [Number(i, P + timedelta(days=i) - DAYS_28) for i in (1, 2, 3)]


def test_a_balance_covering_exactly_three_renewals_runs_out_at_the_fourth():
    assert billing.runway(Decimal("15.00"), three_numbers(), P) == P + timedelta(days=29)


def test_one_cent_short_runs_out_at_the_third_renewal():
    assert billing.runway(Decimal("14.99"), three_numbers(), P) == P + timedelta(days=3)


def test_a_balance_left_at_exactly_zero_covered_the_charge():
    assert billing.runway(Decimal("5.00"), three_numbers(), P) == P + timedelta(days=2)


def test_no_numbers_means_no_runway_limit():
    assert billing.runway(Decimal("0.00"), [], P) is None


def test_a_large_balance_is_covered_through_the_horizon():
    # In (P, P + 365 days]: 14 renewals of the first (its 14th exactly on day 365), 13 of the others.
    assert billing.runway(Decimal("200.00"), three_numbers(), P) is None
    assert billing.runway(Decimal("199.99"), three_numbers(), P) == P + timedelta(days=365)
    assert billing.runway(Decimal("10.00"), three_numbers(), P, horizon=timedelta(days=2)) is None


def test_unknown_purchase_and_pending_numbers_are_left_out_of_the_runway():
    numbers = [*three_numbers(), Number(8, None), Number(9, P - timedelta(days=27), "pending_release")]
    assert billing.runway(Decimal("14.99"), numbers, P) == P + timedelta(days=3)


def test_a_negative_balance_runs_out_at_the_first_renewal():
    assert billing.runway(Decimal("-2.50"), three_numbers(), P) == P + timedelta(days=1)


def test_the_runway_matches_cumulative_charges_over_several_cycles():
    numbers = [Number(i, P - timedelta(hours=11 * i)) for i in range(1, 12)]
    charges = billing.charges_between(numbers, P, P + timedelta(days=365))
    balance = Decimal("137.50")  # 27 renewals, with EUR 2.50 left over
    assert billing.runway(balance, numbers, P) == charges[27].at
    assert charges[27].at > P + 2 * DAYS_28


# --- daily buckets ---------------------------------------------------------------------------


def test_buckets_group_by_the_viewers_local_date_and_keep_empty_days():
    now = datetime(2025, 2, 1, 12, 0, tzinfo=AMS)
    numbers = [
        Number(1, datetime(2025, 1, 10, 23, 30, tzinfo=AMS)),  # renews 7 Feb 23:30 Amsterdam
        Number(2, datetime(2025, 1, 11, 0, 30, tzinfo=AMS)),  # renews 8 Feb 00:30 Amsterdam
        Number(3, datetime(2025, 1, 11, 8, 0, tzinfo=AMS)),  # renews 8 Feb 08:00 Amsterdam
    ]
    end = now + DAYS_28
    charges = billing.charges_between(numbers, now, end)
    buckets = billing.daily_buckets(charges, now, end, AMS)
    assert buckets[0].day == date(2025, 2, 1) and buckets[-1].day == date(2025, 3, 1)
    assert len(buckets) == 29  # today and the 28th day ahead are both partial
    by_day = {b.day: (b.count, b.amount) for b in buckets}
    assert by_day[date(2025, 2, 7)] == (1, EUR5)
    assert by_day[date(2025, 2, 8)] == (2, Decimal("10.00"))
    assert by_day[date(2025, 2, 2)] == (0, Decimal("0.00"))
    assert sum(b.amount for b in buckets) == billing.total(charges)


def test_the_same_charges_fall_on_other_days_for_a_viewer_elsewhere():
    now = datetime(2025, 2, 1, 12, 0, tzinfo=AMS)
    numbers = [Number(1, datetime(2025, 1, 10, 23, 30, tzinfo=AMS))]
    charges = billing.charges_between(numbers, now, now + DAYS_28)
    ams = {b.day for b in billing.daily_buckets(charges, now, now + DAYS_28, AMS) if b.count}
    tokyo = {b.day for b in billing.daily_buckets(charges, now, now + DAYS_28, TOKYO) if b.count}
    assert ams == {date(2025, 2, 7)}
    assert tokyo == {date(2025, 2, 8)}


def test_a_23_hour_dst_day_is_one_bucket():
    now = datetime(2025, 3, 29, 12, 0, tzinfo=AMS)
    numbers = [
        Number(1, datetime(2025, 3, 2, 0, 30, tzinfo=AMS)),  # 23:30 UTC on 1 Mar -> 29 Mar 23:30 UTC
        Number(2, datetime(2025, 3, 2, 22, 0, tzinfo=AMS)),  # 21:00 UTC on 2 Mar -> 30 Mar 21:00 UTC
    ]
    charges = billing.charges_between(numbers, now, now + timedelta(days=2))
    buckets = billing.daily_buckets(charges, now, now + timedelta(days=2), AMS)
    by_day = {b.day: b.count for b in buckets}
    # 29 Mar 23:30 UTC is 30 Mar 01:30 CET; 30 Mar 21:00 UTC is 30 Mar 23:00 CEST: the same short day.
    assert by_day[date(2025, 3, 30)] == 2
    assert by_day[date(2025, 3, 29)] == 0
