"""The three roles as groups. Migration 0002 created them; `ensure_roles` restores them where a
database was emptied (a test flush) without migrating again."""

from django.contrib.auth.models import Group, Permission

ROLES = {
    "Operations": [
        "view_dashboard",
        "buy_number",
        "release_number",
        "reclaim_number",
        "assign_agent",
        "edit_tags",
        "manage_addresses",
    ],
    "Support": ["view_dashboard", "assign_agent", "edit_tags"],
    "Team lead": ["view_dashboard"],
}


def ensure_roles() -> None:
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="numbers", codename__in=codenames))
