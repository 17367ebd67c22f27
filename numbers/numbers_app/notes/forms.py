"""The form of a number's name and note (kept by the dashboard; Staffify has no such field)."""

from __future__ import annotations

from django import forms

from numbers_app.models import NumberNote


class NoteForm(forms.Form):
    name = forms.CharField(
        required=False,
        max_length=NumberNote.NAME_MAX,
        error_messages={"max_length": f"A name has at most {NumberNote.NAME_MAX} characters."},
    )
    note = forms.CharField(
        required=False,
        max_length=NumberNote.NOTE_MAX,
        strip=True,
        widget=forms.Textarea,
        error_messages={"max_length": f"A note has at most {NumberNote.NOTE_MAX} characters."},
    )

    def clean_name(self) -> str:
        value = " ".join(self.cleaned_data["name"].split())  # one line: no newlines or runs of spaces
        return value

    def clean_note(self) -> str:
        value = self.cleaned_data["note"].replace("\r\n", "\n")
        if "\x00" in value:
            raise forms.ValidationError("The note holds a character that cannot be stored.")
        return value
