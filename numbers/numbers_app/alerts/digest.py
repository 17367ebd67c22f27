"""The daily digest: one e-mail a day, at the local time each person chose (their time zone), with the
alerts raised and resolved in the 24 hours before it and the numbers changed outside the dashboard
(which are never an alert of their own). Nothing happened: no e-mail. Queued like every e-mail, sent by
the worker (numbers_app.alerts.delivery)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from numbers_app import scope as projects
from numbers_app.alerts import engine, subscriptions
from numbers_app.alerts.channels import absolute
from numbers_app.alerts.conditions import Scope, outside_changes
from numbers_app.alerts.text import plural, render
from numbers_app.models import Alert, Delivery, Preference, Project

DAY = timedelta(days=1)


def due_people(now: datetime) -> list[tuple[Any, Preference]]:
    """Who should get today's digest now: subscribed by e-mail, with an address, past their chosen local
    time, and not sent for their local today yet."""
    if not subscriptions.mail_enabled():
        return []
    found = []
    for user in subscriptions.people():
        if not user.email or not subscriptions.effective(user)[subscriptions.DIGEST].email:
            continue
        preference, _ = Preference.objects.get_or_create(user=user)
        local = now.astimezone(engine.zone_of(user))
        if local.time() >= preference.digest_time and preference.digest_last_on != local.date():
            found.append((user, preference))
    return found


def compose(user: Any, now: datetime) -> tuple[str, str] | None:
    """The digest's subject and text for USER over the day before NOW, of the organisation's alerts and
    those of the projects USER may see; None when there is nothing to say."""
    since = now - DAY
    visible = [project for project in Project.configured() if project.visible_to(user)]
    theirs = Q(project__isnull=True) | Q(project__in=[project.pk for project in visible])
    alerts = list(
        Alert.objects.filter(theirs)
        .exclude(kind=Alert.Kind.TEST)
        .filter(Q(raised_at__gte=since) | Q(resolved_at__gte=since))
        .order_by("raised_at")[:100]
    )
    outside = 0
    for project in visible:
        with projects.using(project.ref):
            outside += outside_changes(Scope(project), since, now)
    still_open = Alert.objects.filter(theirs, state=Alert.State.OPEN).exclude(kind=Alert.Kind.TEST).count()
    if not alerts and not outside:
        return None
    tz = engine.zone_of(user)
    lines = [f"What happened in the last 24 hours ({plural(still_open, 'alert')} still open):", ""]
    for alert in alerts:
        mark = "RESOLVED" if alert.resolved_at and alert.resolved_at >= since else alert.get_severity_display().upper()
        lines.append(f"- [{mark}] {alert.title}")
        lines.append(f"  {render(alert.resolution if mark == 'RESOLVED' and alert.resolution else alert.sentence, tz)}")
        if alert.link:
            lines.append(f"  {absolute(alert.link)}")
    if outside:
        lines += [
            "",
            f"{plural(outside, 'change')} made outside the dashboard (seen by the sync): "
            f"{absolute('/audit/?action=outside')}",
        ]
    lines += ["", f"All alerts: {absolute('/alerts/')}", f"Choose the digest's time: {absolute('/alerts/settings')}"]
    subject = f"[Staffify numbers] Daily digest: {plural(len(alerts), 'alert')}, {plural(outside, 'outside change')}"
    return subject, "\n".join(lines) + "\n"


def queue_due(now: datetime | None = None) -> int:
    """Queue today's digest for everyone it is due for; how many were queued."""
    now = now or timezone.now()
    queued = 0
    for user, preference in due_people(now):
        local_day = now.astimezone(engine.zone_of(user)).date()
        if (
            not Preference.objects.filter(pk=preference.pk)
            .exclude(digest_last_on=local_day)
            .update(digest_last_on=local_day)
        ):
            continue  # another worker queued it
        made = compose(user, now)
        if made is None:
            continue
        subject, body = made
        Delivery.objects.create(
            channel=Delivery.Channel.EMAIL,
            event=Delivery.Event.DIGEST,
            key=f"digest:{local_day.isoformat()}",
            user=user,
            recipient=user.email,
            subject=subject,
            body=body,
            next_try_at=now,
            created_at=now,
        )
        queued += 1
    return queued
