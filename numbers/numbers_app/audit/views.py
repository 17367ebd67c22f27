"""The audit log: who did what through the dashboard, filterable, exportable as CSV."""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from numbers_app.audit import log as audit
from numbers_app.models import AuditEntry
from numbers_app.text import instants
from numbers_app.text.csvsafe import safe_row
from numbers_app.text.presenters import iso_utc
from numbers_app.web.access import HtmxHttpRequest, dashboard_view
from numbers_app.web.fields import BoundedDateField

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150)
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *AuditEntry.Action.choices])
    number = forms.CharField(required=False, max_length=20, help_text="Staffify id or digits of the number")
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *AuditEntry.Outcome.choices])
    since = BoundedDateField(required=False, label="From")
    until = BoundedDateField(required=False, label="To")
    page = forms.IntegerField(required=False, min_value=1)

    def clean_number(self) -> str:
        value = "".join(ch for ch in self.cleaned_data["number"] if ch.isdigit() or ch == "+")
        if self.cleaned_data["number"].strip() and not value.strip("+"):
            raise forms.ValidationError("Type a number's id or some of its digits.")
        return value

    def clean(self):
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("'From' is after 'To'.")
        return data

    def apply(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        data = self.cleaned_data
        if data.get("user"):
            entries = entries.filter(username=data["user"])
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("outcome"):
            entries = entries.filter(outcome=data["outcome"])
        if number := data.get("number"):
            digits = number.lstrip("+")
            match = Q(phone_number__contains=digits)
            if digits.isdigit() and len(digits) <= 12:
                match |= Q(number_id=int(digits))
            entries = entries.filter(match)
        zone = timezone.get_current_timezone()
        if data.get("since"):
            entries = entries.filter(at__gte=datetime.combine(data["since"], time.min, tzinfo=zone))
        if data.get("until"):
            entries = entries.filter(at__lte=datetime.combine(data["until"], time.max, tzinfo=zone))
        return entries


CSV_COLUMNS = [
    "when (UTC)",
    "when (local)",
    "user",
    "action",
    "number id",
    "phone number",
    "change",
    "outcome",
    "error code",
    "HTTP status",
    "Staffify request id",
    "message",
]


def _csv_rows(entries: QuerySet[AuditEntry]):
    yield CSV_COLUMNS
    for e in entries.iterator(chunk_size=500):
        yield safe_row(
            [
                iso_utc(e.at),
                timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S %Z"),
                e.username,
                e.get_action_display(),
                e.number_id or "",
                e.phone_number,
                audit.change_summary(e),
                e.get_outcome_display(),
                e.error_code,
                e.http_status or "",
                e.request_id,
                instants.render_utc(e.message),
            ]
        )


class _Echo:
    def write(self, value: str) -> str:
        return value


@dashboard_view()
@require_GET
def audit_log(request: HtmxHttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = AuditFilterForm(request.GET)
    entries = form.apply(AuditEntry.objects.all()) if form.is_valid() else AuditEntry.objects.none()
    if request.GET.get("format") == "csv":
        if not form.is_valid():
            # Never an export with only its header for a filter that could not be read: "nothing happened".
            problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
            return HttpResponse(
                f"The export was not made: {problems}\n", status=400, content_type="text/plain; charset=utf-8"
            )
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse((writer.writerow(row) for row in _csv_rows(entries)), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="staffify-audit-{timezone.localdate():%Y-%m-%d}.csv"'
        return response
    page = Paginator(entries, PAGE_SIZE).get_page(form.cleaned_data.get("page") if form.is_valid() else 1)
    for entry in page.object_list:
        entry.change = audit.change_html(entry)
    query = request.GET.copy()
    query.pop("page", None)
    # Presets: the last 7 days (today and the six before, in the viewer's zone), other filters kept.
    week = query.copy()
    week.pop("until", None)
    week["since"] = (timezone.localdate() - timedelta(days=6)).isoformat()
    context = {
        "last_week_query": week.urlencode(),
        "last_week_on": request.GET.get("since") == week["since"] and not request.GET.get("until"),
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "usernames": sorted(
            set(get_user_model().objects.values_list("username", flat=True))
            | set(AuditEntry.objects.values_list("username", flat=True).distinct())
        ),
    }
    if request.htmx and request.htmx.target == "audit-table":
        return render(request, "numbers/audit.html#table", context)
    return render(request, "numbers/audit.html", context)
