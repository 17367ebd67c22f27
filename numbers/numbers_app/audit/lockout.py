"""Login throttling (django-axes): the lockout said on the login page, and written to the audit log.

Settings (dashboard/settings.py) name `lockout_response` as AXES_LOCKOUT_CALLABLE; apps.py imports this
module, which connects `record_lockout` to axes' user_locked_out signal and `record_failure` to Django's
user_login_failed (every failed sign-in, the dashboard's and the admin's, is in the audit log).
"""

from __future__ import annotations

import math

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from numbers_app.audit import log as audit


def lockout_minutes() -> int:
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The login page again, saying plainly why it refuses and for how long (429 Too Many Requests)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {"form": form, "next": request.POST.get("next", ""), "locked_out_minutes": lockout_minutes()}
    return render(request, "registration/login.html", context, status=429)


@receiver(user_locked_out, dispatch_uid="numbers_app.audit.lockout.record_lockout")
def record_lockout(sender, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs) -> None:
    """One audit entry when a username and address reach the limit; axes also signals every further
    failed attempt while they stay locked out, which would only repeat it."""
    if getattr(request, "axes_failures_since_start", None) != settings.AXES_FAILURE_LIMIT:
        return
    audit.login_locked_out(username or "", ip_address or "", failures=settings.AXES_FAILURE_LIMIT)


@receiver(user_login_failed, dispatch_uid="numbers_app.audit.lockout.record_failure")
def record_failure(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    if request is None:  # authenticate() called outside a request (a shell): no sign-in to record
        return
    username = str((credentials or {}).get("username") or "")
    ip_address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request) or ""
    audit.login_failed(username, ip_address, locked_out=bool(getattr(request, "axes_locked_out", False)))
