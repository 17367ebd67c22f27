"""Who may do what. Every view states its permission here; templates ask the same questions.

An HTMX request that is not allowed gets a 403 that swaps nothing and a toast saying why; a full
page gets the 403 page. An expired session on an HTMX request sends the browser to the login page
instead of swapping the login form into a table row; after the login it returns to the page the
person was on (`login_redirect`), never to an action URL that only takes a POST.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRedirect, reswap
from django_htmx.middleware import HtmxDetails

from numbers_app import scope
from numbers_app.audit import log as audit
from numbers_app.roles import denial
from numbers_app.web.htmx import toast


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


def login_redirect(request: HtmxHttpRequest) -> HttpResponse:
    """To the login page, then back to the page the person was on. An HTMX request comes from a page
    (HX-Current-URL, when it is this site's) and may itself be an action or a fragment: the browser
    leaves for the login page as a whole (HX-Redirect), not inside the fragment. A plain POST has no
    page to return to that is known to take a GET: the owned list."""
    if request.htmx:
        back = request.htmx.current_url_abs_path or scope.reverse("number_list")
        return HttpResponseClientRedirect(redirect_to_login(back).url)
    back = request.get_full_path() if request.method in ("GET", "HEAD") else scope.reverse("number_list")
    return redirect_to_login(back)


def dashboard_view(perm: str = "numbers.view_dashboard", *, audit_action: str | None = None) -> Callable:
    """Login, then PERM (and the right to see the dashboard), checked on the server. A refused
    attempt at an action (a POST to a view with AUDIT_ACTION) is written to the audit log."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return login_redirect(request)
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
                        return toast(response, message, "error")
                    raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
