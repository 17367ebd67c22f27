"""One row of the owned list (and of a number's page) as HTML, written in Python.

The list shows 50 of them a page: through Django's template engine (an include per row, a tag per
date, a variable lookup per attribute) they were most of the page's server time. This writes the same
markup with one format_html per part, each value escaped. templates/numbers/_row.html and _tags.html
call it ({% number_row %}, {% tags_cell %}), so there is still one definition of a row.

The row's controls carry no hx-target: their <tbody> says once for every row that an answer replaces
the row (templatetags.dashboard.ROW_REQUESTS).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from numbers_app.text.presenters import NumberRow, instant_html

ROLE_NOTE = mark_safe(' aria-describedby="role-note"')  # noqa: S308  a constant


@dataclass(frozen=True)
class Permissions:
    """What the viewer may do to a row (numbers_app.web.access.permissions_for)."""

    can_assign: bool
    can_release: bool
    can_reclaim: bool
    can_tag: bool


def tags_cell(number_id: int, tags: Iterable[str], url: str, display: str, can_tag: bool) -> SafeString:
    """The tags, a button that opens their editor (or, for a role that cannot tag, just the tags)."""
    tags = list(tags)
    shown = format_html_join("", '<span class="tag">{}</span> ', ((t,) for t in tags))
    if not can_tag:
        inner = shown or mark_safe('<span class="placeholder">—</span>')  # noqa: S308  a constant
        return format_html(
            '<div id="tags-{}" class="tags-cell"><span class="tags-display" title="Your role cannot edit tags.">'
            "{}</span></div>\n",
            number_id,
            inner,
        )
    named = ""
    if display:
        named = format_html('<span class="vh">{} {}</span>', ": edit the tags of" if tags else " to", display)
    return format_html(
        '<div id="tags-{}" class="tags-cell"><button type="button" class="tags-display" data-focus-role="tags" '
        'hx-get="{}" hx-target="closest div">{}{}</button>\n</div>\n',
        number_id,
        url,
        shown or mark_safe('<span class="placeholder">add tags</span>'),  # noqa: S308  a constant
        named,
    )


def _status(row: NumberRow) -> SafeString:
    if row.is_active:
        return mark_safe('<span class="pill active">active</span>')  # noqa: S308  a constant
    if not row.is_pending:
        return format_html('<span class="pill gone">{}</span>', row.status)
    pill = mark_safe('<span class="pill pending_release">pending release</span>')  # noqa: S308  a constant
    if row.reclaim_before:
        return format_html(
            '{} <span class="countdown" data-countdown data-deadline="{}">reclaimable</span> '
            '<span class="deadline">until {}</span>',
            pill,
            row.reclaim_before.astimezone(UTC).isoformat(),
            instant_html(row.reclaim_before),
        )
    if row.reclaim_at_most:
        return format_html(
            '{} <span class="bound">At most:</span> <span class="countdown" data-countdown data-bound="latest" '
            'data-deadline="{}">reclaimable</span> <span class="deadline">reclaim before at most {} (released '
            "outside this dashboard before it was first seen: the real deadline may be earlier)</span>",
            pill,
            row.reclaim_at_most.astimezone(UTC).isoformat(),
            instant_html(row.reclaim_at_most),
        )
    return format_html('{} <span class="deadline">Deadline unknown: released outside this dashboard.</span>', pill)


def _agent(row: NumberRow, may: Permissions) -> SafeString:
    if not row.is_active:
        return format_html('<span class="muted">{}</span>', row.agent_name or "—")
    refused = mark_safe(' aria-describedby="role-note" disabled title="Your role cannot assign agents."')  # noqa: S308
    return format_html(
        '<form class="agent-form" hx-post="{}" hx-disabled-elt="find select"><select id="agent-{}" '
        'name="agent_id" aria-label="Agent for {}" data-agent-select data-saved="{}"{}>{}</select></form>',
        row.urls["assign_agent"],
        row.id,
        row.display,
        "" if row.agent_id is None else row.agent_id,
        "" if may.can_assign else refused,
        row.agent_options,
    )


def _purchased(row: NumberRow) -> SafeString:
    if row.purchased_at:
        return instant_html(row.purchased_at, "date", compact=True)
    return mark_safe(  # noqa: S308  a constant
        '<span class="muted" title="Bought outside this dashboard before it first saw it; set its purchase time '
        'on its page">unknown</span>'
    )


def _next_charge(row: NumberRow) -> SafeString:
    if row.next_charge_at:
        due = instant_html(row.next_charge_at, "date", compact=True)
    elif row.is_active:
        due = mark_safe(  # noqa: S308  a constant
            '<span class="muted" title="Bought before the dashboard knew it; set its purchase time on its page">'
            "unknown</span>"
        )
    else:
        due = mark_safe("—")  # noqa: S308  a constant
    scheduled = row.extra.get("release_scheduled")
    if scheduled and row.is_active:
        when = date_format(timezone.localtime(scheduled.run_at), "j M Y, H:i T")
        due = format_html(
            '{} <span class="pill scheduled" title="To be released {}, before this charge">release scheduled</span>',
            due,
            when,
        )
    return due


def _actions(row: NumberRow, may: Permissions) -> SafeString:
    parts: list[SafeString] = []
    if row.is_active:
        refused = mark_safe(' disabled title="Only Operations can release numbers."') + ROLE_NOTE  # noqa: S308
        parts.append(
            format_html(
                '<button type="button" class="danger small" hx-get="{}"{}>Release<span class="vh"> {}</span></button>',
                row.urls["release_dialog"],
                "" if may.can_release else refused,
                row.display,
            )
        )
    elif row.is_pending:
        refused = mark_safe(' disabled title="Only Operations can reclaim numbers."') + ROLE_NOTE  # noqa: S308
        parts.append(
            format_html(
                '<button type="button" class="small primary" data-reclaim hx-post="{}" hx-disabled-elt="this"{}>'
                'Reclaim<span class="vh"> {}</span></button>',
                row.urls["reclaim_number"],
                "" if may.can_reclaim else refused,
                row.display,
            )
        )
        previous = row.extra.get("previous_agent")
        if previous and may.can_reclaim and may.can_assign:
            if previous.exists:
                parts.append(
                    format_html(
                        ' <button type="button" class="small" data-reclaim hx-post="{}" '
                        """hx-vals='{{"restore_agent": "{}"}}' hx-disabled-elt="this">Reclaim and give it back """
                        'to {}<span class="vh">: {}</span></button>',
                        row.urls["reclaim_number"],
                        previous.id,
                        previous.name,
                        row.display,
                    )
                )
            else:
                parts.append(
                    format_html(
                        ' <span class="row-message muted">Its agent before the release, {}, is no longer in the '
                        "account.</span>",
                        previous.name,
                    )
                )
    if row.problem:
        request_id = (
            format_html(' <span class="request-id">Request id {}</span>', row.problem.request_id)
            if row.problem.request_id
            else ""
        )
        parts.append(
            format_html('<span class="row-message error" role="alert">{}{}</span>', row.problem.message, request_id)
        )
    return SafeString("".join(parts))


def row_html(row: NumberRow, may: Permissions) -> SafeString:
    """The row's <tr>: the same markup whatever page it is on."""
    classes = " ".join(c for c, on in (("row-error", row.problem), ("row-new", row.extra.get("new"))) if on)
    number = (
        format_html("{}", row.display)
        if row.extra.get("unknown")
        else format_html('<a class="num" href="{}">{}</a>', row.urls["number_detail"], row.display)
    )
    if row.extra.get("new"):
        number = format_html('{} <span class="pill active">just bought</span>', number)
    return format_html(
        '<tr id="number-{}"{}{}>\n'
        '<td class="select"><input type="checkbox" data-bulk-row value="{}" aria-label="Select {}"></td>\n'
        "<td>{}</td>\n"
        '<td><span class="country">{}</span></td>\n'
        "<td>{}</td>\n"
        "<td>{}</td>\n"
        '<td class="purchased">{}</td>\n'
        '<td class="next-charge">{}</td>\n'
        "<td>{}</td>\n"
        '<td class="actions">{}</td>\n'
        "</tr>\n",
        row.id,
        format_html(' class="{}"', classes) if classes else "",
        mark_safe(" data-countdown-scope") if row.is_pending else "",  # noqa: S308  a constant
        row.id,
        row.display,
        number,
        row.country or "—",
        _status(row),
        _agent(row, may),
        _purchased(row),
        _next_charge(row),
        tags_cell(row.id, row.tags, row.urls["tags_editor"], row.display, may.can_tag),
        _actions(row, may),
    )
