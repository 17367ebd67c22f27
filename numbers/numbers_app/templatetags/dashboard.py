"""Template helpers shared by every page."""

from datetime import datetime

from django import template
from django.core.cache import cache
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from numbers_app.text import row_html
from numbers_app.text.presenters import AgentOptions, format_phone, instant_html

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
    """The agent filter's options, the chosen one selected: one join, not a template loop per agent, kept
    per mirror version when the agents came from the mirror (listing.agents)."""
    version = getattr(agents, "version", None)
    if version is None:
        return AgentOptions(agents).every(selected=str(chosen or ""))
    key = f"mirror:agent-options:{version}"
    every = cache.get(key)
    if every is None:
        every = str(AgentOptions(agents).every())
        cache.set(key, every, 24 * 3600)
    chosen = str(chosen or "")
    if chosen:
        every = every.replace(f'<option value="{escape(chosen)}">', f'<option value="{escape(chosen)}" selected>', 1)
    return mark_safe(every)  # noqa: S308  rendered by format_html_join above, every value escaped


# What every row's controls do with their answer, said once on the rows' <tbody> (htmx inherits it)
# instead of on each control: replace the row. A control that does otherwise says so itself (the tags;
# Release's dialog, by its answer's headers).
ROW_REQUESTS = mark_safe('hx-target="closest tr" hx-swap="outerHTML"')  # noqa: S308


@register.simple_tag
def row_requests():
    return ROW_REQUESTS


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
def tags_cell(context, number_id, tags, tags_url="", display=""):
    """A number's tags and the button that edits them (numbers_app.text.row_html.tags_cell)."""
    url = tags_url or reverse("tags_editor", args=[context["project_slug"], number_id])
    return row_html.tags_cell(number_id, tags or (), url, display or "", bool(context.get("can_tag")))


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
def note_cell(context, number_id, note=None, display=""):
    """A number's name and note and the button that edits them (numbers_app.text.row_html.note_cell)."""
    name, text = (note.name, note.note) if note else ("", "")
    url = reverse("note_editor", args=[context["project_slug"], number_id])
    return row_html.note_cell(number_id, name, text, url, display or "", bool(context.get("can_tag")))
