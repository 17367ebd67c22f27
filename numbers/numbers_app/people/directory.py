"""Who may use the dashboard: invitations, roles, deactivation, and how each person last signed in.

Every change here is written to the audit log (numbers_app.audit.log.person). A refusal raises
`Refused` with the sentence to show. Deactivating someone ends every session they have at once
(`end_sessions`), whatever the session engine: each sign-in records its session key.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core import checks
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from numbers_app.audit import log as audit
from numbers_app.models import AuditEntry, Invitation, Person, SignedInSession
from numbers_app.roles import ROLES, ensure_roles

Action = AuditEntry.Action
NO_ROLE = ""
# When the session was last saved for the idle limit (SESSION_IDLE_HOURS): set at sign-in, moved on by
# web.middleware.SlidingSessionMiddleware.
IDLE_MARK = "_idle_mark"


class Refused(Exception):
    """A change that is not allowed, with the sentence that says why."""


def role_names() -> list[str]:
    return list(ROLES)


def role_of(user) -> str:
    """The one dashboard role USER has ("" for none); several groups read as the first, by name."""
    names = sorted(set(user.groups.values_list("name", flat=True)) & set(ROLES))
    return names[0] if names else NO_ROLE


def _roles(user) -> list[str]:
    return sorted(set(user.groups.values_list("name", flat=True)) & set(ROLES))


def set_groups(user, roles: list[str]) -> None:
    """Gives USER exactly ROLES among the dashboard's roles; other groups are left alone."""
    ensure_roles()
    keep = [g for g in user.groups.all() if g.name not in ROLES]
    user.groups.set(keep + list(Group.objects.filter(name__in=roles)))


def person_of(user) -> Person:
    return Person.objects.get_or_create(user=user)[0]


def sso_managed(user) -> bool:
    """The role of someone who signs in with the provider comes from its claim at every sign-in."""
    return bool(settings.OIDC_ISSUER and settings.OIDC_ROLE_MAP and person_of(user).sso_subject)


def _check_may_change(actor, user) -> None:
    if user.is_superuser and not actor.is_superuser:
        raise Refused(f"Only an administrator can change {user.get_username()}, who is an administrator.")


def set_role(actor, user, role: str) -> None:
    if role not in ROLES and role != NO_ROLE:
        raise Refused(f"“{role}” is not a role here: choose one of {', '.join(ROLES)}, or no role.")
    _check_may_change(actor, user)
    if sso_managed(user):
        raise Refused(
            f"{user.get_username()} signs in with {settings.OIDC_NAME}, which gives their role from the "
            f"“{settings.OIDC_ROLE_CLAIM}” claim at every sign-in: change their group there."
        )
    before = _roles(user)
    if before == ([role] if role else []):
        return
    set_groups(user, [role] if role else [])
    audit.person(
        actor,
        Action.SET_ROLE,
        before={"person": user.get_username(), "role": before},
        after={"person": user.get_username(), "role": [role] if role else []},
    )


def end_sessions(user) -> int:
    """Ends every session USER signed in with; returns how many."""
    engine = import_module(settings.SESSION_ENGINE)
    ended = 0
    for signed_in in SignedInSession.objects.filter(user=user):
        engine.SessionStore(session_key=signed_in.session_key).delete()
        ended += 1
    SignedInSession.objects.filter(user=user).delete()
    return ended


def deactivate(actor, user) -> int:
    if user.pk == actor.pk:
        raise Refused("You cannot deactivate yourself: ask another person who manages people.")
    _check_may_change(actor, user)
    if not user.is_active:
        return 0
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = end_sessions(user)
    audit.person(
        actor,
        Action.DEACTIVATE,
        before={"person": user.get_username(), "active": True},
        after={"person": user.get_username(), "active": False},
        message=f"{ended} session{'s' if ended != 1 else ''} ended.",
    )
    return ended


def reactivate(actor, user) -> None:
    _check_may_change(actor, user)
    if user.is_active:
        return
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.person(
        actor,
        Action.REACTIVATE,
        before={"person": user.get_username(), "active": False},
        after={"person": user.get_username(), "active": True},
    )


