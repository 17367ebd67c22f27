"""Billing from the mirror: totals, the chart, the runway and the table's order for the whole account,
computed in the database (counts, one aggregate per figure, one ordered query), so the billing page
makes no Staffify call for the numbers and stays fast at 100,000 numbers.

Each active number is charged once in every 28-day window, so the 28-day figures are exact whatever
the mirror knows about purchase dates. Where it knows one, `next_charge_at` places the charge; that
column was computed at the last sync or write, so when Staffify's clock has moved past it the charge
is rolled forward 28 days at a time: in the mirror by the worker every minute (`roll_forward`, from
numbers_app.tasks), and meanwhile in the page's reads, which write nothing (`effective_next`, in SQL,
over the few rows it concerns: `charge_order`). Numbers whose purchase time nobody
knows ("undated") are due some time within the next 28 days: the 7-day figure counts them as a bound
("up to"), and the runway assumes they all renew now (the earliest the balance could run out).
"""

from __future__ import annotations

import hashlib
import uuid
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_FLOOR, Decimal
from typing import Any, overload

from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from numbers_app import cycles
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberRecord, ScheduledRelease
from numbers_app.rules import PRICE_PER_CYCLE

WEEK = timedelta(days=7)
ZERO = Decimal("0.00")

ACTIVE = Q(last_status="active")
DATED = ACTIVE & Q(next_charge_at__isnull=False)
UNDATED = ACTIVE & Q(next_charge_at__isnull=True)
PENDING = Q(last_status="pending_release")
IDLE = ACTIVE & Q(agent_id__isnull=True)


def releasing(now: datetime) -> QuerySet[ScheduledRelease]:
    """The current project's scheduled releases still to run whose charge is still ahead: each number
    is released before that charge, so neither it nor any later one is ever made."""
    return ScheduledRelease.objects.filter(state__in=ScheduledRelease.WAITING, charge_at__gt=now)


def releasing_anywhere(now: datetime, projects: list[int]) -> QuerySet[ScheduledRelease]:
    """`releasing` in each of PROJECTS (pks): what the organisation's balance will not pay for."""
    return ScheduledRelease.everywhere.filter(
        project__in=projects, state__in=ScheduledRelease.WAITING, charge_at__gt=now
    )


def _released_first(now: datetime) -> Exists:
    """Whether a mirror row's number is released before its next charge, by a release of the row's own
    project (the same SQL for one project's rows and for the organisation's)."""
    return Exists(
        ScheduledRelease.everywhere.filter(
            project_id=OuterRef("project_id"),
            staffify_id=OuterRef("staffify_id"),
            state__in=ScheduledRelease.WAITING,
            charge_at__gt=now,
        )
    )


def net_of_scheduled(records: QuerySet[NumberRecord], now: datetime) -> QuerySet[NumberRecord]:
    """RECORDS without the numbers a scheduled release takes away before their next charge: what
    will really be charged (the net figures). A release already late (its charge passed while it
    waited) is not netted: that charge was made."""
    return records.exclude(_released_first(now))


def releasing_part(records: QuerySet[NumberRecord], now: datetime) -> QuerySet[NumberRecord]:
    """The numbers of RECORDS that a scheduled release takes away before their next charge (a few)."""
    return records.filter(ACTIVE, _released_first(now))


def net_totals(gross: Totals, records: QuerySet[NumberRecord], now: datetime, oldest: datetime | None) -> Totals:
    """GROSS (RECORDS' totals) less the numbers released before their next charge: one aggregate over
    those few rows, so the kept figures (`figures`, per mirror version) still serve the gross."""
    gone = releasing_part(records, now).aggregate(
        active=Count("pk"),
        undated=Count("pk", filter=UNDATED),
        idle=Count("pk", filter=IDLE),
        dated_7=Count("pk", filter=charge_in(now, oldest, gt=now, lte=now + WEEK)),
    )
    return Totals(
        active=gross.active - gone["active"],
        undated=gross.undated - gone["undated"],
        pending=gross.pending,
        idle=gross.idle - gone["idle"],
        dated_7=gross.dated_7 - gone["dated_7"],
        numbers=gross.numbers,
    )


