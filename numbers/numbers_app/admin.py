"""Read-only views of what the dashboard remembers (every project's): the audit log above all is never
edited. And who holds which role in which project: granted here, each grant and removal audited."""

from django.contrib import admin

from numbers_app import scope
from numbers_app.audit import log as audit
from numbers_app.models import Alert, AuditEntry, Delivery, NumberRecord, Project, ProjectMembership, PurchaseAttempt


class ReadOnlyAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        # every project's rows, not the default project's alone (what no project owns: its only manager)
        return getattr(self.model, "everywhere", self.model._default_manager).all()

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "project",
        "username",
        "action",
        "phone_number",
        "number_id",
        "outcome",
        "error_code",
        "request_id",
    ]
    list_filter = ["project", "action", "outcome", "username"]
    search_fields = ["phone_number", "username", "request_id", "message"]
    date_hierarchy = "at"


@admin.register(NumberRecord)
class NumberRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "staffify_id",
        "project",
        "phone_number",
        "purchased_at",
        "bought_by",
        "last_status",
        "reclaim_before",
        "next_charge_at",
    ]
    list_filter = ["project"]
    search_fields = ["phone_number"]
    list_per_page = 50  # as the owned list: bench/scale.py compares the two, filter by filter
    # The owned list's filters, usable in the changelist's query string (no sidebar: listing an agent
    # per distinct id would cost the changelist more than the filter): bench/scale.py sends them.
    FILTERS = ("gone_at__isnull", "last_status__exact", "agent_id__exact", "country_code__exact", "tags__icontains")

    def lookup_allowed(self, lookup: str, value: str, request=None) -> bool:
        return lookup in self.FILTERS or super().lookup_allowed(lookup, value, request)


@admin.register(PurchaseAttempt)
class PurchaseAttemptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "project", "user", "phone_number", "state", "staffify_id"]
    list_filter = ["project", "state"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["raised_at", "project", "kind", "key", "severity", "state", "resolved_at", "title"]
    list_filter = ["project", "kind", "state", "severity"]
    search_fields = ["key", "title"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    # The alert's delivery log; a webhook's secret is on its endpoint, never here.
    list_display = ["created_at", "alert", "channel", "event", "recipient", "status", "attempts", "last_error"]
    list_filter = ["channel", "status", "event"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """The served projects follow STAFFIFY_PROJECTS: read here, not edited."""

    list_display = ["name", "slug", "staffify_id"]
    readonly_fields = ["name", "slug", "staffify_id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProjectMembership)
class ProjectMembershipAdmin(admin.ModelAdmin):
    """A person's role in one project, overriding their groups there (numbers_app.web.backends)."""

    list_display = ["user", "project", "role"]
    list_filter = ["project", "role"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change) -> None:
        before = ProjectMembership.objects.filter(pk=obj.pk).values_list("role", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        _audit(request.user, obj, before, obj.role)

    def delete_model(self, request, obj) -> None:
        _audit(request.user, obj, obj.role, None)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset.select_related("project", "user"):
            _audit(request.user, membership, membership.role, None)
        super().delete_queryset(request, queryset)


def _audit(by, membership: ProjectMembership, before: str | None, after: str | None) -> None:
    """A grant, change or removal of a role, in the project's own audit log."""
    said = after if after and after != "none" else "no access" if after == "none" else "their groups' role"
    with scope.using(membership.project.ref):
        audit.record(
            by,
            AuditEntry.Action.ROLE,
            outcome=AuditEntry.Outcome.OK,
            before={"user": membership.user.get_username(), "role": before},
            after={"user": membership.user.get_username(), "role": after},
            message=f"{membership.user.get_username()} in {membership.project.name}: {said}.",
        )
