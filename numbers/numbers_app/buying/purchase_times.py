"""Purchase instants the dashboard was told by people (from Staffify's invoices), for numbers bought
before it existed: one at a time on a number's page, or many from a CSV of `phone_number,purchased_at`
previewed before it is applied. Each change updates the mirror row (`purchased_at` and so its
`next_charge_at`) and is audited. A purchase time Staffify itself sends later wins (mirror.apply).

The dashboard first saw each number at `first_seen_at`, so the number was bought before then; a time
after it (or after Staffify's now) is refused.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from numbers_app import cycles
from numbers_app.mirror import store as mirror
from numbers_app.models import AuditEntry, NumberRecord
from numbers_app.rules import DATE_BOUNDS, date_in_bounds, instant_in_bounds
from numbers_app.text.presenters import iso_utc, local_text

LEEWAY = timedelta(minutes=5)  # Staffify's clock and ours, as measured, may differ by a little
MAX_ROWS = 200_000


def latest_allowed(record: NumberRecord, now: datetime, skew: timedelta) -> datetime:
    """The latest purchase instant possible: Staffify's now, and before the dashboard first saw it
    (first_seen_at is on our clock; SKEW turns it into Staffify's)."""
    bound = now
    if record.first_seen_at is not None:
        bound = min(bound, record.first_seen_at + skew + LEEWAY)
    return bound


def problem_with(record: NumberRecord, at: datetime, now: datetime, skew: timedelta) -> str | None:
    if at > now:
        return "That is in the future on Staffify's clock."
    if at > latest_allowed(record, now, skew):
        seen = local_text(record.first_seen_at) if record.first_seen_at else ""
        return f"The dashboard saw this number on {seen} already: it was bought before then."
    return None


def _apply(record: NumberRecord, at: datetime, now: datetime) -> None:
    record.purchased_at = at
    record.next_charge_at = cycles.cycle_at(at, now).end if record.last_status == "active" else None


def _entry(user, record: NumberRecord, before: datetime | None, after: datetime, how: str) -> AuditEntry:
    return AuditEntry(
        at=timezone.now(),
        user=user,
        username=user.get_username(),
        action=AuditEntry.Action.PURCHASE_TIME,
        number_id=record.staffify_id,
        phone_number=record.phone_number,
        before={"purchased_at": iso_utc(before) or None},
        after={"purchased_at": iso_utc(after)},
        outcome=AuditEntry.Outcome.OK,
        message=f"Purchase time set {how} (from Staffify's invoice).",
    )


def set_one(user, record: NumberRecord, at: datetime, now: datetime) -> AuditEntry:
    """Store AT as RECORD's purchase instant (the caller checked `problem_with`)."""
    with transaction.atomic():
        record = NumberRecord.objects.select_for_update().get(pk=record.pk)
        before = record.purchased_at
        _apply(record, at, now)
        record.save(update_fields=["purchased_at", "next_charge_at"])
        entry = _entry(user, record, before, at, "on the number's page")
        entry.save()
    return entry


# --- the CSV import ------------------------------------------------------------------------------


@dataclass
class Change:
    line: int
    record: NumberRecord
    before: datetime | None
    after: datetime


@dataclass
class Preview:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (line, phone number)

    @property
    def rows(self) -> int:
        return len(self.changes) + self.unchanged + len(self.errors) + len(self.unknown)


class OutOfBounds(ValueError):
    """A date and time, but outside the years the dashboard takes (rules.DATE_BOUNDS)."""


def parse_instant(text: str) -> datetime:
    """ISO 8601; without an offset, in the viewer's zone (the page says so). Bounded before any
    arithmetic: OutOfBounds says so."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if not date_in_bounds(value.date()):
        raise OutOfBounds(DATE_BOUNDS)
    if value.tzinfo is None:
        value = timezone.make_aware(value, timezone.get_current_timezone())
    if not instant_in_bounds(value):
        raise OutOfBounds(DATE_BOUNDS)
    return value


def preview(text: str, now: datetime, skew: timedelta) -> Preview:
    """What importing TEXT would change, line by line; nothing is written."""
    found = Preview()
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if "phone_number" not in header or "purchased_at" not in header:
        found.errors.append((1, "The first line must name the columns: phone_number,purchased_at."))
        return found
    phone_at, when_at = header.index("phone_number"), header.index("purchased_at")
    parsed: list[tuple[int, str, datetime]] = []
    seen: dict[str, int] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(parsed) + len(found.errors) >= MAX_ROWS:
            found.errors.append((line, f"Only {MAX_ROWS:,} rows are read at a time; split the file."))
            break
        if len(cells) <= max(phone_at, when_at):
            found.errors.append((line, "This line has fewer columns than the first one."))
            continue
        phone = cells[phone_at].strip().replace(" ", "")
        if not phone.startswith("+") or not phone[1:].isdigit():
            found.errors.append((line, f"“{phone[:40]}” is no phone number in E.164 form, like +31201234567."))
            continue
        if phone in seen:
            found.errors.append((line, f"{phone} is on line {seen[phone]} already."))
            continue
        seen[phone] = line
        try:
            at = parse_instant(cells[when_at])
        except OutOfBounds as err:
            found.errors.append((line, f"“{cells[when_at].strip()[:40]}”: {err}"))
            continue
        except ValueError:
            found.errors.append(
                (line, f"“{cells[when_at].strip()[:40]}” is no date and time, like 2025-03-14T09:30:00Z.")
            )
            continue
        parsed.append((line, phone, at))
    records: dict[str, NumberRecord] = {}
    phones = [phone for _, phone, _ in parsed]
    for start in range(0, len(phones), 500):
        for owned in mirror.owned().filter(phone_number__in=phones[start : start + 500]):
            records[owned.phone_number] = owned
    for line, phone, at in parsed:
        record = records.get(phone)
        if record is None:
            found.unknown.append((line, phone))
        elif (why := problem_with(record, at, now, skew)) is not None:
            found.errors.append((line, f"{phone}: {why}"))
        elif record.purchased_at == at:
            found.unchanged += 1
        else:
            found.changes.append(Change(line=line, record=record, before=record.purchased_at, after=at))
    found.errors.sort()
    return found


def apply(user, changes: list[Change], now: datetime) -> int:
    """Write the previewed changes and their audit entries, in one transaction."""
    with transaction.atomic():
        records = []
        entries = []
        for change in changes:
            _apply(change.record, change.after, now)
            records.append(change.record)
            entries.append(_entry(user, change.record, change.before, change.after, "by a CSV import"))
        NumberRecord.objects.bulk_update(records, ["purchased_at", "next_charge_at"], batch_size=500)
        AuditEntry.objects.bulk_create(entries, batch_size=500)
    return len(records)
