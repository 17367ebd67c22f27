"""The selection bar's actions, from numbers_app.bulk.jobs's registry: an action registered there (and
allowed to the viewer's role) appears in the bar without a template change."""

from __future__ import annotations

from django import template

from numbers_app.bulk import jobs as bulk

register = template.Library()


@register.simple_tag(takes_context=True)
def bulk_actions(context) -> dict:
    actions = bulk.offered(context["request"].user)
    return {
        "actions": [a for a in actions if a.key != "assign"],  # assign has its own "Assign to" menu
        "can_assign": any(a.key == "assign" for a in actions),
        "for_tags": " ".join(a.key for a in actions if "tags" in a.inputs),
        "for_unassign_first": " ".join(a.key for a in actions if "unassign_first" in a.inputs),
    }
