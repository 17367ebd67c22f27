"""The people page: who may use the dashboard, with what role, and how they last signed in; invite,
set a role, deactivate, remove a lost second factor, and require a second factor for everyone.
For superusers and whoever has the "manage people" permission (Operations by default)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from numbers_app.models import AuditEntry, Invitation
from numbers_app.people import directory, sso, twofactor
from numbers_app.web.access import dashboard_view

PERM = "numbers.manage_people"
Action = AuditEntry.Action


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, r) for r in directory.role_names()]  # type: ignore[attr-defined]


def _page(request: HttpRequest, *, invite_form: InviteForm | None = None, link: str = "", status: int = 200):
    context = {
        "rows": directory.people(),
        "invitations": directory.open_invitations(),
        "invite_form": invite_form or InviteForm(),
        "roles": directory.role_names(),
        "new_link": link,
        "required": twofactor.required(),
        "required_by_env": settings.TWO_FACTOR_REQUIRED,
        "sso": sso.enabled(),
        "sso_name": sso.name(),
        "sso_roles": bool(settings.OIDC_ROLE_MAP),
        "by_mail": settings.INVITATIONS_BY_MAIL,
        "invitation_days": settings.INVITATION_DAYS,
    }
    return render(request, "numbers/people.html", context, status=status)


@dashboard_view(PERM)
def people(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@dashboard_view(PERM, audit_action=Action.INVITE)
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _page(request, invite_form=form, status=400)
    email, role = form.cleaned_data["email"], form.cleaned_data["role"]
    try:
        _, token = directory.invite(request.user, email, role)
    except directory.Refused as err:
        form.add_error(None, str(err))
        return _page(request, invite_form=form, status=400)
    link = request.build_absolute_uri(reverse("accept_invitation", args=[token]))
    if settings.INVITATIONS_BY_MAIL:
        send_mail(
            "Your invitation to the Staffify numbers dashboard",
            f"{request.user.get_username()} invites you to the Staffify numbers dashboard as {role}.\n\n"
            f"Make your account here within {settings.INVITATION_DAYS} days:\n{link}\n",
            None,
            [email],
        )
        messages.success(request, f"Invitation mailed to {email}; the link works for {settings.INVITATION_DAYS} days.")
        return redirect("people")
    messages.success(request, f"Invitation for {email} made. No mail is configured: copy the link below and send it.")
    return _page(request, link=link)


def _person(user_id: int):
    return get_object_or_404(get_user_model(), pk=user_id)


def _act(request: HttpRequest, done: str, change) -> HttpResponse:
    try:
        change()
    except directory.Refused as err:
        messages.error(request, str(err))
    else:
        messages.success(request, done)
    return redirect("people")


@require_POST
@dashboard_view(PERM, audit_action=Action.SET_ROLE)
def set_role(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _person(user_id)
    role = request.POST.get("role", "")
    said = role or "no role"
    return _act(request, f"{user.get_username()} now has {said}.", lambda: directory.set_role(request.user, user, role))


@require_POST
@dashboard_view(PERM, audit_action=Action.DEACTIVATE)
def deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _person(user_id)
    return _act(
        request,
        f"{user.get_username()} is deactivated and signed out everywhere.",
        lambda: directory.deactivate(request.user, user),
    )


@require_POST
@dashboard_view(PERM, audit_action=Action.REACTIVATE)
def reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _person(user_id)
    return _act(request, f"{user.get_username()} may sign in again.", lambda: directory.reactivate(request.user, user))


@require_POST
@dashboard_view(PERM, audit_action=Action.TWO_FACTOR)
def remove_second_factor(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _person(user_id)

    def remove() -> None:
        if user.is_superuser and not request.user.is_superuser:
            raise directory.Refused(f"Only an administrator can change {user.get_username()}, who is an administrator.")
        twofactor.remove(request.user, user)

    return _act(
        request,
        f"{user.get_username()}'s second factor is removed: they sign in with their password and set up a new one.",
        remove,
    )


@require_POST
@dashboard_view(PERM, audit_action=Action.INVITE_REVOKE)
def withdraw(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    directory.revoke(request.user, invitation)
    messages.success(request, f"The invitation for {invitation.email} is withdrawn: its link no longer works.")
    return redirect("people")


@require_POST
@dashboard_view(PERM, audit_action=Action.ACCESS_POLICY)
def policy(request: HttpRequest) -> HttpResponse:
    value = request.POST.get("require_two_factor") == "on"
    twofactor.set_required(request.user, value)
    if value:
        messages.success(request, "A second factor is now required for everyone who signs in with a password.")
    else:
        messages.success(request, "A second factor is now optional.")
    return redirect("people")
