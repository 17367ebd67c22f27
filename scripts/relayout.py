#!/usr/bin/env python3
"""One-off: reorganise the flat app folder numbers/numbers_app/ into packages by concern.

Run from the repository's root, on a clean tree, with the project's Python (3.12+):

    .venv/bin/python scripts/relayout.py            # move, rewrite, ruff, check
    .venv/bin/python scripts/relayout.py --dry-run  # say what it would do, change nothing
    .venv/bin/python scripts/relayout.py --check    # only look for references to old paths

then `make lint` (ruff, mypy, lint-imports) and the tests, and commit. Delete this script after use.

What it does, in order:
1. Plans each MOVES entry: moves a module whose source exists and whose destination does not;
   skips one whose source is gone (not in this tree, or moved by an earlier run); stops on a
   conflict (source and destination both exist, a destination package that is a module, ...).
2. `git mv`s the files, creating each package with an empty `__init__.py`. A package named like a
   module it receives (mirror.py -> mirror/store.py) can be created before that module is moved:
   `mirror/` and `mirror.py` are different paths. Nothing is rewritten until every file is moved.
3. Rewrites references in every .py file under CODE_DIRS (and manage.py), from the syntax tree, not
   with sed:
   - `from numbers_app import a, b as c` becomes one statement per new package, keeping the local
     names: `from numbers_app import mirror` -> `from numbers_app.mirror import store as mirror`;
     `from numbers_app import billing as cycles` -> `from numbers_app.billing import cycles`;
   - `from numbers_app.bulk import Item` -> `from numbers_app.bulk.jobs import Item`;
   - `import numbers_app.views` and `numbers_app.views.x` in code -> `numbers_app.owned.views...`;
   - relative imports in a moved file, or to a moved module, become absolute;
   - dotted names and `numbers_app/x.py` paths in strings and comments
     (`mock.patch("numbers_app.bulk.time")`, settings' "numbers_app.middleware.X", docstrings),
     matched by whole dotted components (`numbers_app.bulk` never matches `numbers_app.bulk_files`).
   and the same dotted names and paths in CONFIG_FILES (text, not docs: README is left alone and
   its old references are listed at the end).
4. Runs `ruff check --fix --select I` and `ruff format` on the files it changed.
5. Checks the whole tree for what still names an old path: an import of a module that no longer
   exists, `from numbers_app import mirror` (now an empty package), `from numbers_app.mirror import
   sync` (not in the package), a string or comment naming a moved module. Any finding exits 1.

Re-running it is safe: moved entries are skipped, and references written against the old layout
since (a branch merged later) are rewritten again. On a re-run the name of a package that was a
module (`numbers_app.mirror`) is rewritten only where it cannot mean the package: bare, or followed by
a name that is not one of the package's modules.
"""

from __future__ import annotations

import argparse
import ast
import bisect
import io
import re
import shutil
import subprocess
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

APP = "numbers_app"
APP_DIR = Path("numbers") / APP

# old module (under numbers_app) -> new module (under numbers_app). Entries whose source file does
# not exist are skipped, so a module that may or may not be there when this runs can be listed.
MOVES: dict[str, str] = {
    # web/: the request side shared by every page: access, middleware, what a page shows and says.
    "access": "web.access",
    "middleware": "web.middleware",
    "privacy": "web.privacy",
    "converters": "web.converters",
    # text/: how the app writes things for people: a phone number, an instant, a problem, a CSV cell.
    "csvsafe": "text.csvsafe",
    "explain": "text.explain",
    "presenters": "text.presenters",
    "htmx": "web.htmx",  # `toast` and HTMX helpers, if that module exists by then
    "views_account": "web.account",
    "views_health": "web.health",
    # mirror/: the account remembered in our database, its age, and the reads and writes of it.
    "mirror": "mirror.store",
    "freshness": "mirror.freshness",
    "listing": "mirror.listing",
    "ledger": "mirror.ledger",
    "views_sync": "mirror.views",
    # changes/: every write to a number, and its audit trail's settlement.
    "changes": "changes.service",
    "settle": "changes.settle",
    "previous_agent": "changes.previous_agent",
    "obsolete": "changes.obsolete",
    # owned/: the owned list, a number's page and its row actions.
    "views": "owned.views",
    "forms": "owned.forms",
    # buying/
    "buying": "buying.service",
    "purchases": "buying.purchases",
    "purchase_times": "buying.purchase_times",
    "views_purchase": "buying.views",
    "forms_purchase": "buying.forms",
    # billing/
    "billing": "cycles",
    "statement": "billing.statement",
    "views_billing": "billing.views",
    # bulk/
    "bulk": "bulk.jobs",
    "bulk_files": "bulk.files",
    "forms_bulk": "bulk.forms",
    "views_bulk": "bulk.views",
    # scheduled/
    "scheduled_releases": "scheduled.releases",
    "views_scheduled": "scheduled.views",
    # addresses/
    "address_book": "addresses.book",
    "forms_addresses": "addresses.forms",
    "views_addresses": "addresses.views",
    # audit/
    "audit": "audit.log",
    "lockout": "audit.lockout",
    "views_audit": "audit.views",
    # staffify/ (the client package another branch creates from staffify.py): the organisation's
    # rate budget, which every answer feeds, and the client's briefly cached reads.
    "budget": "staffify.budget",
    "lookups": "staffify.lookups",
}