def net_buckets(
    buckets: list[DayBucket], records: QuerySet[NumberRecord], now: datetime, tz: tzinfo
) -> list[DayBucket]:
    """BUCKETS (`daily_buckets` of RECORDS) less the charges of the numbers released before them."""
    counts = {b.day: b.count for b in buckets}
    end = now + cycles.CYCLE
    dues = releasing_part(records, now).filter(DATED).values_list("next_charge_at", flat=True)
    for due in dues:
        if due is None:
            continue
        due = due if due > now else cycles.cycle_at(due, now).end
        day = due.astimezone(tz).date()
        if due <= end and counts.get(day):
            counts[day] -= 1
    return [DayBucket(day=b.day, count=counts[b.day], amount=PRICE_PER_CYCLE * counts[b.day]) for b in buckets]


def oldest_charge(records: QuerySet[NumberRecord]) -> datetime | None:
    return records.filter(DATED).aggregate(oldest=Min("next_charge_at"))["oldest"]


ROLL_BATCH = 500


def roll_forward(records: QuerySet[NumberRecord], now: datetime) -> int:
    """Move each next charge Staffify's clock has passed (the number renewed since the last sync or
    write set it) to the first one after NOW on its own grid (purchase + k x 28 days), in the mirror
    itself, so every figure after it reads the plain column and its index. Rolling forward in SQL
    instead (`effective_next`) costs per-row date arithmetic over the whole account on every query:
    seconds at 100,000 numbers on SQLite, where some numbers renew every minute. The worker runs it
    (numbers_app.tasks.roll_charges_forward), never a page: the page reads the rows renewed since in
    their own small segment (`charge_order`). One conditional UPDATE per batch: a row a write changed
    meanwhile (released, or already moved) is left as it is. Returns how many rows moved."""
    behind = records.filter(DATED, next_charge_at__lte=now, purchased_at__isnull=False)
    moved = 0
    while batch := list(behind.values_list("pk", "purchased_at")[:ROLL_BATCH]):
        due = Case(
            *[When(pk=pk, then=Value(cycles.next_charge(purchased, now))) for pk, purchased in batch if purchased],
            output_field=DateTimeField(),
        )
        done = NumberRecord.objects.filter(DATED, pk__in=[pk for pk, _ in batch], next_charge_at__lte=now).update(
            next_charge_at=due
        )
        moved += done
        if len(batch) < ROLL_BATCH or not done:
            break
    if moved:
        cache.set(ROLL_MARK_KEY, uuid.uuid4().hex, None)  # the kept figures (`figures`) are stale now
    return moved


def effective_next(now: datetime, oldest: datetime | None) -> Case | F:
    """SQL for a dated row's next charge strictly after NOW: `next_charge_at`, or when Staffify's clock
    has passed it, `next_charge_at + k x 28 days` for the smallest such k (its own grid: the purchase
    instant plus whole cycles). OLDEST (the smallest next_charge_at) bounds k. Null for other rows."""
    if oldest is None or oldest > now:
        return F("next_charge_at")  # nothing to roll forward (the usual case): the column and its index
    whens = [When(next_charge_at__gt=now, then=F("next_charge_at"))]
    behind = (now - oldest) // cycles.CYCLE + 1
    for k in range(1, behind + 1):
        whens.append(
            When(next_charge_at__gt=now - k * cycles.CYCLE, then=F("next_charge_at") + Value(k * cycles.CYCLE))
        )
    return Case(*whens, default=F("next_charge_at"), output_field=DateTimeField())


def _laps(now: datetime, oldest: datetime | None) -> int:
    """How many whole cycles the stalest next charge is behind NOW (0 when none is)."""
    return 0 if oldest is None or oldest > now else (now - oldest) // cycles.CYCLE + 1


