"""Mounted at /sandbox/ by dashboard/urls.py (only when STAFFIFY_SANDBOX is on) and by run_sandbox."""

from django.urls import re_path

from . import control, views
from .endpoint import unknown_route


def _path(pattern: str, view):
    # Both /v1/credits and /v1/credits/ answer.
    return re_path(rf"^{pattern}/?$", view)


NUMBER = r"v1/phone-numbers/(?P<number_id>[^/]+)"

urlpatterns = [
    _path("v1/phone-numbers", views.phone_numbers_view),
    _path("v1/phone-numbers/search", views.search_view),
    _path("v1/phone-numbers/countries", views.countries_view),
    _path(NUMBER, views.number_view),
    _path(NUMBER + "/assign", views.assign_view),
    _path(NUMBER + "/reclaim", views.reclaim_view),
    _path("v1/agents", views.agents_view),
    _path("v1/addresses", views.addresses_view),
    _path("v1/credits", views.credits_view),
    _path("control/clock", control.clock_view),
    _path("control/reset", control.reset_view),
    _path("control/balance", control.balance_view),
    _path("control/faults", control.faults_view),
    _path("control/rate-limit", control.rate_limit_view),
    _path("control/charges", control.charges_view),
    # Anything else under /sandbox/ is a JSON 404, never the dashboard's HTML page.
    re_path(r"^.*$", unknown_route),
]