# Packages that this script joins but never creates: while numbers_app/staffify.py is still a
# module, the moves into it are skipped (with a warning) and those modules stay at the root.
JOIN_ONLY = {"staffify"}

# What stays at the app's root (Django finds some of these by their place); anything else left at
# the root after the moves is listed, in case a module appeared that the mapping does not know.
KEEP_AT_ROOT = {
    "__init__", "models", "rules", "roles", "cycles", "apps", "admin", "urls", "tasks", "schedule", "staffify",
    "context_processors",
}

CODE_DIRS = ["numbers", "tests", "dashboard", "sandbox", "bench", "scripts"]
CODE_FILES = ["manage.py"]
# Text rewritten like strings in code (dotted names and numbers_app/x.py paths). Not .importlinter:
# it is written for the new layout already.
CONFIG_GLOBS = [
    "pyproject.toml",
    "setup.cfg",
    "Makefile",
    "Dockerfile",
    "docker-compose.yml",
    ".ci/*",
    "scripts/*.sh",
    ".github/workflows/*.yml",
]
# Listed at the end when they still name old paths; not rewritten (prose is the lead's to edit).
DOC_GLOBS = ["README.md", "docs/*.md", "bench/README.md"]
SKIP_PARTS = {".venv", "venv", "__pycache__", ".git", "node_modules", "staticfiles", ".ruff_cache", ".mypy_cache"}

SELF = Path(__file__).resolve()

DOTTED = re.compile(rf"(?<![\w.]){APP}(?:\.[A-Za-z_]\w*)+")
PATHLIKE = re.compile(rf"(?<![\w.]){APP}/([A-Za-z_]\w*)\.py\b")
# `from numbers_app.x import a, b as c` inside a string (a `python -c` script) or a config file.
FSTRING_START = getattr(tokenize, "FSTRING_START", -1)  # Python 3.12+
FSTRING_END = getattr(tokenize, "FSTRING_END", -1)
IMPORT_IN_TEXT = re.compile(
    rf"from (?P<module>{APP}(?:\.[A-Za-z_]\w*)*) import (?P<names>\w+(?: as \w+)?(?:,[ \t]*\w+(?: as \w+)?)*)"
)


class Conflict(Exception):
    pass


def full(name: str) -> str:
    return f"{APP}.{name}"


def path_of(module: str) -> Path:
    """numbers_app.a.b -> numbers/numbers_app/a/b.py"""
    parts = module.split(".")
    assert parts[0] == APP, module
    return APP_DIR.joinpath(*parts[1:]).with_suffix(".py")


def is_package(module: str) -> bool:
    parts = module.split(".")
    return (APP_DIR.joinpath(*parts[1:]) / "__init__.py").exists() if parts[0] == APP else False


def module_exists(module: str) -> bool:
    return path_of(module).exists() or is_package(module)


# -- Planning -------------------------------------------------------------------------------------


