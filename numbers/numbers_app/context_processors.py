"""Values every dashboard page shows in its frame: the role, the balance, Staffify's clock.

The balance and clock are callables, so a fragment that does not show them costs no Staffify call.
"""

from functools import cache
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest

from numbers_app import rules
from numbers_app.bulk import jobs as bulk
from numbers_app.models import InboxItem
from numbers_app.roles import role_of
from numbers_app.scheduled import releases as scheduled_releases
from numbers_app.staffify import lookups

RULES = rules.for_templates()


def session_idle() -> str:
    """How long a session lasts without a request (SESSION_IDLE_HOURS), as the login page says it."""
    minutes = round(settings.SESSION_COOKIE_AGE / 60)
    if minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"


def dashboard(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {
            "rules": RULES,
            "session_idle": session_idle(),
            "sign_in_with": settings.OIDC_NAME if settings.OIDC_ISSUER else "",
        }

    @cache
    def balance():
        reading = balance_reading()
        return reading.balance if reading else None

    @cache
    def balance_reading():
        return lookups.balance_reading()  # the worker's reading: a page never asks Staffify for it

    @cache
    def server_now():
        return lookups.staffify_now()

    @cache
    def job_notice():
        return bulk.notice(request.user)

    @cache
    def unread_alerts():
        """The bell's count: one indexed count of the person's unread inbox items."""
        return InboxItem.objects.filter(user=cast(Any, request.user), read_at__isnull=True).count()

    @cache
    def role():
        return role_of(request.user)

    @cache
    def release_alerts():
        """Failed, missed or unconfirmed scheduled releases: the loud banner, for those who can act."""
        if not request.user.has_perm("numbers.release_number"):
            return []
        return list(scheduled_releases.alerts()[:20])

    return {
        "release_alerts": release_alerts,
        "balance": balance,
        "balance_reading": balance_reading,
        "server_now": server_now,
        "role": role,
        "unread_alerts": unread_alerts,
        "job_notice": job_notice,
        "rules": RULES,
    }
