"""Template helpers shared by every page."""

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from numbers_app.presenters import format_phone, iso_utc

register = template.Library()


@register.simple_tag
def instant(value: datetime | None, fmt: str = "j M Y, H:i T", empty: str = "—"):
    """A moment in the viewer's time zone, with its UTC instant on hover and in the markup."""
    if value is None:
        return empty
    utc = value.astimezone(UTC)
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        iso_utc(value),
        utc.strftime("%Y-%m-%d %H:%M:%S"),
        date_format(local, fmt),
    )


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
