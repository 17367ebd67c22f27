"""Forms of buying: the search, the purchase, and purchase instants told by people (one number's, or
a CSV of many)."""

from __future__ import annotations

import re

from django import forms

from numbers_app.owned.forms import E164, TYPE_CHOICES, clean_tag_list
from numbers_app.rules import MAX_TAG_LENGTH, MAX_TAGS
from numbers_app.web.fields import BoundedDateTimeField

# The preview sends the text back to apply it: Django reads at most 2.5 MB of form data (about 50,000 lines).
MAX_UPLOAD = 2 * 1024 * 1024


class PurchaseTimeForm(forms.Form):
    """One instant, typed in the viewer's zone (Django makes it aware there; it is stored in UTC)."""

    purchased_at = BoundedDateTimeField(
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


class SearchForm(forms.Form):
    DEFAULTS = {
        "country_code": "US",
        "number_type": "local",
        "area_code": "",
        "city_code": "",
        "contains": "",
        "limit": 20,
    }

    country_code = forms.CharField(max_length=2, initial="US")
    number_type = forms.ChoiceField(choices=TYPE_CHOICES, initial="local", label="Type")
    area_code = forms.CharField(required=False, max_length=4, label="Area code")
    city_code = forms.CharField(required=False, max_length=5, label="City code")
    contains = forms.CharField(required=False, max_length=10)
    limit = forms.IntegerField(initial=20, min_value=1, max_value=100, required=False)

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.countries = {c.code: c for c in countries}

    def clean_country_code(self) -> str:
        value = self.cleaned_data["country_code"].strip().upper()
        if self.countries and value not in self.countries:
            raise forms.ValidationError("Choose a country from the list.")
        return value

    def _digits(self, name: str, what: str) -> str:
        value = self.cleaned_data[name].strip()
        if value and not value.isdigit():
            raise forms.ValidationError(f"{what} is digits only.")
        return value

    def clean_area_code(self) -> str:
        return self._digits("area_code", "An area code")

    def clean_city_code(self) -> str:
        return self._digits("city_code", "A city code")

    def clean_contains(self) -> str:
        return self._digits("contains", "'Contains'")

    def clean(self):
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        if data.get("limit") is None:
            data["limit"] = 20
        return data


class PurchaseForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    phone_number = forms.CharField(max_length=16)
    country_code = forms.CharField(max_length=2)
    number_type = forms.ChoiceField(choices=TYPE_CHOICES)
    address_id = forms.IntegerField(required=False, min_value=1)
    city_code = forms.CharField(required=False, max_length=5)
    # What the new number gets once bought (each a write of its own, after the purchase).
    agent_id = forms.IntegerField(required=False, min_value=1)
    tags = forms.CharField(required=False, max_length=MAX_TAGS * (MAX_TAG_LENGTH + 2) + 100)

    def clean_tags(self) -> list[str]:
        return clean_tag_list(self.cleaned_data["tags"])

    def clean_phone_number(self) -> str:
        value = self.cleaned_data["phone_number"].strip()
        if not E164.match(value):
            raise forms.ValidationError("That is not a phone number in E.164 form (+ and digits).")
        return value

    def clean_country_code(self) -> str:
        value = self.cleaned_data["country_code"].strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise forms.ValidationError("A country is two letters.")
        return value
