"""Bulk changes from a CSV file: `phone_number,agent` and/or `phone_number,tags`.

- The first line names the columns: `phone_number` and at least one of `agent` and `tags` (any order,
  any case; other columns are refused so a typo is not silently ignored).
- `phone_number`: E.164 (`+14155550100`); spaces, dashes, dots and brackets are ignored, and a number
  written without its `+` gets one.
- `agent`: the agent's name (as in the dashboard, any case), its numeric id, or its public id
  (`agent_28c51f81`); `none` unassigns; an empty cell leaves the agent as it is.
- `tags`: the number's whole list of tags, separated by `;` (a comma would split the CSV cell);
  `-` alone clears them; an empty cell leaves the tags as they are. Staffify's limits apply
  (at most 20 tags of at most 50 characters, no repeats).

At most MAX_BYTES and MAX_LINES. Every problem is reported with its line number; the good lines can
still be run.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from numbers_app.bulk.jobs import Item
from numbers_app.mirror import store as mirror
from numbers_app.models import MirrorAgent, NumberRecord
from numbers_app.rules import MAX_TAG_LENGTH, MAX_TAGS, tag_key

MAX_BYTES = 1024 * 1024
MAX_LINES = 20_000
TAG_SEPARATOR = ";"
COLUMNS = ("phone_number", "agent", "tags")
NOISE = re.compile(r"[\s\-().]")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class LineProblem:
    line: int
    message: str


@dataclass
class Parsed:
    items: list[Item] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    lines: int = 0  # data lines read
    error: str = ""  # the file as a whole could not be read


def parse(data: bytes) -> Parsed:
    """The changes a file asks for, checked against the mirror (numbers and agents): 0 Staffify calls."""
    if len(data) > MAX_BYTES:
        return Parsed(error=f"The file is larger than {MAX_BYTES // 1024} KB: split it.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed(error="The file is not UTF-8 text: save it as “CSV UTF-8” and upload it again.")
    if "\x00" in text:
        return Parsed(error="The file is not a CSV text file.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as err:
        return Parsed(error=f"Line 1 is not valid CSV ({err}).")
    if not header or not any(cell.strip() for cell in header):
        return Parsed(error="The file is empty: the first line must name the columns, e.g. phone_number,agent.")
    columns = [cell.strip().lower() for cell in header]
    unknown = [c for c in columns if c not in COLUMNS]
    if (
        unknown
        or "phone_number" not in columns
        or not {"agent", "tags"} & set(columns)
        or len(set(columns)) != len(columns)
    ):
        return Parsed(
            error="The first line must name the columns: phone_number and agent and/or tags "
            f"(found: {', '.join(columns)[:200]})."
        )
    found = Parsed()
    numbers = {r.phone_number: r for r in mirror.owned()}
    agents = _agent_index()
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if found.lines >= MAX_LINES:
                found.error = f"The file has more than {MAX_LINES} lines: split it."
                return found
            if not any(cell.strip() for cell in cells):
                continue
            found.lines += 1
            _line(found, line, dict(zip(columns, (c.strip() for c in cells), strict=False)), numbers, agents, seen)
    except csv.Error as err:
        found.error = f"Line {reader.line_num} is not valid CSV ({err})."
    if not found.lines and not found.error:
        found.error = "The file names its columns but has no lines under them."
    return found


def _agent_index() -> dict[str, Any]:
    """Agents by id, public id and lower-case name; a name two agents share maps to None (ambiguous)."""
    index: dict[str, Any] = {}
    for agent in MirrorAgent.objects.all():
        index[str(agent.staffify_id)] = agent
        if agent.public_id:
            index[agent.public_id.lower()] = agent
        name = agent.name.strip().lower()
        if name:
            index[name] = None if name in index and index[name] is not agent else agent
    return index


def normalise(phone: str) -> str:
    value = NOISE.sub("", phone)
    if value.isdigit():
        value = "+" + value
    return value


def _line(
    found: Parsed,
    line: int,
    cells: dict[str, str],
    numbers: dict[str, NumberRecord],
    agents: dict[str, Any],
    seen: dict[str, int],
) -> None:
    def problem(message: str) -> None:
        found.problems.append(LineProblem(line, message))

    phone = normalise(cells.get("phone_number", ""))
    if not phone:
        return problem("no phone number")
    if not E164.match(phone):
        return problem(f"“{cells.get('phone_number', '')[:40]}” is not a phone number in E.164 form (+14155550100)")
    record = numbers.get(phone)
    if record is None:
        return problem(f"{phone} is not a number of this account (as of the last sync)")
    if phone in seen:
        return problem(f"{phone} appears again (first on line {seen[phone]})")
    items: list[Item] = []
    agent_cell = cells.get("agent", "")
    if agent_cell:
        if agent_cell.lower() == "none":
            items.append(Item(record, "unassign", {}, line))
        else:
            key = agent_cell.lower()
            if key in agents and agents[key] is None:
                return problem(f"two agents are named “{agent_cell[:60]}”: use its id")
            agent = agents.get(key)
            if agent is None:
                return problem(f"no agent “{agent_cell[:60]}” (by name, id or public id)")
            items.append(Item(record, "assign", {"agent_id": agent.staffify_id, "agent_name": agent.name}, line))
    tags_cell = cells.get("tags", "")
    if tags_cell:
        tags, why = parse_tags(tags_cell)
        if why:
            return problem(why)
        items.append(Item(record, "set_tags", {"tags": tags}, line))
    if not items:
        return problem("nothing to change (agent and tags are empty)")
    seen[phone] = line
    found.items.extend(items)


def parse_tags(cell: str) -> tuple[list[str], str]:
    """The tags of a cell, or why they cannot be."""
    if cell.strip() == "-":
        return [], ""
    tags = [t.strip() for t in cell.split(TAG_SEPARATOR)]
    seen: set[str] = set()
    for tag in tags:
        if not tag:
            return [], f"an empty tag (two “{TAG_SEPARATOR}” in a row, or one at the end)"
        if len(tag) > MAX_TAG_LENGTH:
            return [], f"tag “{tag[:20]}…” is longer than {MAX_TAG_LENGTH} characters"
        if tag_key(tag) in seen:
            return [], f"tag “{tag[:50]}” appears twice"
        seen.add(tag_key(tag))
    if len(tags) > MAX_TAGS:
        return [], f"{len(tags)} tags: Staffify allows at most {MAX_TAGS}"
    return tags, ""
