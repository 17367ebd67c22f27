"""What a change makes obsolete, closed in one place.

A number released (by anyone: a person, a bulk job, or outside the dashboard, seen by the mirror's
sync) or gone from the account needs no scheduled release any more: the one still waiting is done, and
a failed or missed one leaves the banner. numbers_app.changes.service calls this after each release it makes;
the worker calls it after each sync and each scheduled-release pass, for what happened elsewhere.
Reads and writes the dashboard's own database only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from numbers_app.models import NumberRecord, ScheduledRelease

State = ScheduledRelease.State


def released_or_gone() -> QuerySet[NumberRecord]:
    """Mirror rows of numbers Staffify last showed pending release, or no longer has."""
    return NumberRecord.objects.filter(Q(gone_at__isnull=False) | Q(last_status="pending_release"))


def close_released(number_ids: Iterable[int] | None = None, *, by: Any = None, bulk_job: Any = None) -> int:
    """Close the scheduled releases made pointless by a release: of NUMBER_IDS, released just now by BY
    (in BULK_JOB), or, with None, of every number the mirror shows released or gone. How many closed."""
    now = timezone.now()
    person = by if by is not None and by.is_authenticated else None
    numbers: Any
    if number_ids is None:
        numbers = released_or_gone().values("staffify_id")
        how = "Released another way (seen in Staffify by the sync) before the scheduled time."
    else:
        numbers = list(number_ids)
        who = person.get_username() if person is not None else "someone"
        how = (
            f"Released by hand by {who}"
            + (f" in bulk job {bulk_job.pk}" if bulk_job else "")
            + " before the scheduled time."
        )
    waiting = ScheduledRelease.objects.filter(staffify_id__in=numbers, state=State.SCHEDULED)
    closed = waiting.update(
        state=State.DONE,
        finished_at=now,
        finished_by=person,
        message=how,
    )
    alerts = ScheduledRelease.objects.filter(
        staffify_id__in=numbers, state__in=(State.FAILED, State.MISSED), dismissed_at__isnull=True
    )
    return closed + alerts.update(dismissed_at=now, message="Resolved: the number was released another way.")
