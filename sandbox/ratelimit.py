"""Requests per project per sandbox-clock minute, counted in the database so processes agree."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import Project, RateWindow

TIERS_BY_LIMIT = {300: "payg", 600: "starter", 1200: "growth"}


@dataclass(frozen=True)
class Usage:
    limit: int | None  # None: unlimited
    count: int
    reset_epoch: int  # end of the current window, Unix seconds
    retry_after: int
    tier: str = "payg"

    @property
    def exceeded(self) -> bool:
        return self.limit is not None and self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, (self.limit or 0) - self.count)


def tier_for(per_minute: int | None) -> str:
    if per_minute is None:
        return "enterprise"
    return TIERS_BY_LIMIT.get(per_minute, "custom")


def _bump(project: Project, minute: int) -> int:
    with transaction.atomic():
        window = RateWindow.objects.filter(project=project, minute=minute)
        if not window.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateWindow.objects.create(project=project, minute=minute, count=1)
                RateWindow.objects.filter(project=project, minute__lt=minute).delete()
            except IntegrityError:  # another process opened the window first
                window.update(count=F("count") + 1)
        return window.values_list("count", flat=True).get()


def count_request(project: Project, moment: datetime) -> Usage:
    """Count one request against the organisation's limit (held by its first project)."""
    project = project.account()
    epoch = moment.timestamp()
    minute = int(epoch // 60)
    reset_epoch = (minute + 1) * 60
    retry_after = max(1, math.ceil(reset_epoch - epoch))
    count = _bump(project, minute)
    return Usage(project.rate_limit_per_minute, count, reset_epoch, retry_after, project.tier)


def apply_headers(response, project: Project, usage: Usage) -> None:
    if usage.limit is not None:
        response["X-RateLimit-Limit"] = str(usage.limit)
        response["X-RateLimit-Remaining"] = str(usage.remaining)
    response["X-RateLimit-Reset"] = str(usage.reset_epoch)
    response["X-RateLimit-Tier"] = usage.tier
    response["X-Concurrent-Call-Limit"] = str(project.concurrent_limit)
