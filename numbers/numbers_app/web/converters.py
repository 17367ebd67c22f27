"""Path converters for the dashboard's URLs."""

from __future__ import annotations

# The largest id a 64-bit signed integer column holds (SQLite's INTEGER, PostgreSQL's bigint): the
# mirror and the audit log store Staffify ids there, so a larger id cannot name a number we know.
MAX_STAFFIFY_ID = 2**63 - 1


class StaffifyIdConverter:
    """A Staffify number id: digits, at most MAX_STAFFIFY_ID. Anything else is a 404 at the URL, before
    a view, the database or Staffify sees it (Django turns to_python's ValueError into "no match")."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_STAFFIFY_ID:
            raise ValueError(f"{value} is larger than any Staffify id")
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))