@dataclass
class Plan:
    moves: list[tuple[str, str]] = field(default_factory=list)  # (old, new) full names, moved now
    earlier: list[tuple[str, str]] = field(default_factory=list)  # moved by an earlier run
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    new_packages: list[str] = field(default_factory=list)

    @property
    def renames(self) -> dict[str, str]:
        return dict(self.moves + self.earlier)

    @property
    def moved_now(self) -> set[str]:
        return {old for old, _ in self.moves}


def top_level_names(path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.If, ast.Try, ast.TypeAlias)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
                elif isinstance(sub, (ast.FunctionDef, ast.ClassDef)):
                    names.add(sub.name)
                elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                    for alias in sub.names:
                        names.add(alias.asname or alias.name.split(".")[0])
                elif isinstance(sub, ast.TypeAlias) and isinstance(sub.name, ast.Name):
                    names.add(sub.name.id)
    return names


def plan_moves() -> Plan:
    plan = Plan()
    news = [new for new in MOVES.values()]
    if duplicates := sorted({n for n in news if news.count(n) > 1}):
        raise Conflict(f"MOVES sends two modules to the same place: {', '.join(duplicates)}")
    if clash := sorted(set(MOVES) & set(MOVES.values())):
        raise Conflict(f"MOVES uses a name as both an old and a new module: {', '.join(clash)}")
    sources_moved_now: set[str] = set()
    for old, new in MOVES.items():
        src, dst = path_of(full(old)), path_of(full(new))
        if old in KEEP_AT_ROOT:
            raise Conflict(f"MOVES moves {old}, which KEEP_AT_ROOT says stays")
        if (APP_DIR / old / "__init__.py").exists() and not src.exists() and not dst.exists():
            raise Conflict(f"{APP_DIR / old}/ is a package, but MOVES maps the module {full(old)} -> {full(new)}")
        if src.exists() and dst.exists():
            raise Conflict(f"both {src} and {dst} exist: move or merge one of them by hand first")
        if not src.exists():
            if dst.exists():
                plan.earlier.append((full(old), full(new)))
            else:
                plan.skipped.append(f"{full(old)} -> {full(new)} (no {src})")
            continue
        # The packages on the way to dst: each must be (or become) a package, not stay a module.
        package_parts = new.split(".")[:-1]
        skip = False
        for i in range(1, len(package_parts) + 1):
            package = ".".join(package_parts[:i])
            as_module = path_of(full(package))
            if is_package(full(package)):
                continue
            # A module named like the package is fine when this run moves it (into the package).
            if as_module.exists() and not (package in MOVES and not path_of(full(MOVES[package])).exists()):
                if package_parts[0] in JOIN_ONLY:
                    plan.warnings.append(
                        f"{as_module} is still a module: {full(old)} stays where it is "
                        f"(it moves to {full(new)} once {full(package)} is a package; run this again then)"
                    )
                    skip = True
                    break
                raise Conflict(f"{full(new)} needs {full(package)} to be a package, but {as_module} is a module")
            if package_parts[0] in JOIN_ONLY:
                plan.warnings.append(f"{full(package)} does not exist: {full(old)} stays where it is")
                skip = True
                break
            if full(package) not in plan.new_packages:
                plan.new_packages.append(full(package))
        if skip:
            continue
        plan.moves.append((full(old), full(new)))
        sources_moved_now.add(old)
    # A package named like a module it receives: warn where a name of the module is also one of the
    # package's modules (`from numbers_app.bulk import files` would then be ambiguous on a re-run).
    for old, new in plan.moves:
        package = new.rsplit(".", 1)[0]
        if package == old:
            siblings = {n.rsplit(".", 1)[1] for _, n in plan.moves + plan.earlier if n.rsplit(".", 1)[0] == package}
            if clash := sorted(top_level_names(path_of(old)) & siblings):
                plan.warnings.append(
                    f"{path_of(old)} defines {', '.join(clash)}, also the name of a module of {package}: "
                    "a re-run of this script cannot tell them apart"
                )
    return plan


# -- Resolving old dotted names -------------------------------------------------------------------


