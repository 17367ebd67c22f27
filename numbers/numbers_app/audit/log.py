"""Writing the audit log: one entry per action tried through the dashboard, whatever its outcome.

A write is recorded before it is sent (`record(..., outcome=Outcome.SENT)`, committed at once: no view
holds a transaction), then `settle`d from the answer: done, failed, or unknown until a read-back says
(numbers_app.changes.settle). Nothing is recorded as done unless Staffify confirmed it or showed it afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from numbers_app import staffify
from numbers_app.models import AuditEntry
from numbers_app.text.presenters import instant_html

Action = AuditEntry.Action
Outcome = AuditEntry.Outcome


def snapshot(number: staffify.PhoneNumber | None) -> dict[str, Any] | None:
    """The parts of a number an action can change."""
    if number is None:
        return None
    return {
        "status": number.status,
        "agent_id": number.agent_id,
        "agent_name": number.agent_name,
        "tags": list(number.tags),
        "reclaim_before": number.reclaim_before.isoformat() if number.reclaim_before else None,
    }


def outcome_of(err: staffify.StaffifyError) -> str:
    return Outcome.UNKNOWN if err.outcome_unknown else Outcome.ERROR


def record(
    user,
    action: str,
    *,
    outcome: str,
    number_id: int | None = None,
    phone_number: str = "",
    before: dict | None = None,
    after: dict | None = None,
    err: staffify.StaffifyError | None = None,
    message: str = "",
    bulk_job: Any = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        at=timezone.now(),
        bulk_job=bulk_job,
        user=user if user and user.is_authenticated else None,
        username=user.get_username() if user and user.is_authenticated else "",
        action=action,
        number_id=number_id,
        phone_number=phone_number or "",
        before=before,
        after=after,
        outcome=outcome,
        error_code=(err.code or "") if err else "",
        http_status=err.status if err else None,
        request_id=(err.request_id or "") if err else "",
        message=message or (err.message if err else ""),
    )


UNSETTLED = (Outcome.SENT, Outcome.UNKNOWN)


def resolve(
    entry_filter: dict, *, outcome: str, after: dict | None = None, number_id: int | None = None, message: str
) -> int:
    """Settle `sent` and `unknown` entries once Staffify has shown what really happened."""
    fields: dict[str, Any] = {"outcome": outcome, "resolved_at": timezone.now(), "message": message}
    if after is not None:
        fields["after"] = after
    if number_id is not None:
        fields["number_id"] = number_id
    return AuditEntry.objects.filter(outcome__in=UNSETTLED, **entry_filter).update(**fields)


def settle(
    entry: AuditEntry,
    outcome: str,
    *,
    err: staffify.StaffifyError | None = None,
    after: dict | None = None,
    number_id: int | None = None,
    message: str = "",
    checked: bool = False,
) -> bool:
    """Turn a `sent` (or `unknown`) entry into OUTCOME; `checked` when a read-back decided it. Only an
    unsettled entry changes (a request and the sweeper may race): False when another settled it first."""
    fields: dict[str, Any] = {"outcome": outcome, "message": message or (err.message if err else "")}
    if err is not None:
        fields.update(
            error_code=err.code or "", http_status=err.status, request_id=err.request_id or entry.request_id or ""
        )
    if after is not None:
        fields["after"] = after
    if number_id is not None:
        fields["number_id"] = number_id
    if checked:
        fields["resolved_at"] = timezone.now()
    changed = AuditEntry.objects.filter(pk=entry.pk, outcome__in=UNSETTLED).update(**fields)
    for name, value in fields.items():
        setattr(entry, name, value)
    return bool(changed)


def _tags(snap: dict | None) -> str:
    return ", ".join(snap.get("tags") or []) or "none" if snap else "?"


def change_summary(entry: AuditEntry) -> str:
    """One line saying what changed (or, when it did not happen, what was asked), for the CSV: instants
    as Staffify sent them (ISO 8601)."""
    line = _change(entry, str)
    if entry.outcome != Outcome.OK and entry.after and entry.action != Action.BUY:
        line += " (asked)"
    return line


def change_html(entry: AuditEntry) -> SafeString:
    """The same line for a page: instants in the viewer's time zone, the UTC instant on hover, in the
    dashboard's one date style (never a raw ISO timestamp)."""
    line = _change(entry, _instant_html, escape=conditional_escape)
    if entry.outcome != Outcome.OK and entry.after and entry.action != Action.BUY:
        line += " (asked)"
    # Every piece of data in LINE was escaped by _change, or built by format_html.
    return mark_safe(line)  # noqa: S308


