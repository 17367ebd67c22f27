"""Template helpers shared by every page."""

import json
from datetime import datetime

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from numbers_app import staffify
from numbers_app.text import billing_html, row_html
from numbers_app.text import instants as instants_text
from numbers_app.text.presenters import AgentOptions, format_phone, instant_html, row_url_patterns

register = template.Library()


@register.simple_tag
def instant(value: datetime | None, style: str = "datetime", empty: str = "—", compact: bool = False):
    """A moment in the viewer's time zone, with its UTC instant on hover and in the markup. STYLE is
    one of presenters.DATE_STYLES ("datetime", "date", "time", "seconds"); compact=True for a list's rows."""
    return instant_html(value, style, empty, compact=compact)


@register.simple_tag
def agent_options(agents):
    """Every agent's <option>, once per page, in the <template id="agent-options"> that the rows'
    dropdowns copy from (static/js/app.js). The owned list has none: its agent filter
    (select[data-agent-source]) holds the same options, and they are copied from there."""
    return format_html('<template id="agent-options">{}</template>', AgentOptions(agents).every())


@register.simple_tag
def agent_filter_options(agents, chosen):
    """The agent filter's chosen agent only, selected: every other agent's option is fetched once per page
    (GET agent-options, static/js/app.js), so the page does not grow with the agents."""
    chosen = str(chosen or "")
    if not chosen or chosen == "none":
        return ""
    name = staffify.agent_names(agents).get(int(chosen)) if chosen.isdigit() else None
    return format_html('<option value="{}" selected>{}</option>', chosen, name or chosen)


# What every row's controls do with their answer, said once on the rows' <tbody> (htmx inherits it)
# instead of on each control: replace the row. A control that does otherwise says so itself (the tags;
# Release's dialog, by its answer's headers). With it, the URL patterns of the rows' controls
# (data-row-urls), from which static/js/app.js writes each row's URLs (row_html's short rows).
ROW_REQUESTS = mark_safe('hx-target="closest tr" hx-swap="outerHTML"')  # noqa: S308
DRESSED_URLS = ("assign_agent", "release_dialog", "tags_editor", "note_editor")


@register.simple_tag
def row_requests():
    patterns = row_url_patterns()
    urls = json.dumps({name: patterns[name] for name in DRESSED_URLS}, separators=(",", ":"))
    return format_html('{} data-row-urls="{}"', ROW_REQUESTS, urls)


def _may(context) -> row_html.Permissions:
    return row_html.Permissions(
        can_assign=bool(context.get("can_assign")),
        can_release=bool(context.get("can_release")),
        can_reclaim=bool(context.get("can_reclaim")),
        can_tag=bool(context.get("can_tag")),
    )


@register.simple_tag(takes_context=True)
def number_row(context, row):
    """A row of the owned list (numbers_app.text.row_html), with the viewer's permissions."""
    return row_html.row_html(row, _may(context))


@register.simple_tag(takes_context=True)
def number_rows(context, rows):
    """Every row of a page, the permissions read once."""
    may = _may(context)
    return SafeString("".join(row_html.row_html(row, may) for row in rows))


@register.simple_tag(takes_context=True)
def tags_cell(context, number_id, tags):
    """A number's tags and the button that edits them (numbers_app.text.row_html.tags_cell; its URL and
    accessible name are its row's, written by static/js/app.js)."""
    return row_html.tags_cell(number_id, tags or (), bool(context.get("can_tag")))


@register.simple_tag
def billing_rows(rows, cycle_days):
    """The billing table's rows (numbers_app.text.billing_html): one f-string a row."""
    return billing_html.billing_rows(rows, row_url_patterns()["number_detail"], cycle_days)


@register.filter
def instants(sentence) -> str:
    """A stored sentence (an audit message, a scheduled release's note) escaped, its instants in the
    viewer's zone with UTC on hover (numbers_app.text.instants)."""
    return instants_text.render_html(str(sentence or ""))


@register.filter
def get_item(mapping, key):
    """MAPPING[KEY] in a template (None when absent)."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def words(value: str) -> str:
    """A Staffify code read as words: "pending_release" → "pending release" (never "pendingrelease")."""
    return str(value or "").replace("_", " ")


@register.filter
def eur(value) -> str:
    """EUR 1,234.50 from a Decimal (never a float)."""
    if value is None:
        return "—"
    return f"EUR {value:,.2f}"


@register.filter
def phone(value: str) -> str:
    """An E.164 number formatted for humans (+31 20 123 4567)."""
    return format_phone(value) if value else ""


@register.simple_tag(takes_context=True)
def sort_header(context, label: str, key: str):
    """A column header that sorts the list by KEY (again: the other way), keeping the filters."""
    params = context["request"].GET.copy()
    for name in ("offset", "after", "highlight", "sort"):
        params.pop(name, None)
    current = context.get("sort", "")
    params["sort"] = f"-{key}" if current == key else key
    state = {key: "ascending", f"-{key}": "descending"}.get(current)
    return format_html(
        '<th scope="col"{}><a class="sort" href="?{}">{}</a></th>',
        format_html(' aria-sort="{}"', state) if state else "",
        params.urlencode(),
        label,
    )


@register.simple_tag(takes_context=True)
def note_cell(context, number_id, note=None):
    """A number's name and note and the button that edits them (numbers_app.text.row_html.note_cell; its
    URL and accessible name are its row's, written by static/js/app.js)."""
    name, text = (note.name, note.note) if note else ("", "")
    return row_html.note_cell(number_id, name, text, bool(context.get("can_tag")))