class Resolver:
    """Rewrites a dotted name that starts with an old module's name into the new one.

    For a module moved in this run, every reference is old. For one moved earlier, the old name may
    now be a package (numbers_app.mirror): only a bare reference, or one followed by a name that is
    not a module of the package, is old.
    """

    def __init__(self, renames: dict[str, str], moved_now: set[str]) -> None:
        self.renames = renames
        self.moved_now = moved_now

    def match(self, dotted: str) -> tuple[int, str] | None:
        """(number of leading components that change, their replacement), or None."""
        parts = dotted.split(".")
        for i in range(len(parts), 1, -1):
            prefix = ".".join(parts[:i])
            if prefix not in self.renames:
                continue
            rest = parts[i:]
            if prefix not in self.moved_now and rest and is_package(prefix) and module_exists(f"{prefix}.{rest[0]}"):
                return None  # new-style: numbers_app.mirror.store...
            return i, self.renames[prefix]
        return None

    def rewrite(self, dotted: str) -> str | None:
        found = self.match(dotted)
        if found is None:
            return None
        n, replacement = found
        return ".".join([replacement, *dotted.split(".")[n:]])

    def rewrite_from(
        self, base: str, aliases: list[tuple[str, str | None]]
    ) -> tuple[list[tuple[str, list[tuple[str, str | None]]]], bool]:
        """`from base import name as local, ...` -> [(module, [(name, local or None)])], changed.

        The local names stay: `from numbers_app import mirror` -> `from numbers_app.mirror import store
        as mirror`; a name whose new module differs goes to a statement of its own module."""
        groups: list[tuple[str, list[tuple[str, str | None]]]] = []
        changed = False
        for name, asname in aliases:
            local = asname
            if name == "*":
                new_module, leaf = self.rewrite(base) or base, "*"
                changed |= new_module != base
            else:
                new_dotted = self.rewrite(f"{base}.{name}")
                if new_dotted is None:
                    new_module, leaf = base, name
                else:
                    changed = True
                    new_module, leaf = new_dotted.rsplit(".", 1)
                    local = asname or name
                if local == leaf:
                    local = None
            if groups and groups[-1][0] == new_module:
                groups[-1][1].append((leaf, local))
            else:
                groups.append((new_module, [(leaf, local)]))
        return groups, changed

    def rewrite_dotted_text(self, text: str) -> str:
        def dotted(m: re.Match[str]) -> str:
            return self.rewrite(m.group(0)) or m.group(0)

        def pathlike(m: re.Match[str]) -> str:
            new = self.renames.get(full(m.group(1)))
            if new is None or self.match(full(m.group(1))) is None:
                return m.group(0)
            return "/".join(new.split(".")) + ".py"

        return PATHLIKE.sub(pathlike, DOTTED.sub(dotted, text))

    def import_statements(self, text: str) -> Iterator[tuple[re.Match[str], str | None]]:
        """`from numbers_app... import ...` statements in a string (the code of a `python -c` in a
        test) or a config file: each match, with its rewrite (None when it stays). A statement starts
        a line, or follows `;`, an escaped newline or the string's quote; anything else is prose,
        left to the dotted names' rewrite."""
        for m in IMPORT_IN_TEXT.finditer(text):
            before = text[: m.start()].rstrip(" \t")
            if not (before == "" or before.endswith(("\n", "\\n", ";", '"', "'"))):
                continue
            aliases: list[tuple[str, str | None]] = []
            for item in m.group("names").split(","):
                name, _, asname = item.strip().partition(" as ")
                aliases.append((name.strip(), asname.strip() or None))
            groups, changed = self.rewrite_from(m.group("module"), aliases)
            if not changed:
                yield m, None
                continue
            # On a line of its own (a triple-quoted script): one line each; else `;` between them.
            own_line = before == "" or (before.endswith("\n") and not before.endswith("\\n"))
            indent = text[len(before) : m.start()]
            separator = "\n" + indent if own_line else "; "
            yield m, separator.join(format_import_from(mod, names) for mod, names in groups)

    def rewrite_text(self, text: str) -> str:
        """Strings, comments and config: import statements first, then dotted names and paths
        elsewhere (never inside an import just written: its `numbers_app.mirror` is the package)."""
        pieces: list[str] = []
        pos = 0
        for m, rewritten in self.import_statements(text):
            pieces.append(self.rewrite_dotted_text(text[pos : m.start()]))
            pieces.append(m.group(0) if rewritten is None else rewritten)
            pos = m.end()
        pieces.append(self.rewrite_dotted_text(text[pos:]))
        return "".join(pieces)


