"""Single sign-on with an OpenID Connect provider (mozilla-django-oidc's backend, configured here).

The provider's endpoints and keys come from OIDC_ISSUER/.well-known/openid-configuration (cached an
hour). The sign-in uses the authorization code flow with PKCE (S256), a state and a nonce, all checked
(numbers_app.signin.views); the ID token's signature, issuer, audience, expiry and nonce are checked
here. The person is found by the provider's subject (`sub`), else once by a verified e-mail address;
an unknown person gets an account only with OIDC_CREATE_USERS. Their role is read from the role
claim at every sign-in (`roles_from_claims`): leaving the group at the provider removes the role.

Everything that goes wrong raises `SignInFailed` with a sentence for the person; what only an
administrator can fix (a bad client secret, a provider refusing the dashboard) is logged in full.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from numbers_app.audit import log as audit
from numbers_app.models import AuditEntry, Invitation, Person
from numbers_app.people import directory

logger = logging.getLogger("numbers_app.sso")
DISCOVERY_SECONDS = 3600


class SignInFailed(Exception):
    """A sign-in with the provider that cannot go on; the message is said to the person."""


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def name() -> str:
    return settings.OIDC_NAME


def local_password_allowed(username: str) -> bool:
    """With OIDC_REQUIRED only the break-glass accounts may use a password."""
    return not settings.OIDC_REQUIRED or username in settings.OIDC_BREAK_GLASS_USERS


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str


def provider() -> Provider:
    """The provider's endpoints, from its discovery document (cached). Raises SignInFailed when it
    cannot be reached or answers nonsense."""
    key = f"oidc-discovery:{settings.OIDC_ISSUER}"
    document = cache.get(key)
    if document is None:
        url = f"{settings.OIDC_ISSUER}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as err:
            logger.warning("Single sign-on: %s did not answer its discovery document: %s", url, err)
            raise SignInFailed(
                f"{name()} cannot be reached just now. Try again in a minute, or sign in with your password "
                "if you have one."
            ) from err
        if document.get("issuer", "").rstrip("/") != settings.OIDC_ISSUER:
            logger.error(
                "Single sign-on: %s names the issuer %r, not OIDC_ISSUER=%r.",
                url,
                document.get("issuer"),
                settings.OIDC_ISSUER,
            )
            raise SignInFailed(f"Signing in with {name()} is misconfigured; an administrator can see why in the log.")
        cache.set(key, document, DISCOVERY_SECONDS)
    try:
        return Provider(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            userinfo_endpoint=document.get("userinfo_endpoint", ""),
            jwks_uri=document["jwks_uri"],
        )
    except KeyError as err:
        logger.error("Single sign-on: the discovery document of %s has no %s.", settings.OIDC_ISSUER, err)
        raise SignInFailed(
            f"Signing in with {name()} is misconfigured; an administrator can see why in the log."
        ) from err


def roles_from_claims(claims: dict) -> list[str]:
    """The dashboard roles the provider's claims give: each value of OIDC_ROLE_CLAIM (a list or one
    string) that OIDC_ROLE_MAP names. The one place claims become roles (per-project roles, when the
    dashboard has them, are mapped here too)."""
    values = claims.get(settings.OIDC_ROLE_CLAIM) or []
    if isinstance(values, str):
        values = [values]
    return sorted({settings.OIDC_ROLE_MAP[v] for v in values if isinstance(v, str) and v in settings.OIDC_ROLE_MAP})


_SETTINGS = {
    "OIDC_USE_NONCE": True,
    "OIDC_VERIFY_SSL": True,
    "OIDC_STORE_ACCESS_TOKEN": False,
    "OIDC_STORE_ID_TOKEN": False,
    "OIDC_AUTHENTICATION_CALLBACK_URL": "sso_callback",
    "OIDC_TOKEN_USE_BASIC_AUTH": False,
    "OIDC_ALLOW_UNSECURED_JWT": False,
    "OIDC_VERIFY_KID": True,
}


class SSOBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, configured from discovery. It answers only the sign-in callback
    (`sso=True`); a username and password never reach it. Its sessions end when the user is deactivated."""

    def __init__(self, *args, **kwargs):
        # The provider is only asked when someone signs in with it, never when the backend is made
        # (Django makes every backend for each password login and each request's user).
        self.UserModel = get_user_model()

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        """None of its own: the roles backend answers (numbers_app.web.backends, roles per project), so a
        project membership that takes a group's role away holds for people who signed in here too."""
        return set()

    @staticmethod
    def get_settings(attr, *args):
        if attr in _SETTINGS:
            return _SETTINGS[attr]
        if attr == "OIDC_RP_SCOPES":
            return settings.OIDC_SCOPES
        if attr == "OIDC_TIMEOUT":
            return settings.OIDC_TIMEOUT
        if attr == "OIDC_CREATE_USER":
            return settings.OIDC_CREATE_USERS
        return import_from_settings(attr, *args)

    def _configure(self) -> Provider:
        found = provider()
        self.provider = found
        self.OIDC_OP_TOKEN_ENDPOINT = found.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = found.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = found.jwks_uri
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        return found

    def authenticate(self, request, sso: bool = False, **kwargs):
        if not sso or not enabled():
            return None
        self._configure()
        try:
            return super().authenticate(request, **kwargs)
        except requests.HTTPError as err:
            response = err.response
            body = response.text[:300] if response is not None else ""
            status = response.status_code if response is not None else "?"
            if response is not None and response.status_code in (400, 401) and "invalid_client" in body:
                logger.error(
                    "Single sign-on: %s refused the dashboard's client credentials (HTTP %s: %s). "
                    "Check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET_FILE against the client registered there.",
                    settings.OIDC_ISSUER,
                    status,
                    body,
                )
            else:
                logger.error(
                    "Single sign-on: %s answered HTTP %s: %s", err.request.url if err.request else "", status, body
                )
            raise SignInFailed(
                f"{name()} refused to complete the sign-in. Try again; if it keeps failing, an administrator "
                "can see why in the log."
            ) from err
        except requests.RequestException as err:
            logger.warning("Single sign-on: %s could not be reached: %s", settings.OIDC_ISSUER, err)
            raise SignInFailed(
                f"{name()} cannot be reached just now. Try again in a minute, or sign in with your password "
                "if you have one."
            ) from err

    def _verify_jws(self, payload, key):
        """The signature, and every claim an ID token must have right: issuer, audience (this client),
        expiry and issue time (a minute's leeway for clocks)."""
        try:
            header = jwt.get_unverified_header(payload)
        except jwt.PyJWTError as err:
            raise SignInFailed(f"{name()} sent an ID token that is not a token; the sign-in was refused.") from err
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SignInFailed(
                f"{name()} signed its ID token with {header.get('alg')}, not {self.OIDC_RP_SIGN_ALGO}; "
                "the sign-in was refused."
            )
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.provider.issuer,
                leeway=60,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as err:
            raise SignInFailed(
                f"The sign-in from {name()} had expired before it reached the dashboard (check that this "
                "server's clock is right); sign in again."
            ) from err
        except jwt.PyJWTError as err:
            logger.warning("Single sign-on: an ID token from %s was refused: %s", settings.OIDC_ISSUER, err)
            raise SignInFailed(
                f"The ID token from {name()} did not check out ({err}); the sign-in was refused."
            ) from err

    def verify_token(self, token, **kwargs):
        try:
            return super().verify_token(token, **kwargs)
        except SuspiciousOperation as err:
            if "Nonce" in str(err):
                raise SignInFailed(
                    f"The answer from {name()} was not for this sign-in (its nonce differs); it was refused. "
                    "Sign in again."
                ) from err
            raise SignInFailed(f"The answer from {name()} did not check out ({err}); it was refused.") from err

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed by the userinfo endpoint when there is one (whose subject
        must be the token's)."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            info = super().get_userinfo(access_token, id_token, payload)
            if info.get("sub") != payload.get("sub"):
                raise SignInFailed(f"{name()} described another person than the one who signed in; refused.")
            claims.update(info)
        return claims

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        subject = str(claims["sub"])
        person = Person.objects.filter(sso_subject=subject).select_related("user").first()
        user = person.user if person else self._by_verified_email(claims)
        invitation = None
        if user is None:
            invitation = self._open_invitation(claims)
            if not (settings.OIDC_CREATE_USERS or invitation):
                raise SignInFailed(
                    f"{claims.get('email') or 'Your account'} at {name()} has no account on this dashboard. "
                    "Ask someone who manages people here to invite you."
                )
            user = self._create(claims, subject)
        if not user.is_active:
            raise SignInFailed(f"{user.get_username()} has been deactivated here. Ask someone who manages people.")
        Person.objects.update_or_create(user=user, defaults={"sso_subject": subject})
        self._apply_roles(user, claims, invitation)
        return user

    def _by_verified_email(self, claims: dict):
        """A person who already has a local account, matched once by the provider's e-mail address
        (unless it says the address is unverified); the subject is kept from then on. Never an
        administrator or a break-glass account: a provider's word on an address is not enough for those."""
        email = claims.get("email")
        if not email or claims.get("email_verified") is False:
            return None
        candidates = (
            self.UserModel.objects.filter(email__iexact=email, is_superuser=False)
            .exclude(person__sso_subject__gt="")
            .exclude(username__in=settings.OIDC_BREAK_GLASS_USERS)
        )
        matches = list(candidates[:2])
        return matches[0] if len(matches) == 1 else None

    def _open_invitation(self, claims: dict) -> Invitation | None:
        email = claims.get("email")
        if not email or claims.get("email_verified") is False:
            return None
        return next((i for i in Invitation.objects.filter(email__iexact=email) if i.open), None)

    def _create(self, claims: dict, subject: str):
        base = (claims.get("preferred_username") or (claims.get("email") or "").split("@")[0] or subject)[:140]
        username, n = base, 1
        while self.UserModel.objects.filter(username__iexact=username).exists():
            n += 1
            username = f"{base}-{n}"
        user = self.UserModel.objects.create_user(username=username, email=claims.get("email", ""))
        user.set_unusable_password()
        user.first_name = (claims.get("given_name") or "")[:150]
        user.last_name = (claims.get("family_name") or "")[:150]
        user.save()
        return user

    def _apply_roles(self, user, claims: dict, invitation: Invitation | None) -> None:
        before = sorted(user.groups.values_list("name", flat=True))
        roles = roles_from_claims(claims) if settings.OIDC_ROLE_MAP else None
        if roles is None:  # no mapping: the roles are set on the people page (or by an invitation)
            roles = [invitation.role] if invitation else [r for r in before if r in directory.role_names()]
        directory.set_groups(user, roles)
        after = sorted(user.groups.values_list("name", flat=True))
        if invitation:
            Invitation.objects.filter(pk=invitation.pk).update(accepted_at=user.date_joined, accepted_by=user)
        self.sign_in_facts = {
            "person": user.get_username(),
            "subject": str(claims["sub"]),
            "issuer": self.provider.issuer,
            "role": after,
            **({"role_before": before} if before != after else {}),
        }

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


def refused(username: str, message: str) -> None:
    """An SSO sign-in that was refused, in the audit log."""
    audit.person(
        None, AuditEntry.Action.SSO_REFUSED, outcome=AuditEntry.Outcome.DENIED, message=message, username=username
    )
