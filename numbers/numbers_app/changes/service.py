"""The one way to change a number: assign, unassign, tags, release (with "unassign first") and reclaim
(with "give it back to" its agent).

Every path that writes calls these functions: the row actions on the owned list and the number page,
the bulk runner, scheduled releases and the set-up after a purchase. None of them talks to Staffify or
the audit log for a write itself. Each function does the whole sequence, in this order:

1. the number as it is before (read from Staffify, or the state the caller planned from: a bulk row
   plans from the mirror, a purchase's set-up from the number just bought);
2. the role, on the server (and for "unassign first" the right to unassign too: without it nothing is
   sent); Staffify's own rules are Staffify's to enforce (a release of a number with an agent is
   refused with its reason), so that the page says what Staffify said;
3. the write-ahead audit entry `sent`, committed before anything leaves (numbers_app.changes.settle);
4. the write;
5. the outcome settled from the answer: done, failed, or unknown until a read-back says;
6. the mirror row (numbers_app.mirror.ledger);
7. what the write makes obsolete, closed (numbers_app.changes.obsolete: a release makes the
   number's waiting scheduled release pointless).

The caller gets a `Change` and renders it: the number as Staffify now has it (when known), the problem
to show, the note of a write that was done but not plainly (checked after a late answer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from numbers_app import staffify
from numbers_app.audit import log as audit
from numbers_app.changes import obsolete, previous_agent, settle
from numbers_app.mirror import ledger
from numbers_app.models import AuditEntry
from numbers_app.roles import denial
from numbers_app.text.explain import Problem, explain

Action = AuditEntry.Action
Outcome = AuditEntry.Outcome

NOT_READ = "Not tried: the number's state could not be read."


@dataclass
class Change:
    """How a change ended. `outcome` is the audit log's: ok, error, unknown, denied or invalid."""

    outcome: str
    number: staffify.PhoneNumber | None  # Staffify's state after it, as far as the dashboard knows
    problem: Problem | None = None  # what to tell the user when the change is not known to be done
    note: str = ""  # done, but not as plainly as a confirmation: what was checked
    err: staffify.StaffifyError | None = None  # Staffify's answer when it was an error
    before: staffify.PhoneNumber | None = None  # the number before the change (None: it could not be read)
    given_back: str = ""  # reclaim with "give it back to": why the agent was not given back ("" when it was)
    entry: AuditEntry | None = None  # a refusal's audit entry

    @property
    def done(self) -> bool:
        return self.outcome == Outcome.OK

    @property
    def rate_limited(self) -> bool:
        """Refused for the rate limit, and read back: not done (a bulk job waits it out and tries again)."""
        return isinstance(self.err, staffify.RateLimitError) and self.outcome == Outcome.ERROR


# ---------------------------------------------------------------------------------------------
# The rules


def release_refusal(number: staffify.PhoneNumber, user: Any, *, unassign_first: bool) -> str | None:
    """Why a plan made from the mirror (a bulk row, a scheduled release) will not release NUMBER for
    USER as asked (None: it will). The same right to unassign that `release` checks."""
    if number.status == "pending_release":
        return "already pending release"
    if number.status != "active":
        return f"status is {number.status}"
    if number.agent_id is None:
        return None
    if not unassign_first:
        return "has an agent (tick “unassign first”)"
    if not user.has_perm("numbers.assign_agent"):
        return denial(user, "numbers.assign_agent").rstrip(".") + " before releasing"
    return None


# ---------------------------------------------------------------------------------------------
# The writes


def assign(
    client: staffify.StaffifyClient,
    user: Any,
    number_id: int,
    agent_id: int,
    *,
    agent_name: str | None = None,
    before: staffify.PhoneNumber | None = None,
    bulk_job: Any = None,
    message: str = "",
) -> Change:
    """Give the number to AGENT_ID (Staffify replaces any agent it had)."""
    return _one(
        client,
        user,
        Action.ASSIGN,
        "numbers.assign_agent",
        number_id,
        lambda n: replace(n, agent_id=agent_id, agent_name=agent_name),
        before=before,
        bulk_job=bulk_job,
        message=message,
    )


def unassign(
    client: staffify.StaffifyClient,
    user: Any,
    number_id: int,
    *,
    before: staffify.PhoneNumber | None = None,
    bulk_job: Any = None,
    message: str = "",
) -> Change:
    return _one(
        client,
        user,
        Action.UNASSIGN,
        "numbers.assign_agent",
        number_id,
        lambda n: replace(n, agent_id=None, agent_name=None),
        before=before,
        bulk_job=bulk_job,
        message=message,
    )


def set_tags(
    client: staffify.StaffifyClient,
    user: Any,
    number_id: int,
    tags: list[str],
    *,
    before: staffify.PhoneNumber | None = None,
    bulk_job: Any = None,
    message: str = "",
) -> Change:
    """Replace the number's tags with TAGS (already checked against Staffify's rules by the caller's form)."""
    return _one(
        client,
        user,
        Action.TAGS,
        "numbers.edit_tags",
        number_id,
        lambda n: replace(n, tags=tuple(tags)),
        before=before,
        bulk_job=bulk_job,
        message=message,
        audit_after={"tags": list(tags)},
    )


