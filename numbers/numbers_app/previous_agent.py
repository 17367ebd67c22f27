"""The agent a number had before it was released, so that Reclaim can offer to give it back.

Staffify forgets it: a number is released only without an agent, and the API keeps no history. The
audit log remembers: the last change of agent recorded for the number (an unassign before a release, by
the dashboard or seen by the sync outside it) names the agent it took away. Reads the database only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from numbers_app import audit, ledger, settle, staffify
from numbers_app.explain import explain
from numbers_app.models import AuditEntry
from numbers_app.presenters import NumberRow

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


def find_many(number_ids: Iterable[int], agents: list[staffify.Agent]) -> dict[int, PreviousAgent]:
    """For each number whose last recorded change of agent took one away: that agent."""
    ids = list(number_ids)
    if not ids:
        return {}
    names = {a.id: a.name for a in agents}
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


def find(number_id: int, agents: list[staffify.Agent]) -> PreviousAgent | None:
    return find_many([number_id], agents).get(number_id)


def annotate(rows: list[NumberRow], agents: list[staffify.Agent]) -> list[NumberRow]:
    """Pending rows learn the agent Reclaim can give back (row.extra["previous_agent"])."""
    pending = [row for row in rows if row.is_pending]
    previous = find_many([row.id for row in pending], agents)
    for row in pending:
        if row.id in previous:
            row.extra["previous_agent"] = previous[row.id]
    return rows


@dataclass
class GivenBack:
    number: staffify.PhoneNumber
    problem: str = ""  # why the number is not with its agent again


def give_back(
    client: staffify.StaffifyClient,
    user: Any,
    number: staffify.PhoneNumber,
    value: str,
    agents: list[staffify.Agent],
) -> GivenBack:
    """Assign NUMBER (just reclaimed) to the agent it had before its release, audited ahead."""
    previous = find(number.id, agents)
    why = ""
    if previous is None or str(previous.id) != value:
        why = "it was not given back: the dashboard does not know which agent it had before. Choose one in its row."
    elif not previous.exists:
        why = (
            f"it was not given back to {previous.name}: that agent is no longer in this account's agent list "
            "(deleted in Staffify?). Choose another one in its row."
        )
    if previous is None or why:
        audit.record(
            user,
            audit.Action.ASSIGN,
            outcome=audit.Outcome.INVALID,
            number_id=number.id,
            phone_number=number.phone_number,
            message="Not tried after the reclaim: " + why,
        )
        return GivenBack(number, why)
    wanted = replace(number, agent_id=previous.id, agent_name=previous.name)
    entry = settle.begin(user, audit.Action.ASSIGN, number, wanted)
    try:
        client.assign(number.id, previous.id)
    except staffify.StaffifyError as err:
        if isinstance(err, staffify.NotFoundError):
            # The number was just reclaimed, so a 404 here means the agent is gone.
            why = (
                f"it was not given back to {previous.name}: Staffify does not know that agent any more "
                f"(deleted?). Choose another one in its row. Request id {err.request_id or 'unknown'}."
            )
            audit.settle(entry, audit.Outcome.ERROR, err=err, message="Not given back: " + why)
            return GivenBack(number, why)
        settled = settle.answered(client, entry, err)
        if settled.outcome == audit.Outcome.OK and settled.number is not None:
            return GivenBack(settled.number)
        problem = settled.problem.message if settled.problem else explain(err).message
        return GivenBack(settled.number or number, f"giving it back to {previous.name} failed: {problem}")
    settle.confirmed(entry, wanted, message="Given back to its agent after the reclaim.")
    ledger.record_seen(wanted)
    return GivenBack(wanted)
