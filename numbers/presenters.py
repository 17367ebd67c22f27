"""How a Staffify number is shown: the row a template renders, merged with the local ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers

from numbers import staffify
from numbers.explain import Problem
from numbers.models import NumberRecord


def format_phone(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def country_of(e164: str) -> str | None:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed)


@dataclass
class NumberRow:
    id: int
    phone_number: str
    display: str
    country: str | None
    status: str
    agent_id: int | None
    agent_name: str | None
    tags: tuple[str, ...]
    reclaim_before: datetime | None
    purchased_at: datetime | None
    problem: Problem | None = None
    extra: dict = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_pending(self) -> bool:
        return self.status == "pending_release"

    @property
    def tags_text(self) -> str:
        return ", ".join(self.tags)


def build_rows(numbers: list[staffify.PhoneNumber]) -> list[NumberRow]:
    """Rows for these numbers, with what the ledger knows filling what the API did not say."""
    records = {r.staffify_id: r for r in NumberRecord.objects.filter(staffify_id__in=[n.id for n in numbers])}
    return [build_row(n, records.get(n.id)) for n in numbers]


def build_row(number: staffify.PhoneNumber, record: NumberRecord | None = None, *, lookup: bool = False) -> NumberRow:
    if record is None and lookup:
        record = NumberRecord.objects.filter(staffify_id=number.id).first()
    reclaim_before = number.reclaim_before
    if reclaim_before is None and record is not None and number.status == "pending_release":
        reclaim_before = record.reclaim_before
    purchased_at = number.purchased_at or (record.purchased_at if record else None)
    return NumberRow(
        id=number.id,
        phone_number=number.phone_number,
        display=format_phone(number.phone_number),
        country=number.country_code or country_of(number.phone_number),
        status=number.status,
        agent_id=number.agent_id,
        agent_name=number.agent_name,
        tags=tuple(number.tags),
        reclaim_before=reclaim_before,
        purchased_at=purchased_at,
    )
