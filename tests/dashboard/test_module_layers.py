"""The toast event has one name and one helper (numbers_app.web.htmx), which static/js/app.js listens for.
(How the app's modules may import each other is import-linter's to check: `.importlinter`, in `make lint`.)"""

import ast
from pathlib import Path

from numbers_app.web import htmx

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "numbers" / "numbers_app"


def test_the_toast_event_is_raised_only_through_its_helper():
    spelled = {
        str(path.relative_to(APP))
        for path in sorted(APP.rglob("*.py"))
        if "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and node.value == htmx.TOAST
    }
    assert spelled == {"web/htmx.py"}  # every other module calls htmx.toast(...), none names the event


def test_the_browser_listens_for_the_same_name():
    script = (ROOT / "static" / "js" / "app.js").read_text()
    assert f'document.body.addEventListener("{htmx.TOAST}",' in script
