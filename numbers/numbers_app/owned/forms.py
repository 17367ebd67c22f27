"""Forms of the owned list and its row actions (filters, tags, assignment), and the rules for phone
numbers and tag lists that the other concerns' forms share."""

from __future__ import annotations

import re

from django import forms

from numbers_app.rules import MAX_TAG_LENGTH, MAX_TAGS, tag_key

DIGITS = re.compile(r"^\d{1,15}$")
CURSOR = re.compile(r"^[A-Za-z0-9_\-:.=]{1,100}$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
STATUS_CHOICES = [("", "Any status"), ("active", "Active"), ("pending_release", "Pending release")]
SCHEDULED_CHOICES = [("", "Any"), ("1", "Scheduled")]
TYPE_CHOICES = [("local", "Local"), ("mobile", "Mobile"), ("toll_free", "Toll-free")]


class NumberScopeForm(forms.Form):
    """Country, agent and tag: the filters the owned list and the billing page share."""

    FIELDS: tuple[str, ...] = ("country", "agent", "tag")
    country = forms.CharField(required=False, max_length=100)
    agent = forms.CharField(required=False, max_length=100)  # an agent id, or "none"
    tag = forms.CharField(required=False, max_length=1000)

    def clean_country(self) -> str:
        value = self.cleaned_data["country"].strip().upper()
        if value and not re.fullmatch(r"[A-Z]{2}", value):
            raise forms.ValidationError("A country is two letters, like NL.")
        return value

    def clean_agent(self) -> str:
        value = self.cleaned_data["agent"].strip()
        if value and value != "none" and not (value.isdigit() and len(value) <= 18):
            raise forms.ValidationError("Choose an agent from the list.")
        return value

    def clean_tag(self) -> str:
        value = self.cleaned_data["tag"].strip()
        if len(value) > MAX_TAG_LENGTH:
            raise forms.ValidationError(f"A tag has at most {MAX_TAG_LENGTH} characters.")
        return value

    @property
    def filters(self) -> dict[str, str]:
        data = getattr(self, "cleaned_data", {})
        return {k: data[k] for k in self.FIELDS if data.get(k)}


class NumberFilterForm(NumberScopeForm):
    """The owned list's filters: the shared ones, status and digits, and where the page starts."""

    FIELDS = ("status", "agent", "tag", "country", "q", "scheduled")
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    scheduled = forms.ChoiceField(choices=SCHEDULED_CHOICES, required=False)
    q = forms.CharField(required=False, max_length=100, label="Search: digits, name or note")
    sort = forms.ChoiceField(
        required=False,
        choices=[("", "Staffify's order")]
        + [
            (f"{sign}{key}", key)
            for key in ("number", "agent", "status", "purchased", "next_charge")
            for sign in ("", "-")
        ],
    )
    after = forms.CharField(required=False, max_length=100)  # Staffify's cursor, from links made before the mirror
    offset = forms.IntegerField(required=False, min_value=0, max_value=10_000_000)

    def clean_q(self) -> str:
        """Digits (spaces, dashes, brackets and + allowed: they are dropped) search the number, and
        a name or note; anything else searches names and notes (kept by the dashboard)."""
        text = " ".join(self.cleaned_data["q"].split())
        value = re.sub(r"[\s\-()+.]", "", text)
        if value and DIGITS.match(value):
            return value
        if value.isdigit():
            raise forms.ValidationError("A phone number has at most 15 digits.")
        if "\x00" in text:
            raise forms.ValidationError("The search holds a character that cannot be searched for.")
        return text

    def clean_after(self) -> str:
        value = self.cleaned_data["after"].strip()
        if value and not CURSOR.match(value):
            raise forms.ValidationError("That page link is not valid; start from the first page.")
        return value


def parse_tags(text: str) -> list[str]:
    """Comma-separated tags, trimmed. The empty string means no tags."""
    if not text.strip():
        return []
    return [t.strip() for t in text.split(",")]


class TagsForm(forms.Form):
    tags = forms.CharField(required=False, max_length=MAX_TAGS * (MAX_TAG_LENGTH + 2) + 100)

    def clean_tags(self) -> list[str]:
        return clean_tag_list(self.cleaned_data["tags"])


def clean_tag_list(text: str) -> list[str]:
    """Staffify's rules for a tag list (numbers_app.rules), checked before anything is sent."""
    tags = parse_tags(text)
    seen: set[str] = set()
    for tag in tags:
        if not tag:
            raise forms.ValidationError("Remove the empty tag (two commas in a row, or a comma at the end).")
        if len(tag) > MAX_TAG_LENGTH:
            raise forms.ValidationError(f"Tag “{tag[:20]}…” is longer than {MAX_TAG_LENGTH} characters.")
        if tag_key(tag) in seen:
            raise forms.ValidationError(f"Tag “{tag}” appears twice.")
        seen.add(tag_key(tag))
    if len(tags) > MAX_TAGS:
        raise forms.ValidationError(f"At most {MAX_TAGS} tags: this has {len(tags)}.")
    return tags


class AssignForm(forms.Form):
    agent_id = forms.CharField(required=False, max_length=20)

    def __init__(self, *args, agent_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.agent_ids = set(agent_ids)

    def clean_agent_id(self) -> int | None:
        value = self.cleaned_data["agent_id"].strip()
        if not value:
            return None
        if not value.isdigit() or int(value) not in self.agent_ids:
            raise forms.ValidationError("That agent is not in this account's agent list.")
        return int(value)
