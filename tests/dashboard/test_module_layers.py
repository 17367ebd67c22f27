"""How the app's modules depend on each other, read from their source: the toast event has one name and
one helper (numbers_app.htmx), which static/js/app.js listens for."""

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