# -- Rewriting one Python file --------------------------------------------------------------------


class Source:
    """A file's text with conversions from the AST's (line, UTF-8 byte column) to str offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = re.findall(r"[^\n]*\n|[^\n]+$", text)  # as tokenize and ast count lines
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, col_bytes: int) -> int:
        line = self.lines[lineno - 1] if lineno - 1 < len(self.lines) else ""
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col_bytes].decode("utf-8"))

    def char_offset(self, lineno: int, col_chars: int) -> int:  # tokenize counts characters
        return self.starts[lineno - 1] + col_chars

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )


def module_name_of(path: Path) -> str | None:
    """numbers/numbers_app/a/b.py -> numbers_app.a.b; None outside the app."""
    try:
        rel = path.relative_to(APP_DIR.parent)
    except ValueError:
        return None
    parts = list(rel.with_suffix("").parts)
    if parts[0] != APP:
        return None
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def resolve_relative(node: ast.ImportFrom, module: str | None, is_init: bool) -> str | None:
    if module is None:
        return None
    package = module.split(".") if is_init else module.split(".")[:-1]
    up = node.level - 1
    if up > len(package) - 1:
        return None
    base = package[: len(package) - up] if up else package
    return ".".join(base + ([node.module] if node.module else []))


def text_pieces(tokens: list[tokenize.TokenInfo], src: Source) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, kind, source text) of each comment and string literal; an f-string is one piece,
    from its opening quote to its closing one (its `{{` and `{expr}` as written)."""
    depth = 0
    fstring_start = 0
    for tok in tokens:
        start = src.char_offset(*tok.start)
        end = src.char_offset(*tok.end)
        if tok.type == tokenize.COMMENT:
            yield start, end, "comment", tok.string
        elif tok.type == tokenize.STRING and depth == 0:
            yield start, end, "string", tok.string
        elif tok.type == FSTRING_START:
            if depth == 0:
                fstring_start = start
            depth += 1
        elif tok.type == FSTRING_END:
            depth -= 1
            if depth == 0:
                yield fstring_start, end, "string", src.text[fstring_start:end]


def format_import_from(module: str, names: list[tuple[str, str | None]]) -> str:
    items = ", ".join(f"{n} as {a}" if a else n for n, a in names)
    return f"from {module} import {items}"


@dataclass
class FileResult:
    text: str
    changed: bool
    problems: list[str]


