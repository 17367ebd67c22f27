"""Values every dashboard page shows in its frame: the project and the switcher, the role, the balance,
Staffify's clock.

The balance and clock are callables, so a fragment that does not show them costs no Staffify call.
"""

from functools import cache
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest

from numbers_app import rules, scope
from numbers_app.alerts import balance as alert_balance
from numbers_app.bulk import jobs as bulk
from numbers_app.models import InboxItem
from numbers_app.roles import role_of
from numbers_app.scheduled import releases as scheduled_releases
from numbers_app.staffify import lookups
from numbers_app.web.projects import default_project, visible_projects

RULES = rules.for_templates()


def session_idle() -> str:
    """How long a session lasts without a request (SESSION_IDLE_HOURS), as the login page says it."""
    minutes = round(settings.SESSION_COOKIE_AGE / 60)
    if minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"


SECTIONS = ("billing", "audit", "jobs", "addresses", "buy")


def dashboard(request: HttpRequest) -> dict:
    project_slug = scope.slug()
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {
            "rules": RULES,
            "project_slug": project_slug,
            "session_idle": session_idle(),
            "sign_in_with": settings.OIDC_NAME if settings.OIDC_ISSUER else "",
            "reset_mail_to_console": settings.PASSWORD_RESET_TO_CONSOLE,
        }
    if scope.current() is None:  # a page outside the projects (preferences, the organisation's): theirs
        project_slug = default_project(request.user).slug

    @cache
    def projects():
        """The switcher: each project the person may see, linked to the same section of its pages."""
        prefix = f"/p/{project_slug}/"
        section = request.path.removeprefix(prefix).split("/", 1)[0] if request.path.startswith(prefix) else ""
        tail = f"{section}/" if section in SECTIONS else ""
        return [
            {"name": p.name, "slug": p.slug, "url": f"/p/{p.slug}/{tail}", "current": p.slug == project_slug}
            for p in visible_projects(request.user)
        ]

    @cache
    def project_name():
        current = scope.current()
        return current.name if current is not None else ""

    @cache
    def balance():
        reading = balance_reading()
        return reading.balance if reading else None

    @cache
    def balance_reading():
        return alert_balance.kept()  # the worker's reading: a page never asks Staffify for it

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
        "project_slug": project_slug,
        "project_name": project_name,
        "projects": projects,
        "release_alerts": release_alerts,
        "balance": balance,
        "balance_reading": balance_reading,
        "server_now": server_now,
        "role": role,
        "unread_alerts": unread_alerts,
        "job_notice": job_notice,
        "rules": RULES,
    }
