"""One evaluation of every rule (the worker's periodic task `evaluate_alerts`): each condition found
raises one alert until it clears, then one "resolved" message; each event once. Raising and resolving
fan out at once to the in-app inboxes, and queue the e-mails and webhooks that the worker sends
(numbers_app.alerts.delivery): never in a request. No Staffify call."""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from numbers_app import scope as projects
from numbers_app.alerts import conditions, metrics, subscriptions
from numbers_app.alerts.channels import absolute
from numbers_app.alerts.conditions import Context, Finding, Scope
from numbers_app.alerts.text import instant, render
from numbers_app.models import Alert, AlertSettings, Delivery, InboxItem, Preference, Project, WebhookEndpoint

logger = logging.getLogger(__name__)
State = Alert.State
Event = Delivery.Event
MAIL_EVERY = timedelta(days=1)  # at most one e-mail per condition (and person) a day


def thresholds() -> AlertSettings:
    found, _ = AlertSettings.objects.get_or_create(pk=1)
    return found


@dataclass
class Summary:
    raised: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    milliseconds: int = 0


def evaluate(now: datetime, *, wall: datetime | None = None) -> Summary:
    """Run every rule once at NOW (Staffify's clock) and reconcile the open alerts with what it found:
    the organisation's rules once, each project's rules once per served project, inside it (their keys
    carry the project's slug, so the same condition in two projects is two alerts)."""
    started = time.perf_counter()
    wall = wall or timezone.now()
    settings_row = thresholds()
    open_alerts = {alert.key: alert for alert in Alert.objects.filter(state=State.OPEN)}
    everyone = subscriptions.audience()
    hooks = list(WebhookEndpoint.objects.filter(active=True))
    summary = Summary()
    findings: dict[str, Finding] = {}
    judged: set[tuple[int | None, str]] = set()  # (project, kind) whose rule ran: only their open alerts may clear
    served = Project.configured()
    passes: list[tuple[Project | None, dict[str, conditions.Rule]]] = [(None, conditions.ORG_RULES)]
    passes += [(project, conditions.PROJECT_RULES) for project in served]
    for project, rules in passes:
        prefix = f"{project.slug}:" if project is not None else ""
        project_pk = project.pk if project is not None else None
        mine = [a for a in open_alerts.values() if a.project_id == project_pk]
        open_keys: dict[str, set[str]] = {}
        for alert in mine:
            open_keys.setdefault(alert.kind, set()).add(alert.key.removeprefix(prefix))
        ctx = Context(scope=Scope(project), now=now, wall=wall, settings=settings_row, open_keys=open_keys)
        with projects.using(project.ref) if project is not None else nullcontext():
            for kind, rule in rules.items():
                try:
                    found = rule(ctx)
                except Exception:
                    logger.exception("alert rule %s failed in %s; its open alerts stay", kind, project or "the org")
                    continue
                for finding in found:
                    finding.key, finding.project_id = prefix + finding.key, project_pk
                    if project is not None and len(served) > 1:
                        finding.title = f"{project.name}: {finding.title}"
                    findings[finding.key] = finding
                judged.add((project_pk, kind))
                if kind == Alert.Kind.RELEASE:
                    judged.add((project_pk, Alert.Kind.RELEASE_DUE))
    events = [f for f in findings.values() if f.kind in conditions.EVENTS]
    seen_events = set(Alert.objects.filter(key__in=[f.key for f in events]).values_list("key", flat=True))
    for key, finding in findings.items():
        if finding.kind in conditions.EVENTS:
            if key not in seen_events:
                raise_alert(finding, wall, state=State.INFO, everyone=everyone, hooks=hooks)
                summary.raised.append(key)
        elif key in open_alerts:
            _refresh(open_alerts[key], finding)
        elif raise_alert(finding, wall, everyone=everyone, hooks=hooks) is not None:
            summary.raised.append(key)
    for key, alert in open_alerts.items():
        if key not in findings and (alert.project_id, alert.kind) in judged:
            resolve(alert, wall, everyone=everyone, hooks=hooks)
            summary.resolved.append(key)
    summary.milliseconds = round((time.perf_counter() - started) * 1000)
    AlertSettings.objects.filter(pk=1).update(last_evaluated_at=wall, last_evaluation_ms=summary.milliseconds)
    return summary


def _refresh(alert: Alert, finding: Finding) -> None:
    """An open alert's figures move (the runway's date, a count): its text follows, without a new message."""
    if (alert.sentence, alert.title, alert.data) != (finding.sentence, finding.title, finding.data):
        Alert.objects.filter(pk=alert.pk).update(sentence=finding.sentence, title=finding.title, data=finding.data)


def raise_alert(
    finding: Finding,
    at: datetime,
    *,
    state: str = State.OPEN,
    everyone: subscriptions.Audience | None = None,
    hooks: list[WebhookEndpoint] | None = None,
) -> Alert | None:
    """Open an alert for FINDING and tell its recipients; None when another process opened it first."""
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                kind=finding.kind,
                key=finding.key,
                severity=finding.severity,
                title=finding.title,
                sentence=finding.sentence,
                resolution=finding.resolution,
                link=finding.link,
                link_label=finding.link_label,
                data=finding.data,
                owner_id=finding.owner_id,
                project_id=finding.project_id,
                state=state,
                raised_at=at,
            )
            fan_out(alert, Event.RAISED, at, everyone, hooks)
    except IntegrityError:
        return None  # the one-open-alert-per-key constraint: already raised
    metrics.RAISED.labels(finding.kind).inc()
    return alert


