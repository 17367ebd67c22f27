"""Forms for purchase instants told by people: one number's, or a CSV of many."""

from __future__ import annotations

from django import forms

# The preview sends the text back to apply it: Django reads at most 2.5 MB of form data (about 50,000 lines).
MAX_UPLOAD = 2 * 1024 * 1024


class PurchaseTimeForm(forms.Form):
    """One instant, typed in the viewer's zone (Django makes it aware there; it is stored in UTC)."""

    purchased_at = forms.DateTimeField(
        label="Purchased at",
        help_text="As on Staffify's invoice, in your time zone.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
        error_messages={"invalid": "Enter a date and time, like 2025-03-14 09:30."},
    )


class PurchaseImportForm(forms.Form):
    """The CSV, uploaded to preview it; sent back as text to apply what the preview showed."""

    file = forms.FileField(label="CSV file", required=False, help_text="Columns phone_number,purchased_at.")
    csv_text = forms.CharField(required=False, widget=forms.HiddenInput, max_length=MAX_UPLOAD)

    def clean(self) -> dict:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                raise forms.ValidationError("The file is larger than 2 MB: split it.")
            try:
                data["csv_text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text: save it as CSV UTF-8.") from None
        if not data.get("csv_text"):
            raise forms.ValidationError("Choose a CSV file.")
        return data
