"""Who may do what. Every view states its permission here; templates ask the same questions.

An HTMX request that is not allowed gets a 403 that swaps nothing and a toast saying why; a full
page gets the 403 page. An expired session on an HTMX request sends the browser to the login page
instead of swapping the login form into a table row.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRedirect, reswap, trigger_client_event
from django_htmx.middleware import HtmxDetails

from numbers_app import audit
from numbers_app.roles import denial


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (how its docs type `request.htmx`)."""

    htmx: HtmxDetails


def permissions_for(user) -> dict[str, bool]:
    """The flags templates use to hide or disable controls, with the reasons beside them."""
    return {
        "can_buy": user.has_perm("numbers.buy_number"),
        "can_release": user.has_perm("numbers.release_number"),
        "can_reclaim": user.has_perm("numbers.reclaim_number"),
        "can_assign": user.has_perm("numbers.assign_agent"),
        "can_tag": user.has_perm("numbers.edit_tags"),
    }


def dashboard_view(perm: str = "numbers.view_dashboard", *, audit_action: str | None = None) -> Callable:
    """Login, then PERM (and the right to see the dashboard), checked on the server. A refused
    attempt at an action (a POST to a view with AUDIT_ACTION) is written to the audit log."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                if request.htmx:
                    return HttpResponseClientRedirect(f"{settings.LOGIN_URL}?next={request.path}")
                return redirect_to_login(request.get_full_path())
            for needed in dict.fromkeys(["numbers.view_dashboard", perm]):
                if not request.user.has_perm(needed):
                    message = denial(request.user, needed)
                    if audit_action and request.method == "POST":
                        audit.record(
                            request.user,
                            audit_action,
                            outcome=audit.Outcome.DENIED,
                            number_id=kwargs.get("number_id"),
                            phone_number=request.POST.get("phone_number", "")[:32],
                            message=message,
                        )
                    if request.htmx:
                        response = reswap(HttpResponse(message, status=403), "none")
                        return trigger_client_event(response, "toast", {"level": "error", "message": message})
                    raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
