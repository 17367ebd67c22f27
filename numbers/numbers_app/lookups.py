"""Staffify reads that change rarely, cached briefly so pages stay within their call budget.

Agents change rarely and every row's dropdown needs all of them; countries almost never change;
addresses change when someone verifies one in Staffify. The balance is cached for the header only;
the buy dialog and billing read it fresh.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from numbers_app import staffify

AGENTS_TTL = 60
COUNTRIES_TTL = 3600
ADDRESSES_TTL = 120
BALANCE_TTL = 60
SCAN_LIMIT = 1000  # pages that need every number read at most this many (a later issue: a local mirror)


def agents(client: staffify.StaffifyClient) -> list[staffify.Agent]:
    found = cache.get("staffify:agents")
    if found is None:
        found = sorted(client.agents(), key=lambda a: (a.name or "").lower())
        cache.set("staffify:agents", found, AGENTS_TTL)
    return found


def countries(client: staffify.StaffifyClient) -> list[staffify.Country]:
    found = cache.get("staffify:countries")
    if found is None:
        found = sorted(client.countries(), key=lambda c: c.name or c.code)
        cache.set("staffify:countries", found, COUNTRIES_TTL)
    return found


def addresses(client: staffify.StaffifyClient) -> list[staffify.Address]:
    found = cache.get("staffify:addresses")
    if found is None:
        found = client.addresses()
        cache.set("staffify:addresses", found, ADDRESSES_TTL)
    return found


def cached_balance(client: staffify.StaffifyClient) -> Decimal | None:
    """The balance for the page header; None when Staffify cannot say right now."""
    found = cache.get("staffify:balance")
    if found is None:
        try:
            found = client.credits().balance
        except staffify.StaffifyError:
            return None
        cache.set("staffify:balance", found, BALANCE_TTL)
    return found


def fresh_balance(client: staffify.StaffifyClient) -> Decimal:
    balance = client.credits().balance
    cache.set("staffify:balance", balance, BALANCE_TTL)
    return balance


def forget_balance() -> None:
    cache.delete("staffify:balance")


def staffify_now(client: staffify.StaffifyClient | None = None) -> datetime:
    """Staffify's idea of now: ours corrected by the skew seen in its Date headers (the sandbox's
    clock can run days ahead). Countdowns run on it."""
    client = client or staffify.get_client()
    return timezone.now() + client.clock_skew


def all_numbers(client: staffify.StaffifyClient) -> tuple[list[staffify.PhoneNumber], bool]:
    """Every owned number up to SCAN_LIMIT, and whether the account has more."""
    found: list[staffify.PhoneNumber] = []
    for number in client.iter_numbers(page_size=100):
        if len(found) == SCAN_LIMIT:
            return found, True
        found.append(number)
    return found, False
