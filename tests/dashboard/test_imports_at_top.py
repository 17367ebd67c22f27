"""The app's modules import at the top. An import inside a function hides a circle between modules
(the layers and the cycles that `lint-imports` checks stay, only out of sight) and runs on every
call. The imports inside functions that the app has today are listed in ALLOWED, each with why; the
list only shrinks: an import not in it fails, and an entry whose import is gone warns."""

import ast
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "numbers" / "numbers_app"

# (module, function, what it imports): an import of `name` from a module resolves to the module
# `module.name` where that is one of the app's modules (so the entry names what is really imported).
ALLOWED = {
    # Django's place for connecting signal receivers: AppConfig.ready imports the module defining them.
    ("numbers_app.apps", "NumbersConfig.ready", "numbers_app.lockout"),
    # The worker's schedule thread imports the tasks (which register the schedule) when it starts.
    ("numbers_app.management.commands.run_worker", "run_schedule", "numbers_app.schedule"),
    ("numbers_app.management.commands.run_worker", "run_schedule", "numbers_app.tasks"),
    # Circle: the tasks run the services, and these services enqueue those tasks.
    ("numbers_app.bulk", "create_job", "numbers_app.tasks"),
    ("numbers_app.bulk", "run", "numbers_app.tasks"),
    ("numbers_app.freshness", "refresh", "numbers_app.tasks"),
    ("numbers_app.tasks", "settle_writes", "numbers_app.budget"),
    ("numbers_app.tasks", "settle_writes", "numbers_app.purchases"),
    ("numbers_app.tasks", "settle_writes", "numbers_app.settle"),
    ("numbers_app.tasks", "settle_writes", "numbers_app.staffify"),
    ("numbers_app.tasks", "sync_mirror", "numbers_app.mirror"),
    ("numbers_app.tasks", "sync_mirror", "numbers_app.staffify"),
    ("numbers_app.tasks", "sync_mirror", "numbers_app.models"),
    ("numbers_app.tasks", "follow_addresses", "numbers_app.address_book"),
    ("numbers_app.tasks", "follow_addresses", "numbers_app.budget"),
    ("numbers_app.tasks", "follow_addresses", "numbers_app.staffify"),
    ("numbers_app.tasks", "run_scheduled_releases", "numbers_app.scheduled_releases"),
    ("numbers_app.tasks", "run_scheduled_releases", "numbers_app.staffify"),
    ("numbers_app.tasks", "run_bulk_job", "numbers_app.bulk"),
    ("numbers_app.tasks", "resume_bulk_jobs", "numbers_app.bulk"),
    # Circle: a bulk action schedules releases, and scheduled releases are listed beside bulk jobs.
    ("numbers_app.bulk", "_plan_schedule_release", "numbers_app.scheduled_releases"),
    ("numbers_app.bulk", "_perform_schedule_release", "numbers_app.scheduled_releases"),
    # Circle: the number page shows the scheduled-release panel, whose views use the page's toast.
    ("numbers_app.views", "number_detail", "numbers_app.views_scheduled"),
    # The frame's context processor reaches into a view module (and into scheduled releases).
    ("numbers_app.context_processors", "dashboard.job_notice", "numbers_app.views_bulk"),
    ("numbers_app.context_processors", "dashboard.release_alerts", "numbers_app.scheduled_releases"),
    # Circle: the client feeds the budget and drops the cached balance, whose module uses the client.
    ("numbers_app.staffify", "_after_answer", "numbers_app.lookups"),
    ("numbers_app.staffify", "_feed_budget", "numbers_app.budget"),
    ("numbers_app.staffify", "get_client", "django.conf"),
    ("numbers_app.staffify", "get_client", "django.core.signals"),
    # The mirror writes "changed outside the dashboard" to the audit log.
    ("numbers_app.mirror", "_outside", "numbers_app.audit"),
    ("numbers_app.audit", "login_locked_out", "django.contrib.auth"),
    ("numbers_app.models", "AddressBookEntry.document_labels", "numbers_app.rules"),
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
