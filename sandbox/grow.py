"""Growing the demo account to many numbers (and agents) with bulk inserts, for realistic volumes.

Grown numbers come from their own blocks, disjoint from the inventory that search sells, so they never
collide with a purchase. The k-th grown number is a pure function of k (its E.164 number, type, tags,
agent slot, status and age relative to the sandbox clock), so growing to 2,500 and then to 5,000 gives
the same numbers as growing to 5,000 at once. Their past charges are written to the ledger, so the
numbers are billed up to now and growing causes no back-charges.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from . import billing, inventory, seed
from .models import Address, Agent, Charge, PhoneNumber, Project

BATCH = 5000
SPREAD = timedelta(days=180)  # purchases spread over the last six months, so cycles differ
MULTIPLIER = 7_368_787  # coprime with every block's size below: i -> i*M+offset is a bijection


@dataclass(frozen=True)
class GrownBlock:
    country: str
    number_type: str
    code: str  # stored like a bought number's: area or city code, "" for mobile
    prefix: str  # national digits after the calling code
    digits: int
    first: str
    locality: str
    tag_sets: tuple[tuple[str, ...], ...]

    @property
    def size(self) -> int:
        return len(self.first) * 10 ** (self.digits - 1)

    def number(self, i: int, salt: int) -> str | None:
        """The i-th number of the block (i < size); None for a subscriber number the NANP never gives out."""
        value = (i * MULTIPLIER + salt) % self.size
        digits = self.first[value % len(self.first)] + str(value // len(self.first)).zfill(self.digits - 1)
        if self.country == "US" and (digits[1:3] == "11" or digits[:3] == "555"):
            return None  # N11 exchanges and 555 are not real subscriber numbers
        return "+" + inventory.COUNTRIES[self.country].calling_code + self.prefix + digits


_US = "23456789"
_US_TAGS = (("support",), ("sales",), (), ("billing",), ("support", "after-hours"), ("sales", "outbound"))
_NL_TAGS = (("support", "amsterdam"), ("sales",), ("amsterdam",), ())
_DE_TAGS = (("berlin",), ("support", "berlin"), ("sales", "berlin"), ())


def _us(code: str, locality: str) -> GrownBlock:
    return GrownBlock("US", inventory.LOCAL, code, code, 7, _US, locality, _US_TAGS)


# Twenty slots, taken in turn: 60% US local, 10% US toll-free, 15% NL local, 15% DE mobile.
SLOTS: tuple[GrownBlock, ...] = (
    _us("206", "Seattle"),
    _us("303", "Denver"),
    _us("617", "Boston"),
    _us("305", "Miami"),
    _us("702", "Las Vegas"),
    _us("646", "New York"),
    _us("213", "Los Angeles"),
    _us("404", "Atlanta"),
    _us("503", "Portland"),
    _us("720", "Denver"),
    _us("919", "Raleigh"),
    _us("612", "Minneapolis"),
    GrownBlock("US", inventory.TOLL_FREE, "833", "833", 7, _US, "United States", (("support", "toll-free"),)),
    GrownBlock("US", inventory.TOLL_FREE, "844", "844", 7, _US, "United States", (("billing", "toll-free"),)),
    GrownBlock("NL", inventory.LOCAL, "040", "40", 7, "2345678", "Eindhoven", _NL_TAGS),
    GrownBlock("NL", inventory.LOCAL, "050", "50", 7, "2345678", "Groningen", _NL_TAGS),
    GrownBlock("NL", inventory.LOCAL, "043", "43", 7, "2345678", "Maastricht", _NL_TAGS),
    GrownBlock("DE", inventory.MOBILE, "", "152", 8, "0123456789", "Germany", _DE_TAGS),
    GrownBlock("DE", inventory.MOBILE, "", "157", 8, "0123456789", "Germany", _DE_TAGS),
    GrownBlock("DE", inventory.MOBILE, "", "176", 8, "0123456789", "Germany", _DE_TAGS),
)
assert all(math.gcd(MULTIPLIER, slot.size) == 1 for slot in SLOTS)

_ROLES = ("Support", "Sales", "Billing", "Reception", "Scheduler", "Order Status", "Survey", "After-hours")
_CITIES = (
    ("Amsterdam", "nl-NL"),
    ("Berlin", "de-DE"),
    ("Seattle", "en-US"),
    ("Boston", "en-US"),
    ("Miami", "es-US"),
    ("Munich", "de-DE"),
    ("Utrecht", "nl-NL"),
    ("London", "en-GB"),
)
_VOICES = ("alloy", "nova", "shimmer", "echo", "fable", "onyx")


def grown_numbers() -> Iterator[tuple[int, GrownBlock, str]]:
    """(k, block, E.164) for k = 0, 1, 2, ...: the grown numbers in their fixed order."""
    k = 0
    position = [0] * len(SLOTS)
    while True:
        slot = k % len(SLOTS)
        block = SLOTS[slot]
        e164 = None
        while e164 is None:
            e164 = block.number(position[slot], salt=slot * 104_729)
            position[slot] += 1
        yield k, block, e164
        k += 1


def grow_agents(project: Project, total: int, now: datetime) -> int:
    """Add agents until the project has `total`; returns how many were added."""
    have = Agent.objects.filter(project=project).count()
    start = (Agent.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    agents = []
    for n in range(max(0, total - have)):
        index = have + n
        role = _ROLES[index % len(_ROLES)]
        city, language = _CITIES[(index // len(_ROLES)) % len(_CITIES)]
        agent_id = start + n
        agents.append(
            Agent(
                id=agent_id,
                project=project,
                public_id=seed.public_id(project.id, agent_id),
                name=f"{role} {city} {index // (len(_ROLES) * len(_CITIES)) + 1}",
                language=language,
                voice=_VOICES[index % len(_VOICES)],
                created_at=now - timedelta(days=200, minutes=-37 * index),
            )
        )
    Agent.objects.bulk_create(agents, batch_size=BATCH)
    return len(agents)


class _Inserter:
    """COPY (PostgreSQL) or multi-row INSERTs (SQLite): model instances or a statement a row take minutes."""

    ROWS_PER_STATEMENT = 500  # 16 columns x 500 rows stays under SQLite's parameter limit

    def __init__(self, model, columns: list[str]) -> None:
        self.fields = [model._meta.get_field(column) for column in columns]
        names = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        self.row_marks = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        table = connection.ops.quote_name(model._meta.db_table)
        self.head = f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608 (names from the model, quoted)
        self.copy_sql = f"COPY {table} ({names}) FROM STDIN"
        self.rows: list[tuple] = []
        self._adapted: dict = {}

    def adapt(self, column: int, value):
        """The database value of a Python value; repeated ones (tags, amounts) are adapted once."""
        if value is None or isinstance(value, int | str):
            return value
        if connection.vendor == "postgresql":  # COPY takes plain Python values, JSON as text
            return json.dumps(value) if isinstance(value, list) else value
        if isinstance(value, datetime):
            return connection.ops.adapt_datetimefield_value(value)
        key = (column, repr(value))
        if key not in self._adapted:
            self._adapted[key] = self.fields[column].get_db_prep_save(value, connection)
        return self._adapted[key]

    def add(self, *values) -> None:
        self.rows.append(tuple(self.adapt(n, v) for n, v in enumerate(values)))
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY: client-side binding of thousands of parameters costs more than the insert.
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in self.rows:
                        copy.write_row(row)
                self.rows.clear()
                return
            for start in range(0, len(self.rows), self.ROWS_PER_STATEMENT):
                chunk = self.rows[start : start + self.ROWS_PER_STATEMENT]
                sql = self.head + ", ".join([self.row_marks] * len(chunk))
                cursor.execute(sql, [value for row in chunk for value in row])
        self.rows.clear()


def grow_numbers(project: Project, total: int, now: datetime) -> int:
    """Add grown numbers until the project owns `total`; returns how many were added."""
    have = PhoneNumber.objects.filter(project=project).count()
    wanted = total - have
    if wanted <= 0:
        return 0
    taken = set(PhoneNumber.objects.values_list("phone_number", flat=True))
    agent_ids = list(Agent.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    addresses = dict(
        Address.objects.filter(project=project, status__in=Address.USABLE)
        .exclude(country_code="US")
        .order_by("id")
        .values_list("country_code", "id")
    )
    next_id = (PhoneNumber.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    numbers = _Inserter(
        PhoneNumber,
        ["id", "project", "phone_number", "country_code", "number_type", "locality", "code", "status", "agent",
         "address", "tags", "purchased_at", "paid_until", "cycles_billed", "released_at", "reclaim_before"],
    )  # fmt: skip
    charges = _Inserter(Charge, ["project", "number", "phone_number", "amount", "reason", "at"])
    spread = int(SPREAD.total_seconds())
    added = 0
    for k, block, e164 in grown_numbers():
        if added >= wanted:
            break
        if e164 in taken:
            continue
        age = timedelta(seconds=60 + (k * 104_729) % spread)
        agent_id = released_at = reclaim_before = None
        tags: list[str] = []
        status = PhoneNumber.ACTIVE
        if k % 101 == 50:  # about 1% are pending release, released 0.25 to 6.25 days ago
            status = PhoneNumber.PENDING_RELEASE
            released_at = now - timedelta(days=0.25 + (k // 101) % 13 / 2)
            reclaim_before = released_at + billing.RECLAIM_WINDOW
            purchased_at = released_at - age
        else:
            purchased_at = now - age
            if agent_ids and k % 10 < 7:  # about 70% have an agent
                agent_id = agent_ids[(k // 10 * 7 + k % 10) % len(agent_ids)]
            tags = list(block.tag_sets[(k // len(SLOTS)) % len(block.tag_sets)])
        cycles, charged_at = seed.billing_state(purchased_at, released_at or now)
        numbers.add(
            next_id, project.pk, e164, block.country, block.number_type, block.locality, block.code, status,
            agent_id, addresses.get(block.country), tags, purchased_at, purchased_at + cycles * billing.CYCLE,
            cycles, released_at, reclaim_before,
        )  # fmt: skip
        for n, at in enumerate(charged_at):
            reason = Charge.PURCHASE if n == 0 else Charge.RENEWAL
            charges.add(project.pk, next_id, e164, billing.PRICE, reason, at)
        next_id += 1
        added += 1
    numbers.flush()
    charges.flush()
    return added


def grow(numbers: int | None = None, agents: int | None = None, project_id: str = seed.DEMO_PROJECT) -> tuple[int, int]:
    """Grow a project (the demo one by default; seeding first if needed); returns (agents added, numbers
    added). A second project grows with other numbers (each number is owned once)."""
    seed.seed()
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project_id)
        now = billing.now()
        billing.settle(now)  # charges due before growing belong to the old numbers, not the new
        added_agents = grow_agents(project, agents, now) if agents else 0
        added_numbers = grow_numbers(project, numbers, now) if numbers else 0
        seed.reset_sequences()
    return added_agents, added_numbers
