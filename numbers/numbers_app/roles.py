"""The three roles as groups, and how a refusal names them. Migration 0002 created the groups;
`ensure_roles` restores them where a database was emptied (a test flush) without migrating again."""

from django.contrib.auth.models import Group, Permission

from numbers_app import scope

ROLES = {
    "Operations": [
        "view_dashboard",
        "buy_number",
        "release_number",
        "reclaim_number",
        "assign_agent",
        "edit_tags",
        "manage_addresses",
        "manage_people",
        "manage_alerts",
    ],
    "Support": ["view_dashboard", "assign_agent", "edit_tags"],
    "Team lead": ["view_dashboard"],
}


def ensure_roles() -> None:
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="numbers", codename__in=codenames))


VERBS = {
    "numbers.view_dashboard": "see the dashboard",
    "numbers.buy_number": "buy numbers",
    "numbers.release_number": "release numbers",
    "numbers.reclaim_number": "reclaim numbers",
    "numbers.assign_agent": "assign agents",
    "numbers.edit_tags": "edit tags",
    "numbers.manage_addresses": "manage addresses",
    "numbers.manage_people": "manage people",
    "numbers.manage_alerts": "manage alert thresholds and webhooks",
}


def role_of(user) -> str:
    """The role's name in the current project (numbers_app.scope): a membership there, else the groups."""
    if user.is_superuser:
        return "Administrator"
    current = scope.current()
    if current is not None:
        role = user.project_roles.filter(project_id=current.pk).values_list("role", flat=True).first()
        if role is not None:
            return "no role" if role == "none" else role
    names = sorted(g.name for g in user.groups.all())
    return ", ".join(names) if names else "no role"


def denial(user, perm: str) -> str:
    return f"Your role ({role_of(user)}) cannot {VERBS[perm]}."
