"""Staffify's billing cycle, as plain arithmetic on aware datetimes and Decimal (no ORM, no HTTP).

Staffify charges EUR 5 per number at purchase and again every 28 days from the purchase *instant*:
charge k is at `purchased_at + k * 28 days` (k = 0 is the purchase itself, already paid; k >= 1 are
the renewals). A cycle is never "a month": a number bought on 31 January renews on 28 February.

`CYCLE` is exactly 28 x 24 hours of UTC time, because Staffify bills instants, not local dates. So
across a daylight-saving change the *local* clock time of a charge moves by an hour: a number bought
at 10:00 in Amsterdam in February renews at 11:00 Amsterdam time once summer time has started (still
09:00 UTC both times). Only the grouping by day (`daily_buckets`) uses the viewer's local dates.

Only active numbers with a known purchase time take part in schedules; pending-release numbers do not
renew, and a number whose purchase time nobody knows cannot be placed in time (callers report those
apart). A reclaimed number keeps its original cycle, which is what `cycle_at` computes from the
purchase time alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Protocol

from numbers_app.rules import CYCLE_DAYS, PRICE_PER_CYCLE

CYCLE = timedelta(days=CYCLE_DAYS)
DAY = timedelta(days=1)
RUNWAY_HORIZON = timedelta(days=365)


class Billable(Protocol):
    # Read-only, so that properties (the billing page's rows) and frozen dataclasses qualify.
    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def purchased_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Cycle:
    index: int  # 0: the cycle paid at purchase; k: the one paid by the k-th renewal
    start: datetime
    end: datetime  # exclusive: the next charge


@dataclass(frozen=True, slots=True)
class Charge:
    number_id: int
    at: datetime
    amount: Decimal
    number: Billable


@dataclass(frozen=True, slots=True)
class DayBucket:
    day: date  # a date in the viewer's time zone
    count: int
    amount: Decimal


def _utc(value: datetime, name: str) -> datetime:
    """The instant in UTC. Python adds and subtracts datetimes that share a tzinfo on their *wall
    clock* (Amsterdam 10:00 + 28 days is 10:00 again, 27 days 23 hours later across spring-forward),
    so all arithmetic here runs on UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (Staffify bills on instants).")
    return value.astimezone(UTC)


def cycle_at(purchased_at: datetime, now: datetime) -> Cycle:
    """The cycle that `now` falls in: start = purchased + k * 28 days <= now < end.

    Before the purchase (a clock slightly behind Staffify's) the purchase cycle is returned.
    """
    purchased_at = _utc(purchased_at, "purchased_at")
    now = _utc(now, "now")
    index = max(0, (now - purchased_at) // CYCLE)
    start = purchased_at + index * CYCLE
    return Cycle(index=index, start=start, end=start + CYCLE)


def next_charge(purchased_at: datetime, now: datetime) -> datetime:
    """The next renewal strictly after `now` (a charge exactly at `now` has just been made)."""
    return cycle_at(purchased_at, now).end


def days_until(moment: datetime, now: datetime) -> int:
    """Whole 24-hour days from `now` to `moment`, rounded up: 1 means within the next 24 hours.

    Rounded up so that "days until <= 7" is exactly "due in the next 7 days" (the window (now, now + 7d]).
    """
    ahead = _utc(moment, "moment") - _utc(now, "now")
    return max(0, -(-ahead // DAY))  # ceiling division, exact on timedeltas


def is_billable(number: Billable) -> bool:
    return number.status == "active" and number.purchased_at is not None


def charges_between(numbers: Iterable[Billable], start: datetime, end: datetime) -> list[Charge]:
    """Every renewal in the window (start, end] of the active numbers whose purchase time is known,
    in time order (ties by number id). A charge exactly at `start` is left out: it has been made."""
    start = _utc(start, "start")
    end = _utc(end, "end")
    charges = []
    for number in numbers:
        if not is_billable(number) or number.purchased_at is None:
            continue
        at = next_charge(number.purchased_at, start)
        while at <= end:
            charges.append(Charge(number_id=number.id, at=at, amount=PRICE_PER_CYCLE, number=number))
            at += CYCLE
    charges.sort(key=lambda charge: (charge.at, charge.number_id))
    return charges


def total(charges: Iterable[Charge]) -> Decimal:
    return sum((charge.amount for charge in charges), Decimal("0.00"))


def runway(
    balance: Decimal, numbers: Iterable[Billable], now: datetime, horizon: timedelta = RUNWAY_HORIZON
) -> datetime | None:
    """The instant of the first renewal the balance cannot cover, with no top-up: the first charge
    after which the renewals due since `now` add up to more than `balance` (a balance left at exactly
    zero still covered it). None when the balance covers every renewal through `now + horizon`.

    Numbers of unknown purchase time are ignored (they cannot be placed in time): say so beside it.
    """
    spent = Decimal("0.00")
    now = _utc(now, "now")
    for charge in charges_between(numbers, now, now + horizon):
        spent += charge.amount
        if spent > balance:
            return charge.at
    return None


def daily_buckets(charges: Iterable[Charge], start: datetime, end: datetime, tz: tzinfo) -> list[DayBucket]:
    """Charges grouped by the viewer's local date, one bucket for every local date from the one of
    `start` to the one of `end` (empty days included), so that the buckets add up to the window."""
    first = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    counts: dict[date, int] = {}
    amounts: dict[date, Decimal] = {}
    for charge in charges:
        day = charge.at.astimezone(tz).date()
        counts[day] = counts.get(day, 0) + 1
        amounts[day] = amounts.get(day, Decimal("0.00")) + charge.amount
    buckets = []
    day = first
    while day <= last:
        buckets.append(DayBucket(day=day, count=counts.get(day, 0), amount=amounts.get(day, Decimal("0.00"))))
        day += timedelta(days=1)
    return buckets
