"""The suite's own list in tests/conftest.py names paths that exist: a module renamed or moved would
otherwise lose its early start (SLOW_FIRST) silently. (The PostgreSQL pass is chosen by markers on the
tests themselves, @pytest.mark.postgres and @pytest.mark.database, so it has no list to go stale.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SLOW_FIRST

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("prefix", SLOW_FIRST)
def test_every_slow_first_entry_exists(prefix):
    assert (ROOT / prefix).exists(), f"{prefix} does not exist"
