"""Mounted at /sandbox/ by dashboard/urls.py (only when STAFFIFY_SANDBOX is on) and by run_sandbox."""

from django.urls import re_path

from . import addresses, control, views
from .endpoint import unknown_route


def _path(pattern: str, view):
    # Both /v1/credits and /v1/credits/ answer.
    return re_path(rf"^{pattern}/?$", view)


NUMBER = r"v1/phone-numbers/(?P<number_id>[^/]+)"
ADDRESS = r"v1/addresses/(?P<address_id>[^/]+)"
CONTROL_ADDRESS = r"control/addresses/(?P<address_id>[^/]+)"

urlpatterns = [
    _path("v1/phone-numbers", views.phone_numbers_view),
    _path("v1/phone-numbers/search", views.search_view),
    _path("v1/phone-numbers/countries", views.countries_view),
    _path(NUMBER, views.number_view),
    _path(NUMBER + "/assign", views.assign_view),
    _path(NUMBER + "/reclaim", views.reclaim_view),
    _path("v1/agents", views.agents_view),
    _path("v1/addresses", views.addresses_view),
    _path("v1/addresses/requirements", addresses.requirements_view),
    _path(ADDRESS + "/documents", addresses.documents_view),
    _path(ADDRESS + "/submit", addresses.submit_view),
    _path(ADDRESS + "/check-status", addresses.check_status_view),
    _path("v1/credits", views.credits_view),
    _path("control/clock", control.clock_view),
    _path("control/reset", control.reset_view),
    _path("control/balance", control.balance_view),
    _path("control/faults", control.faults_view),
    _path("control/rate-limit", control.rate_limit_view),
    _path("control/charges", control.charges_view),
    _path(CONTROL_ADDRESS + "/approve", control.approve_address_view),
    _path(CONTROL_ADDRESS + "/reject", control.reject_address_view),
    _path(CONTROL_ADDRESS + "/expire", control.expire_address_view),
    _path("control/address-verification", control.address_verification_view),
    _path("control/addresses-listing", control.addresses_listing_view),
    # Anything else under /sandbox/ is a JSON 404, never the dashboard's HTML page.
    re_path(r"^.*$", unknown_route),
]
