"""Forms of the Addresses page: Staffify's documented fields checked here first, so that a typo is
explained beside its field instead of coming back as Staffify's 400."""

from __future__ import annotations

import re

from django import forms
from django.core.files.uploadedfile import UploadedFile

from numbers_app.owned.forms import E164
from numbers_app.rules import (
    ADDRESS_DOCUMENT_TYPES,
    DOCUMENT_FILE_TYPES,
    DOCUMENT_MAX_BYTES,
    LOCAL_PRESENCE_COUNTRIES,
)

COUNTRY = re.compile(r"^[A-Z]{2}$")
CITY_CODE = re.compile(r"^\d{2,5}$")

# What a file's first bytes say it is: Staffify decides by content, not by name, and so do we.
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}
TYPE_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}


def sniff(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


def _country(value: str) -> str:
    value = value.strip().upper()
    if not COUNTRY.match(value):
        raise forms.ValidationError("A country is two letters, like NL.")
    return value


class CountryForm(forms.Form):
    """The country whose requirements the create form shows (?country=FR)."""

    country = forms.CharField(max_length=2, required=False)

    def clean_country(self) -> str:
        value = self.cleaned_data["country"]
        return _country(value) if value.strip() else ""


class AddressForm(forms.Form):
    """`POST /addresses`: the documented required fields, with Staffify's lengths and formats."""

    country_code = forms.CharField(max_length=2, label="Country")
    company_name = forms.CharField(max_length=200, required=False, label="Company (optional)")
    street_address = forms.CharField(max_length=200, label="Street address")
    postal_code = forms.CharField(max_length=20, label="Postal code")
    city = forms.CharField(max_length=100)
    city_code = forms.CharField(
        max_length=5, required=False, label="City code", help_text="Digits, like 020 for Amsterdam; needed in DE, ES."
    )
    contact_name = forms.CharField(max_length=100, label="Contact name")
    contact_email = forms.EmailField(max_length=254, label="Contact e-mail")
    contact_phone = forms.CharField(
        max_length=16, label="Contact phone", help_text="International form: + and digits, like +31201234567."
    )

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.countries = {c.code: c for c in countries}

    def clean_country_code(self) -> str:
        value = _country(self.cleaned_data["country_code"])
        if self.countries and value not in self.countries:
            raise forms.ValidationError("Choose a country from the list.")
        return value

    def clean_city_code(self) -> str:
        value = self.cleaned_data["city_code"].strip()
        if value and not CITY_CODE.match(value):
            raise forms.ValidationError("A city code is 2 to 5 digits, like 020.")
        return value

    def clean_contact_phone(self) -> str:
        value = re.sub(r"[\s\-().]", "", self.cleaned_data["contact_phone"])
        if not E164.match(value):
            raise forms.ValidationError("Write the phone number in international form (+ and digits): +31201234567.")
        return value

    def clean(self):
        data = super().clean()
        assert data is not None
        if data.get("country_code") in LOCAL_PRESENCE_COUNTRIES and not data.get("city_code"):
            self.add_error("city_code", f"{data['country_code']} numbers are local: Staffify needs the city code.")
        for name in ("street_address", "postal_code", "city", "contact_name", "company_name"):
            if isinstance(data.get(name), str):
                data[name] = data[name].strip()
        return data


class AddByIdForm(forms.Form):
    """An address that already exists in Staffify (created elsewhere), put into the book by its id."""

    address_id = forms.IntegerField(min_value=1, max_value=2**62, label="Staffify address id")
    country_code = forms.CharField(max_length=2, label="Country")
    city = forms.CharField(max_length=100, required=False)
    city_code = forms.CharField(max_length=5, required=False, label="City code")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "add_%s")  # it shares the page with AddressForm's fields
        super().__init__(*args, **kwargs)

    def clean_country_code(self) -> str:
        return _country(self.cleaned_data["country_code"])

    def clean_city_code(self) -> str:
        value = self.cleaned_data["city_code"].strip()
        if value and not CITY_CODE.match(value):
            raise forms.ValidationError("A city code is 2 to 5 digits, like 020.")
        return value


class DocumentForm(forms.Form):
    """One supporting document, checked against the country's limits before it is sent."""

    document_type = forms.ChoiceField(choices=list(ADDRESS_DOCUMENT_TYPES.items()), label="Document")
    file = forms.FileField(label="File")

    def __init__(self, *args, accepted_types=DOCUMENT_FILE_TYPES, max_bytes=DOCUMENT_MAX_BYTES, **kwargs):
        super().__init__(*args, **kwargs)
        self.accepted_types = tuple(accepted_types)
        self.max_bytes = max_bytes
        self.content_type = ""  # what the file's first bytes show, once valid

    @property
    def accepted_text(self) -> str:
        return ", ".join(TYPE_NAMES.get(t, t) for t in self.accepted_types)

    @property
    def max_text(self) -> str:
        return f"{self.max_bytes / (1024 * 1024):.0f} MB"

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > self.max_bytes:
            raise forms.ValidationError(f"The file is larger than Staffify accepts ({self.max_text}).")
        upload.seek(0)
        kind = sniff(upload.read(16))
        upload.seek(0)
        if kind is None or kind not in self.accepted_types:
            raise forms.ValidationError(f"Staffify accepts {self.accepted_text} files only; this is not one.")
        self.content_type = kind
        return upload
