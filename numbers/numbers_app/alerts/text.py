"""An alert's sentence keeps its instants as `[[2026-12-09T14:00:00Z]]` tokens, so each reader sees them
in their own time zone: the inbox in the viewer's, an e-mail in its recipient's, a webhook in UTC."""

from __future__ import annotations

from decimal import Decimal

from numbers_app.text.instants import render, render_utc
from numbers_app.text.instants import token as instant
from numbers_app.text.presenters import format_phone

__all__ = ["eur", "instant", "phones", "plural", "render", "render_utc"]


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