def resolve(
    alert: Alert,
    at: datetime,
    *,
    everyone: subscriptions.Audience | None = None,
    hooks: list[WebhookEndpoint] | None = None,
) -> None:
    with transaction.atomic():
        if not Alert.objects.filter(pk=alert.pk, state=State.OPEN).update(state=State.RESOLVED, resolved_at=at):
            return
        alert.state, alert.resolved_at = State.RESOLVED, at
        fan_out(alert, Event.RESOLVED, at, everyone, hooks)


def fan_out(
    alert: Alert,
    event: str,
    at: datetime,
    everyone: subscriptions.Audience | None = None,
    hooks: list[WebhookEndpoint] | None = None,
) -> None:
    """The inboxes at once (unread again on "resolved"); e-mails and webhooks queued for the worker."""
    mail = subscriptions.mail_enabled()
    chosen = subscriptions.recipients(alert, everyone)
    inbox = [user for user, choice in chosen if choice.inbox]
    if event == Event.RAISED:  # a new alert: nobody has it yet
        InboxItem.objects.bulk_create([InboxItem(user=user, alert=alert, updated_at=at) for user in inbox])
    else:
        for user in inbox:
            InboxItem.objects.update_or_create(user=user, alert=alert, defaults={"updated_at": at, "read_at": None})
    for _ in inbox:
        metrics.delivered("inbox", "sent")
    for user, choice in chosen:
        if choice.email and mail and user.email:
            queue_email(alert, event, user, at)
    if hooks is None:
        hooks = list(WebhookEndpoint.objects.filter(active=True))
    fan_out_webhooks(alert, event, at, hooks)


def fan_out_webhooks(alert: Alert, event: str, at: datetime, endpoints: list[WebhookEndpoint]) -> None:
    for endpoint in endpoints:
        if endpoint.kinds and alert.kind not in endpoint.kinds and event != Event.TEST:
            continue
        Delivery.objects.create(
            alert=alert,
            channel=Delivery.Channel.WEBHOOK,
            event=event,
            key=alert.key,
            endpoint=endpoint,
            recipient=endpoint.url,
            next_try_at=at,
            created_at=at,
        )


def queue_email(alert: Alert, event: str, user: Any, at: datetime) -> Delivery:
    """One e-mail of ALERT to USER, unless one about the same condition went to them less than a day ago
    (then it is logged as not sent, and said in the inbox and the digest instead)."""
    recent = Delivery.objects.filter(
        user=user,
        key=alert.key,
        channel=Delivery.Channel.EMAIL,
        status__in=(Delivery.Status.PENDING, Delivery.Status.SENDING, Delivery.Status.SENT),
        created_at__gt=at - MAIL_EVERY,
    ).exists()
    tz = zone_of(user)
    resolved = event == Event.RESOLVED
    text = render(alert.resolution if resolved and alert.resolution else alert.sentence, tz)
    body = text + "\n"
    if alert.link:
        body += f"\n{alert.link_label or 'Open the dashboard'}: {absolute(alert.link)}\n"
    body += f"\nAll alerts: {absolute('/alerts/')}\nChoose what you receive: {absolute('/alerts/settings')}\n"
    delivery = Delivery.objects.create(
        alert=alert,
        channel=Delivery.Channel.EMAIL,
        event=event,
        key=alert.key,
        user=user,
        recipient=user.email,
        subject=f"[Staffify numbers] {'Resolved: ' if resolved else ''}{alert.title}",
        body=body,
        next_try_at=at,
        created_at=at,
        status=Delivery.Status.SKIPPED if recent and event != Event.TEST else Delivery.Status.PENDING,
        last_error="an e-mail about this condition went out less than a day ago"
        if recent and event != Event.TEST
        else "",
    )
    if delivery.status == Delivery.Status.SKIPPED:
        metrics.delivered("email", "skipped")
    return delivery


def zone_of(user: Any) -> ZoneInfo:
    name = Preference.objects.filter(user=user).values_list("time_zone", flat=True).first()
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ValueError, KeyError):
        return ZoneInfo(settings.TIME_ZONE)


def send_test(user: Any, channel: str, endpoint: WebhookEndpoint | None = None) -> Alert:
    """ "Send a test" on the settings page: a test alert to USER's inbox, their e-mail, or one webhook.
    The inbox has it at once; an e-mail or a webhook is queued for the worker, like every real one."""
    now = timezone.now()
    where = {"inbox": "your inbox", "email": f"your e-mail ({user.email})", "webhook": f"the webhook {endpoint}"}
    alert = Alert.objects.create(
        kind=Alert.Kind.TEST,
        key=f"test:{user.pk}:{now.timestamp()}",
        severity=Alert.Severity.INFO,
        title=f"Test alert to {where.get(channel, channel)}",
        sentence=f"{user.get_username()} sent this test on {instant(now)} from the alert settings: alerts reach "
        f"{where.get(channel, channel)}.",
        link=reverse("alert_settings"),
        link_label="Alert settings",
        owner=user,
        state=State.INFO,
        raised_at=now,
    )
    if channel == "inbox":
        InboxItem.objects.create(user=user, alert=alert, updated_at=now)
        metrics.delivered("inbox", "sent")
    elif channel == "email":
        queue_email(alert, Event.TEST, user, now)
    elif endpoint is not None:
        fan_out_webhooks(alert, Event.TEST, now, [endpoint])
    return alert
