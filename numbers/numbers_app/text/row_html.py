"""One row of the owned list (and of a number's page) as HTML, written in Python.

The list shows 50 of them a page: through Django's template engine (an include per row, a tag per
date, a variable lookup per attribute) they were most of the page's server time. This writes the same
markup with one format_html per part, each value escaped. templates/numbers/_row.html and _tags.html
call it ({% number_row %}, {% tags_cell %}), so there is still one definition of a row.

The row's controls carry no hx-target: their <tbody> says once for every row that an answer replaces
the row (templatetags.dashboard.row_requests).

A row is sent short: what every row repeats (the agent dropdown's form, name, id and "— no agent —"
option; the checkbox's value; each control's URL and its accessible name, which names the number
again; the tags button's id and target) is written by static/js/app.js (dressRow) from the row's id,
its number's text and the URL patterns its <tbody> carries once (data-row-urls). Those controls only
work with JavaScript (htmx) anyway; without it the number's link leads to its page, which works
without it. 50 rows so weigh about half what they did, on the wire and in HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from numbers_app.text.presenters import NumberRow, instant_html, local_text

ROLE_NOTE = mark_safe(' aria-describedby="role-note"')  # noqa: S308  a constant


@dataclass(frozen=True)
class Permissions:
    """What the viewer may do to a row (numbers_app.web.access.permissions_for)."""

    can_assign: bool
    can_release: bool
    can_reclaim: bool
    can_tag: bool


def tags_cell(number_id: int, tags: Iterable[str], can_tag: bool) -> SafeString:
    """The tags, a button that opens their editor (or, for a role that cannot tag, just the tags)."""
    tags = list(tags)
    shown = "".join(f'<span class="tag">{_e(t)}</span> ' for t in tags)
    if not can_tag:
        inner = shown or '<span class="placeholder">—</span>'
        return SafeString(
            f'<div id="tags-{int(number_id):d}" class="tags-cell"><span class="tags-display" '
            f'title="Your role cannot edit tags.">{inner}</span></div>\n'
        )
    # Its id, URL, target, focus role and accessible name (": edit the tags of <number>") are the
    # row's (static/js/app.js, dressRow): the same in every row.
    return SafeString(
        f'<div class="tags-cell"><button type="button" class="tags-display">'
        f"{shown or '<span class="placeholder">add tags</span>'}</button></div>"
    )


NOTE_SHOWN = 60  # characters of a note shown in the row; the whole of it in the title


def note_cell(number_id: int, name: str, note: str, can_tag: bool) -> SafeString:
    """A number's name and note (kept by the dashboard), and the button that edits them (or, for a
    role that cannot edit tags, just the text; nothing when there is none). The button's URL, target
    and accessible name (" to <number>", ": edit the name and note of <number>") are its row's, written
    by static/js/app.js (dressRow) as the tags button's are."""
    shown = ""
    if name:
        shown += f'<span class="note-name">{_e(name)}</span>'
    if note:
        short = note if len(note) <= NOTE_SHOWN else note[: NOTE_SHOWN - 1] + "…"
        shown += f' <span class="note-text">{_e(short)}</span>'
    title = f' title="{_e(note)}"' if note else ""
    if not can_tag:
        inner = f'<span class="note-display"{title}>{shown}</span>' if shown else ""
        return SafeString(f'<div id="note-{int(number_id):d}" class="note-cell">{inner}</div>\n')
    return SafeString(
        f'<div id="note-{int(number_id):d}" class="note-cell"><button data-note{title}>'  # in no form: no type
        f"{shown or '<span class="placeholder">add note</span>'}</button></div>\n"
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
        return SafeString(f'<span class="muted">{_e(row.agent_name or "—")}</span>')
    refused = "" if may.can_assign else ' aria-describedby="role-note" disabled title="Your role cannot assign agents."'
    # Its form, name, id, accessible name, saved value and "— no agent —" option: dressRow (app.js).
    return SafeString(f"<select data-agent-select{refused}>{conditional_escape(row.agent_options)}</select>")


def _purchased(row: NumberRow) -> SafeString:
    if row.purchased_at:
        return instant_html(row.purchased_at, "date", compact=True)
    return mark_safe(  # noqa: S308  a constant
        '<span class="muted" title="Bought outside this dashboard before it first saw it; set its purchase time '
        'on its page">unknown</span>'
    )


def _next_charge(row: NumberRow, may: Permissions) -> SafeString:
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
        when = local_text(scheduled.run_at)
        cancel = (
            format_html(
                '<button type="button" class="small link-button cancel-scheduled" hx-post="{}"'
                ' hx-vals=\'{{"from": "list"}}\'>Cancel'
                '<span class="visually-hidden"> the scheduled release of {}</span></button>',
                row.urls["cancel_scheduled_release"],
                row.display,
            )
            if may.can_release
            else ""
        )
        due = format_html(
            '{} <span class="scheduled-badge"><span class="pill scheduled"'
            ' title="To be released {}, before this charge">release scheduled</span>{}</span>',
            due,
            when,
            cancel,
        )
    return due


def _actions(row: NumberRow, may: Permissions) -> SafeString:
    parts: list[SafeString] = []
    if row.is_active:
        refused = mark_safe(' disabled title="Only Operations can release numbers."') + ROLE_NOTE  # noqa: S308
        parts.append(
            format_html(
                '<button type="button" class="danger small" data-release{}>Release</button>',  # URL, name: dressRow
                "" if may.can_release else refused,
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
    """The row's <tr>: the same markup whatever page it is on. One f-string, every value escaped (`_e`)
    or already safe HTML (the cells' own helpers): format_html's per-argument checks were half its time."""
    classes = " ".join(c for c, on in (("row-error", row.problem), ("row-new", row.extra.get("new"))) if on)
    display = _e(row.display)
    if row.extra.get("unknown"):
        number = display
    else:
        number = f'<a class="num" href="{_e(row.urls["number_detail"])}">{display}</a>'
    if row.extra.get("new"):
        number += ' <span class="pill active">just bought</span>'
    if not row.extra.get("unknown"):
        kept = row.extra.get("note")
        name, text = (kept.name, kept.note) if kept else ("", "")
        number += note_cell(row.id, name, text, may.can_tag)
    return SafeString(
        f'<tr id="number-{row.id:d}"{f' class="{classes}"' if classes else ""}'
        f"{' data-countdown-scope' if row.is_pending else ''}>"
        '<td class="select"><input type="checkbox" data-bulk-row></td>'  # its value and name: dressRow
        f"<td>{number}</td>"
        f'<td><span class="country">{_e(row.country or "—")}</span></td>'
        f"<td>{_status(row)}</td>"
        f"<td>{_agent(row, may)}</td>"
        f'<td class="purchased">{_purchased(row)}</td>'
        f'<td class="next-charge">{_next_charge(row, may)}</td>'
        f"<td>{tags_cell(row.id, row.tags, may.can_tag)}</td>"
        f'<td class="actions">{_actions(row, may)}</td>'
        "</tr>\n"
    )


def _e(text: str) -> str:
    """Text escaped for HTML (as Django's escape: &, <, >, " and ')."""
    return html.escape(str(text), quote=True)
