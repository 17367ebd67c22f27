"""Form fields every page shares: dates and instants bounded to the dashboard's years (rules.DATE_BOUNDS),
so that no date typed in a filter or a form overflows when it is moved to UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms

from numbers_app.rules import DATE_BOUNDS, date_in_bounds, instant_in_bounds


class BoundedDateField(forms.DateField):
    def to_python(self, value: Any) -> date | None:
        day = super().to_python(value)
        if day is not None and not date_in_bounds(day):
            raise forms.ValidationError(DATE_BOUNDS, code="out_of_bounds")
        return day


class BoundedDateTimeField(forms.DateTimeField):
    """An instant typed in the viewer's zone (Django makes it aware there), within the bounds."""

    def to_python(self, value: Any) -> datetime | None:
        try:
            moment = super().to_python(value)
        except OverflowError:
            raise forms.ValidationError(DATE_BOUNDS, code="out_of_bounds") from None
        if moment is not None and not instant_in_bounds(moment):
            raise forms.ValidationError(DATE_BOUNDS, code="out_of_bounds")
        return moment
