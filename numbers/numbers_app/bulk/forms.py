"""Forms of bulk work: what is selected (ids, or the owned list's filter), and the action with its inputs."""

from __future__ import annotations

import re

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from numbers_app.bulk import jobs as bulk
from numbers_app.mirror import listing
from numbers_app.models import MirrorAgent, NumberRecord
from numbers_app.owned.forms import NumberFilterForm, TagsForm

IDS = re.compile(r"^\d{1,19}(,\d{1,19})*$")


class SelectionForm(forms.Form):
    """The selection: explicit Staffify ids (`ids=1,2,3`), or every number matching the owned list's
    filter (`filter=` its query string), re-resolved against the mirror each time it is read."""

    ids = forms.CharField(required=False, max_length=bulk.MAX_ROWS * 20)
    filter = forms.CharField(required=False, max_length=2000)
    scope = forms.ChoiceField(choices=[("ids", "the selected numbers"), ("filter", "every number matching")])

    def clean_ids(self) -> list[int]:
        value = self.cleaned_data["ids"].strip().strip(",")
        if value and not IDS.match(value):
            raise forms.ValidationError("The selection is not a list of numbers: select them again.")
        ids = list(dict.fromkeys(int(v) for v in value.split(","))) if value else []
        if len(ids) > bulk.MAX_ROWS:
            raise forms.ValidationError(f"At most {bulk.MAX_ROWS} numbers at once.")
        return ids

    def clean(self):
        data = super().clean()
        assert data is not None
        if data.get("scope") == "filter":
            filters = NumberFilterForm(QueryDict(data.get("filter", "")))
            if not filters.is_valid():
                raise forms.ValidationError("The filter is not valid any more: filter the list again.")
            data["filters"] = filters.filters
        elif data.get("scope") == "ids" and not data.get("ids"):
            raise forms.ValidationError("Nothing is selected: tick the numbers to change first.")
        return data

    def records(self) -> QuerySet[NumberRecord]:
        """The selected numbers as the mirror has them now (a number gone since is left out)."""
        if self.cleaned_data["scope"] == "filter":
            return listing.numbers(self.cleaned_data["filters"])
        return listing.numbers({}).filter(staffify_id__in=self.cleaned_data["ids"])


class ActionForm(forms.Form):
    action = forms.ChoiceField(choices=[], error_messages={"required": "Choose an action in the bar first."})
    quick = forms.CharField(required=False, max_length=10)  # the bar's "Assign to" menu sends quick=assign
    agent_id = forms.CharField(required=False, max_length=20)
    tags = forms.CharField(required=False, max_length=2000)
    unassign_first = forms.BooleanField(required=False)

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and data.get("quick") == "assign":
            data = data.copy()
            data["action"] = "assign"
        super().__init__(data, *args, **kwargs)
        action_field = self.fields["action"]
        assert isinstance(action_field, forms.ChoiceField)
        action_field.choices = [(a.key, a.label) for a in bulk.ACTIONS.values() if a.selectable]

    def clean(self):
        data = super().clean()
        assert data is not None
        action = data.get("action")
        params: dict = {}
        if action == "assign":
            raw = (data.get("agent_id") or "").strip()
            agent = (
                MirrorAgent.objects.filter(staffify_id=int(raw)).first() if raw.isdigit() and len(raw) < 19 else None
            )
            if agent is None:
                self.add_error("agent_id", "Choose an agent.")
            else:
                params = {"agent_id": agent.staffify_id, "agent_name": agent.name}
        elif action in ("add_tags", "remove_tags"):
            tags = TagsForm({"tags": data.get("tags", "")})
            if not tags.is_valid():
                self.add_error("tags", tags.errors["tags"][0])
            elif not tags.cleaned_data["tags"]:
                self.add_error("tags", "Type the tags, separated by commas.")
            else:
                params = {"tags": tags.cleaned_data["tags"]}
        elif action in bulk.ACTIONS and "unassign_first" in bulk.ACTIONS[action].inputs:  # both releases
            params = {"unassign_first": bool(data.get("unassign_first"))}
        data["params"] = params
        return data
