"""The sandbox's seed for a test, at a tenth of its cost.

`sandbox.seed.seed()` builds about 300 rows through the ORM: 26 ms, nearly all of it Python, and a
thousand tests ask for it. Every date in the seed is the sandbox clock's "now" plus a fixed offset, so
the rows of one seed are captured once per test process and written again with one INSERT per table,
each date moved by the time the clock has moved since. tests/test_seeding.py proves the result equals
what seed() builds at that moment, row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
    rows: list[tuple]


@dataclass
class _Template:
    vendor: str
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
        rows = list(model._default_manager.order_by("pk").values_list(*[f.attname for f in fields]))
        tables.append(_Table(sql, fields, rows))
    return _Template(connection.vendor, seeded_at(), tables)


def seed_sandbox() -> bool:
    """What `seed()` does in an empty sandbox (False, changing nothing, when it is not empty)."""
    global _template
    if _template is None or _template.vendor != connection.vendor:
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
                cursor.executemany(table.sql, [_prepared(table.fields, row, shift) for row in table.rows])
        reset_sequences()
    return True


def _prepared(fields: list[models.Field], row: tuple, shift) -> list:
    return [
        field.get_db_prep_save(value + shift if isinstance(value, datetime) else value, connection)
        for field, value in zip(fields, row, strict=True)
    ]
