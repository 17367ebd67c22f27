"""How the app's modules depend on each other, read from their source: no module but the views and the
URLconf imports a view module, and the toast event has one name and one helper (numbers_app.htmx),
which static/js/app.js listens for."""

import ast
from pathlib import Path

from numbers_app import htmx

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "numbers" / "numbers_app"


def modules() -> dict[str, ast.Module]:
    return {path.name: ast.parse(path.read_text(), str(path)) for path in sorted(APP.glob("*.py"))}


def test_the_toast_event_is_raised_only_through_its_helper():
    spelled = {
        name
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value == htmx.TOAST
    }
    assert spelled == {"htmx.py"}  # every other module calls htmx.toast(...), none names the event


def test_the_browser_listens_for_the_same_name():
    script = (ROOT / "static" / "js" / "app.js").read_text()
    assert f'document.body.addEventListener("{htmx.TOAST}",' in script


def imported(tree: ast.Module) -> set[str]:
    """The numbers_app modules TREE imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "numbers_app":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("numbers_app."):
                found.add(node.module.removeprefix("numbers_app.").split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("numbers_app.")}
    return found


def is_view(name: str) -> bool:
    return name.removesuffix(".py").startswith("views")


def test_no_module_but_the_views_and_the_urls_imports_a_view_module():
    wrong = {
        name: sorted(m for m in imported(tree) if is_view(m))
        for name, tree in modules().items()
        if not is_view(name) and name != "urls.py"
    }
    assert {name: found for name, found in wrong.items() if found} == {}