# --- Invitations ---------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(actor, email: str, role: str) -> tuple[Invitation, str]:
    """A new invitation and its token (the only time the token exists in clear)."""
    if role not in ROLES:
        raise Refused(f"Choose the role the invited person will have: one of {', '.join(ROLES)}.")
    if get_user_model().objects.filter(email__iexact=email, is_active=True).exists():
        raise Refused(f"Someone with the address {email} already has an account here.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        token_hash=_hash(token),
        email=email,
        role=role,
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_DAYS),
    )
    audit.person(
        actor,
        Action.INVITE,
        after={"person": email, "role": [role], "expires": invitation.expires_at.isoformat(timespec="minutes")},
    )
    return invitation, token


def revoke(actor, invitation: Invitation) -> None:
    if not invitation.open:
        return
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.person(actor, Action.INVITE_REVOKE, before={"person": invitation.email, "role": [invitation.role]})


def invitation_for(token: str) -> Invitation | None:
    """The open invitation TOKEN names, else None (unknown, used, withdrawn or expired alike)."""
    invitation = Invitation.objects.filter(token_hash=_hash(token)).first()
    return invitation if invitation and invitation.open else None


def accept(invitation: Invitation, username: str, password: str):
    """Makes the invited person's account, with the invitation's role; the invitation is used up."""
    User = get_user_model()
    with transaction.atomic():
        claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True)
        if User.objects.filter(username__iexact=username).exists():
            raise Refused(f"The username {username} is taken: choose another.")
        user = User.objects.create_user(username=username, email=invitation.email, password=password)
        if not claimed.update(accepted_at=timezone.now(), accepted_by=user):
            raise Refused("This invitation has just been used or withdrawn.")
        set_groups(user, [invitation.role])
    inviter = invitation.created_by.get_username() if invitation.created_by else "someone since removed"
    audit.person(
        user,
        Action.JOIN,
        after={"person": username, "email": invitation.email, "role": [invitation.role]},
        message=f"Invited by {inviter}.",
    )
    return user


# --- Sign-ins ------------------------------------------------------------------------------------


def record_sign_in(user, method: str) -> None:
    Person.objects.update_or_create(
        user=user, defaults={"last_sign_in_at": timezone.now(), "last_sign_in_method": method}
    )


@receiver(user_logged_in, dispatch_uid="numbers_app.people.directory.remember_session")
def remember_session(sender, request, user, **kwargs) -> None:
    """Every sign-in (the login page, single sign-on, the admin, a test's force_login) keeps its session
    key, so that deactivating the user can end it."""
    session = getattr(request, "session", None)
    if session is None:
        return
    session[IDLE_MARK] = int(time.time())  # the idle time counts from here (web.middleware)
    if not session.session_key:
        session.save()
    SignedInSession.objects.get_or_create(session_key=session.session_key, defaults={"user": user})
    # Sessions that have expired on their own since.
    SignedInSession.objects.filter(
        user=user, created_at__lt=timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    ).delete()


@receiver(user_logged_out, dispatch_uid="numbers_app.people.directory.forget_session")
def forget_session(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        SignedInSession.objects.filter(session_key=session_key).delete()


@checks.register(checks.Tags.security)
def check_role_map(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """OIDC_ROLE_MAP may only name roles that exist: a misspelt one would silently give no role."""
    unknown = sorted(set(settings.OIDC_ROLE_MAP.values()) - set(ROLES))
    if not unknown:
        return []
    return [
        checks.Error(
            f"OIDC_ROLE_MAP names roles that do not exist: {', '.join(unknown)}. The roles are {', '.join(ROLES)}.",
            id="numbers.E024",
        )
    ]


@dataclass
class Row:
    """One person on the people page."""

    user: object
    role: str
    last_sign_in_at: object
    method: str
    second_factor: bool
    sso: bool


def people() -> list[Row]:
    User = get_user_model()
    users = User.objects.order_by("-is_active", "username").prefetch_related("groups")
    persons = {p.user_id: p for p in Person.objects.all()}
    with_second_factor = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    rows = []
    for user in users:
        person = persons.get(user.pk)
        roles = sorted({g.name for g in user.groups.all()} & set(ROLES))
        rows.append(
            Row(
                user=user,
                role="Administrator" if user.is_superuser else ", ".join(roles) or "no role",
                last_sign_in_at=person.last_sign_in_at if person else user.last_login,
                method=person.get_last_sign_in_method_display() if person and person.last_sign_in_method else "",
                second_factor=user.pk in with_second_factor,
                sso=bool(person and person.sso_subject),
            )
        )
    return rows


def open_invitations():
    return Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("created_by")
