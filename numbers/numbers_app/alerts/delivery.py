"""Sending what the engine queued (the worker's task `deliver_alerts`, every ALERT_DELIVERY_SECONDS and
right after each evaluation): each delivery is claimed by one conditional UPDATE (of several workers one
sends it), sent, and marked sent; a failure is logged on the delivery (attempts, last error) and tried
again with exponential backoff (ALERT_RETRY_SECONDS doubling, at most an hour apart) until
ALERT_MAX_ATTEMPTS, so a receiver down for a while gets it when it is back. A claim older than
CLAIM_STALE belongs to a worker that died mid-send: it is sent again (at least once; the webhook's
`id` lets a receiver drop a repeat)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from numbers_app.alerts import channels, metrics
from numbers_app.models import Delivery, WebhookEndpoint

logger = logging.getLogger(__name__)
Status = Delivery.Status
CLAIM_STALE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """The wait after the ATTEMPTS-th failure: ALERT_RETRY_SECONDS, doubled each time, capped at an hour."""
    return min(MAX_BACKOFF, timedelta(seconds=settings.ALERT_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


def due(now: datetime):
    stale = Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_STALE)
    return Delivery.objects.filter(Q(status=Status.PENDING, next_try_at__lte=now) | stale)


def deliver_due(now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send every delivery due at NOW (at most LIMIT); counts by outcome."""
    now = now or timezone.now()
    outcomes = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    for delivery_id in list(due(now).order_by("next_try_at", "id").values_list("pk", flat=True)[:limit]):
        claimed = due(now).filter(pk=delivery_id).update(status=Status.SENDING, claimed_at=timezone.now())
        if not claimed:
            continue  # another worker has it
        delivery = Delivery.objects.select_related("alert", "endpoint").get(pk=delivery_id)
        outcomes[send(delivery, now)] += 1
    return outcomes


def channel_label(delivery: Delivery) -> str:
    if delivery.channel == Delivery.Channel.WEBHOOK and delivery.endpoint is not None:
        return "slack" if delivery.endpoint.format == WebhookEndpoint.Format.SLACK else "webhook"
    return delivery.channel


def send(delivery: Delivery, now: datetime) -> str:
    label = channel_label(delivery)
    if delivery.endpoint is not None and not delivery.endpoint.active:
        Delivery.objects.filter(pk=delivery.pk).update(status=Status.SKIPPED, last_error="the webhook is paused")
        metrics.delivered(label, "skipped")
        return "skipped"
    try:
        if delivery.channel == Delivery.Channel.EMAIL:
            channels.send_email(delivery)
        else:
            endpoint = delivery.endpoint
            if endpoint is None or delivery.alert is None:
                raise channels.SendFailed("the webhook was deleted")
            channels.send_webhook(endpoint, channels.body_for(endpoint, delivery.alert, delivery.event))
    except channels.SendFailed as err:
        attempts = delivery.attempts + 1
        gave_up = attempts >= settings.ALERT_MAX_ATTEMPTS or (
            delivery.channel == Delivery.Channel.WEBHOOK and delivery.endpoint is None
        )
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Status.FAILED if gave_up else Status.PENDING,
            attempts=attempts,
            last_error=str(err)[:1000],
            next_try_at=now + backoff(attempts),
        )
        logger.warning(
            "alert delivery %s to %s failed (attempt %s): %s", delivery.pk, delivery.recipient, attempts, err
        )
        outcome = "failed" if gave_up else "retry"
        metrics.delivered(label, outcome)
        return outcome
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENT, attempts=delivery.attempts + 1, sent_at=timezone.now(), last_error=""
    )
    metrics.delivered(label, "sent")
    return "sent"