def _instant_html(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return str(conditional_escape(value))
    if moment.tzinfo is None:
        return str(conditional_escape(value))
    return str(instant_html(moment))


def _change(entry: AuditEntry, when: Callable[[str], str], escape: Callable[[Any], Any] = str) -> str:
    """The change line; WHEN shows an ISO instant, ESCAPE every other piece of data."""

    def e(value: Any) -> str:
        return str(escape(value))

    before, after = entry.before or {}, entry.after or {}
    if entry.action in (Action.ASSIGN, Action.UNASSIGN):
        old = before.get("agent_name") or ("none" if before else "?")
        new = after.get("agent_name") or ("none" if after else "?")
        return f"agent: {e(old)} → {e(new)}"
    if entry.action == Action.TAGS:
        if "tags_text" in after:
            return f"tags: asked for “{e(after['tags_text'][:80])}”"
        return f"tags: {e(_tags(before) if before else '?')} → {e(_tags(after) if after else '?')}"
    if entry.action == Action.NOTE:
        parts = []
        for field in ("name", "note"):
            old, new = before.get(field, ""), after.get(field, "")
            if old != new:
                parts.append(f"{field}: “{e(old[:80]) or '—'}” → “{e(new[:80]) or '—'}”")
        return "; ".join(parts) or "name and note: unchanged"
    if entry.action == Action.RELEASE:
        until = after.get("reclaim_before")
        return f"status: {e(_words(before.get('status', '?')))} → {e(_words(after.get('status', '?')))}" + (
            f" (reclaimable until {when(until)})" if until else ""
        )
    if entry.action == Action.RECLAIM:
        return f"status: {e(_words(before.get('status', '?')))} → {e(_words(after.get('status', '?')))}"
    if entry.action == Action.PURCHASE_TIME:
        old, new = before.get("purchased_at"), after.get("purchased_at")
        return f"purchased: {when(old) if old else 'unknown'} → {when(new) if new else '?'}"
    if entry.action == Action.SCHEDULE_RELEASE:
        first = ", unassigning first" if after.get("unassign_first") else ""
        run_at, charge_at = after.get("run_at"), after.get("charge_at")
        return (
            f"release at {when(run_at) if run_at else '?'}, "
            f"before the charge at {when(charge_at) if charge_at else '?'}{first}"
        )
    if entry.action == Action.CANCEL_SCHEDULED:
        run_at = before.get("run_at")
        return f"no release at {when(run_at) if run_at else '?'}"
    if entry.action == Action.OUTSIDE:
        return _outside_change(entry.before, entry.after, e)
    if entry.action in PEOPLE_ACTIONS or entry.action in ALERT_ACTIONS:
        return _person_change(before, after, e)
    if entry.action == Action.BUY:
        facts = [after.get("country_code"), after.get("number_type")]
        if after.get("address_id"):
            facts.append(f"address {after['address_id']}")
        return "buy " + " ".join(e(f) for f in facts if f)
    if entry.action == Action.ROLE:
        return f"role of {e(after.get('user') or before.get('user') or '?')}: {e(_role(before))} → {e(_role(after))}"
    return ""


def _role(side: dict) -> str:
    role = side.get("role")
    return "their groups'" if role is None else "no access" if role == "none" else str(role)


PEOPLE_ACTIONS = {
    Action.SSO_SIGN_IN,
    Action.SSO_REFUSED,
    Action.INVITE,
    Action.INVITE_REVOKE,
    Action.JOIN,
    Action.SET_ROLE,
    Action.DEACTIVATE,
    Action.REACTIVATE,
    Action.TWO_FACTOR,
    Action.ACCESS_POLICY,
}
# Changes to alert thresholds, webhooks and subscriptions read the same way: each fact, before → after.
ALERT_ACTIONS = {Action.ALERT_THRESHOLDS, Action.ALERT_SUBSCRIBE, Action.ALERT_WEBHOOK}


def _person_change(before: dict, after: dict, e: Callable[[Any], str]) -> str:
    """Who the change was about, then each fact that changed (role, active, second factor, ...)."""
    who = after.get("person") or before.get("person") or ""
    facts = []
    for key in dict.fromkeys([*before, *after]):
        if key == "person":
            continue
        old, new = before.get(key), after.get(key)
        label = key.replace("_", " ")
        facts.append(f"{label}: {e(_fact(old))} → {e(_fact(new))}" if key in before else f"{label}: {e(_fact(new))}")
    return "; ".join(([f"person: {e(who)}"] if who else []) + facts)


def _fact(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return "none" if value in (None, "") else str(value)


def person(
    actor,
    action: str,
    *,
    outcome: str = Outcome.OK,
    before: dict | None = None,
    after: dict | None = None,
    message: str = "",
    username: str = "",
) -> AuditEntry:
    """A change to who may use the dashboard, or a sign-in worth keeping (single sign-on, with the
    provider's subject in AFTER). ACTOR may be None (someone not signed in yet): USERNAME names them."""
    signed_in = actor is not None and actor.is_authenticated
    return AuditEntry.objects.create(
        at=timezone.now(),
        user=actor if signed_in else None,
        username=(actor.get_username() if signed_in else username)[:150],
        action=action,
        before=before,
        after=after,
        outcome=outcome,
        message=message,
    )


def _agent(snap: dict) -> str:
    if not snap.get("agent_id"):
        return "none"
    return str(snap.get("agent_name") or f"agent {snap['agent_id']}")


def _outside_change(before: dict | None, after: dict | None, e: Callable[[Any], str]) -> str:
    """What a change made outside the dashboard changed: each of status, agent and tags that differs,
    before → after; a number that appeared or left says so."""
    if not before and not after:
        return ""
    if not after:
        return (
            f"left the account (was {e(_words(before.get('status', '?')))}, agent {e(_agent(before))})"
            if before
            else ""
        )
    if not before:
        return f"appeared: {e(_words(after.get('status', '?')))}, agent {e(_agent(after))}, tags {e(_tags(after))}"
    parts = []
    if before.get("status") != after.get("status"):
        parts.append(f"status: {e(_words(before.get('status', '?')))} → {e(_words(after.get('status', '?')))}")
    if before.get("agent_id") != after.get("agent_id"):
        parts.append(f"agent: {e(_agent(before))} → {e(_agent(after))}")
    if sorted(before.get("tags") or []) != sorted(after.get("tags") or []):
        parts.append(f"tags: {e(_tags(before))} → {e(_tags(after))}")
    return "; ".join(parts)


def _words(status: str) -> str:
    return str(status).replace("_", " ")


def login_locked_out(username: str, ip_address: str, *, failures: int) -> AuditEntry:
    """A username locked out after too many failed logins (django-axes), tied to the user when one has
    that name; the attempted name is kept either way."""
    user = get_user_model().objects.filter(username=username).first() if username else None
    return AuditEntry.objects.create(
        at=timezone.now(),
        user=user,
        username=username[:150],
        action=Action.LOGIN_LOCKOUT,
        outcome=Outcome.LOCKED_OUT,
        message=f"{failures} failed logins from {ip_address or 'an unknown address'}: locked out.",
    )


def login_failed(username: str, ip_address: str, *, locked_out: bool) -> AuditEntry:
    """One failed sign-in (a wrong name or password, or any attempt while locked out), with the name
    tried (tied to the user when one has it) and the address it came from."""
    user = get_user_model().objects.filter(username=username).first() if username else None
    where = ip_address or "an unknown address"
    return AuditEntry.objects.create(
        at=timezone.now(),
        user=user,
        username=username[:150],
        action=Action.LOGIN_FAILED,
        outcome=Outcome.LOCKED_OUT if locked_out else Outcome.WRONG_LOGIN,
        message=(
            f"Refused from {where}: locked out after too many failed logins."
            if locked_out
            else f"Wrong name or password from {where}."
        ),
    )
