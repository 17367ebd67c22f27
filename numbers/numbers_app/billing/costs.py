"""What each team costs: charges grouped by agent, tag or country, for a chosen past period and the
next three 28-day cycles, from the mirror and the dashboard's own records (0 Staffify calls).

The past is worked out from what the dashboard recorded: each number is charged EUR 5 at its purchase
and every 28 days after (`purchased_at`: the dashboard's purchases, or a purchase time set by hand),
until its release (the reclaim deadline minus 7 days, which the dashboard's release or the sync
recorded; or when the sync first saw it pending; or when it found it gone). Numbers of unknown purchase
time cannot be placed and are left out of the past, said so. The figures are complete from the
dashboard's first sync of the project: a number bought and released before it is unknown to it.

The rule for a number moved between agents: **each charge belongs to whoever held the number at the
instant of that charge** (the holder at the charge). It is exact (a charge is one instant) and needs
only the agent changes the audit log recorded (assign, unassign, release and changes seen outside the
dashboard, each with the agent before). Tags and countries are taken as they are now (the tag history
is not reconstructed). A number with two tags counts in both groups: the tag groups add up to more
than the total, which counts each charge once; numbers with no tag form the "untagged" group.

The coming cycles are net of scheduled releases: every active number is charged once in each 28-day
window from now, except those released before their next charge (never charged again).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import Case, Count, FloatField, Func, Max, Min, Q, Sum, Value, When
from django.db.models.functions import Ceil, Coalesce, Greatest, Least

from numbers_app import cycles
from numbers_app.billing import statement
from numbers_app.models import AuditEntry, MirrorAgent, NumberRecord, SyncRun
from numbers_app.rules import PRICE_PER_CYCLE, RECLAIM_DAYS, tag_key

GROUPS = {"agent": "Agent", "tag": "Tag", "country": "Country"}
COMING_CYCLES = 3
NO_AGENT, UNTAGGED, NO_COUNTRY = "none", "", ""
ZERO = Decimal("0.00")
# Audit actions that move a number between agents (each entry carries the agent before it).
AGENT_CHANGES = (
    AuditEntry.Action.ASSIGN,
    AuditEntry.Action.UNASSIGN,
    AuditEntry.Action.RELEASE,
    AuditEntry.Action.OUTSIDE,
)
CYCLE_SECONDS = cycles.CYCLE.total_seconds()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Group:
    key: str
    label: str
    numbers: int = 0  # active numbers in it now
    past: int = 0  # charges in the period
    coming: list[int] = field(default_factory=lambda: [0] * COMING_CYCLES)  # net charges per coming cycle

    @property
    def per_cycle(self) -> Decimal:
        return PRICE_PER_CYCLE * self.numbers

    @property
    def past_amount(self) -> Decimal:
        return PRICE_PER_CYCLE * self.past

    @property
    def coming_amounts(self) -> list[Decimal]:
        return [PRICE_PER_CYCLE * n for n in self.coming]

    @property
    def coming_amount(self) -> Decimal:
        return PRICE_PER_CYCLE * sum(self.coming)


@dataclass
class Report:
    by: str
    start: datetime  # the period, [start, end), clipped to now for the past
    end: datetime
    now: datetime
    groups: list[Group]
    total: Group  # each charge once, whatever the grouping
    complete_from: datetime | None  # the dashboard's first sync: the past is complete from then
    undated: int  # numbers of unknown purchase time, left out of the past
    cycles: list[tuple[datetime, datetime]]  # the coming cycles' windows

    @property
    def incomplete(self) -> bool:
        return self.complete_from is None or self.start < self.complete_from or self.undated > 0

    @property
    def overlapping(self) -> bool:
        """Whether the groups can add up to more than the total (tags: a number in each of its tags)."""
        return self.by == "tag"


def complete_from() -> datetime | None:
    """The start of the dashboard's records of the current project: its first good sync."""
    return SyncRun.objects.filter(state=SyncRun.State.OK).aggregate(first=Min("started_at"))["first"]


