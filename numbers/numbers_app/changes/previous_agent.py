"""The agent a number had before it was released, so that Reclaim can offer to give it back.

Staffify forgets it: a number is released only without an agent, and the API keeps no history. The
audit log remembers: the last change of agent recorded for the number (an unassign before a release, by
the dashboard or seen by the sync outside it) names the agent it took away. Reads the database only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from numbers_app import staffify
from numbers_app.models import AuditEntry
from numbers_app.text.presenters import NumberRow

Action = AuditEntry.Action

AGENT_CHANGES = (Action.ASSIGN, Action.UNASSIGN, Action.RELEASE, Action.OUTSIDE)
HISTORY_PER_NUMBER = 50  # the agent taken away is among a number's last few changes


@dataclass(frozen=True)
class PreviousAgent:
    id: int
    name: str
    exists: bool  # still among the account's agents, as far as the dashboard knows


def _agent_change(entry: AuditEntry) -> tuple[int | None, str] | None:
    """(agent before, its name) when ENTRY changed the number's agent, else None."""
    before, after = entry.before or {}, entry.after or {}
    if "agent_id" not in before or "agent_id" not in after or before["agent_id"] == after["agent_id"]:
        return None
    return before["agent_id"], before.get("agent_name") or ""


def find_many(number_ids: Iterable[int], agents: Sequence[staffify.Agent]) -> dict[int, PreviousAgent]:
    """For each number whose last recorded change of agent took one away: that agent."""
    ids = list(number_ids)
    if not ids:
        return {}
    names = staffify.agent_names(agents)
    found: dict[int, PreviousAgent] = {}
    decided: set[int] = set()
    entries = (
        AuditEntry.objects.filter(number_id__in=ids, action__in=AGENT_CHANGES, outcome=AuditEntry.Outcome.OK)
        .only("number_id", "before", "after", "at")
        .order_by("-at", "-id")[: HISTORY_PER_NUMBER * len(ids)]
    )
    for entry in entries:
        number_id = entry.number_id
        if number_id is None or number_id in decided:
            continue
        change = _agent_change(entry)
        if change is None:
            continue
        decided.add(number_id)
        agent_id, name = change
        if agent_id is not None and (entry.after or {}).get("agent_id") is None:
            found[number_id] = PreviousAgent(
                id=int(agent_id),
                name=names.get(int(agent_id)) or name or f"agent #{agent_id}",
                exists=agent_id in names,
            )
    return found


def find(number_id: int, agents: Sequence[staffify.Agent]) -> PreviousAgent | None:
    return find_many([number_id], agents).get(number_id)


def annotate(rows: list[NumberRow], agents: Sequence[staffify.Agent]) -> list[NumberRow]:
    """Pending rows learn the agent Reclaim can give back (row.extra["previous_agent"])."""
    pending = [row for row in rows if row.is_pending]
    previous = find_many([row.id for row in pending], agents)
    for row in pending:
        if row.id in previous:
            row.extra["previous_agent"] = previous[row.id]
    return rows
