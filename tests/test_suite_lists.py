"""The suite's own lists in tests/conftest.py name tests that exist: a test renamed or moved would
otherwise drop out of the PostgreSQL pass (POSTGRES_TESTS) or lose its early start (SLOW_FIRST) silently."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_TESTS, SLOW_FIRST

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("entry", POSTGRES_TESTS)
def test_every_postgres_entry_names_a_test_that_exists(entry):
    path, _, name = entry.partition("::")
    assert (ROOT / path).is_file(), f"{path} does not exist"
    if name:
        assert re.search(rf"^def {re.escape(name)}\(", (ROOT / path).read_text(), re.MULTILINE), (
            f"{path} has no test {name}"
        )


@pytest.mark.parametrize("prefix", SLOW_FIRST)
def test_every_slow_first_entry_exists(prefix):
    assert (ROOT / prefix).exists(), f"{prefix} does not exist"
