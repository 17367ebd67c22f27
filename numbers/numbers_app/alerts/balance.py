"""The balance the runway alert reads, kept in the database beside the cached reading the header and
billing show (numbers_app.staffify.lookups): every reading of /credits goes through read() (the worker's
balance check, every BALANCE_REFRESH_SECONDS and soon after a purchase, and the header's Refresh button),
so both say the same. The rules themselves make no call, and a page load reads none."""

from __future__ import annotations

from numbers_app import staffify
from numbers_app.models import BalanceSeen
from numbers_app.staffify import lookups


def read(client: staffify.StaffifyClient) -> BalanceSeen:
    """Read the balance from Staffify now and keep it (raises StaffifyError when it cannot)."""
    reading = lookups.refresh_balance(client)
    found, _ = BalanceSeen.objects.update_or_create(pk=1, defaults={"balance": reading.balance, "read_at": reading.at})
    return found


def last() -> BalanceSeen | None:
    return BalanceSeen.objects.filter(pk=1).first()