def rewrite_python(path: Path, text: str, resolver: Resolver, old_module: str | None, file_moved: bool) -> FileResult:
    """Rewrites one file; old_module is its name before this run's moves (for relative imports)."""
    src = Source(text)
    tree = ast.parse(text, filename=str(path))
    edits: list[tuple[int, int, str]] = []
    problems: list[str] = []
    import_spans: list[tuple[int, int]] = []
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    comments = [(src.char_offset(*t.start), t.string) for t in tokens if t.type == tokenize.COMMENT]

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            start, end = src.span(node)
            if node.level:
                base = resolve_relative(node, old_module, path.name == "__init__.py")
                if base is None or not (base == APP or base.startswith(APP + ".")):
                    continue
            else:
                base = node.module or ""
                if not (base == APP or base.startswith(APP + ".")):
                    continue
            import_spans.append((start, end))
            groups, changed = resolver.rewrite_from(base, [(a.name, a.asname) for a in node.names])
            changed |= bool(node.level) and file_moved
            if not changed:
                continue
            line_start = src.starts[node.lineno - 1]
            indent = text[line_start:start]
            separator = "\n" + indent if not indent.strip() else "; "
            statements = separator.join(format_import_from(m, names) for m, names in groups)
            # Comments inside a parenthesised import would be lost: they go above it instead.
            inside = [c for offset, c in comments if start <= offset < end]
            if inside and separator != "; ":
                statements = "".join(c + separator for c in inside) + statements
            elif inside:
                problems.append(f"{path}:{node.lineno}: comments inside this import were dropped: {inside}")
            edits.append((start, end, statements))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith(APP + "."):
                    continue
                new = resolver.rewrite(alias.name)
                if new is None:
                    continue
                a_start, _ = src.span(alias)
                if text[a_start : a_start + len(alias.name)] != alias.name:
                    problems.append(f"{path}:{alias.lineno}: cannot rewrite `import {alias.name}` (spaces?)")
                    continue
                edits.append((a_start, a_start + len(alias.name), new))
        elif isinstance(node, ast.Attribute):
            chain: list[ast.expr] = []
            cur: ast.expr = node
            while isinstance(cur, ast.Attribute):
                chain.append(cur)
                cur = cur.value
            if not (isinstance(cur, ast.Name) and cur.id == APP):
                continue
            chain.append(cur)
            chain.reverse()  # Name, .a, .a.b, ...
            # Only the outermost chain: an Attribute whose parent is an Attribute is handled there.
            if getattr(node, "_inner", False):
                continue
            for sub in chain[1:-1]:
                sub._inner = True  # type: ignore[attr-defined]
            dotted = ".".join([APP] + [c.attr for c in chain[1:]])  # type: ignore[attr-defined]
            found = resolver.match(dotted)
            if found is None:
                continue
            n, replacement = found
            prefix_node = chain[n - 1]
            start, end = src.span(prefix_node)
            old_prefix = ".".join(dotted.split(".")[:n])
            if text[start:end] != old_prefix:
                problems.append(f"{path}:{node.lineno}: cannot rewrite `{old_prefix}` (spaces or a line break?)")
                continue
            edits.append((start, end, replacement))

    # Strings (docstrings, mock.patch targets, settings, scripts) and comments, outside the imports.
    for start, end, _kind, raw in text_pieces(tokens, src):
        if APP not in raw or any(s <= start < e for s, e in import_spans):
            continue
        new = resolver.rewrite_text(raw)
        if new != raw:
            edits.append((start, end, new))

    if not edits:
        return FileResult(text, False, problems)
    edits.sort()
    for (s1, e1, _), (s2, _, _) in zip(edits, edits[1:], strict=False):
        if s2 < e1:
            raise Conflict(f"{path}: overlapping rewrites at {s1}..{e1} and {s2}")
    out = []
    pos = 0
    for s, e, replacement in edits:
        out.append(text[pos:s])
        out.append(replacement)
        pos = e
    out.append(text[pos:])
    new_text = "".join(out)
    ast.parse(new_text, filename=str(path))  # never write a file that does not parse
    return FileResult(new_text, new_text != text, problems)


# -- The final check ------------------------------------------------------------------------------


def python_files() -> Iterator[Path]:
    for top in CODE_DIRS:
        for path in sorted(Path(top).rglob("*.py")):
            if SKIP_PARTS & set(path.parts) or path.resolve() == SELF:
                continue
            yield path
    for name in CODE_FILES:
        if Path(name).exists():
            yield Path(name)


def text_files(globs: list[str]) -> Iterator[Path]:
    seen: set[Path] = set()
    for pattern in globs:
        for path in sorted(Path(".").glob(pattern)):
            if path.is_file() and path not in seen and path.resolve() != SELF:
                seen.add(path)
                yield path