def _first_rolled(records: QuerySet[NumberRecord], now: datetime, oldest: datetime | None) -> datetime | None:
    """The earliest next charge after NOW among the rows of RECORDS whose next charge NOW has passed,
    once rolled forward on their own grid; None when none has passed. One aggregate: a row k cycles
    behind moves k cycles, so the earliest of each lap gives that lap's earliest rolled charge."""
    laps = _laps(now, oldest)
    if not laps:
        return None
    lap = {
        f"lap_{k}": Min(
            "next_charge_at",
            filter=Q(next_charge_at__gt=now - k * cycles.CYCLE, next_charge_at__lte=now - (k - 1) * cycles.CYCLE),
        )
        for k in range(1, laps + 1)
    }
    # Only rows behind NOW by at most LAPS cycles can be in a lap: that range of the index, not the table.
    found = records.filter(next_charge_at__gt=now - laps * cycles.CYCLE, next_charge_at__lte=now).aggregate(**lap)
    rolled = [due + k * cycles.CYCLE for k in range(1, laps + 1) if (due := found[f"lap_{k}"]) is not None]
    return min(rolled, default=None)


def charge_order(records: QuerySet[NumberRecord], now: datetime, oldest: datetime | None) -> list[QuerySet]:
    """RECORDS (rows with a next charge) in the order of their next charge after NOW, then id, as
    segments read one after the other, each row carrying that charge as `effective`. With no charge
    behind NOW: the column and its index. Otherwise every passed charge rolls forward to FIRST or later
    (`_first_rolled`), so the rows due before FIRST still come first in the index's order, and only the
    passed rows and those due from FIRST on are ordered by the rolled charge (`effective_next`): while
    the worker rolls the mirror forward every minute, the few renewed since then and the few bought
    in the last minute of a cycle ago. Nothing is written."""
    first = _first_rolled(records, now, oldest)
    if first is None:
        return [records.annotate(effective=F("next_charge_at")).order_by("next_charge_at", "staffify_id")]
    return [
        records.filter(next_charge_at__gt=now, next_charge_at__lt=first)
        .annotate(effective=F("next_charge_at"))
        .order_by("next_charge_at", "staffify_id"),
        records.filter(Q(next_charge_at__gte=first) | Q(next_charge_at__lte=now))
        .annotate(effective=effective_next(now, oldest))
        .order_by("effective", "staffify_id"),
    ]


def charge_in(now: datetime, oldest: datetime | None, **bounds: datetime) -> Q:
    """Dated rows whose next charge after NOW (rolled forward) satisfies BOUNDS (lookups on it:
    gt, gte, lt, lte). A row k cycles behind is charged at next_charge_at + k cycles, so the test is
    one range on the column itself per k: plain comparisons the index serves, no per-row arithmetic."""
    found = Q(pk__in=[])
    for k in range(_laps(now, oldest) + 1):
        shift = k * cycles.CYCLE
        lookups = {f"next_charge_at__{op}": bound - shift for op, bound in bounds.items()}
        lookups["next_charge_at__gt"] = max(lookups.get("next_charge_at__gt", now - shift), now - shift)
        if k:
            lookups["next_charge_at__lte"] = min(lookups.get("next_charge_at__lte", now), now - shift + cycles.CYCLE)
        found |= Q(**lookups)
    return DATED & found


@dataclass
class Totals:
    """Figures for a set of numbers (the filtered ones, or the whole account)."""

    active: int
    undated: int  # active numbers of unknown purchase time: due some time within 28 days
    pending: int
    idle: int  # active with no agent: paying for nothing
    dated_7: int  # dated renewals in (now, now + 7 days]
    numbers: int  # every number in the set, whatever its status

    @property
    def cost_per_cycle(self) -> Decimal:
        return PRICE_PER_CYCLE * self.active

    @property
    def undated_cost(self) -> Decimal:
        return PRICE_PER_CYCLE * self.undated

    @property
    def idle_cost(self) -> Decimal:
        return PRICE_PER_CYCLE * self.idle

    @property
    def due_7_count(self) -> int:
        """At most this many renewals in 7 days: exact when every active number is dated."""
        return self.dated_7 + self.undated

    @property
    def due_7(self) -> Decimal:
        return PRICE_PER_CYCLE * self.due_7_count

    @property
    def due_7_is_bound(self) -> bool:
        return self.undated > 0

    @property
    def dated_7_amount(self) -> Decimal:
        return PRICE_PER_CYCLE * self.dated_7

    @property
    def due_28_count(self) -> int:
        return self.active  # each active number is charged once in every 28-day window

    @property
    def due_28(self) -> Decimal:
        return PRICE_PER_CYCLE * self.active


