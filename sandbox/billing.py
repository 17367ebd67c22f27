"""The sandbox clock and the EUR 5 per 28 days billing, settled lazily at the start of each call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q

from .models import Address, Charge, Clock, PhoneNumber, Project

PRICE = Decimal("5.00")
CYCLE = timedelta(days=28)
RECLAIM_WINDOW = timedelta(days=7)


# --- clock ------------------------------------------------------------------------------------


def real_now() -> datetime:
    return datetime.now(UTC)


class _CallClock:
    """The clock's offset for one API call: read once, when the call first asks."""

    offset: timedelta | None = None


# Set by endpoint.py for the length of an API call: every "now" of the call is on one clock, for one
# query. Moving the clock in the call moves it here too.
_call_clock: ContextVar[_CallClock | None] = ContextVar("sandbox_call_clock", default=None)


def _stored_offset() -> timedelta:
    offset = Clock.objects.filter(pk=1).values_list("offset", flat=True).first()
    return offset if offset is not None else timedelta(0)


def clock_offset() -> timedelta:
    call = _call_clock.get()
    if call is None:
        return _stored_offset()
    if call.offset is None:
        call.offset = _stored_offset()
    return call.offset


@contextmanager
def one_clock_per_call() -> Iterator[None]:
    token = _call_clock.set(_CallClock())
    try:
        yield
    finally:
        _call_clock.reset(token)


def now() -> datetime:
    return real_now() + clock_offset()


def advance_clock(seconds: float) -> datetime:
    with transaction.atomic():
        clock, _ = Clock.objects.select_for_update().get_or_create(pk=1)
        clock.offset += timedelta(seconds=seconds)
        clock.save(update_fields=["offset"])
    _moved(clock.offset)
    return real_now() + clock.offset


def reset_clock() -> None:
    Clock.objects.update_or_create(pk=1, defaults={"offset": timedelta(0)})
    _moved(timedelta(0))


def _moved(offset: timedelta) -> None:
    call = _call_clock.get()
    if call is not None:
        call.offset = offset


# --- pure billing arithmetic --------------------------------------------------------------------


def due_boundaries(paid_until: datetime, moment: datetime) -> list[datetime]:
    """The renewal instants at or before `moment`, starting with `paid_until`, 28 days apart."""
    boundaries = []
    boundary = paid_until
    while boundary <= moment:
        boundaries.append(boundary)
        boundary += CYCLE
    return boundaries


def next_boundary_after(paid_until: datetime, moment: datetime) -> datetime:
    """The first boundary of the number's own cycle that is still ahead of `moment`."""
    if paid_until > moment:
        return paid_until
    passed = (moment - paid_until) // CYCLE + 1
    return paid_until + passed * CYCLE


# --- settlement -----------------------------------------------------------------------------------


def settle(moment: datetime) -> None:
    """Bring the whole sandbox up to `moment`: expire old releases, charge passed renewals.

    Balances may go negative here: a renewal is charged whatever the balance (a sandbox choice;
    only a purchase needs EUR 5 up front).
    """
    settle_addresses(moment)
    # One query says whether anything is due (nearly every call finds nothing): which projects have a
    # renewal due, and whether a reclaim window has closed.
    due_anywhere = set(
        PhoneNumber.objects.filter(
            Q(status=PhoneNumber.ACTIVE, paid_until__lte=moment)
            | Q(status=PhoneNumber.PENDING_RELEASE, reclaim_before__lte=moment)
        )
        .order_by()
        .values_list("status", "project_id")
        .distinct()
    )
    if any(status == PhoneNumber.PENDING_RELEASE for status, _ in due_anywhere):
        # A pending number whose reclaim window has closed is gone, and its number is for sale again.
        PhoneNumber.objects.filter(status=PhoneNumber.PENDING_RELEASE, reclaim_before__lte=moment).delete()

    project_ids = {project_id for status, project_id in due_anywhere if status == PhoneNumber.ACTIVE}
    for project_id in sorted(project_ids):
        with transaction.atomic():
            # Lock order everywhere: the organisation's account row (its first project) first, then the
            # project's numbers.
            project = Project.objects.get(pk=project_id)
            account = project.account(lock=True)
            due = list(
                PhoneNumber.objects.select_for_update().filter(
                    project=project, status=PhoneNumber.ACTIVE, paid_until__lte=moment
                )
            )
            charges: list[Charge] = []
            most = 0
            for number in due:
                boundaries = due_boundaries(number.paid_until, moment)
                most = max(most, len(boundaries))
                charges.extend(
                    Charge(
                        project=project,
                        number=number,
                        phone_number=number.phone_number,
                        amount=PRICE,
                        reason=Charge.RENEWAL,
                        at=boundary,
                    )
                    for boundary in boundaries
                )
            # In bulk: a jump of 28 days renews every number of a large account at once. One UPDATE
            # per number of cycles due: K cycles are due where paid_until is in (moment - K
            # cycles, moment - (K - 1) cycles].
            for cycles in range(1, most + 1):
                PhoneNumber.objects.filter(
                    project=project,
                    status=PhoneNumber.ACTIVE,
                    paid_until__lte=moment - (cycles - 1) * CYCLE,
                    paid_until__gt=moment - cycles * CYCLE,
                ).update(cycles_billed=F("cycles_billed") + cycles, paid_until=F("paid_until") + cycles * CYCLE)
            if charges:
                Charge.objects.bulk_create(charges, batch_size=5000)
                account.balance -= PRICE * len(charges)
                account.balance_updated_at = moment
                account.save(update_fields=["balance", "balance_updated_at"])


def settle_addresses(moment: datetime) -> None:
    """Submitted addresses whose review time has passed on the sandbox clock become verified then."""
    Address.objects.filter(status=Address.PENDING, verify_at__lte=moment).update(
        status=Address.VERIFIED, updated_at=F("verify_at"), verify_at=None, reason=""
    )
