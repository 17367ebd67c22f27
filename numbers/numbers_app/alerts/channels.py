"""How an alert leaves the dashboard: an e-mail through Django's mail settings (EMAIL_URL), or a webhook:
a generic JSON body signed with the endpoint's secret, or a Slack incoming webhook's body.

The generic webhook's signature (documented in the README, with a snippet that checks it):

    X-Staffify-Dashboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>

A receiver recomputes the HMAC over the timestamp, a dot and the exact bytes received, compares it in
constant time, and refuses a timestamp older than a few minutes (a replay)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import EmailMessage

from numbers_app.alerts.text import render_utc
from numbers_app.models import Alert, Delivery, WebhookEndpoint

SIGNATURE_HEADER = "X-Staffify-Dashboard-Signature"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "Staffify-Numbers-Dashboard-Alerts/1"


class SendFailed(Exception):
    """The channel did not take the message: said in the delivery log, tried again later."""


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (the README's snippet is this, standalone)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def absolute(path: str) -> str:
    return settings.DASHBOARD_URL.rstrip("/") + path if path else ""


def payload(alert: Alert, event: str) -> dict[str, Any]:
    """The generic JSON body: the alert, what happened to it (raised, resolved, test), instants in UTC."""
    text = alert.resolution if event == Delivery.Event.RESOLVED and alert.resolution else alert.sentence
    return {
        "id": f"alert-{alert.pk}-{event}",
        "event": event,
        "alert": {
            "id": alert.pk,
            "kind": alert.kind,
            "key": alert.key,
            "severity": alert.severity,
            "state": alert.state,
            "title": alert.title,
            "text": render_utc(text),
            "link": absolute(alert.link),
            "raised_at": alert.raised_at.isoformat().replace("+00:00", "Z"),
            "resolved_at": alert.resolved_at.isoformat().replace("+00:00", "Z") if alert.resolved_at else None,
            "data": alert.data,
        },
    }


def slack_payload(alert: Alert, event: str) -> dict[str, Any]:
    """A Slack incoming webhook's body: `text` (the notification) and one section block."""
    text = alert.resolution if event == Delivery.Event.RESOLVED and alert.resolution else alert.sentence
    icon = {"resolved": ":white_check_mark:", "test": ":wave:"}.get(
        event, {"critical": ":rotating_light:", "warning": ":warning:"}.get(alert.severity, ":information_source:")
    )
    prefix = "Resolved: " if event == Delivery.Event.RESOLVED else ""
    line = f"{icon} *{prefix}{alert.title}*\n{render_utc(text)}"
    if alert.link:
        line += f"\n<{absolute(alert.link)}|{alert.link_label or 'Open the dashboard'}>"
    return {"text": f"{prefix}{alert.title}", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}}]}


def body_for(endpoint: WebhookEndpoint, alert: Alert, event: str) -> bytes:
    made = slack_payload(alert, event) if endpoint.format == WebhookEndpoint.Format.SLACK else payload(alert, event)
    return json.dumps(made, separators=(",", ":"), ensure_ascii=False).encode()


def send_webhook(endpoint: WebhookEndpoint, body: bytes) -> int:
    """POST BODY to ENDPOINT, signed; the HTTP status. Raises SendFailed unless it answered 2xx."""
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if endpoint.format == WebhookEndpoint.Format.GENERIC:
        headers[SIGNATURE_HEADER] = sign(endpoint.secret, timestamp, body)
    try:
        response = httpx.post(endpoint.url, content=body, headers=headers, timeout=TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as err:
        raise SendFailed(f"{type(err).__name__}: {err or 'no answer'}") from err
    if not 200 <= response.status_code < 300:
        raise SendFailed(f"HTTP {response.status_code}: {response.text[:200]}")
    return response.status_code


def send_email(delivery: Delivery) -> None:
    """Send DELIVERY's e-mail (subject and text made when it was queued). Raises SendFailed."""
    message = EmailMessage(
        subject=delivery.subject, body=delivery.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[delivery.recipient]
    )
    try:
        sent = message.send()
    except Exception as err:  # smtplib, sockets, the backend's own: all say "not sent"
        raise SendFailed(f"{type(err).__name__}: {err}") from err
    if not sent:
        raise SendFailed("the mail backend sent nothing")