def totals(records: QuerySet[NumberRecord], now: datetime, oldest: datetime | None) -> Totals:
    """RECORDS' figures: the counts kept with the mirror (`figures`), and the renewals of the next 7
    days from its charges per quarter hour, the two partial quarters read exactly, plus the few charges
    Staffify's clock has passed, rolled forward. No read of the whole table once the figures are kept.
    (OLDEST is the caller's `oldest_charge`; the charges behind NOW are read directly.)"""
    kept = figures(records)
    window = Window(records, kept, now)
    dated_7 = window.count(now, now + WEEK) + sum(1 for due in window.rolled() if due <= now + WEEK)
    return Totals(dated_7=dated_7, **kept.counts)


# --- the figures kept with the mirror ----------------------------------------------------------

SLOT = 900  # seconds: the charges are counted per quarter hour (UTC), where every zone's midnight falls
FIGURES_KEPT = 24 * 3600  # never read again once the mirror changed (its version is in the key)
ROLL_MARK_KEY = "billing:roll"  # a new mark each time roll_forward moves charges: they left their slots


class _SlotOf(Func):
    """A timestamp's quarter hour: floor(seconds since the epoch / SLOT), exact on both databases."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        template = f"FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / {SLOT})::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # strftime('%s') is whole seconds, truncated: the floor for any instant after 1970. (%%%%: the
        # template's % and the SQLite backend's own %% for a literal %.)
        template = f"(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / {SLOT})"
        return self.as_sql(compiler, connection, template=template, **extra)


@dataclass(frozen=True)
class Figures:
    """What RECORDS' billing figures need that does not move with the clock, computed in one pass over
    the mirror and kept (the cache) until the mirror changes: the counts, and the dated active numbers
    per quarter hour of their next charge."""

    counts: dict[str, int]
    slots: dict[int, int]


def figures(records: QuerySet[NumberRecord]) -> Figures:
    """RECORDS' figures, kept per mirror version (bumped with every change to its rows, as the owned
    list's counts are), roll_forward's token (it moves charges without a version) and RECORDS' query."""
    query = str(records.order_by().query)
    token = cache.get(ROLL_MARK_KEY) or ""
    digest = hashlib.blake2b(query.encode(), digest_size=16).hexdigest()
    key = f"billing:figures:{mirror.version()}:{token}:{digest}"
    found = cache.get(key)
    if isinstance(found, Figures):
        return found
    counts = records.aggregate(
        numbers=Count("pk"),
        active=Count("pk", filter=ACTIVE),
        undated=Count("pk", filter=UNDATED),
        pending=Count("pk", filter=PENDING),
        idle=Count("pk", filter=IDLE),
    )
    per_slot = (
        records.filter(DATED)
        .order_by()
        .annotate(slot=_SlotOf("next_charge_at"))
        .values("slot")
        .annotate(n=Count("pk"))
        .values_list("slot", "n")
    )
    kept = Figures(counts=counts, slots=dict(per_slot))
    cache.set(key, kept, FIGURES_KEPT)
    return kept


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
QUARTER = timedelta(seconds=SLOT)
TICK = timedelta(microseconds=1)  # the columns' precision