def _released_at(status: str, reclaim_before, pending_seen_at, gone_at) -> datetime | None:
    if status == "active" and gone_at is None:
        return None
    if reclaim_before is not None:
        return reclaim_before - timedelta(days=RECLAIM_DAYS)
    return pending_seen_at or gone_at


def _charges(purchased: datetime, start: datetime, end: datetime) -> Iterator[datetime]:
    """The number's charges (purchase + k x 28 days, k >= 0) in [start, end)."""
    lead = (start - purchased).total_seconds()
    k = max(0, -int(-lead // CYCLE_SECONDS)) if lead > 0 else 0  # the first k with purchase + k C >= start
    at = purchased + k * cycles.CYCLE
    while at < end:
        yield at
        at += cycles.CYCLE


class Holders:
    """Who held each number at an instant, from the audit log's agent changes after START: the agent
    before the first change after the instant, else the number's agent now."""

    def __init__(self, since: datetime) -> None:
        self.changes: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
        entries = (
            AuditEntry.objects.filter(
                action__in=AGENT_CHANGES, outcome=AuditEntry.Outcome.OK, at__gt=since, number_id__isnull=False
            )
            .order_by("at", "id")
            .values_list("number_id", "at", "before")
        )
        for number_id, at, before in entries.iterator():
            if number_id is not None and isinstance(before, dict) and "agent_id" in before:
                self.changes[number_id].append((at, before.get("agent_id")))

    def at(self, number_id: int, moment: datetime, now_agent: int | None) -> int | None:
        for changed_at, before in self.changes.get(number_id, ()):
            if changed_at > moment:
                return before
        return now_agent


def _keys(by: str, agent_id: int | None, country: str, tags: Iterable[str]) -> list[str]:
    if by == "agent":
        return [str(agent_id) if agent_id else NO_AGENT]
    if by == "country":
        return [country or NO_COUNTRY]
    return list(dict.fromkeys(tag_key(t) for t in tags)) or [UNTAGGED]


class _Epoch(Func):
    """An instant as seconds since 1970 (a float), on both databases."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, **extra)


def _seconds(moment: datetime) -> Value:
    return Value((moment - EPOCH).total_seconds(), output_field=FloatField())


def past_charges(start: datetime, until: datetime):
    """SQL: a row's charges (purchase + k x 28 days, k >= 0) in [START, min(UNTIL, its release)): the
    k with START <= purchase + k C < end, counted as ceil((end - purchase) / C) - max(0, ceil((START -
    purchase) / C)), at least 0. Null for a number of unknown purchase time."""
    bought = _Epoch("purchased_at")
    released = Case(
        When(gone_at__isnull=True, last_status="active", then=Value(None, output_field=FloatField())),
        When(reclaim_before__isnull=False, then=_Epoch("reclaim_before") - RECLAIM_DAYS * 86400.0),
        default=Coalesce(_Epoch("pending_seen_at"), _Epoch("gone_at")),
        output_field=FloatField(),
    )
    end = Least(_seconds(until), Coalesce(released, _seconds(until)))
    cycle = Value(CYCLE_SECONDS, output_field=FloatField())
    upto = Ceil((end - bought) / cycle)
    before = Greatest(Value(0.0, output_field=FloatField()), Ceil((_seconds(start) - bought) / cycle))
    return Greatest(Value(0.0, output_field=FloatField()), upto - before)


def report(by: str, start: datetime, end: datetime, now: datetime) -> Report:
    """The costs of the account grouped BY ("agent", "tag" or "country") over [START, END) (the past
    part up to NOW) and the next three cycles from NOW. One GROUP BY over the mirror (by the agent,
    the country or the whole tag list, which the few lists split into tags), plus, for the agent, the
    numbers the audit log saw move since START, charge by charge in Python (a few)."""
    past_end = min(end, now)
    holders = Holders(start) if by == "agent" else None
    moved = list(holders.changes) if holders else []
    netted = statement.releasing(now).values("staffify_id")
    groups: dict[str, Group] = {}
    labels: dict[str, str] = {}
    total = Group("", "All numbers")

    def group(key: str) -> Group:
        found = groups.get(key)
        if found is None:
            found = groups[key] = Group(key, key)
        return found

    active = Q(last_status="active", gone_at__isnull=True)
    figures = {
        "active": Count("pk", filter=active),
        "coming": Count("pk", filter=active & ~Q(staffify_id__in=netted)),
        "undated": Count("pk", filter=active & Q(purchased_at__isnull=True)),
        "past": Sum(past_charges(start, past_end), filter=Q(purchased_at__isnull=False, purchased_at__lt=past_end)),
    }
    # Every number the dashboard ever knew: one gone since was charged while it was held.
    records = NumberRecord.objects.order_by()
    found = records.aggregate(**figures)
    total.numbers, total.past = found["active"], int(found["past"] or 0)
    total.coming = [found["coming"]] * COMING_CYCLES
    column = {"agent": "agent_id", "tag": "tags", "country": "country_code"}[by]
    grouped = records.exclude(staffify_id__in=moved) if moved else records
    for row in grouped.values(column).annotate(**figures, label=Max("agent_name")):
        value = row[column]
        if by == "agent" and value and row["label"]:
            labels.setdefault(str(value), row["label"])
        if by == "tag":
            for tag in value or ():
                labels.setdefault(tag_key(tag), tag)
        for key in _keys(by, value if by == "agent" else None, value if by == "country" else "", value or ()):
            g = group(key)
            g.numbers += row["active"]
            g.past += int(row["past"] or 0)
            g.coming = [n + row["coming"] for n in g.coming]
    if moved and holders is not None:
        _moved(records.filter(staffify_id__in=moved), holders, start, past_end, netted, group, labels)
    names = {str(a.staffify_id): a.name for a in MirrorAgent.objects.all() if a.name}
    for key, g in groups.items():
        g.label = _label(by, key, names, labels)
    ordered = sorted(groups.values(), key=lambda g: (-(g.past + sum(g.coming)), g.label.lower()))
    windows = [(now + i * cycles.CYCLE, now + (i + 1) * cycles.CYCLE) for i in range(COMING_CYCLES)]
    return Report(by, start, end, now, ordered, total, complete_from(), found["undated"], windows)


def _moved(records, holders: Holders, start: datetime, past_end: datetime, netted, group, labels) -> None:
    """The numbers that changed agents since START, by agent: each charge to its holder at the time."""
    releasing = set(n["staffify_id"] for n in netted)
    rows = records.values_list(
        "staffify_id",
        "purchased_at",
        "last_status",
        "reclaim_before",
        "pending_seen_at",
        "gone_at",
        "agent_id",
        "agent_name",
    )
    for number_id, purchased, status, reclaim_before, pending_seen, gone, agent_id, agent_name in rows:
        if agent_id and agent_name:
            labels.setdefault(str(agent_id), agent_name)
        active = status == "active" and gone is None
        now_key = str(agent_id) if agent_id else NO_AGENT
        if active:
            g = group(now_key)
            g.numbers += 1
            if number_id not in releasing:
                g.coming = [n + 1 for n in g.coming]
        if purchased is None:
            continue
        released = None if active else _released_at(status, reclaim_before, pending_seen, gone)
        until = min(past_end, released) if released else past_end
        for charge in _charges(purchased, start, until):
            holder = holders.at(number_id, charge, agent_id)
            group(str(holder) if holder else NO_AGENT).past += 1


def _label(by: str, key: str, names: dict[str, str], labels: dict[str, str]) -> str:
    if by == "agent":
        if key == NO_AGENT:
            return "No agent"
        return names.get(key) or (f"{labels[key]} (gone from Staffify)" if key in labels else f"Agent #{key}")
    if by == "country":
        return key or "Unknown country"
    return labels.get(key, key) if key else "Untagged"
