"""Staffify reads that change rarely, cached briefly so pages stay within their call budget.

Agents change rarely and every row's dropdown needs all of them; countries almost never change;
addresses change when someone verifies one in Staffify. The balance is read by the worker
(numbers_app.tasks.refresh_balance: on its schedule, and within seconds of any write, which marks it
stale) and kept with the time it was read (the header and billing show that age); a page only reads
what is kept, and reads Staffify only when someone clicks to refresh it; the buy dialog reads it fresh.
Numbers are not read here: pages read the mirror.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from numbers_app import staffify

# The balance's cache key and forget_balance() live with the client's glue, which drops the balance
# after every answered write; callers keep calling lookups.forget_balance().
from numbers_app.staffify.glue import BALANCE_CACHE_KEY, BALANCE_STALE_KEY, CLOCK_SKEW_KEY
from numbers_app.staffify.glue import forget_balance as forget_balance

AGENTS_TTL = 60
COUNTRIES_TTL = 3600
ADDRESSES_TTL = 120
ADDRESS_LISTING_UNAVAILABLE_TTL = 3600  # an absent GET /addresses is asked about again after an hour
REQUIREMENTS_TTL = 3600
BALANCE_KEPT = 7 * 24 * 3600  # a reading is replaced by the next one long before; a week bounds a dead worker's


def agents(client: staffify.StaffifyClient) -> list[staffify.Agent]:
    found = cache.get("staffify:agents")
    if found is None:
        with asking_for("the agent list"):
            found = sorted(client.agents(), key=lambda a: (a.name or "").lower())
        cache.set("staffify:agents", found, AGENTS_TTL)
    return found


def countries(client: staffify.StaffifyClient) -> list[staffify.Country]:
    found = cache.get("staffify:countries")
    if found is None:
        with asking_for("the list of countries"):
            found = sorted(client.countries(), key=lambda c: c.name or c.code)
        cache.set("staffify:countries", found, COUNTRIES_TTL)
    return found


def listed_addresses(client: staffify.StaffifyClient) -> list[staffify.Address]:
    """The addresses Staffify's `GET /addresses` lists, an extra source beside the address book.

    Staffify does not document that endpoint: where it answers 404 or 405 the dashboard remembers for a
    while that there is none and uses the book alone, saying nothing (nothing failed that it relies on).
    Other errors are raised as usual (a caller may treat them as "no extra source right now")."""
    if cache.get("staffify:addresses:unavailable"):
        return []
    found = cache.get("staffify:addresses")
    if found is None:
        try:
            with asking_for("the address list"):
                found = client.addresses()
        except staffify.StaffifyStatusError as err:
            if err.status in (404, 405):
                cache.set("staffify:addresses:unavailable", True, ADDRESS_LISTING_UNAVAILABLE_TTL)
                return []
            raise
        cache.set("staffify:addresses", found, ADDRESSES_TTL)
    return found


def forget_listed_addresses() -> None:
    """After the dashboard changed an address: the listing (where there is one) is stale."""
    cache.delete("staffify:addresses")


def address_requirements(client: staffify.StaffifyClient, country: str) -> staffify.AddressRequirements:
    key = f"staffify:address-requirements:{country}"
    found = cache.get(key)
    if found is None:
        with asking_for(f"the address requirements of {country}"):
            found = client.address_requirements(country)
        cache.set(key, found, REQUIREMENTS_TTL)
    return found


@dataclass(frozen=True)
class BalanceReading:
    """The balance as Staffify gave it, and when: the header says "as of 10:42"."""

    balance: Decimal
    at: datetime


def balance_reading(client: staffify.StaffifyClient | None = None) -> BalanceReading | None:
    """The kept balance with the moment it was read, for the header and billing; None when nobody has
    read it yet. Never a Staffify call (CLIENT is accepted and unused, for callers of old)."""
    found = cache.get(BALANCE_CACHE_KEY)
    return found if isinstance(found, BalanceReading) else None


def balance_due(every_seconds: float) -> bool:
    """Whether the worker should read the balance now: never read, marked stale by a write, or older
    than EVERY_SECONDS."""
    reading = balance_reading()
    if reading is None or cache.get(BALANCE_STALE_KEY):
        return True
    return (timezone.now() - reading.at).total_seconds() >= every_seconds


def refresh_balance(client: staffify.StaffifyClient) -> BalanceReading:
    """Read the balance from Staffify (/credits) and keep it: the worker, the header's refresh button,
    and a purchase's answer. Raises StaffifyError (the kept reading stays, with its age)."""
    cache.delete(BALANCE_STALE_KEY)  # before the read: a write answered meanwhile marks it again
    with asking_for("the balance (/credits)"):
        reading = BalanceReading(client.credits().balance, timezone.now())
    cache.set(BALANCE_CACHE_KEY, reading, BALANCE_KEPT)
    return reading


def fresh_balance(client: staffify.StaffifyClient) -> Decimal:
    return refresh_balance(client).balance


@contextlib.contextmanager
def asking_for(what: str) -> Iterator[None]:
    """Errors raised inside say what was asked for, so explain() names it ("the agent list"),
    not "this number"."""
    try:
        yield
    except staffify.StaffifyError as err:
        if err.asked_for is None:
            err.asked_for = what
        raise


def staffify_now(client: staffify.StaffifyClient | None = None) -> datetime:
    """Staffify's idea of now: ours corrected by the skew seen in its Date headers (the sandbox's
    clock can run days ahead). Countdowns run on it."""
    if client is None:  # a page: the skew the last answer in any process showed (the worker's, mostly)
        shared = cache.get(CLOCK_SKEW_KEY)
        if shared is not None:
            return timezone.now() + timedelta(seconds=shared)
        client = staffify.get_client()
    return timezone.now() + client.clock_skew