def check_tree(renames: dict[str, str]) -> tuple[list[str], list[str]]:
    """(errors, notes): references that still name an old path, imports that resolve to nothing."""
    # Every old name treated as moved earlier: a name is stale only where it cannot be the new one.
    resolver = Resolver(renames, set())
    errors: list[str] = []
    notes: list[str] = []
    names_cache: dict[str, set[str] | None] = {}

    def names_of(module: str) -> set[str] | None:
        """Top-level names of a module of the app; None when it cannot be told (star import)."""
        if module not in names_cache:
            path = path_of(module)
            if not path.exists():
                path = APP_DIR.joinpath(*module.split(".")[1:]) / "__init__.py"
            names = top_level_names(path)
            text = path.read_text(encoding="utf-8") if path.exists() else ""
            names_cache[module] = None if ("import *" in text or "__getattr__" in names) else names
        return names_cache[module]

    for path in python_files():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        for node in ast.walk(tree):
            where = f"{path}:{getattr(node, 'lineno', '?')}"
            if (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and node.module
                and (node.module == APP or node.module.startswith(APP + "."))
            ):
                if not module_exists(node.module):
                    errors.append(f"{where}: `from {node.module} import ...`: no such module")
                    continue
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    if alias.name == "*" or module_exists(target):
                        if resolver.rewrite(target) is not None:
                            errors.append(f"{where}: `from {node.module} import {alias.name}` names a moved module")
                        continue
                    names = names_of(node.module)
                    if names is not None and alias.name not in names:
                        errors.append(f"{where}: `from {node.module} import {alias.name}`: no such name there")
                    elif resolver.rewrite(target) is not None:
                        errors.append(f"{where}: `from {node.module} import {alias.name}` names a moved module")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(APP + ".") and not module_exists(alias.name):
                        errors.append(f"{where}: `import {alias.name}`: no such module")
                    elif alias.name.startswith(APP + ".") and resolver.rewrite(alias.name) is not None:
                        errors.append(f"{where}: `import {alias.name}` names a moved module")
        src = Source(text)
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        for start, _end, kind, raw in text_pieces(tokens, src):
            if APP not in raw:
                continue
            where = f"{path}:{bisect.bisect_right(src.starts, start)}"
            masked = raw
            for m, rewritten in resolver.import_statements(raw):
                masked = masked[: m.start()] + " " * (m.end() - m.start()) + masked[m.end() :]
                if rewritten is not None:
                    errors.append(f"{where}: {kind} holds the old `{m.group(0)}`")
            # Prose (comments, docstrings) may name the package itself: a note, not an error.
            prose = kind == "comment" or raw.lstrip("rbuRBUfF").startswith(('"""', "'''"))
            for m in DOTTED.finditer(masked):
                if resolver.rewrite(m.group(0)) is not None:
                    (notes if prose else errors).append(f"{where}: {kind} names the old {m.group(0)}")
    for path in text_files(CONFIG_GLOBS):
        text = path.read_text(encoding="utf-8", errors="replace")
        if resolver.rewrite_text(text) != text:
            errors.append(f"{path}: still names an old module")
    for path in text_files(DOC_GLOBS):
        text = path.read_text(encoding="utf-8", errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            for m in [*DOTTED.finditer(line), *PATHLIKE.finditer(line)]:
                dotted = m.group(0) if m.re is DOTTED else full(m.group(1))
                if (new := resolver.rewrite(dotted)) is not None:
                    notes.append(f"{path}:{lineno}: mentions {m.group(0)} (now {new})")
    return errors, notes


# -- Running --------------------------------------------------------------------------------------


def run(cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed:\n{result.stdout}{result.stderr}")
    return result


def tracked(path: Path) -> bool:
    return run(["git", "ls-files", "--error-unmatch", str(path)], check=False).returncode == 0


def ruff_command() -> list[str] | None:
    for candidate in (Path(".venv/bin/ruff"),):
        if candidate.exists():
            return [str(candidate)]
    if shutil.which("ruff"):
        return ["ruff"]
    if run([sys.executable, "-m", "ruff", "--version"], check=False).returncode == 0:
        return [sys.executable, "-m", "ruff"]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="say what would move and change; change nothing")
    parser.add_argument("--check", action="store_true", help="only look for references to old paths")
    parser.add_argument("--no-ruff", action="store_true", help="skip ruff's import sorting and formatting")
    args = parser.parse_args()

    if sys.version_info < (3, 12):  # noqa: UP036 (the system's python3 may be older than the project's)
        print("relayout.py needs Python 3.12+ (the app's syntax): run it with .venv/bin/python", file=sys.stderr)
        return 2
    if not APP_DIR.is_dir() or not Path(".git").exists():
        print(f"Run this from the repository's root (no {APP_DIR}/ or .git here).", file=sys.stderr)
        return 2

    try:
        plan = plan_moves()
    except Conflict as err:
        print(f"CONFLICT: {err}", file=sys.stderr)
        return 1

    if args.check:
        errors, notes = check_tree(dict(plan.earlier + plan.moves))
        return report_check(errors, notes)

    dirty = run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    if dirty and not args.dry_run:
        print("warning: the tree has uncommitted changes; they are rewritten along with the rest", file=sys.stderr)

    for old, new in plan.moves:
        print(f"move  {path_of(old)} -> {path_of(new)}")
    for old, new in plan.earlier:
        print(f"done  {old} -> {new} (moved before)")
    for line in plan.skipped:
        print(f"skip  {line}")
    for line in plan.warnings:
        print(f"warning: {line}", file=sys.stderr)

    old_of: dict[Path, str] = {}  # new path -> module name before the move
    if not args.dry_run:
        for package in plan.new_packages:
            directory = APP_DIR.joinpath(*package.split(".")[1:])
            directory.mkdir(parents=True, exist_ok=True)
            init = directory / "__init__.py"
            if not init.exists():
                init.write_text("")
                run(["git", "add", str(init)])
        for old, new in plan.moves:
            src, dst = path_of(old), path_of(new)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if tracked(src):
                run(["git", "mv", str(src), str(dst)])
            else:
                print(f"warning: {src} is not tracked by git: renamed without git", file=sys.stderr)
                src.rename(dst)
            old_of[dst] = old

    resolver = Resolver(plan.renames, plan.moved_now)
    changed: list[Path] = []
    problems: list[str] = []
    if plan.renames:
        # In a dry run the files are still at their old paths.
        moving = {path_of(old) for old, _ in plan.moves} if args.dry_run else set(old_of)
        for path in python_files():
            text = path.read_text(encoding="utf-8")
            old_module = old_of.get(path) if not args.dry_run and path in old_of else module_name_of(path)
            result = rewrite_python(path, text, resolver, old_module, path in moving)
            problems += result.problems
            if result.changed:
                changed.append(path)
                if not args.dry_run:
                    path.write_text(result.text, encoding="utf-8")
        for path in text_files(CONFIG_GLOBS):
            text = path.read_text(encoding="utf-8")
            new_text = resolver.rewrite_text(text)
            if new_text != text:
                changed.append(path)
                if not args.dry_run:
                    path.write_text(new_text, encoding="utf-8")
    print(f"{'would rewrite' if args.dry_run else 'rewrote'} {len(changed)} files")
    for path in changed:
        print(f"  {path}")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if args.dry_run:
        return 1 if problems else 0

    py_changed = [str(p) for p in changed if p.suffix == ".py"] + [
        str(APP_DIR.joinpath(*p.split(".")[1:]) / "__init__.py") for p in plan.new_packages
    ]
    if py_changed and not args.no_ruff:
        ruff = ruff_command()
        if ruff is None:
            print("warning: no ruff: run `ruff check --fix --select I` and `ruff format` yourself", file=sys.stderr)
        else:
            result = run([*ruff, "check", "--fix", "--select", "I", *py_changed], check=False)
            if result.returncode not in (0, 1):
                print(result.stdout + result.stderr, file=sys.stderr)
            run([*ruff, "format", *py_changed])
            # What ruff's other rules say of the changed files (a docstring now too long, ...).
            result = run([*ruff, "check", "--output-format", "concise", *py_changed], check=False)
            if result.returncode != 0:
                print(f"ruff finds (fix by hand):\n{result.stdout}", file=sys.stderr)

    leftovers = sorted(
        p.stem for p in APP_DIR.glob("*.py") if p.stem not in KEEP_AT_ROOT and full(p.stem) not in plan.renames
    )
    if leftovers:
        print(f"note: still at the app's root and not in MOVES: {', '.join(leftovers)}")

    errors, notes = check_tree(plan.renames)
    status = report_check(errors, notes) or (1 if problems else 0)
    if status == 0:
        print(
            "next: make lint (ruff, mypy, lint-imports), the tests, `manage.py makemigrations --check`; "
            "then commit the moves and the rewrites together"
        )
    return status


def report_check(errors: list[str], notes: list[str]) -> int:
    for note in notes:
        print(f"note: {note}")
    for error in errors:
        print(f"STALE: {error}", file=sys.stderr)
    if errors:
        print(f"{len(errors)} references to old paths remain (above): fix them by hand", file=sys.stderr)
        return 1
    print("check: no import or string names an old path")
    return 0


if __name__ == "__main__":
    sys.exit(main())
