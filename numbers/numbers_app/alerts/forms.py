"""The alert pages' forms: the inbox's filters, one's subscriptions, the thresholds, a webhook."""

from __future__ import annotations

from datetime import time
from urllib.parse import urlsplit

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from numbers_app.alerts import subscriptions
from numbers_app.models import Alert, AlertSettings, WebhookEndpoint

KIND_CHOICES = [(kind.value, kind.label) for kind in Alert.Kind if kind != Alert.Kind.TEST]


class InboxFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Any kind"), *KIND_CHOICES], required=False)
    state = forms.ChoiceField(
        choices=[("", "Any state"), ("open", "Open"), ("resolved", "Resolved"), ("info", "Events")], required=False
    )
    unread = forms.BooleanField(required=False, label="Unread only")


class SubscriptionsForm(forms.Form):
    """A checkbox per kind and channel (`<kind>-inbox`, `<kind>-email`), "only jobs I started", and the
    digest's local time."""

    digest_time = forms.TimeField(
        label="Daily digest at", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), initial=time(8, 0)
    )

    def __init__(self, *args, choices: dict[str, subscriptions.Choice], mail: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mail = mail
        for kind, label in subscriptions.CHOICES:
            current = choices[kind]
            if kind != subscriptions.DIGEST:
                self.fields[f"{kind}-inbox"] = forms.BooleanField(
                    required=False, initial=current.inbox, label=f"{label}: in the inbox"
                )
            if mail:
                self.fields[f"{kind}-email"] = forms.BooleanField(
                    required=False, initial=current.email, label=f"{label}: by e-mail"
                )
        self.fields["bulk-mine"] = forms.BooleanField(
            required=False, initial=choices[Alert.Kind.BULK].mine_only, label="Only jobs I started"
        )

    def rows(self) -> list[dict]:
        return [
            {
                "kind": kind,
                "label": label,
                "inbox": self[f"{kind}-inbox"] if f"{kind}-inbox" in self.fields else None,
                "email": self[f"{kind}-email"] if f"{kind}-email" in self.fields else None,
                "mine": self["bulk-mine"] if kind == Alert.Kind.BULK else None,
            }
            for kind, label in subscriptions.CHOICES
        ]

    def choices(self, current: dict[str, subscriptions.Choice]) -> dict[str, subscriptions.Choice]:
        data = self.cleaned_data
        return {
            kind: subscriptions.Choice(
                kind,
                inbox=bool(data.get(f"{kind}-inbox")),
                email=bool(data.get(f"{kind}-email")) if self.mail else current[kind].email,
                mine_only=bool(data.get("bulk-mine")) if kind == Alert.Kind.BULK else False,
            )
            for kind, _ in subscriptions.CHOICES
        }


class ThresholdsForm(forms.ModelForm):
    class Meta:
        model = AlertSettings
        fields = ["runway_days", "sync_failing_minutes", "heartbeat_stale_minutes"]
        labels = {
            "runway_days": "Warn when the balance runs out within (days)",
            "sync_failing_minutes": "Warn when the sync has failed for (minutes)",
            "heartbeat_stale_minutes": "Warn when the worker's heartbeat is older than (minutes)",
        }

    LIMITS = {"runway_days": (1, 84), "sync_failing_minutes": (5, 1440), "heartbeat_stale_minutes": (2, 1440)}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, (low, high) in self.LIMITS.items():
            self.fields[name].widget.attrs.update(min=low, max=high)
            self.fields[name].validators += [MinValueValidator(low), MaxValueValidator(high)]


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https")
    format = forms.ChoiceField(choices=WebhookEndpoint.Format.choices, initial=WebhookEndpoint.Format.GENERIC)
    kinds = forms.MultipleChoiceField(
        choices=KIND_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Send (none ticked: every kind)",
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if urlsplit(url).scheme not in ("http", "https"):
            raise forms.ValidationError("Use an http:// or https:// URL.")
        return url
