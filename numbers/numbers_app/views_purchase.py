"""Purchase instants from Staffify's invoices: set on a number's page, or imported from a CSV after a
preview. Operations only (the role that buys); both are audited and update the mirror row, so the
billing page places the number's charges from then on."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from numbers_app import lookups, mirror, purchase_times, staffify
from numbers_app.access import dashboard_view
from numbers_app.forms_purchase import PurchaseImportForm, PurchaseTimeForm
from numbers_app.models import AuditEntry, NumberRecord
from numbers_app.presenters import format_phone

PERM = "numbers.buy_number"


def _owned_record(number_id: int) -> NumberRecord:
    record = mirror.owned().filter(staffify_id=number_id).first()
    if record is None:
        raise Http404("This number is not in the account as far as the dashboard knows.")
    return record


@dashboard_view(PERM, audit_action=AuditEntry.Action.PURCHASE_TIME)
@require_POST
def set_purchase_time(request: HttpRequest, number_id: int) -> HttpResponse:
    record = _owned_record(number_id)
    form = PurchaseTimeForm(request.POST)
    client = staffify.get_client()
    now, skew = lookups.staffify_now(client), client.clock_skew
    if form.is_valid():
        at = form.cleaned_data["purchased_at"]
        why = purchase_times.problem_with(record, at, now, skew)
        if why is None:
            purchase_times.set_one(request.user, record, at, now)
            messages.success(request, f"Purchase time of {format_phone(record.phone_number)} saved.")
            return redirect("number_detail", number_id=number_id)
        form.add_error("purchased_at", why)
    context = {"form": form, "record": record, "display": format_phone(record.phone_number)}
    return render(request, "numbers/purchase_time.html", context, status=400)


@dashboard_view(PERM, audit_action=AuditEntry.Action.PURCHASE_TIME)
@require_http_methods(["GET", "POST"])
def purchase_import(request: HttpRequest) -> HttpResponse:
    form = PurchaseImportForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form, "preview": None}
    if request.method == "POST" and form.is_valid():
        client = staffify.get_client()
        now = lookups.staffify_now(client)
        preview = purchase_times.preview(form.cleaned_data["csv_text"], now, client.clock_skew)
        if request.POST.get("apply") and preview.changes:  # bad and unknown lines are left out, as shown
            count = purchase_times.apply(request.user, preview.changes, now)
            messages.success(request, f"{count} purchase time{'s' if count != 1 else ''} saved.")
            return redirect("billing")
        context["preview"] = preview
        context["csv_text"] = form.cleaned_data["csv_text"]
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return render(request, "numbers/purchase_import.html", context, status=status)
