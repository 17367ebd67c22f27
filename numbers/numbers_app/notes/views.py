"""Editing a number's name and note in place, like its tags: the display swaps for a form (HTMX),
Save posts it (CSRF), Cancel swaps the display back. The role that may edit tags may edit notes.
No Staffify call: the dashboard keeps them (Staffify has no such field)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from numbers_app.audit import log as audit
from numbers_app.models import NumberRecord
from numbers_app.notes import book
from numbers_app.notes.forms import NoteForm
from numbers_app.text.presenters import format_phone
from numbers_app.web.access import dashboard_view, permissions_for
from numbers_app.web.htmx import toast

SAVED = ("note", "{n} notes saved")


def _e164(number_id: int) -> str:
    return NumberRecord.objects.filter(staffify_id=number_id).values_list("phone_number", flat=True).first() or ""


def _shown(number_id: int, e164: str) -> str:
    """The number as the editor and the toast name it."""
    return format_phone(e164) if e164 else f"#{number_id}"


def _display(request: HttpRequest, number_id: int) -> HttpResponse:
    """The note cell as saved (its button's URL and name are its row's: static/js/app.js)."""
    context = {"number_id": number_id, "note": book.get(number_id), **permissions_for(request.user)}
    return render(request, "numbers/_note.html", context)


@dashboard_view("numbers.edit_tags")
@require_GET
def note_editor(request: HttpRequest, number_id: int) -> HttpResponse:
    e164 = _e164(number_id)
    note = book.get(number_id)
    form = NoteForm(initial=book.snapshot(note))
    context = {"number_id": number_id, "form": form, "display": _shown(number_id, e164)}
    return render(request, "numbers/_note_editor.html", context)


@dashboard_view()
@require_GET
def note_display(request: HttpRequest, number_id: int) -> HttpResponse:
    """Cancel: the name and note as saved (no Staffify call)."""
    return _display(request, number_id)


@dashboard_view("numbers.edit_tags", audit_action=audit.Action.NOTE)
@require_POST
def save_note(request: HttpRequest, number_id: int) -> HttpResponse:
    e164 = _e164(number_id)
    display = _shown(number_id, e164)
    form = NoteForm(request.POST)
    if not e164:
        form.add_error(None, "This number is not in the account as the dashboard last saw it.")
    if not form.is_valid():
        audit.record(
            request.user,
            audit.Action.NOTE,
            outcome=audit.Outcome.INVALID,
            number_id=number_id,
            phone_number=e164,
            after={"name": request.POST.get("name", "")[:200], "note": request.POST.get("note", "")[:200]},
            message=" ".join(str(e) for errors in form.errors.values() for e in errors),
        )
        context = {"number_id": number_id, "form": form, "display": display}
        return render(request, "numbers/_note_editor.html", context, status=422)
    _, changed = book.save(request.user, number_id, e164, form.cleaned_data["name"], form.cleaned_data["note"])
    response = _display(request, number_id)
    if not changed:
        return response
    # The number's page refreshes its facts and history (the list has no listener: nothing is read).
    response = trigger_client_event(response, "number-changed", {})
    return toast(response, f"Name and note of {display} saved.", "success", SAVED)
