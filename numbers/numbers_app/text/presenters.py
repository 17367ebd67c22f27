"""How a Staffify number is shown: the row a template renders, merged with the local ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property

import phonenumbers
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from numbers_app import scope, staffify
from numbers_app.models import NumberRecord, ScheduledRelease
from numbers_app.rules import RECLAIM_DAYS
from numbers_app.text.explain import Problem


def iso_utc(moment: datetime | None) -> str:
    """An instant as ISO 8601 in UTC with a Z, as pages, CSV files and <time datetime> carry it."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# The dashboard's one date style ("27 Nov 2026, 10:42 CET"), with its shorter and longer forms.
DATE_STYLES = {
    "datetime": "j M Y, H:i T",
    "date": "j M Y",
    "time": "H:i T",
    "seconds": "j M Y, H:i:s T",
}


def instant_html(moment: datetime | None, style: str = "datetime", empty: str = "—") -> SafeString:
    """A moment in the viewer's time zone as a <time> with its UTC instant on hover and in the markup.
    STYLE is one of DATE_STYLES (a raw date format is still accepted)."""
    if moment is None:
        return SafeString(conditional_escape(empty))
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        iso_utc(moment),
        moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        date_format(timezone.localtime(moment), DATE_STYLES.get(style, style)),
    )


def local_text(moment: datetime, style: str = "datetime") -> str:
    """A moment as plain text in the viewer's zone, in the same style (for messages and toasts)."""
    return date_format(timezone.localtime(moment), DATE_STYLES.get(style, style))


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
    next_charge_at: datetime | None = None
    # A release made outside the dashboard: it happened before the dashboard first saw the number pending,
    # so its deadline is at most that moment + 7 days (shown as a bound, never as the deadline).
    reclaim_at_most: datetime | None = None
    problem: Problem | None = None
    extra: dict = field(default_factory=dict)
    agent_options: str = ""

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_pending(self) -> bool:
        return self.status == "pending_release"

    @cached_property
    def urls(self) -> dict[str, str]:
        return {name: pattern.format(self.id) for name, pattern in _url_patterns(scope.slug()).items()}


ROW_URLS = ("number_detail", "assign_agent", "release_dialog", "reclaim_number", "tags_editor")


@cache
def _url_patterns(project: str) -> dict[str, str]:
    """Each row needs five URLs; reversing 250 of them per page is measurable, so reverse each once
    per project."""
    marker = 987654321
    return {name: reverse(name, args=[project, marker]).replace(str(marker), "{}") for name in ROW_URLS}


NO_AGENT_OPTION = mark_safe('<option value="">— no agent —</option>')  # noqa: S308  a constant


class AgentOptions:
    """The <option>s of the agent dropdown, rendered once per page and per selected agent rather
    than once per row (50 rows × every agent was most of a page's rendering time)."""

    def __init__(self, agents) -> None:
        self.agents = agents
        self._cache: dict[int | None, SafeString] = {}

    def for_row(self, row: NumberRow) -> SafeString:
        key = row.agent_id
        if key not in self._cache:
            known = any(a.id == key for a in self.agents)
            options = [NO_AGENT_OPTION]
            options.append(
                format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    ((a.id, " selected" if a.id == key else "", a.name) for a in self.agents),
                )
            )
            if key is not None and not known:
                options.append(format_html('<option value="{}" selected>{}</option>', key, row.agent_name or key))
            self._cache[key] = SafeString("".join(options))
        return self._cache[key]


def with_agent_options(rows: list[NumberRow], agents) -> list[NumberRow]:
    options = AgentOptions(agents)
    for row in rows:
        row.agent_options = options.for_row(row)
    return rows


def build_row(number: staffify.PhoneNumber, record: NumberRecord | None = None, *, lookup: bool = False) -> NumberRow:
    if record is None and lookup:
        record = NumberRecord.objects.filter(staffify_id=number.id).first()
    reclaim_before = number.reclaim_before
    if reclaim_before is None and record is not None and number.status == "pending_release":
        reclaim_before = record.reclaim_before
    purchased_at = number.purchased_at or (record.purchased_at if record else None)
    reclaim_at_most = None
    pending_since = record and (record.pending_seen_at or record.first_seen_at)
    if reclaim_before is None and number.status == "pending_release" and pending_since:
        reclaim_at_most = pending_since + timedelta(days=RECLAIM_DAYS)
    row = NumberRow(
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
        next_charge_at=record.next_charge_at if record is not None and number.status == "active" else None,
        reclaim_at_most=reclaim_at_most,
    )
    if lookup and number.status == "active":  # a single row's fragment: its scheduled release, if any
        waiting = ScheduledRelease.objects.filter(state__in=ScheduledRelease.WAITING, staffify_id=number.id)
        row.extra["release_scheduled"] = waiting.first()
    return row
