"""Read-only views of what the dashboard remembers: the audit log above all is never edited."""

from django.contrib import admin

from numbers_app.models import Alert, AuditEntry, Delivery, NumberRecord, PurchaseAttempt


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "action", "phone_number", "number_id", "outcome", "error_code", "request_id"]
    list_filter = ["action", "outcome", "username"]
    search_fields = ["phone_number", "username", "request_id", "message"]
    date_hierarchy = "at"


@admin.register(NumberRecord)
class NumberRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "staffify_id",
        "phone_number",
        "purchased_at",
        "bought_by",
        "last_status",
        "reclaim_before",
        "next_charge_at",
    ]
    search_fields = ["phone_number"]
    list_per_page = 50  # as the owned list: bench/scale.py compares the two, filter by filter
    # The owned list's filters, usable in the changelist's query string (no sidebar: listing an agent
    # per distinct id would cost the changelist more than the filter): bench/scale.py sends them.
    FILTERS = ("gone_at__isnull", "last_status__exact", "agent_id__exact", "country_code__exact", "tags__icontains")

    def lookup_allowed(self, lookup: str, value: str, request=None) -> bool:
        return lookup in self.FILTERS or super().lookup_allowed(lookup, value, request)


@admin.register(PurchaseAttempt)
class PurchaseAttemptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "phone_number", "state", "staffify_id"]
    list_filter = ["state"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["raised_at", "kind", "key", "severity", "state", "resolved_at", "title"]
    list_filter = ["kind", "state", "severity"]
    search_fields = ["key", "title"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    # The alert's delivery log; a webhook's secret is on its endpoint, never here.
    list_display = ["created_at", "alert", "channel", "event", "recipient", "status", "attempts", "last_error"]
    list_filter = ["channel", "status", "event"]
