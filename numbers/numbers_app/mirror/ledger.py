"""Writes to the mirror row of a number after the dashboard changed it or read it live: what
Staffify answered, plus what only the dashboard knows (when it bought the number, and who)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from numbers_app import staffify
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberRecord


def record_purchase(number_id: int, phone_number: str, user: Any, at: datetime) -> NumberRecord:
    bought = staffify.PhoneNumber(id=number_id, phone_number=phone_number, status="active")
    return mirror.remember(bought, purchased_at=at, bought_by=user)


def record_release(number_id: int, phone_number: str, reclaim_before: datetime | None) -> NumberRecord:
    record = NumberRecord.objects.filter(staffify_id=number_id, gone_at__isnull=True).first()
    base = (
        mirror.as_number(record)
        if record
        else staffify.PhoneNumber(id=number_id, phone_number=phone_number, status="active")
    )
    released = replace(base, status="pending_release", agent_id=None, agent_name=None, reclaim_before=reclaim_before)
    return mirror.remember(released)


def record_seen(number: staffify.PhoneNumber) -> NumberRecord:
    """The state Staffify just answered; a purchase time the API sends wins over ours."""
    return mirror.remember(number)
