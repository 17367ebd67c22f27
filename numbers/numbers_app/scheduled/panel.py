"""The "Release before the next charge" panel, on a number's page and as the fragment its actions
answer with: what it shows, from the database alone (no Staffify call)."""

from __future__ import annotations

from django.http import HttpRequest

from numbers_app.models import NumberRecord
from numbers_app.scheduled import releases as scheduled_releases
from numbers_app.web.access import permissions_for


def panel_context(request: HttpRequest, record: NumberRecord | None, number_id: int) -> dict:
    """What the "Release before the next charge" panel of a number's page shows (no Staffify call)."""
    waiting = scheduled_releases.waiting_for(number_id)
    reason = None
    if waiting is None and record is None:
        reason = "The dashboard does not know this number yet."
    elif waiting is None and record is not None:
        reason = scheduled_releases.cannot_schedule_reason(record)
    return {
        "number_id": number_id,
        "record": record,
        "scheduled": waiting,
        "schedule_reason": reason,
        "lead_minutes": round(scheduled_releases.lead().total_seconds() / 60),
        **permissions_for(request.user),
    }
