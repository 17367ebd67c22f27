"""What the dashboard must remember because Staffify does not tell us.

- NumberRecord: the local ledger per number (purchase time when we bought it, the reclaim deadline of
  a release we made, the last state seen). Its Meta also carries the dashboard's permissions.
- PurchaseAttempt: one row per confirmed purchase form, keyed by the form's one-time token, so a
  double click or a resubmitted form buys once.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class NumberRecord(models.Model):
    staffify_id = models.BigIntegerField(unique=True)
    phone_number = models.CharField(max_length=32, db_index=True)
    purchased_at = models.DateTimeField(null=True, blank=True)
    bought_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reclaim_before = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=32, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["staffify_id"]
        permissions = [
            ("view_dashboard", "Can see the numbers, billing and audit pages"),
            ("buy_number", "Can search and buy numbers"),
            ("release_number", "Can release numbers"),
            ("reclaim_number", "Can reclaim released numbers"),
            ("assign_agent", "Can assign and unassign agents"),
            ("edit_tags", "Can edit tags"),
        ]

    def __str__(self) -> str:
        return f"{self.phone_number} (#{self.staffify_id})"


class PurchaseAttempt(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Sending to Staffify"
        SUCCEEDED = "succeeded", "Bought"
        FAILED = "failed", "Refused"
        UNKNOWN = "unknown", "Outcome unknown"

    token = models.UUIDField(unique=True, default=uuid.uuid4)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    phone_number = models.CharField(max_length=32)
    country_code = models.CharField(max_length=2)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    staffify_id = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.phone_number}: {self.state}"
