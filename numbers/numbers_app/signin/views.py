"""Signing in: the login page (a password, then a second factor when the account has one), single
sign-on with the identity provider, an invitation's page, and setting up a second factor.

Passwords go through Django's AuthenticationForm, so django-axes throttles them as before. With
OIDC_REQUIRED a password is refused before it is checked, except for the break-glass accounts.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from mozilla_django_oidc.utils import absolutify, add_state_and_verifier_and_nonce_to_session, generate_code_challenge

from numbers_app.audit import log as audit
from numbers_app.models import AuditEntry, Person
from numbers_app.people import directory, sso, twofactor
from numbers_app.web.access import dashboard_view

logger = logging.getLogger("numbers_app.sso")
PENDING = "signin_pending_second_factor"
PENDING_SECONDS = 300
MODEL_BACKEND = "numbers_app.web.backends.ProjectRoleBackend"  # ModelBackend, roles per project
SSO_BACKEND = "numbers_app.people.sso.SSOBackend"


def _next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return settings.LOGIN_REDIRECT_URL


def _login_page(request: HttpRequest, form, *, next_url: str, error: str = "", status: int = 200) -> HttpResponse:
    return render(
        request,
        "registration/login.html",
        {"form": form, "next": next_url, "sso_error": error, "sso_required": settings.OIDC_REQUIRED},
        status=status,
    )


@sensitive_post_parameters()
@csrf_protect
@never_cache
def login(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if request.method != "POST":
        return _login_page(request, AuthenticationForm(request), next_url=next_url)
    username = request.POST.get("username", "")
    if not sso.local_password_allowed(username):
        form = AuthenticationForm(request, initial={"username": username})
        message = f"Sign in with {sso.name()}: passwords are turned off here, except for break-glass accounts."
        return _login_page(request, form, next_url=next_url, error=message, status=403)
    form = AuthenticationForm(request, data=request.POST)
    if not form.is_valid():
        return _login_page(request, form, next_url=next_url)
    user = form.get_user()
    if twofactor.enrolled(user):
        request.session[PENDING] = {"user": user.pk, "at": time.time(), "next": next_url}
        return redirect("login_second_factor")
    auth_login(request, user, backend=MODEL_BACKEND)
    directory.record_sign_in(user, Person.Method.LOCAL)
    return HttpResponseRedirect(_next(request, next_url))


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code", max_length=20, widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True})
    )


@sensitive_post_parameters()
@csrf_protect
@never_cache
def second_factor(request: HttpRequest) -> HttpResponse:
    """The code from the authenticator app (or a recovery code), after the password."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        messages.error(request, "Enter your password again: the sign-in waited too long for the code.")
        return redirect("login")
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING, None)
        return redirect("login")
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            device = twofactor.verify(user, form.cleaned_data["code"])
        except twofactor.Throttled as err:
            device, error = None, str(err)
        if device is not None:
            request.session.pop(PENDING, None)
            auth_login(request, user, backend=MODEL_BACKEND)
            otp_login(request, device)
            directory.record_sign_in(user, Person.Method.LOCAL_2FA)
            if device.name == twofactor.CODES_NAME:
                left = twofactor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. Make new ones on your preferences page.",
                )
            return HttpResponseRedirect(_next(request, pending.get("next")))
        error = error or "That code is not right: use the 6 digits your app shows now, or one of your recovery codes."
    return render(request, "registration/second_factor.html", {"form": form, "error": error}, status=200)


# --- Single sign-on --------------------------------------------------------------------------------


@never_cache
def sso_start(request: HttpRequest) -> HttpResponse:
    """To the provider, with a fresh state, nonce and PKCE challenge kept in this session."""
    if not sso.enabled():
        raise Http404("Single sign-on is not configured.")
    next_url = _next(request, request.GET.get(REDIRECT_FIELD_NAME))
    try:
        found = sso.provider()
    except sso.SignInFailed as err:
        return _login_page(request, AuthenticationForm(request), next_url=next_url, error=str(err), status=503)
    state = get_random_string(32)
    verifier = get_random_string(64)
    params = {
        "response_type": "code",
        "scope": settings.OIDC_SCOPES,
        "client_id": settings.OIDC_CLIENT_ID,
        "redirect_uri": absolutify(request, reverse("sso_callback")),
        "state": state,
        "nonce": get_random_string(32),
        "code_challenge": generate_code_challenge(verifier, "S256"),
        "code_challenge_method": "S256",
    }
    add_state_and_verifier_and_nonce_to_session(request, state, params, verifier)
    request.session["oidc_login_next"] = next_url
    return HttpResponseRedirect(f"{found.authorization_endpoint}?{urlencode(params)}")


