"""Names and notes on numbers: kept by the dashboard (Staffify has no such field), keyed by the
project and the Staffify id so they outlive a release, a reclaim and a mirror row a sync marks gone.
Everything here reads and writes the current project's notes (numbers_app.scope): NumberNote's
manager is ProjectScoped, and a new note takes the current project.

A save is the dashboard's own write (no Staffify call), so it is audited in one step: the entry is
written with its before and after in the same transaction as the note, and only when something changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from numbers_app.audit import log as audit
from numbers_app.models import NumberNote


def version() -> str:
    """Changes with every note saved or removed in the current project: the owned list's cached counts
    of a search include it. Read from the notes themselves (how many, the newest save), so a save in any
    process changes it whatever the cache is (a per-process cache kept a count another process's save
    had made wrong)."""
    found = NumberNote.objects.aggregate(count=Count("pk"), newest=Max("updated_at"))
    newest = found["newest"].timestamp() if found["newest"] else 0
    return f"{found['count']}:{newest}"


def snapshot(note: NumberNote | None) -> dict[str, str]:
    return {"name": note.name if note else "", "note": note.note if note else ""}


def get(number_id: int) -> NumberNote | None:
    return NumberNote.objects.filter(staffify_id=number_id).first()


def for_ids(ids: Iterable[int]) -> dict[int, NumberNote]:
    """The notes of IDS in one query (those without one are left out)."""
    return {n.staffify_id: n for n in NumberNote.objects.filter(staffify_id__in=list(ids))}


def matching(text: str) -> QuerySet[NumberNote]:
    """Notes whose name or text contains TEXT (any case): the owned list's search joins on these ids."""
    return NumberNote.objects.filter(Q(name__icontains=text) | Q(note__icontains=text))


def save(user, number_id: int, phone_number: str, name: str, text: str) -> tuple[NumberNote | None, bool]:
    """Set the name and note of NUMBER_ID; both empty removes the row. Returns (the note, changed)."""
    with transaction.atomic():
        current = NumberNote.objects.select_for_update().filter(staffify_id=number_id).first()
        before = snapshot(current)
        after = {"name": name, "note": text}
        if before == after:
            return current, False
        if not name and not text:
            if current:
                current.delete()
            current = None
        else:
            current = current or NumberNote(staffify_id=number_id)
            current.name, current.note = name, text
            current.updated_at, current.updated_by = timezone.now(), user if user.is_authenticated else None
            current.save()
        audit.record(
            user,
            audit.Action.NOTE,
            outcome=audit.Outcome.OK,
            number_id=number_id,
            phone_number=phone_number,
            before=before,
            after=after,
            message="Kept by the dashboard: Staffify has no name or note field.",
        )
    return current, True
