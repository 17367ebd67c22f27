"""The viewer's own settings: the time zone every date is shown in."""

import zoneinfo
from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from numbers_app.models import Preference
from numbers_app.people import twofactor
from numbers_app.web.access import dashboard_view


def zone_choices() -> list[tuple[str, str]]:
    return [("", f"The site's time zone ({settings.TIME_ZONE})")] + [
        (name, name.replace("_", " "))
        for name in sorted(zoneinfo.available_timezones())
        if "/" in name or name == "UTC"
    ]


class PreferenceForm(forms.Form):
    time_zone = forms.ChoiceField(required=False, label="Time zone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = zone_choices()


@dashboard_view()
def preferences(request: HttpRequest) -> HttpResponse:
    assert request.user.is_authenticated  # dashboard_view let only a signed-in user through
    preference, _ = Preference.objects.get_or_create(user=request.user)
    form = PreferenceForm(request.POST or None, initial={"time_zone": preference.time_zone})
    if request.method == "POST" and form.is_valid():
        preference.time_zone = form.cleaned_data["time_zone"]
        preference.save(update_fields=["time_zone"])
        messages.success(request, f"Dates now show in {preference.time_zone or settings.TIME_ZONE}.")
        return redirect("preferences")
    context = {
        "form": form,
        "now_utc": timezone.now(),
        "second_factor": twofactor.enrolled(request.user),
        "second_factor_required": twofactor.required(),
    }
    return render(request, "numbers/preferences.html", context)
