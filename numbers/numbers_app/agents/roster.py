"""The agents page's figures, from the mirror alone (0 Staffify calls): every agent the last sync saw
with the numbers it holds and what they cost per 28 days, the agents holding none, and the numbers
whose agent Staffify no longer has (the sync removes an agent it no longer lists)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Q

from numbers_app.mirror import store as mirror
from numbers_app.models import MirrorAgent
from numbers_app.rules import PRICE_PER_CYCLE


@dataclass
class Holder:
    agent_id: int | None
    name: str
    public_id: str
    active: int
    pending: int
    exists: bool  # in the agents list the last sync saw

    @property
    def numbers(self) -> int:
        return self.active + self.pending

    @property
    def cost(self) -> Decimal:
        """Per 28 days: each active number once (a number pending release does not renew)."""
        return PRICE_PER_CYCLE * self.active


@dataclass
class Roster:
    holding: list[Holder]  # agents that hold numbers, the most expensive first
    idle_agents: list[Holder]  # agents that hold none
    missing: list[Holder]  # agent ids numbers still hold that Staffify no longer lists
    unassigned: Holder  # the numbers with no agent
    agents_known: bool  # a sync has seen the agents list (else nothing can be called missing)

    @property
    def cost(self) -> Decimal:
        return sum((h.cost for h in [*self.holding, *self.missing, self.unassigned]), Decimal("0.00"))


def roster() -> Roster:
    """Two queries: the agents, and one GROUP BY agent over the mirror (the index mirror_agent)."""
    agents = {a.staffify_id: a for a in MirrorAgent.objects.all()}
    held = (
        mirror.owned()
        .order_by()
        .values("agent_id")
        .annotate(
            active=Count("pk", filter=Q(last_status="active")),
            pending=Count("pk", filter=Q(last_status="pending_release")),
            seen_name=Max("agent_name"),
        )
    )
    holding: list[Holder] = []
    missing: list[Holder] = []
    unassigned = Holder(None, "No agent", "", 0, 0, True)
    for group in held:
        agent_id = group["agent_id"]
        if agent_id is None:
            unassigned = Holder(None, "No agent", "", group["active"], group["pending"], True)
            continue
        agent = agents.get(agent_id)
        name = (agent.name if agent else "") or group["seen_name"] or f"Agent #{agent_id}"
        holder = Holder(
            agent_id, name, agent.public_id if agent else "", group["active"], group["pending"], bool(agent)
        )
        (holding if agent or not agents else missing).append(holder)
    holders = {h.agent_id for h in holding}
    idle_agents = [
        Holder(a.staffify_id, a.name or f"Agent #{a.staffify_id}", a.public_id, 0, 0, True)
        for a in agents.values()
        if a.staffify_id not in holders
    ]
    holding.sort(key=lambda h: (-h.active, -h.pending, h.name.lower(), h.agent_id or 0))
    idle_agents.sort(key=lambda h: (h.name.lower(), h.agent_id or 0))
    missing.sort(key=lambda h: (-h.numbers, h.agent_id or 0))
    return Roster(holding, idle_agents, missing, unassigned, agents_known=bool(agents))