def release(
    client: staffify.StaffifyClient,
    user: Any,
    number_id: int,
    *,
    unassign_first: bool = False,
    before: staffify.PhoneNumber | None = None,
    bulk_job: Any = None,
    message: str = "",
    on_sent: Callable[[AuditEntry], None] | None = None,
) -> Change:
    """Release the number; with UNASSIGN_FIRST, unassign its agent first (a right of its own: a role that
    may release but not assign gets nothing sent). ON_SENT sees the release's audit entry as soon as it
    is committed, before the release leaves (a scheduled release links it, to follow it after a crash)."""
    if not user.has_perm("numbers.release_number"):
        why = denial(user, "numbers.release_number")
        return refuse(user, Action.RELEASE, why, number_id=number_id, number=before, outcome=Outcome.DENIED)
    current = before or _read(client, user, Action.RELEASE, number_id)
    if isinstance(current, Change):
        return current
    first = current
    if current.agent_id is not None and unassign_first:
        if not user.has_perm("numbers.assign_agent"):
            why = denial(user, "numbers.assign_agent").rstrip(".") + " before releasing, so nothing was sent."
            return refuse(user, Action.UNASSIGN, why, number=current, outcome=Outcome.DENIED)
        unassigned = _write(
            client,
            user,
            Action.UNASSIGN,
            current,
            replace(current, agent_id=None, agent_name=None),
            bulk_job=bulk_job,
            message="Unassigned to release it.",
        )
        if not unassigned.done or unassigned.number is None:
            return replace(unassigned, before=first)
        current = unassigned.number
    released = _write(
        client,
        user,
        Action.RELEASE,
        current,
        replace(current, status="pending_release", agent_id=None, agent_name=None),
        bulk_job=bulk_job,
        message=message,
        on_sent=on_sent,
    )
    return replace(released, before=first)


def reclaim(
    client: staffify.StaffifyClient,
    user: Any,
    number_id: int,
    *,
    give_back_to: str = "",
    agents: Sequence[staffify.Agent] | None = None,
    before: staffify.PhoneNumber | None = None,
    bulk_job: Any = None,
) -> Change:
    """Reclaim a number pending release; with GIVE_BACK_TO (the id of the agent it had before its
    release, as the page offered it), then assign it to that agent again (AGENTS: the account's). The
    reclaim stands whatever happens to the second write; `given_back` says why it was not made."""
    wants_agent = bool(give_back_to)
    if wants_agent and not user.has_perm("numbers.assign_agent"):
        why = "Role may not give the number back to its agent."
        refuse(user, Action.ASSIGN, why, number_id=number_id, outcome=Outcome.DENIED)
        wants_agent = False
    reclaimed = _one(
        client,
        user,
        Action.RECLAIM,
        "numbers.reclaim_number",
        number_id,
        lambda n: replace(n, status="active", reclaim_before=None),
        before=before,
        bulk_job=bulk_job,
    )
    if not wants_agent or not reclaimed.done or reclaimed.number is None:
        return reclaimed
    return _give_back(client, user, reclaimed, give_back_to, agents or [])


def _give_back(
    client: staffify.StaffifyClient, user: Any, reclaimed: Change, value: str, agents: Sequence[staffify.Agent]
) -> Change:
    """Assign the number just reclaimed to the agent it had before its release (numbers_app.changes.previous_agent)."""
    number = reclaimed.number
    assert number is not None
    previous = previous_agent.find(number.id, agents)
    why = ""
    if previous is None or str(previous.id) != value:
        why = "it was not given back: the dashboard does not know which agent it had before. Choose one in its row."
    elif not previous.exists:
        why = (
            f"it was not given back to {previous.name}: that agent is no longer in this account's agent list "
            "(deleted in Staffify?). Choose another one in its row."
        )
    if previous is None or why:
        refuse(user, Action.ASSIGN, "Not tried after the reclaim: " + why, number=number)
        return replace(reclaimed, given_back=why)
    given = _write(
        client,
        user,
        Action.ASSIGN,
        number,
        replace(number, agent_id=previous.id, agent_name=previous.name),
        message="Given back to its agent after the reclaim.",
        not_found=f"Not given back to {previous.name}: Staffify does not know that agent any more (deleted?).",
    )
    if given.done and given.number is not None:
        return replace(reclaimed, number=given.number)
    if isinstance(given.err, staffify.NotFoundError):
        why = (
            f"it was not given back to {previous.name}: Staffify does not know that agent any more (deleted?). "
            f"Choose another one in its row. Request id {given.err.request_id or 'unknown'}."
        )
        return replace(reclaimed, given_back=why)
    problem = given.problem.message if given.problem else explain(given.err).message if given.err else ""
    return replace(
        reclaimed, number=given.number or number, given_back=f"giving it back to {previous.name} failed: {problem}"
    )


# ---------------------------------------------------------------------------------------------
# The sequence


