"""Instants kept in stored sentences (an audit entry's message, a scheduled release's note, an alert) as
`[[2026-12-09T14:00:00Z]]` tokens, so each reader sees them in one date style in their own time zone:
a page in the viewer's (with the UTC instant on hover), an e-mail in its recipient's, a CSV or a webhook
in UTC. Text written before tokens existed is shown as it was written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString

from numbers_app.text.presenters import instant_html, iso_utc, local_text

TOKEN = re.compile(r"\[\[([0-9T:+\-.Z]+)\]\]")


def token(moment: datetime, style: str = "datetime") -> str:
    """A token for MOMENT in a sentence (STYLE: "datetime" or "date")."""
    text = iso_utc(moment)
    return f"[[{text}]]" if style == "datetime" else f"[[{text[:10]}]]"


def _moment(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def render(sentence: str, tz: tzinfo | None = None) -> str:
    """SENTENCE as plain text, its instants in TZ (default: the active time zone)."""

    def one(match: re.Match) -> str:
        value = match.group(1)
        moment = _moment(value)
        if moment is None:
            return match.group(0)
        if len(value) == 10:  # a date: the day is enough
            return moment.strftime("%-d %b %Y")
        if tz is None:
            return local_text(moment)
        with timezone.override(tz):
            return local_text(moment)

    return TOKEN.sub(one, sentence)


def render_utc(sentence: str) -> str:
    return render(sentence, UTC)


def render_html(sentence: str) -> SafeString:
    """SENTENCE escaped, each instant a <time> in the viewer's zone with its UTC instant on hover."""

    def one(match: re.Match) -> str:
        value = match.group(1)
        moment = _moment(value)
        if moment is None or len(value) == 10:
            return render(match.group(0))
        return str(instant_html(moment))

    return SafeString(TOKEN.sub(one, str(escape(sentence))))
