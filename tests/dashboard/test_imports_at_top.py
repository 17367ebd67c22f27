"""The app's modules import at the top. An import inside a function hides a circle between modules
(the layers and the cycles that `lint-imports` checks stay, only out of sight) and runs on every
call. The only imports inside functions are Django's idioms, listed in ALLOWED with why; an import not in
it fails, and an entry whose import is gone warns."""

import ast
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "numbers" / "numbers_app"

# (module, function, what it imports): an import of `name` from a module resolves to the module
# `module.name` where that is one of the app's modules (so the entry names what is really imported).
ALLOWED = {
    # Django's place for connecting signal receivers: AppConfig.ready imports the module defining them.
    ("numbers_app.apps", "NumbersConfig.ready", "numbers_app.audit.lockout"),
    # ... and the module registering system checks.
    ("numbers_app.apps", "NumbersConfig.ready", "numbers_app.checks"),
    # The same idiom: connects user_logged_in to remembering each sign-in's session (deactivation ends them).
    ("numbers_app.apps", "NumbersConfig.ready", "numbers_app.people.directory"),
    # The worker's schedule thread imports the tasks (which register the schedule) when it starts.
    ("numbers_app.management.commands.run_worker", "run_schedule", "numbers_app.schedule"),
    ("numbers_app.management.commands.run_worker", "run_schedule", "numbers_app.tasks"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_app_module(name: str) -> bool:
    path = APP.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    return [f"{base}.{a.name}" if is_app_module(f"{base}.{a.name}") else base for a in node.names]


def visit(node: ast.AST, module: str, is_package: bool, scope: list[str], in_function: bool, found: set) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            visit(child, module, is_package, [*scope, child.name], True, found)
        elif isinstance(child, ast.ClassDef):
            visit(child, module, is_package, [*scope, child.name], in_function, found)
        elif isinstance(child, (ast.Import, ast.ImportFrom)) and in_function:
            found.update((module, ".".join(scope), name) for name in imported(child, module, is_package))
        else:
            visit(child, module, is_package, scope, in_function, found)


def imports_inside_functions() -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for path in sorted(APP.rglob("*.py")):
        if "migrations" not in path.parts:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            visit(tree, module_name(path), path.name == "__init__.py", [], False, found)
    return found


def test_no_new_imports_inside_functions():
    found = imports_inside_functions()
    new = sorted(found - ALLOWED)
    lines = "\n".join(f"  {entry}," for entry in new)
    assert not new, f"Import at the top of the module instead (or break the circle it hides):\n{lines}"
    # An entry whose import is gone only warns (another branch may have removed it): delete it.
    if gone := sorted(ALLOWED - found):
        lines = "\n".join(f"  {entry}," for entry in gone)
        warnings.warn(f"ALLOWED lists imports inside functions that are gone: delete them:\n{lines}", stacklevel=1)
