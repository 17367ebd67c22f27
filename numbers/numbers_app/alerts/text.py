"""An alert's sentence keeps its instants as `[[2026-12-09T14:00:00Z]]` tokens, so each reader sees them
in their own time zone: the inbox in the viewer's, an e-mail in its recipient's, a webhook in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from django.utils import timezone

from numbers_app.text.presenters import format_phone, iso_utc, local_text

TOKEN = re.compile(r"\[\[([0-9T:+\-.Z]+)\]\]")


def instant(moment: datetime, style: str = "datetime") -> str:
    """A token for MOMENT in a sentence (STYLE: "datetime" or "date")."""
    token = iso_utc(moment)
    return f"[[{token}]]" if style == "datetime" else f"[[{token[:10]}]]"


def render(sentence: str, tz=None) -> str:
    """SENTENCE with its instants in TZ (default: the active time zone)."""

    def one(match: re.Match) -> str:
        value = match.group(1)
        if len(value) == 10:  # a date: the day is enough
            return datetime.fromisoformat(value).strftime("%-d %b %Y")
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if tz is None:
            return local_text(moment)
        with timezone.override(tz):
            return local_text(moment)

    return TOKEN.sub(one, sentence)


def render_utc(sentence: str) -> str:
    return render(sentence, UTC)


def eur(amount: Decimal) -> str:
    return f"EUR {amount:,.2f}"


def phones(numbers: list[str], total: int, limit: int = 3) -> str:
    """ "+31 20 …, +1 212 … and 4 more"."""
    shown = [format_phone(n) for n in numbers[:limit]]
    more = total - len(shown)
    text = ", ".join(shown)
    return f"{text} and {more} more" if more > 0 else text


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
