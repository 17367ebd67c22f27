"""Writes to the local ledger: what the dashboard learned that Staffify's number object omits."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from numbers_app import staffify
from numbers_app.models import NumberRecord


def record_purchase(number_id: int, phone_number: str, user, at: datetime) -> NumberRecord:
    record, _ = NumberRecord.objects.update_or_create(
        staffify_id=number_id,
        defaults={
            "phone_number": phone_number,
            "purchased_at": at,
            "bought_by": user,
            "last_status": "active",
            "last_seen_at": at,
            "reclaim_before": None,
        },
    )
    return record


def record_release(number_id: int, phone_number: str, reclaim_before: datetime | None) -> NumberRecord:
    record, _ = NumberRecord.objects.update_or_create(
        staffify_id=number_id,
        defaults={
            "phone_number": phone_number,
            "reclaim_before": reclaim_before,
            "last_status": "pending_release",
            "last_seen_at": timezone.now(),
        },
    )
    return record


def record_seen(number: staffify.PhoneNumber) -> NumberRecord:
    """The last state seen; a purchase time the API sends wins over ours."""
    defaults = {"phone_number": number.phone_number, "last_status": number.status, "last_seen_at": timezone.now()}
    if number.purchased_at is not None:
        defaults["purchased_at"] = number.purchased_at
    if number.status == "active":
        defaults["reclaim_before"] = None
    elif number.reclaim_before is not None:
        defaults["reclaim_before"] = number.reclaim_before
    record, _ = NumberRecord.objects.update_or_create(staffify_id=number.id, defaults=defaults)
    return record
