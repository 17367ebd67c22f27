"""Read-only views of the sandbox's tables: change them through the API and control endpoints."""

from django.contrib import admin
from django.http import HttpRequest

from .models import Address, Agent, ApiKey, Charge, Fault, PhoneNumber, Project


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnly):
    list_display = ["id", "org_id", "balance", "tier", "rate_limit_per_minute"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnly):
    list_display = ["prefix", "label", "kind", "scope", "revoked", "org_id", "project"]


@admin.register(Agent)
class AgentAdmin(ReadOnly):
    list_display = ["id", "public_id", "name", "language", "project"]


@admin.register(Address)
class AddressAdmin(ReadOnly):
    list_display = ["id", "country_code", "city", "city_code", "status", "project"]


@admin.register(PhoneNumber)
class PhoneNumberAdmin(ReadOnly):
    list_display = ["id", "phone_number", "status", "agent", "purchased_at", "paid_until", "project"]
    list_filter = ["status", "country_code", "project"]


@admin.register(Charge)
class ChargeAdmin(ReadOnly):
    list_display = ["at", "reason", "phone_number", "amount", "project"]
    list_filter = ["reason", "project"]


@admin.register(Fault)
class FaultAdmin(ReadOnly):
    list_display = ["id", "status", "remaining", "method", "path_prefix", "delay_ms", "project"]