def _slot_edge(moment: datetime, up: bool) -> datetime:
    """The quarter hour at or before MOMENT (UP: at or after it), in exact arithmetic."""
    edge = EPOCH + ((moment - EPOCH) // QUARTER) * QUARTER
    return edge + QUARTER if up and edge < moment else edge


class Window:
    """Counts of dated charges after NOW in ranges (lo, hi]... from the kept quarter hours, each range's
    partial quarters at both ends read exactly from the index (small ranges, asked together)."""

    def __init__(self, records: QuerySet[NumberRecord], kept: Figures, now: datetime) -> None:
        self.records, self.kept, self.now = records, kept, now
        self._behind: list[datetime] | None = None

    def _slots(self, start: datetime, stop: datetime) -> int:
        """Dated charges in [START, STOP), both on quarter hours."""
        first, last = (start - EPOCH) // QUARTER, (stop - EPOCH) // QUARTER
        slots = self.kept.slots
        if last - first > len(slots):
            return sum(n for slot, n in slots.items() if first <= slot < last)
        return sum(slots.get(slot, 0) for slot in range(first, last))

    def counts(self, ranges: list[tuple[datetime, datetime, bool]]) -> list[int]:
        """Dated charges in each (LO, HI) of RANGES: LO excluded, HI included when the flag says so
        (else excluded); every LO is at or after NOW (nothing behind it is counted)."""
        exact: dict[str, Any] = {}
        where = Q(pk__in=[])
        spans: list[tuple[int, list[str]]] = []
        for i, (lo, hi, hi_included) in enumerate(ranges):
            inner_lo, inner_hi = _slot_edge(lo, up=True), _slot_edge(hi, up=False)
            names = []
            if inner_lo >= inner_hi:  # within one or two quarter hours: all of it exactly
                whole = Q(next_charge_at__gt=lo) & (
                    Q(next_charge_at__lte=hi) if hi_included else Q(next_charge_at__lt=hi)
                )
                exact[f"r{i}"] = Count("pk", filter=whole)
                where |= whole
                spans.append((0, [f"r{i}"]))
                continue
            if inner_lo - lo > TICK:  # a partial quarter after LO (LO itself excluded)
                head = Q(next_charge_at__gt=lo, next_charge_at__lt=inner_lo)
                exact[f"h{i}"] = Count("pk", filter=head)
                where |= head
                names.append(f"h{i}")
            if hi > inner_hi or hi_included:  # a partial quarter up to HI
                upto = Q(next_charge_at__lte=hi) if hi_included else Q(next_charge_at__lt=hi)
                tail = Q(next_charge_at__gte=inner_hi) & upto
                exact[f"t{i}"] = Count("pk", filter=tail)
                where |= tail
                names.append(f"t{i}")
            spans.append((self._slots(inner_lo, inner_hi), names))
        if not exact:
            return [n for n, _ in spans]
        found = self.records.filter(DATED).filter(where).order_by().aggregate(**exact)
        return [n + sum(found[name] or 0 for name in names) for n, names in spans]

    def count(self, lo: datetime, hi: datetime) -> int:
        """Dated charges in (LO, HI]."""
        return self.counts([(lo, hi, True)])[0]

    def rolled(self) -> list[datetime]:
        """The charges Staffify's clock has passed (the worker rolls them forward every minute: a few),
        each moved onto its own grid: the first renewal after NOW. Read once, from the index."""
        if self._behind is None:
            behind = self.records.filter(DATED, next_charge_at__lte=self.now).values_list("next_charge_at", flat=True)
            self._behind = [cycles.cycle_at(due, self.now).end for due in behind.iterator(chunk_size=5000) if due]
        return self._behind


@dataclass(frozen=True)
class DayBucket:
    day: date  # a date in the viewer's time zone
    count: int
    amount: Decimal


def daily_buckets(records: QuerySet[NumberRecord], now: datetime, tz: tzinfo) -> list[DayBucket]:
    """The dated renewals of (now, now + 28 days] per local day (every day of the window, empty ones
    included), placed between the local midnights of the viewer's zone (daylight saving included).
    Rows due after NOW are summed from the quarter hours kept with the mirror (`figures`; a local
    midnight is a quarter hour in every zone), the first and last days' partial quarters read exactly;
    any whose next charge Staffify's clock has passed are rolled forward on their own grid in Python.
    (Before: 29 range counts reading every active number's index entry, on every page load.)"""
    end = now + cycles.CYCLE
    days = []
    day, last = now.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        days.append(day)
        day += cycles.DAY
    edges = [datetime.combine(d + cycles.DAY, time(0), tzinfo=tz).astimezone(UTC) for d in days[:-1]]
    # Day i holds (now, edge 0), [edge i-1, edge i), ..., [edge n-2, end]: a range (lo, hi) excludes its
    # lo, so a day starting on a local midnight starts a microsecond before it.
    bounds = [now, *[edge - TICK for edge in edges]]
    ranges = [(bounds[i], edges[i] if i < len(edges) else end, i == len(edges)) for i in range(len(days))]
    window = Window(records, figures(records), now)
    counts = window.counts(ranges)
    for due in window.rolled():
        if due <= end:
            counts[bisect_right(edges, due)] += 1
    return [DayBucket(day=d, count=n, amount=PRICE_PER_CYCLE * n) for d, n in zip(days, counts, strict=True)]


def runway(
    balance: Decimal,
    account: QuerySet[NumberRecord],
    totals: Totals,
    now: datetime,
    oldest: datetime | None,
    horizon: timedelta = cycles.RUNWAY_HORIZON,
    *,
    releases_netted: bool = False,
    projects: list[int] | None = None,
) -> datetime | None:
    """The earliest instant the balance can run out with no top-up: the k-th renewal from now, with
    k = floor(balance / 5) + 1 (a balance left at exactly zero still covered its charge). Every cycle
    holds one renewal per active number, undated ones first (as if they renewed now), then the dated
    ones in order of their next charge; the k-th wraps into later cycles. None past the horizon.
    RELEASES_NETTED: ACCOUNT's numbers less those a scheduled release takes away before their next
    charge (TOTALS are then the net ones). PROJECTS: the pks of the projects ACCOUNT spans, when several
    (each is read in its own index's order). One read of the ordered dated rows (`_nth_charge`), none
    when the horizon is passed first."""
    per_cycle = totals.active
    if per_cycle == 0:
        return None
    k = max(1, int((balance / PRICE_PER_CYCLE).to_integral_value(rounding=ROUND_FLOOR)) + 1)
    laps, position = divmod(k - 1, per_cycle)
    start = now + laps * cycles.CYCLE
    if start > now + horizon:
        return None
    if position < totals.undated:
        at = start
    else:
        due = _nth_charge(account, now, oldest, position - totals.undated, releases_netted, projects)
        if due is None:  # the mirror changed between the count and this read: the next page load settles it
            return None
        at = due + laps * cycles.CYCLE
    return at if at <= now + horizon else None


def _nth_charge(
    account: QuerySet[NumberRecord],
    now: datetime,
    oldest: datetime | None,
    offset: int,
    netted: bool,
    projects: list[int] | None = None,
) -> datetime | None:
    """The next charge of ACCOUNT's OFFSET-th dated row (from 0) in the table's order (NETTED: less the
    numbers released before it). The whole quarter hours before it are skipped by the counts kept with
    the mirror (`figures`), less the few netted rows, and the row is read from the index within its
    quarter hour: an OFFSET of thousands of rows over two projects' numbers was 30-50 ms a page. Rows
    due from the first rolled charge on (`charge_order`'s second segment: charges behind NOW mix into
    it) are read as before, by an offset into the table's order."""
    shown = net_of_scheduled(account, now) if netted else account
    rolled = _first_rolled(shown.filter(DATED), now, oldest) if oldest is not None and oldest <= now else None
    found = _nth_by_slots(account, shown, now, offset, rolled, netted, projects)
    if found is not None:
        return found
    rows = Table(charge_order(shown.filter(DATED), now, oldest))[offset : offset + 1]
    return rows[0].effective if rows else None  # type: ignore[attr-defined]


def _nth_by_slots(
    account: QuerySet[NumberRecord],
    shown: QuerySet[NumberRecord],
    now: datetime,
    offset: int,
    before: datetime | None,
    netted: bool,
    projects: list[int] | None = None,
) -> datetime | None:
    """`_nth_charge` among the rows due after NOW (and BEFORE, when given), or None when it is not
    among them (the caller reads the table then). The last read is one per project of PROJECTS: the
    index (project, gone_at, next_charge_at) gives each project's order, not several projects' at once
    (PostgreSQL sorted every dated row of two projects for it: 30-50 ms)."""
    released: dict[int, int] = {}
    if netted:
        for due in (
            releasing_part(account, now).filter(DATED, next_charge_at__gt=now).values_list("next_charge_at", flat=True)
        ):
            if due is not None:
                slot = (due - EPOCH) // QUARTER
                released[slot] = released.get(slot, 0) + 1
    kept = figures(account)
    start = _slot_edge(now, up=True)
    first = (start - EPOCH) // QUARTER
    head = 0  # the partial quarter hour after NOW, read exactly (released rows are in it too)
    if start > now:
        head = Window(account, kept, now).count(now, start - TICK) - released.get(first - 1, 0)
    since = now
    if offset >= head:
        offset -= head
        for slot, n in sorted(kept.slots.items()):
            if slot < first:
                continue
            n -= released.get(slot, 0)
            if offset < n:
                since = EPOCH + slot * QUARTER
                break
            offset -= n
        else:
            return None
    if before is not None and since >= before:
        return None
    after = Q(next_charge_at__gt=now, next_charge_at__gte=since)
    if before is not None:
        after &= Q(next_charge_at__lt=before)
    rows: list[tuple[datetime, int]] = []
    for part in [shown.filter(project=pk) for pk in projects] if projects else [shown]:
        ordered = part.filter(DATED).filter(after).order_by("next_charge_at", "staffify_id")
        rows += [(due, sid) for due, sid in ordered.values_list("next_charge_at", "staffify_id")[: offset + 1] if due]
    rows.sort()
    return rows[offset][0] if len(rows) > offset else None


class Table:
    """Numbers in the billing table's order, sliceable and iterable like a queryset (the Paginator, the
    lists and the CSV take it). The order is segments read one after the other, each in an order an
    index gives: numbers with a next charge by it (then id; `charge_order`, which orders the few charges
    behind NOW apart), undated active ones, then the rest by reclaim deadline. Page 1 then reads 50
    rows instead of sorting the whole account (PostgreSQL sorted 100,000 wide rows per page)."""

    def __init__(self, segments: list[QuerySet[NumberRecord]]) -> None:
        self.segments = segments

    def filter(self, *args: Q, **kwargs) -> Table:
        return Table([segment.filter(*args, **kwargs) for segment in self.segments])

    def annotate(self, **annotations) -> Table:
        return Table([segment.annotate(**annotations) for segment in self.segments])

    def __iter__(self) -> Iterator[NumberRecord]:
        for segment in self.segments:
            yield from segment

    def values_list(self, *fields: str, chunk_size: int = 2000) -> Iterator[tuple]:
        """FIELDS of every row in order, streamed from the database (no model objects)."""
        for segment in self.segments:
            yield from segment.values_list(*fields).iterator(chunk_size=chunk_size)

    def __len__(self) -> int:
        return sum(segment.count() for segment in self.segments)

    @overload
    def __getitem__(self, window: int) -> NumberRecord: ...

    @overload
    def __getitem__(self, window: slice) -> list[NumberRecord]: ...

    def __getitem__(self, window: int | slice) -> NumberRecord | list[NumberRecord]:
        if isinstance(window, int):
            found = self._window(window, window + 1)
            if not found:
                raise IndexError(window)
            return found[0]
        return self._window(window.start or 0, window.stop or 0)

    def _window(self, start: int, stop: int) -> list[NumberRecord]:
        want = stop - start
        found: list[NumberRecord] = []
        for segment in self.segments:
            if want <= 0:
                break
            rows = list(segment[start : start + want])
            found += rows
            want -= len(rows)
            if want <= 0:
                break
            size = start + len(rows) if rows else segment.count()  # the segment ended: where?
            start = max(0, start - size)
        return found


def pending(records: QuerySet[NumberRecord]) -> QuerySet[NumberRecord]:
    """The numbers pending release in the table's order (the soonest reclaim deadline first). They
    have no next charge, so this is the table's last part: asked directly, not through its segments."""
    return records.filter(PENDING).order_by(F("reclaim_before").asc(nulls_last=True), "staffify_id")


def table(records: QuerySet[NumberRecord], now: datetime, oldest: datetime | None) -> Table:
    """RECORDS in the table's order: dated numbers by next charge, then undated active ones, then the
    rest (pending release) by reclaim deadline; each row carries `effective` (its next charge)."""
    charged = charge_order(records.filter(next_charge_at__isnull=False), now, oldest)
    records = records.annotate(effective=F("next_charge_at"))
    return Table(
        [
            *charged,
            records.filter(UNDATED).order_by(F("reclaim_before").asc(nulls_last=True), "staffify_id"),
            records.filter(next_charge_at__isnull=True)
            .exclude(ACTIVE)
            .order_by(F("reclaim_before").asc(nulls_last=True), "staffify_id"),
        ]
    )
