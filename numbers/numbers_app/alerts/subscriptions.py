"""Who gets what: each person's subscriptions per kind of alert, and their role's defaults where they
chose nothing. Team leads: the runway and a daily digest; Operations: releases, jobs, addresses, the
sync and the worker's health (and refused purchases, reclaim windows); Support: the jobs they started.
E-mail is offered only where mail is configured (EMAIL_URL; the console in sandbox mode)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from numbers_app.models import Alert, ProjectMembership, Subscription

Kind = Alert.Kind
DIGEST = "digest"

# The kinds a person may subscribe to, in the order the settings page lists them.
CHOICES: list[tuple[str, str]] = [
    *[(kind.value, kind.label) for kind in Kind if kind != Kind.TEST],
    (DIGEST, "Daily digest (e-mail): what happened in a day, with changes made outside the dashboard"),
]
LABELS = dict(CHOICES)

OPERATIONS = {
    Kind.RELEASE,
    Kind.RELEASE_DUE,
    Kind.RECLAIM,
    Kind.BULK,
    Kind.ADDRESS,
    Kind.SYNC,
    Kind.WORKER,
    Kind.CREDIT,
}


@dataclass(frozen=True)
class Choice:
    kind: str
    inbox: bool
    email: bool
    mine_only: bool = False

    @property
    def any(self) -> bool:
        return self.inbox or self.email


def mail_enabled() -> bool:
    return bool(getattr(settings, "ALERT_EMAIL_ENABLED", False))


def defaults(user: Any, role: str | None = None) -> dict[str, Choice]:
    """What USER's role gets without choosing: their groups' roles, or ROLE (their role in a project,
    from a membership there)."""
    groups = {role} if role else {g.name for g in user.groups.all()}
    chosen: dict[str, Choice] = {}
    if user.is_superuser or "Operations" in groups:
        for kind in OPERATIONS:
            chosen[kind] = Choice(kind, inbox=True, email=True)
    if "Team lead" in groups:
        chosen[Kind.RUNWAY] = Choice(Kind.RUNWAY, inbox=True, email=True)
        chosen[DIGEST] = Choice(DIGEST, inbox=False, email=True)
    if "Support" in groups and Kind.BULK not in chosen:
        chosen[Kind.BULK] = Choice(Kind.BULK, inbox=True, email=True, mine_only=True)
    return chosen


def effective(user: Any, role: str | None = None) -> dict[str, Choice]:
    """USER's subscriptions: their own choices over their role's defaults (ROLE: in one project), for
    every kind."""
    chosen = defaults(user, role)
    for row in Subscription.objects.filter(user=user):
        chosen[row.kind] = Choice(row.kind, inbox=row.inbox, email=row.email, mine_only=row.mine_only)
    return {kind: chosen.get(kind, Choice(kind, inbox=False, email=False)) for kind, _ in CHOICES}


def people() -> Any:
    """Everyone who may see the dashboard (and so may receive alerts)."""
    User = get_user_model()
    can_view = (
        Q(groups__permissions__codename="view_dashboard")
        | Q(is_superuser=True)
        | Q(project_roles__role__in=[r for r in ProjectMembership.Role.values if r != ProjectMembership.Role.NONE])
    )
    return User.objects.filter(can_view, is_active=True).distinct().prefetch_related("groups", "project_roles")


Audience = list[tuple[Any, dict[str, Choice]]]


def audience() -> Audience:
    """Everyone who may receive alerts, with their subscriptions: read once per evaluation."""
    return [(user, effective(user)) for user in people()]


def recipients(alert: Alert, everyone: Audience | None = None) -> list[tuple[Any, Choice]]:
    """Who hears of ALERT, and how. A test alert reaches only its owner."""
    if alert.kind == Kind.TEST:
        return [(alert.owner, Choice(Kind.TEST, inbox=True, email=True))] if alert.owner else []
    found = []
    project = alert.project
    for user, choices in everyone if everyone is not None else audience():
        if project is not None:  # a project's alert: for those who may see that project, by their role there
            if not project.visible_to(user):
                continue
            role = next((m.role for m in user.project_roles.all() if m.project_id == project.pk), None)
            if role is not None:
                choices = effective(user, role)
        choice = choices.get(alert.kind)
        if choice is None or not choice.any:
            continue
        if choice.mine_only and alert.owner_id != user.pk:
            continue
        found.append((user, choice))
    return found


def save(user: Any, choices: dict[str, Choice]) -> list[str]:
    """Store USER's choices; the kinds that changed (for the audit log)."""
    before = effective(user)
    changed = []
    for kind, choice in choices.items():
        if before.get(kind) == choice:
            continue
        Subscription.objects.update_or_create(
            user=user, kind=kind, defaults={"inbox": choice.inbox, "email": choice.email, "mine_only": choice.mine_only}
        )
        changed.append(kind)
    return changed
