"""Headless Chromium (Debian's package) driven by Playwright, against the live server.

When no chromium can be found the browser tests are skipped with a loud reason, except under CI
(CI=true), where they fail: CI must run them.

The tests take screenshots into SCREENSHOT_DIR, by default a folder under the system's temporary one;
only `make screenshots` sets it to docs/screenshots, so that a test run leaves the tracked pictures alone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

# Generous waits: a passing check returns as soon as it holds, and on a loaded machine (two cores,
# two xdist workers, chromium) a page may take seconds. Playwright's own defaults are 5 s for expect().
TIMEOUT_MS = 30_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium-headless-shell",  # Debian's: the engine without the browser's UI, lighter
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def pytest_collection_modifyitems(config, items):
    if chromium_path() or os.environ.get("CI"):
        return  # under CI a missing browser makes the tests fail, as it must
    reason = "NO CHROMIUM: browser tests skipped. Install Debian's 'chromium' package or set CHROMIUM=/path."
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    # Playwright's sync API keeps an event loop in this thread from here on; the tests' own ORM calls
    # (and the database flushes between them) are still plain synchronous calls. Subprocesses that
    # must not inherit this (scripts/docker-recipe.sh) unset it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium):
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Europe/Amsterdam", locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()


def sign_in(page, base_url: str, user, *, by_form: bool = False):
    """Sign USER in and open the owned list, where the login form leads. By default the session is
    made on the server (the test client's force_login) and handed to the browser as its cookie, which
    spares each test the login page; BY_FORM types the password into the form instead (the fixtures'
    users have the password "pw-<name>"), as test_numbers_flows.py's first test does."""
    if by_form:
        page.goto(f"{base_url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill("pw-" + user.username)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(rf"{re.escape(base_url)}/p/[\w-]+/$"))  # "/" leads to the default project
        return page
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url, "httpOnly": True}])
    page.goto(f"{base_url}/")
    return page


@pytest.fixture
def login(page, live_server):
    return lambda user, by_form=False: sign_in(page, live_server.url, user, by_form=by_form)


def screenshot_dir() -> Path:
    return Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "staffify-screenshots")


def screenshot(page, name: str, *, full_page: bool = False) -> None:
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


@pytest.fixture
def worker(live_sandbox):
    """django-tasks-db's own worker loop (what `manage.py run_worker` runs), in a thread."""
    from django.db import connection
    from django_tasks_db.management.commands.db_worker import Worker

    loop = Worker(
        queue_names=["*"],
        interval=0.1,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="browser-test",
        excluded_queue_names=[],
    )

    def run() -> None:
        try:
            loop.run()
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="worker", daemon=True)
    thread.start()
    yield loop
    loop.running = False
    thread.join(30)