def _one(
    client: staffify.StaffifyClient,
    user: Any,
    action: str,
    perm: str,
    number_id: int,
    wanted: Callable[[staffify.PhoneNumber], staffify.PhoneNumber],
    *,
    before: staffify.PhoneNumber | None,
    bulk_job: Any,
    message: str = "",
    audit_after: dict | None = None,
) -> Change:
    """One write: the role, the number before, then `_write`."""
    if not user.has_perm(perm):
        return refuse(user, action, denial(user, perm), number_id=number_id, number=before, outcome=Outcome.DENIED)
    current = before or _read(client, user, action, number_id, audit_after)
    if isinstance(current, Change):
        return current
    return replace(
        _write(client, user, action, current, wanted(current), bulk_job=bulk_job, message=message), before=current
    )


def _read(
    client: staffify.StaffifyClient, user: Any, action: str, number_id: int, audit_after: dict | None = None
) -> staffify.PhoneNumber | Change:
    """The number before a change. When Staffify cannot say, nothing is tried: logged as failed."""
    try:
        return client.get_number(number_id)
    except staffify.StaffifyError as err:
        problem = explain(err)
        audit.record(
            user,
            action,
            outcome=Outcome.ERROR,
            number_id=number_id,
            after=audit_after,
            err=err,
            message=f"{NOT_READ} {problem.message}",
        )
        return Change(Outcome.ERROR, None, problem, err=err)


def _send(
    client: staffify.StaffifyClient, action: str, wanted: staffify.PhoneNumber
) -> tuple[staffify.PhoneNumber | None, datetime | None]:
    """One write; what Staffify answered about the number (when it said), and a release's deadline."""
    if action == Action.ASSIGN:
        assert wanted.agent_id is not None
        client.assign(wanted.id, wanted.agent_id)
    elif action == Action.UNASSIGN:
        client.unassign(wanted.id)
    elif action == Action.TAGS:
        return client.set_tags(wanted.id, list(wanted.tags)), None
    elif action == Action.RELEASE:
        return None, client.release(wanted.id).reclaim_before
    elif action == Action.RECLAIM:
        client.reclaim(wanted.id)
    else:
        raise ValueError(f"no Staffify write for {action!r}")
    return None, None


def _write(
    client: staffify.StaffifyClient,
    user: Any,
    action: str,
    before: staffify.PhoneNumber,
    wanted: staffify.PhoneNumber,
    *,
    bulk_job: Any = None,
    message: str = "",
    on_sent: Callable[[AuditEntry], None] | None = None,
    not_found: str = "",
) -> Change:
    """Write-ahead, send, settle, mirror, close what it made obsolete. NOT_FOUND is what a 404 means
    when the caller knows better than "the number is gone" (an assignment to an agent deleted since)."""
    entry = settle.begin(user, action, before, wanted, bulk_job=bulk_job)
    if on_sent is not None:
        on_sent(entry)
    try:
        answered, reclaim_before = _send(client, action, wanted)
    except staffify.NotFoundError as err:
        if not_found:
            audit.settle(entry, Outcome.ERROR, err=err, message=not_found)
            return Change(Outcome.ERROR, None, Problem(not_found, err.request_id), err=err)
        return _answered(client, user, entry, err, bulk_job)
    except staffify.StaffifyError as err:  # a 429 too: read back, then a refusal a bulk job waits out (`rate_limited`)
        return _answered(client, user, entry, err, bulk_job)
    after = replace(wanted, reclaim_before=reclaim_before) if action == Action.RELEASE else answered or wanted
    settle.confirmed(entry, after, message=message)
    _remember(action, after, user, bulk_job)
    return Change(Outcome.OK, after)


def _answered(
    client: staffify.StaffifyClient, user: Any, entry: AuditEntry, err: staffify.StaffifyError, bulk_job: Any
) -> Change:
    settled = settle.answered(client, entry, err)  # its read-back has updated the mirror row
    if settled.outcome == Outcome.OK and settled.number is not None and entry.action == Action.RELEASE:
        _remember(entry.action, settled.number, user, bulk_job)
    return Change(settled.outcome, settled.number, settled.problem, settled.note, err=err)


def _remember(action: str, number: staffify.PhoneNumber, user: Any, bulk_job: Any) -> None:
    """The mirror row follows a change known to be done; a release closes what it made obsolete."""
    if action == Action.RELEASE:
        ledger.record_release(number.id, number.phone_number, number.reclaim_before)
        obsolete.close_released([number.id], by=user, bulk_job=bulk_job)
    else:
        ledger.record_seen(number)


def refuse(
    user: Any,
    action: str,
    why: str,
    *,
    number_id: int | None = None,
    phone_number: str = "",
    number: staffify.PhoneNumber | None = None,
    outcome: str = Outcome.INVALID,
    after: dict | None = None,
) -> Change:
    """A change refused before anything was asked of Staffify (a form's input, a rule), logged; NUMBER
    is the number as it was, when it was read."""
    entry = audit.record(
        user,
        action,
        outcome=outcome,
        number_id=number.id if number else number_id,
        phone_number=number.phone_number if number else phone_number,
        before=audit.snapshot(number),
        after=after,
        message=why,
    )
    return Change(outcome, number, Problem(why), before=number, entry=entry)
