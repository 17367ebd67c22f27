"""Staffify's published rules that the dashboard checks before sending anything."""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

PRICE_PER_CYCLE = Decimal("5.00")  # EUR per number per 28-day cycle, charged at purchase too
CYCLE_DAYS = 28
RECLAIM_DAYS = 7
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
NO_ADDRESS_COUNTRIES = {"US", "CA"}  # everywhere else needs an address_id
LOCAL_PRESENCE_COUNTRIES = {"DE", "ES"}  # local numbers there need the address's city_code
USABLE_ADDRESS_STATUSES = frozenset({"verified", "partially_verified"})
FINAL_ADDRESS_STATUSES = frozenset({"verified", "rejected", "expired"})  # check-status will not change them
ADDRESS_DOCUMENT_TYPES = {"government_id": "Government ID", "business_registration": "Business registration"}
# What Staffify's guide accepts for a document when a country's requirements do not say otherwise.
DOCUMENT_FILE_TYPES = ("application/pdf", "image/jpeg", "image/png")
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024

# The dates the dashboard takes from people (filters, purchase times, files): Staffify's numbers were
# bought this century. Dates at the ends of Python's calendar (0001-01-01, 9999-12-31) would overflow
# when moved between time zones; these are refused with this sentence before any arithmetic.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)
DATE_BOUNDS = "Choose a date between 1 January 2000 and 31 December 2099."


def date_in_bounds(day: date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


def instant_in_bounds(moment: datetime) -> bool:
    """Whether MOMENT (aware, in any zone) lies within the bounds, on its own date and in UTC."""
    if not date_in_bounds(moment.date()):
        return False  # refused on its face: no conversion, which could overflow
    return date_in_bounds(moment.astimezone(UTC).date())


def tag_key(tag: str) -> str:
    """A tag's identity: one tag whatever its case ("VIP" and "vip" are the same tag: a list may not
    hold both, adding one the number has changes nothing, the list's filter matches either)."""
    return tag.lower()


def same_tags(have: Sequence[str], wanted: Sequence[str]) -> bool:
    """Whether a number's tags are already the list asked for. Staffify keeps tags as written, so a
    list that differs only in case ("VIP" -> "vip") is a change, and is sent; the order is not."""
    return sorted(have) == sorted(wanted)


def for_templates() -> dict[str, object]:
    """The rules as template variables (`{{ rules.PRICE_PER_CYCLE }}`); base.html hands the ones the
    browser checks to static/js/app.js as data attributes on <body>."""
    return {name: value for name, value in globals().items() if name.isupper()}