@never_cache
def sso_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the person back here with a code (or an error) and the state."""
    if not sso.enabled():
        raise Http404("Single sign-on is not configured.")
    form = AuthenticationForm(request)
    state = request.GET.get("state", "")
    states = request.session.get("oidc_states") or {}
    if request.GET.get("error"):
        states.pop(state, None)
        request.session["oidc_states"] = states
        said = request.GET.get("error_description") or request.GET["error"]
        return _login_page(
            request, form, next_url="", error=f"{sso.name()} did not sign you in: {said[:200]}", status=400
        )
    if not state or state not in states or not request.GET.get("code"):
        sso.refused("", "A sign-in answer whose state this browser never sent (or sent long ago) was refused.")
        return _login_page(
            request,
            form,
            next_url="",
            error=f"That answer from {sso.name()} does not belong to a sign-in started in this browser "
            "(or it was used already). Sign in again.",
            status=400,
        )
    pending = states.pop(state)
    request.session["oidc_states"] = states
    request.session.save()
    next_url = request.session.pop("oidc_login_next", "") or settings.LOGIN_REDIRECT_URL
    backend = sso.SSOBackend()
    try:
        user = backend.authenticate(request, sso=True, nonce=pending["nonce"], code_verifier=pending["code_verifier"])
    except sso.SignInFailed as err:
        sso.refused("", str(err))
        return _login_page(request, form, next_url=next_url, error=str(err), status=403)
    if user is None:  # mozilla-django-oidc declined quietly (claims it could not use); its log says why
        message = f"{sso.name()} did not say who you are (no subject); the sign-in was refused."
        sso.refused("", message)
        return _login_page(request, form, next_url=next_url, error=message, status=403)
    auth_login(request, user, backend=SSO_BACKEND)
    request.session.set_expiry(int(settings.OIDC_SESSION_HOURS * 3600))
    directory.record_sign_in(user, Person.Method.SSO)
    audit.person(user, AuditEntry.Action.SSO_SIGN_IN, after=backend.sign_in_facts)
    return HttpResponseRedirect(_next(request, next_url))


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin signs in through the dashboard's own login (second factor, single sign-on, throttling)."""
    target = reverse("login") + "?" + urlencode({REDIRECT_FIELD_NAME: request.GET.get(REDIRECT_FIELD_NAME, "/admin/")})
    return HttpResponseRedirect(target)


# --- Invitations -----------------------------------------------------------------------------------


class JoinForm(SetPasswordForm):
    username = forms.RegexField(
        label="Username",
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": "Use letters, digits and @ . + - _ only."},
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    field_order = ["username", "new_password1", "new_password2"]


@sensitive_post_parameters()
@csrf_protect
@never_cache
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = directory.invitation_for(token)
    if invitation is None:
        return render(request, "registration/invitation.html", {"gone": True}, status=404)
    if settings.OIDC_REQUIRED:  # a password would not sign them in: the provider makes the account
        context = {"invitation": invitation, "sso_only": True, "sso_name": sso.name()}
        return render(request, "registration/invitation.html", context)
    user = get_user_model()(email=invitation.email)
    form = JoinForm(user, request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            made = directory.accept(invitation, form.cleaned_data["username"], form.cleaned_data["new_password1"])
        except directory.Refused as err:
            error = str(err)
        else:
            auth_login(request, made, backend=MODEL_BACKEND)
            directory.record_sign_in(made, Person.Method.LOCAL)
            messages.success(request, f"Welcome, {made.get_username()}: you are signed in as {invitation.role}.")
            if twofactor.required():
                return redirect("two_factor")
            return redirect(settings.LOGIN_REDIRECT_URL)
    context = {"invitation": invitation, "form": form, "error": error, "sso": sso.enabled(), "sso_name": sso.name()}
    return render(request, "registration/invitation.html", context)


# --- Setting up a second factor ----------------------------------------------------------------------


def _signed_in_with_sso(request: HttpRequest) -> bool:
    return request.session.get("_auth_user_backend") == SSO_BACKEND


@dashboard_view()
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: a QR code and the secret, then the first code confirms it and
    shows the recovery codes once. Also: new recovery codes, and removing the second factor."""
    user = request.user
    codes: list[str] | None = None
    error = ""
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "confirm":
        form = CodeForm(request.POST)
        if form.is_valid():
            device = twofactor.pending_device(user)
            codes = twofactor.confirm(user, device, form.cleaned_data["code"])
            if codes is None:
                error = "That code is not right: enter the 6 digits your app shows now."
            else:
                otp_login(request, device)
                messages.success(
                    request, "Your second factor is set up: you will be asked for a code at every sign-in."
                )
    elif action == "new_codes" and twofactor.enrolled(user):
        codes = twofactor.new_recovery_codes(user)
        messages.success(request, "New recovery codes: the old ones no longer work.")
    elif action == "remove" and twofactor.enrolled(user):
        if twofactor.required():
            error = "A second factor is required here: set up a new authenticator instead of removing it."
        else:
            twofactor.remove(user, user)
            messages.success(request, "Your second factor is removed: a password alone signs you in again.")
            return redirect("preferences")
    enrolled = twofactor.enrolled(user)
    context = {
        "enrolled": enrolled,
        "codes": codes,
        "error": error,
        "form": CodeForm(),
        "required": twofactor.required(),
        "sso": _signed_in_with_sso(request),
        "codes_left": twofactor.recovery_codes_left(user) if enrolled else 0,
    }
    if (not enrolled or request.GET.get("replace")) and codes is None:
        device = twofactor.pending_device(user)
        context.update(qr=twofactor.qr_svg(device), secret=twofactor.secret_text(device), replacing=enrolled)
    return render(request, "numbers/two_factor.html", context)
