"""Roles per project, for Django's permission checks (`user.has_perm`, `perms` in templates).

A global group (Operations, Support, Team lead) is that role in every project, as before projects. A
ProjectMembership overrides it in its project: another role, or none at all. So every check the
dashboard makes (the views' decorator, the write service, the templates) answers for the project the
code works for now (numbers_app.scope) without being told. Permissions outside the three roles (the
admin's) stay those of the groups.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from numbers_app.models import ProjectMembership, current_project_pk
from numbers_app.roles import ROLES

ROLE_PERMS = {f"numbers.{codename}" for codenames in ROLES.values() for codename in codenames}


class ProjectRoleBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        project_pk = current_project_pk()
        cached = user_obj.__dict__.setdefault("_project_perm_cache", {})
        if project_pk not in cached:
            perms = self.get_user_permissions(user_obj) | self.get_group_permissions(user_obj)
            role = (
                ProjectMembership.objects.filter(user=user_obj, project_id=project_pk)
                .values_list("role", flat=True)
                .first()
            )
            if role is not None:
                perms = (perms - ROLE_PERMS) | {f"numbers.{codename}" for codename in ROLES.get(role, [])}
            cached[project_pk] = perms
        return cached[project_pk]
