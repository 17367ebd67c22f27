"""The events the dashboard's responses raise in the browser through HTMX's HX-Trigger header, each
under one name, with the one helper that raises it: views and the modules they use (access) import
these, never a view module. static/js/app.js listens for the same names."""

from __future__ import annotations

from django.http import HttpResponse
from django_htmx.http import trigger_client_event

TOAST = "toast"  # {"level", "message", "group"?, "many"?}: app.js shows it in #toasts


def toast(
    response: HttpResponse, message: str, level: str = "success", counted: tuple[str, str] | None = None
) -> HttpResponse:
    """MESSAGE as a toast of LEVEL (success, info, warning, error) when RESPONSE arrives. COUNTED,
    (group, the count's sentence with {n}), makes toasts of one kind count in one instead of stacking."""
    detail = {"level": level, "message": message}
    if counted:
        detail.update(group=counted[0], many=counted[1])
    return trigger_client_event(response, TOAST, detail)
