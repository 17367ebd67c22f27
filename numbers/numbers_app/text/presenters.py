"""How a Staffify number is shown: the row a template renders, merged with the local ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property, lru_cache

import phonenumbers
from django.core.cache import cache as django_cache
from django.urls import reverse
from django.utils import timezone, translation
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


def instant_html(
    moment: datetime | None, style: str = "datetime", empty: str = "—", *, compact: bool = False
) -> SafeString:
    """A moment in the viewer's time zone as a <time> with its UTC instant on hover and in the markup.
    STYLE is one of DATE_STYLES (a raw date format is still accepted). COMPACT (the owned list's 50
    rows × 2 dates): the instant to the second and no title; static/js/app.js writes the same title
    from it when the pointer reaches it."""
    if moment is None:
        return SafeString(conditional_escape(empty))
    return _instant_html(moment, style, compact, timezone.get_current_timezone_name(), translation.get_language())


@lru_cache(maxsize=2048)
def _instant_html(moment: datetime, style: str, compact: bool, zone: str, language: str | None) -> SafeString:
    """Each value formatted once (a billing page shows a next charge as the cycle's end too, and in
    the lists beside the table); ZONE, the viewer's, and LANGUAGE are part of the key."""
    if compact:
        utc = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
        return format_html(
            '<time datetime="{}Z">{}</time>',
            utc.isoformat(),
            date_format(timezone.localtime(moment), DATE_STYLES.get(style, style)),
        )
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        iso_utc(moment),
        moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        date_format(timezone.localtime(moment), DATE_STYLES.get(style, style)),
    )


def local_text(moment: datetime, style: str = "datetime") -> str:
    """A moment as plain text in the viewer's zone, in the same style (for messages and toasts)."""
    return date_format(timezone.localtime(moment), DATE_STYLES.get(style, style))


@lru_cache(maxsize=4096)
def format_phone(e164: str) -> str:
    """+31 20 123 4567 from +31201234567. Kept per number (a page of 50 rows parsed each again: about
    1 ms in 5 of the owned list's time, 3 of billing's 150 rows)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@lru_cache(maxsize=4096)
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


ROW_URLS = (
    "number_detail",
    "assign_agent",
    "release_dialog",
    "reclaim_number",
    "tags_editor",
    "cancel_scheduled_release",
    "note_editor",
)


@cache
def _url_patterns(project: str) -> dict[str, str]:
    """Each row needs five URLs; reversing 250 of them per page is measurable, so reverse each once
    per project."""
    marker = 987654321
    return {name: reverse(name, args=[project, marker]).replace(str(marker), "{}") for name in ROW_URLS}


def row_url_patterns() -> dict[str, str]:
    """Each row URL's pattern, "{}" for the number's id (a short row's controls get theirs in app.js)."""
    return _url_patterns(scope.slug())


NO_AGENT_OPTION = mark_safe('<option value="">— no agent —</option>')  # noqa: S308  a constant


class AgentOptions:
    """The <option>s of the agent dropdown. A row's dropdown (and the owned list's agent filter) carries
    only its saved agent (and "— no agent —"); every agent's option is fetched once per page from GET
    agent-options (`every_agent_option`), which static/js/app.js fetches when the browser is idle and
    copies into a dropdown when it is focused or pressed. A page's HTML and its rendering so grow with
    neither rows × agents nor the agents (1,000 agents were 40 KB of a 94 KB page). `full=True` renders
    every option in the row itself: the number's own page, one row, usable without JavaScript."""

    def __init__(self, agents, *, full: bool = False) -> None:
        self.agents = agents
        self.full = full
        self._names = staffify.agent_names(agents)
        self._cache: dict[int | None, SafeString] = {}

    def every(self, selected: str = "") -> SafeString:
        """Every agent's option (SELECTED, an id as text, marked selected)."""
        return format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((a.id, " selected" if str(a.id) == selected else "", a.name) for a in self.agents),
        )

    def for_row(self, row: NumberRow) -> SafeString:
        key = row.agent_id
        if key not in self._cache:
            # "— no agent —" is in every dropdown; a short row (row_html) carries it only when it is the
            # saved choice, and static/js/app.js adds it to the others.
            options = [NO_AGENT_OPTION] if self.full or key is None else []
            if self.full:
                options.append(
                    format_html_join(
                        "",
                        '<option value="{}"{}>{}</option>',
                        ((a.id, " selected" if a.id == key else "", a.name) for a in self.agents),
                    )
                )
            if key is not None and (not self.full or key not in self._names):
                name = self._names.get(key) or row.agent_name or key
                options.append(format_html('<option value="{}" selected>{}</option>', key, name))
            self._cache[key] = SafeString("".join(options))
        return self._cache[key]


def every_agent_option(agents) -> SafeString:
    """Every agent's <option>, rendered once per mirror version when the agents came from the mirror
    (listing.agents carries its version): what GET agent-options answers, for every dropdown of a page."""
    version = getattr(agents, "version", None)
    if version is None:
        return AgentOptions(agents).every()
    key = f"mirror:agent-options:{version}"
    every = django_cache.get(key)
    if every is None:
        every = str(AgentOptions(agents).every())
        django_cache.set(key, every, 24 * 3600)
    return mark_safe(every)  # noqa: S308  rendered by format_html_join, every value escaped


def with_agent_options(rows: list[NumberRow], agents, *, full: bool = False) -> list[NumberRow]:
    options = AgentOptions(agents, full=full)
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
