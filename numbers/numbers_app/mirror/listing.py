"""The owned list from the mirror: filters, sorting and pages over the whole account, 0 Staffify calls."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import overload

from django.core.cache import cache
from django.db.models import F, Q, QuerySet

from numbers_app import staffify
from numbers_app.mirror import store as mirror
from numbers_app.models import MirrorAgent, NumberRecord, NumberTag, ScheduledRelease, current_project_pk
from numbers_app.notes import book as notes
from numbers_app.rules import tag_key
from numbers_app.text.presenters import NumberRow, build_row

PAGE_SIZE = 50
NOTE_MATCHES = 20_000  # at most this many numbers found by their name or note
# ?sort= values (a leading "-" reverses) and the mirror columns they order by.
SORTS = {
    "number": "phone_number",
    "agent": "agent_name",
    "status": "last_status",
    "purchased": "purchased_at",
    "next_charge": "next_charge_at",
}


def numbers(filters: dict[str, str], sort: str = "") -> QuerySet[NumberRecord]:
    """The account's numbers matching FILTERS (a clean NumberFilterForm's), in SORT order; without
    a sort, Staffify's own order (by id)."""
    found = mirror.owned()
    if status := filters.get("status"):
        found = found.filter(last_status=status)
    if agent := filters.get("agent"):
        found = found.filter(agent_id__isnull=True) if agent == "none" else found.filter(agent_id=int(agent))
    if tag := filters.get("tag"):
        found = found.filter(staffify_id__in=NumberTag.objects.filter(tag=tag_key(tag)).values("staffify_id"))
    if country := filters.get("country"):
        found = found.filter(country_code=country)
    if filters.get("scheduled"):
        waiting = ScheduledRelease.objects.filter(state__in=ScheduledRelease.WAITING)
        found = found.filter(staffify_id__in=waiting.values("staffify_id"))
    if text := filters.get("q"):
        # Digits match the number (and a name or note holding them); words match a name or note.
        # The notes that match are few: their ids first, so the digits stay an index lookup (trigram).
        noted = Q(staffify_id__in=list(notes.matching(text).values_list("staffify_id", flat=True)[:NOTE_MATCHES]))
        found = found.filter(noted | Q(phone_number__contains=text) if text.isdigit() else noted)
    column = SORTS.get(sort.lstrip("-"))
    if column is None:
        return found.order_by("staffify_id")
    key = F(column).desc(nulls_last=True) if sort.startswith("-") else F(column).asc(nulls_last=True)
    return found.order_by(key, "staffify_id")


COUNT_TIMEOUT = 24 * 3600  # a count is never read again once the mirror changed (mirror.version)


def total(filters: dict[str, str], found: QuerySet[NumberRecord], version: int | None = None) -> int:
    """How many numbers match FILTERS (FOUND is `numbers(filters)` with any extra narrowing folded into
    FILTERS' key by the caller). Exact: computed once per filter and mirror version, so a page, its
    reloads, its "mirrorSynced" refreshes and every other viewer of the same filter share one COUNT(*)
    until a sync or a write changes the mirror. VERSION: the mirror's, when the caller has read it."""
    if filters.get("scheduled"):  # scheduling changes no mirror row, so no mirror version: count it now
        return found.count()
    key = json.dumps(sorted((name, tag_key(value) if name == "tag" else value) for name, value in filters.items()))
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    # The search also finds names and notes, which change no mirror row: their own version counts too.
    noted = f":{notes.version()}" if filters.get("q") else ""
    version = mirror.version() if version is None else version
    cache_key = f"numbers:count:{current_project_pk()}:{version}{noted}:{digest}"
    count = cache.get(cache_key)
    if count is None:
        count = found.count()
        cache.set(cache_key, count, COUNT_TIMEOUT)
    return count


def rows(records: list[NumberRecord]) -> list[NumberRow]:
    built = [build_row(mirror.as_number(r), r) for r in records]
    waiting = ScheduledRelease.objects.filter(
        state__in=ScheduledRelease.WAITING, staffify_id__in=[r.staffify_id for r in records]
    )
    scheduled = {s.staffify_id: s for s in waiting}
    noted = notes.for_ids(r.staffify_id for r in records)
    for row in built:
        row.extra["release_scheduled"] = scheduled.get(row.id)
        row.extra["note"] = noted.get(row.id)
    return built


class Agents(Sequence[staffify.Agent]):
    """The agents, with the mirror version they were read at (what is rendered from them is kept per
    version: presenters.every_agent_option) and `names` (id -> name), which is all the owned list
    needs of them: a page reads that dict from the cache, and the agents themselves only when it goes
    through them (1,000 agents unpickled were about 2 ms of every list page)."""

    def __init__(self, names: dict[int, str], version: str | None, load: Callable[[], list[staffify.Agent]]):
        self.names = names
        self.version = version
        self._load = load
        self._agents: list[staffify.Agent] | None = None

    def _all(self) -> list[staffify.Agent]:
        if self._agents is None:
            self._agents = self._load()
        return self._agents

    def __len__(self) -> int:
        return len(self.names)

    def __bool__(self) -> bool:
        return bool(self.names)

    def __iter__(self) -> Iterator[staffify.Agent]:
        return iter(self._all())

    @overload
    def __getitem__(self, index: int) -> staffify.Agent: ...
    @overload
    def __getitem__(self, index: slice) -> list[staffify.Agent]: ...
    def __getitem__(self, index):
        return self._all()[index]


def agents(version: int | None = None) -> Agents:
    """The account's agents as the last sync saw them: read once per mirror version (the sync bumps it
    when an agent comes, goes or is renamed), not on every page (1,000 agents were 1,000 objects a page).
    Their names are kept apart from them: most pages need only those. VERSION: the mirror's, when the
    caller has read it (one read a page)."""
    current = f"{current_project_pk()}:{mirror.version() if version is None else version}"
    key = f"mirror:agents:{current}"

    def load() -> list[staffify.Agent]:
        found = cache.get(key)
        if found is None:
            found = [
                staffify.Agent(id=staffify_id, name=name, public_id=public_id or None)
                for staffify_id, name, public_id in MirrorAgent.objects.values_list("staffify_id", "name", "public_id")
            ]
            cache.set(key, found, COUNT_TIMEOUT)
        return found

    names_key = f"mirror:agent-names:{current}"
    names = cache.get(names_key)
    if names is None:
        names = dict(MirrorAgent.objects.values_list("staffify_id", "name"))
        cache.set(names_key, names, COUNT_TIMEOUT)
    return Agents(names, current, load)
