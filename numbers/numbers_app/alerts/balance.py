"""The balance the runway alert reads: kept in the database by the worker's sync, which reads Staffify's
/credits once at the end of each successful walk (one call beside the walk's own; the rules themselves
make none). A page's reading is not kept: a GET writes nothing."""

from __future__ import annotations

from django.utils import timezone

from numbers_app import staffify
from numbers_app.models import BalanceSeen
from numbers_app.staffify import lookups


def read(client: staffify.StaffifyClient) -> BalanceSeen:
    """Read the balance from Staffify now and keep it (raises StaffifyError when it cannot)."""
    balance = lookups.fresh_balance(client)
    found, _ = BalanceSeen.objects.update_or_create(pk=1, defaults={"balance": balance, "read_at": timezone.now()})
    return found


def last() -> BalanceSeen | None:
    return BalanceSeen.objects.filter(pk=1).first()
