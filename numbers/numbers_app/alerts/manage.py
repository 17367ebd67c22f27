"""Changes to the alert rules and endpoints, each written to the audit log: thresholds and webhooks
(Operations: the views check `manage_alerts` on the server), and one's own subscriptions."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.utils import timezone

from numbers_app.alerts import subscriptions
from numbers_app.alerts.channels import new_secret
from numbers_app.alerts.engine import thresholds
from numbers_app.audit import log as audit
from numbers_app.models import AlertSettings, Preference, WebhookEndpoint

Action = audit.Action
THRESHOLDS = ("runway_days", "sync_failing_minutes", "heartbeat_stale_minutes")


def set_thresholds(user: Any, values: dict[str, int]) -> AlertSettings:
    row = thresholds()
    before = {name: getattr(row, name) for name in THRESHOLDS}
    after = {name: values[name] for name in THRESHOLDS}
    if before != after:
        AlertSettings.objects.filter(pk=row.pk).update(**after, changed_at=timezone.now())
        audit.record(user, Action.ALERT_THRESHOLDS, outcome=audit.Outcome.OK, before=before, after=after)
    return thresholds()


def _endpoint_snapshot(endpoint: WebhookEndpoint) -> dict:
    # The secret is never written to the audit log.
    return {
        "name": endpoint.name,
        "url": endpoint.url,
        "format": endpoint.format,
        "active": endpoint.active,
        "kinds": endpoint.kinds,
    }


def add_webhook(user: Any, *, name: str, url: str, format: str, kinds: list[str]) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(
        name=name, url=url, format=format, kinds=kinds, secret=new_secret(), created_by=user
    )
    audit.record(
        user,
        Action.ALERT_WEBHOOK,
        outcome=audit.Outcome.OK,
        after=_endpoint_snapshot(endpoint),
        message=f"added {name}",
    )
    return endpoint


def set_webhook_active(user: Any, endpoint: WebhookEndpoint, active: bool) -> None:
    before = _endpoint_snapshot(endpoint)
    endpoint.active = active
    endpoint.save(update_fields=["active"])
    audit.record(
        user,
        Action.ALERT_WEBHOOK,
        outcome=audit.Outcome.OK,
        before=before,
        after=_endpoint_snapshot(endpoint),
        message=f"{'resumed' if active else 'paused'} {endpoint.name}",
    )


def delete_webhook(user: Any, endpoint: WebhookEndpoint) -> None:
    before = _endpoint_snapshot(endpoint)
    endpoint.delete()
    audit.record(
        user, Action.ALERT_WEBHOOK, outcome=audit.Outcome.OK, before=before, message=f"deleted {before['name']}"
    )


def new_webhook_secret(user: Any, endpoint: WebhookEndpoint) -> None:
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    audit.record(user, Action.ALERT_WEBHOOK, outcome=audit.Outcome.OK, message=f"new secret for {endpoint.name}")


def save_subscriptions(user: Any, choices: dict[str, subscriptions.Choice], digest_time: time) -> list[str]:
    before = {kind: _choice_text(choice) for kind, choice in subscriptions.effective(user).items()}
    changed = subscriptions.save(user, choices)
    preference, _ = Preference.objects.get_or_create(user=user)
    if preference.digest_time != digest_time:
        old = preference.digest_time
        preference.digest_time = digest_time
        preference.save(update_fields=["digest_time"])
        before["digest_time"] = old.strftime("%H:%M")
        changed.append("digest_time")
    if changed:
        after = {kind: _choice_text(choice) for kind, choice in subscriptions.effective(user).items()}
        after["digest_time"] = digest_time.strftime("%H:%M")
        audit.record(
            user,
            Action.ALERT_SUBSCRIBE,
            outcome=audit.Outcome.OK,
            before={k: before[k] for k in changed if k in before},
            after={k: after[k] for k in changed},
        )
    return changed


def _choice_text(choice: subscriptions.Choice) -> str:
    parts = [name for name, on in (("inbox", choice.inbox), ("e-mail", choice.email)) if on]
    text = " and ".join(parts) or "off"
    return text + (" (mine only)" if choice.mine_only and parts else "")
