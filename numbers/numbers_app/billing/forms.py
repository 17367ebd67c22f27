"""The costs page's choices: the grouping and the past period (dates in the viewer's zone)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms

from numbers_app.billing.costs import GROUPS

MAX_DAYS = 3 * 366
DEFAULT_DAYS = 84  # three cycles


class CostsForm(forms.Form):
    group = forms.ChoiceField(choices=list(GROUPS.items()), required=False)
    start = forms.DateField(required=False, label="From", error_messages={"invalid": "Type a date like 2026-09-01."})
    end = forms.DateField(
        required=False, label="To (included)", error_messages={"invalid": "Type a date like 2026-12-01."}
    )

    def __init__(self, data, today: date) -> None:
        super().__init__(data)
        self.today = today

    def clean(self):
        data = super().clean()
        assert data is not None
        data["group"] = data.get("group") or "agent"
        end = data.get("end") or self.today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The period starts after it ends: swap the dates.")
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError("Choose a period of at most three years.")
        data["start"], data["end"] = start, end
        return data
