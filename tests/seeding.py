"""The sandbox's seed for a test, at a quarter of its cost (`bench/seed.py`: on SQLite 4 ms of CPU
instead of 17; on PostgreSQL 9 instead of 21).

`sandbox.seed.seed()` builds 210 rows through the ORM, nearly all of its time in Python, and a thousand
tests ask for it. Every date in the seed is the sandbox clock's "now" plus a fixed offset, so
the rows of one seed are captured once per test process and written again with one INSERT per table,
each date moved by the time the clock has moved since. tests/test_seeding.py proves the result equals
what seed() builds at that moment, row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, models, transaction

from sandbox import billing
from sandbox.models import Address, AddressDocument, Agent, ApiKey, Charge, PhoneNumber, Project
from sandbox.seed import DEMO_PROJECT, reset_sequences, seed

SEEDED_MODELS: tuple[type[models.Model], ...] = (
    Project,
    ApiKey,
    Agent,
    Address,
    AddressDocument,
    PhoneNumber,
    Charge,
)


@dataclass
class _Table:
    sql: str
    fields: list[models.Field]
    # Each row's values as the database takes them, except its dates: those stay datetimes, moved and
    # prepared at each use (DATES holds their positions).
    rows: list[list]
    dates: list[int]


@dataclass
class _Template:
    seeded_at: datetime
    tables: list[_Table]


_template: _Template | None = None


def seeded_at() -> datetime:
    """The sandbox clock's "now" of the seed in the database (the demo balance is dated then)."""
    return Project.objects.values_list("balance_updated_at", flat=True).get(pk=DEMO_PROJECT)


def _capture() -> _Template:
    tables = []
    for model in SEEDED_MODELS:
        fields = list(model._meta.concrete_fields)
        columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 (a model's own table and columns)
        values = model._default_manager.order_by("pk").values_list(*[f.attname for f in fields])
        rows = [
            [
                v if isinstance(v, datetime) else f.get_db_prep_save(v, connection)
                for f, v in zip(fields, row, strict=True)
            ]
            for row in values
        ]
        dates = [i for i, f in enumerate(fields) if isinstance(f, models.DateTimeField)]
        tables.append(_Table(sql, fields, rows, dates))
    return _Template(seeded_at(), tables)


def seed_sandbox() -> bool:
    """What `seed()` does in an empty sandbox (False, changing nothing, when it is not empty)."""
    global _template
    if _template is None:
        if not seed():
            return False
        _template = _capture()
        return True
    with transaction.atomic():
        if Project.objects.exists():
            return False
        shift = billing.now() - _template.seeded_at
        with connection.cursor() as cursor:
            for table in _template.tables:
                cursor.executemany(table.sql, [_moved(table, row, shift) for row in table.rows])
        reset_sequences()
    return True


def _moved(table: _Table, row: list, shift: timedelta) -> list:
    """ROW with its dates moved by SHIFT and prepared for the database."""
    row = row.copy()
    for i in table.dates:
        if row[i] is not None:
            row[i] = table.fields[i].get_db_prep_save(row[i] + shift, connection)
    return row
