"""Control endpoints: move the clock, reset, set the balance, inject faults, change the rate limit.

They take the same keys as the API (read keys may only GET), are never rate limited or faulted,
and are absent whenever the sandbox is off.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpResponse

from . import addresses, billing, faults, ratelimit, seed
from .endpoint import CONTROL, Ctx, route
from .errors import iso, json_response, money, validation_error
from .models import Address, Charge, Fault, Project, RateWindow
from .parsing import is_int

MAX_ADVANCE_SECONDS = 10 * 365 * 24 * 3600
MAX_BALANCE = Decimal("1000000000")
DECIMAL_RE = re.compile(r"-?[0-9]{1,10}(\.[0-9]{1,2})?")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_VERIFY_DELAY_SECONDS = 365 * 24 * 3600


def _clock_json() -> dict[str, Any]:
    offset = billing.clock_offset()
    return {"now": iso(billing.real_now() + offset), "offset_seconds": offset.total_seconds()}


def get_clock(ctx: Ctx) -> HttpResponse:
    return json_response(_clock_json())


def advance_clock(ctx: Ctx) -> HttpResponse:
    seconds = ctx.body().get("advance_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | Decimal):
        raise validation_error({"advance_seconds": "Must be a number of seconds."})
    if not 0 <= seconds <= MAX_ADVANCE_SECONDS:
        raise validation_error({"advance_seconds": "The clock only moves forward, at most ten years at a time."})
    moment = billing.advance_clock(float(seconds))
    # Settle now, so that GET /credits right after shows the renewals the jump caused.
    billing.settle(moment)
    return json_response(_clock_json())


def reset(ctx: Ctx) -> HttpResponse:
    seed.reset()
    return json_response({"reset": True, **_clock_json()})


def get_balance(ctx: Ctx) -> HttpResponse:
    project = ctx.project.account()
    return json_response({"balance": money(project.balance)})


def set_balance(ctx: Ctx) -> HttpResponse:
    value = ctx.body().get("balance")
    if isinstance(value, str) and DECIMAL_RE.fullmatch(value):
        value = Decimal(value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise validation_error({"balance": 'Must be a number of euros, e.g. 42.50 or "42.50".'})
    amount = Decimal(value)
    if not amount.is_finite() or abs(amount) > MAX_BALANCE or amount != amount.quantize(Decimal("0.01")):
        raise validation_error({"balance": "Must be a number of euros with at most two decimals."})
    with transaction.atomic():
        project = ctx.project.account(lock=True)
        project.balance = amount.quantize(Decimal("0.01"))
        project.balance_updated_at = ctx.now
        project.save(update_fields=["balance", "balance_updated_at"])
    return json_response({"balance": money(project.balance)})


def list_faults(ctx: Ctx) -> HttpResponse:
    return json_response({"faults": [faults.as_json(f) for f in Fault.objects.filter(project=ctx.project)]})


def _int_field(data: dict, field: str, default: int, low: int, high: int, errors: dict[str, str]) -> int:
    value = data.get(field, default)
    if not is_int(value) or not low <= value <= high:
        errors[field] = f"Must be a whole number from {low} to {high}."
        return default
    return value


def add_fault(ctx: Ctx) -> HttpResponse:
    data = ctx.body()
    errors: dict[str, str] = {}
    status = data.get("status")
    if status is not None and (not is_int(status) or not 400 <= status <= 599):
        errors["status"] = "Must be an HTTP error status from 400 to 599, or null for a delay only."
    count = _int_field(data, "count", 1, 1, 10_000, errors)
    delay_ms = _int_field(data, "delay_ms", 0, 0, 120_000, errors)
    retry_after = _int_field(data, "retry_after", 1, 0, 3600, errors)
    path_prefix = data.get("path_prefix", "")
    if (
        not isinstance(path_prefix, str)
        or len(path_prefix) > 200
        or not path_prefix.isprintable()
        or (path_prefix and path_prefix[0] != "/")
    ):
        errors["path_prefix"] = "Must be a path after /sandbox, such as /v1/phone-numbers."
    method = data.get("method")
    if method is not None and (not isinstance(method, str) or method.upper() not in HTTP_METHODS):
        errors["method"] = "Must be GET, POST, PUT, PATCH or DELETE."
    texts = {}
    for field, longest in (("code", 50), ("message", 200)):
        value = data.get(field)
        if value is not None and (
            not isinstance(value, str) or not 0 < len(value) <= longest or not value.isprintable()
        ):
            errors[field] = f"Must be a string of at most {longest} characters."
        texts[field] = value or ""
    act_first = data.get("act_first", False)
    if not isinstance(act_first, bool):
        errors["act_first"] = "Must be true (act, then delay and answer the fault) or false."
    if status is None and not errors and delay_ms == 0:
        errors["delay_ms"] = "A fault needs a status, a delay, or both."
    if errors:
        raise validation_error(errors)
    fault = Fault.objects.create(
        project=ctx.project,
        status=status,
        remaining=count,
        path_prefix=path_prefix,
        method=method.upper() if method else "",
        delay_ms=delay_ms,
        retry_after=retry_after,
        code=texts["code"],
        message=texts["message"],
        act_first=act_first,
    )
    return json_response(faults.as_json(fault), 201)


def clear_faults(ctx: Ctx) -> HttpResponse:
    Fault.objects.filter(project=ctx.project).delete()
    return json_response({"faults": []})


def _rate_limit_json(project: Project) -> dict[str, Any]:
    return {"per_minute": project.rate_limit_per_minute, "tier": project.tier}


def get_rate_limit(ctx: Ctx) -> HttpResponse:
    return json_response(_rate_limit_json(ctx.project.account()))


def set_rate_limit(ctx: Ctx) -> HttpResponse:
    data = ctx.body()
    if "per_minute" not in data:
        raise validation_error({"per_minute": "This field is required (null or 0 for unlimited)."})
    value = data["per_minute"]
    if value is not None and (not is_int(value) or not 0 <= value <= 1_000_000):
        raise validation_error({"per_minute": "Must be a whole number of requests, or null/0 for unlimited."})
    per_minute = value or None
    with transaction.atomic():
        project = ctx.project.account(lock=True)
        project.rate_limit_per_minute = per_minute
        project.tier = ratelimit.tier_for(per_minute)
        project.save(update_fields=["rate_limit_per_minute", "tier"])
        # A new limit starts with a fresh window, so a test sees exactly the limit it set.
        RateWindow.objects.filter(project=project).delete()
    return json_response(_rate_limit_json(project))


def list_charges(ctx: Ctx) -> HttpResponse:
    charges = Charge.objects.filter(project__org_id=ctx.project.org_id)  # what drew on the organisation's balance
    charges = charges.order_by("at", "id")
    return json_response(
        {
            "charges": [
                {
                    "id": c.id,
                    "phone_number_id": c.number_id,
                    "phone_number": c.phone_number,
                    "amount": money(c.amount),
                    "reason": c.reason,
                    "at": iso(c.at),
                }
                for c in charges
            ]
        }
    )


# --- addresses ------------------------------------------------------------------------------------


def _reason(data: dict[str, Any], default: str) -> str:
    value = data.get("reason")
    if value is None:
        return default
    if not isinstance(value, str) or not value.strip() or len(value) > 200 or not value.isprintable():
        raise validation_error({"reason": "Must be text of at most 200 characters."})
    return value.strip()


def approve_address(ctx: Ctx, address_id: str) -> HttpResponse:
    data = ctx.body()
    status = data.get("status", Address.VERIFIED)
    if status not in Address.USABLE:
        raise validation_error({"status": "Must be verified or partially_verified."})
    address = addresses.decide(ctx.project, address_id, status, "", ctx.now)
    return json_response(addresses.status_json(address))


def reject_address(ctx: Ctx, address_id: str) -> HttpResponse:
    addresses.owned_address(ctx.project, address_id)
    reason = _reason(ctx.body(), "The documents do not match the address.")
    address = addresses.decide(ctx.project, address_id, Address.REJECTED, reason, ctx.now)
    return json_response(addresses.status_json(address))


def expire_address(ctx: Ctx, address_id: str) -> HttpResponse:
    addresses.owned_address(ctx.project, address_id)
    reason = _reason(ctx.body(), "The verification has expired; submit a new address.")
    address = addresses.decide(ctx.project, address_id, Address.EXPIRED, reason, ctx.now)
    return json_response(addresses.status_json(address))


def _verification_json(project: Project) -> dict[str, Any]:
    return {"delay_seconds": project.address_verify_delay.total_seconds()}


def get_address_verification(ctx: Ctx) -> HttpResponse:
    return json_response(_verification_json(Project.objects.get(pk=ctx.project.pk)))


def set_address_verification(ctx: Ctx) -> HttpResponse:
    seconds = ctx.body().get("delay_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | Decimal):
        raise validation_error({"delay_seconds": "Must be a number of seconds."})
    if not 0 <= seconds <= MAX_VERIFY_DELAY_SECONDS:
        raise validation_error({"delay_seconds": "Must be from 0 to one year."})
    # Applies to addresses submitted from now on; already scheduled reviews keep their time.
    Project.objects.filter(pk=ctx.project.pk).update(address_verify_delay=timedelta(seconds=float(seconds)))
    return json_response(_verification_json(Project.objects.get(pk=ctx.project.pk)))


def get_addresses_listing(ctx: Ctx) -> HttpResponse:
    project = Project.objects.get(pk=ctx.project.pk)
    return json_response({"enabled": project.addresses_listing_enabled})


def set_addresses_listing(ctx: Ctx) -> HttpResponse:
    enabled = ctx.body().get("enabled")
    if not isinstance(enabled, bool):
        raise validation_error({"enabled": "Must be true or false."})
    Project.objects.filter(pk=ctx.project.pk).update(addresses_listing_enabled=enabled)
    return json_response({"enabled": enabled})


clock_view = route(CONTROL, GET=get_clock, POST=advance_clock)
reset_view = route(CONTROL, POST=reset)
balance_view = route(CONTROL, GET=get_balance, PUT=set_balance)
faults_view = route(CONTROL, GET=list_faults, POST=add_fault, DELETE=clear_faults)
rate_limit_view = route(CONTROL, GET=get_rate_limit, PUT=set_rate_limit)
charges_view = route(CONTROL, GET=list_charges)
approve_address_view = route(CONTROL, POST=approve_address)
reject_address_view = route(CONTROL, POST=reject_address)
expire_address_view = route(CONTROL, POST=expire_address)
address_verification_view = route(CONTROL, GET=get_address_verification, PUT=set_address_verification)
addresses_listing_view = route(
    CONTROL, GET=get_addresses_listing, PUT=set_addresses_listing, POST=set_addresses_listing
)
