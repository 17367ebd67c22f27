"""tests/seeding.py's fast seed must build exactly what the sandbox's own seed builds."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import models

from sandbox import billing
from sandbox.seed import seed
from tests.seeding import SEEDED_MODELS, seed_sandbox, seeded_at

pytestmark = pytest.mark.postgres


def _dump() -> dict[str, list[tuple]]:
    """Every seeded row, its dates as offsets from the seed's "now"; generated ids left out (PostgreSQL's
    sequences do not roll back with a test, so they differ from one seed to the next)."""
    at = seeded_at()
    dump = {}
    for model in SEEDED_MODELS:
        names = [
            f.attname for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))
        ]
        rows = model._default_manager.values_list(*names)
        dump[model.__name__] = sorted(tuple(v - at if isinstance(v, datetime) else v for v in row) for row in rows)
    return dump


def _wipe() -> None:
    for model in reversed(SEEDED_MODELS):
        model._default_manager.all().delete()


def test_the_fast_seed_is_the_seed_at_a_later_moment(db):
    assert seed_sandbox()
    _wipe()
    billing.advance_clock(timedelta(days=3, seconds=17).total_seconds())  # the template must follow the clock
    assert seed_sandbox()
    fast = _dump()
    assert seeded_at() > billing.now() - timedelta(seconds=30)
    _wipe()
    assert seed()
    assert _dump() == fast
    assert sum(len(rows) for rows in fast.values()) > 200


def test_it_leaves_a_seeded_sandbox_alone(db):
    assert seed_sandbox()
    before = seeded_at()
    assert not seed_sandbox()
    assert seeded_at() == before
