"""A second factor for local accounts (django-otp): an authenticator app (TOTP) and ten recovery codes.

Enrolling makes an unconfirmed TOTP device and shows its QR code (inline SVG, made here by segno: the
secret never leaves the server for a QR service); the first right code confirms it and makes the
recovery codes, shown once. At login a password is followed by a code (numbers_app.signin.views).
People who sign in with the identity provider are left to its own second factor.
"""

from __future__ import annotations

import base64
import math

import segno
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from numbers_app.audit import log as audit
from numbers_app.models import AccessPolicy, AuditEntry

RECOVERY_CODES = 10
APP_NAME = "Authenticator app"
CODES_NAME = "Recovery codes"


POLICY_CACHE = "access-policy:require-two-factor"


def required() -> bool:
    """Whether every local account must have a second factor: the environment, or the people page
    (kept a minute in the shared cache: every request of a password-only session asks)."""
    if settings.TWO_FACTOR_REQUIRED:
        return True
    value = cache.get(POLICY_CACHE)
    if value is None:
        value = AccessPolicy.objects.filter(pk=1, require_two_factor=True).exists()
        cache.set(POLICY_CACHE, value, 60)
    return value


def set_required(actor, value: bool) -> None:
    policy, _ = AccessPolicy.objects.get_or_create(pk=1)
    if policy.require_two_factor == value:
        return
    before = policy.require_two_factor
    policy.require_two_factor = value
    policy.changed_at = timezone.now()
    policy.save()
    cache.set(POLICY_CACHE, value, 60)
    audit.person(
        actor,
        AuditEntry.Action.ACCESS_POLICY,
        before={"second_factor_required": before},
        after={"second_factor_required": value},
    )


def enrolled(user) -> bool:
    return user_has_device(user, confirmed=True)


def pending_device(user) -> TOTPDevice:
    """The unconfirmed authenticator being set up (made once, so reloading the page keeps its QR code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)


def qr_svg(device: TOTPDevice) -> SafeString:
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, title="QR code for your authenticator app")
    return mark_safe(svg)  # noqa: S308  # segno's own markup; the only data is our own otpauth URL, encoded


def secret_text(device: TOTPDevice) -> str:
    """The secret as an app takes it typed in: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def confirm(user, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirms DEVICE with CODE; the new recovery codes, or None when the code is wrong."""
    if not device.verify_token(_digits(code)):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save()
    codes = _new_recovery_codes(user)
    audit.person(
        user, AuditEntry.Action.TWO_FACTOR, after={"person": user.get_username(), "second_factor": "authenticator app"}
    )
    return codes


def new_recovery_codes(user) -> list[str]:
    codes = _new_recovery_codes(user)
    audit.person(user, AuditEntry.Action.TWO_FACTOR, after={"person": user.get_username(), "recovery_codes": "new"})
    return codes


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=CODES_NAME)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    device.token_set.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def remove(actor, user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit.person(
        actor,
        AuditEntry.Action.TWO_FACTOR,
        before={"person": user.get_username(), "second_factor": "authenticator app"},
        after={"person": user.get_username(), "second_factor": None},
    )


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _digits(code: str) -> str:
    return "".join(code.split())


class Throttled(Exception):
    """Too many wrong codes: wait before the next try."""


def verify(user, code: str):
    """The device CODE is right for (the authenticator for 6 digits, else a recovery code, which is
    used up), or None. Raises Throttled while django-otp holds that device back after wrong codes
    (1, 2, 4, ... seconds after each)."""
    code = _digits(code)
    app_code = code.isdigit() and len(code) == 6  # a recovery code is 8 letters and digits
    for device in devices_for_user(user, confirmed=True):
        if isinstance(device, TOTPDevice) != app_code:
            continue
        allowed, facts = device.verify_is_allowed()
        if not allowed:
            until = (facts or {}).get("locked_until")
            seconds = max(1, math.ceil((until - timezone.now()).total_seconds())) if until else 60
            raise Throttled(
                f"Too many wrong codes: wait {seconds} second{'s' if seconds != 1 else ''}, then try again."
            )
        if device.verify_token(code):
            return device
    return None
