"""Two projects in two tabs: each tab acts in the project of its URL, and each project's audit log has
only its own changes (the sandbox's organisation, reached with its org key)."""

import re

import pytest
from playwright.sync_api import expect

from numbers_app import tasks
from sandbox.seed import ORG_KEY
from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import axe_violations

pytestmark = pytest.mark.browser

PROJECTS = [
    {"slug": "demo", "name": "Demo", "id": "proj_demo", "key": None},
    {"slug": "eu", "name": "Europe", "id": "proj_eu", "key": None},
]


def test_switch_project_act_in_both_tabs_and_each_audit_log_has_its_own(
    live_sandbox, login, ops_user, settings, live_server
):
    base = live_server.url
    settings.STAFFIFY_API_KEY = ORG_KEY
    settings.STAFFIFY_PROJECTS = PROJECTS
    assert "eu: ok: 6 numbers" in tasks.sync_mirror.call()
    demo = login(ops_user)  # "/" leads to the first project
    expect(demo).to_have_url(re.compile(r"/p/demo/$"))

    # At 1,366 px Operations' header (switcher, seven pages, the balance read, the account, the bell
    # with unread alerts) keeps to one row: the bell once dropped to a second row of its own.
    tasks.refresh_balance.call()
    demo.set_viewport_size({"width": 1366, "height": 900})
    demo.reload()
    expect(demo.locator("#balance-badge")).to_contain_text("as of")
    # With unread alerts the bell is wider: twelve of them, as the bell would show them.
    demo.evaluate("""() => { const bell = document.querySelector("#alert-bell");
      bell.classList.add("has-unread"); bell.querySelector(".bell-count").textContent = "12"; }""")
    header = demo.locator("header.topbar").bounding_box()
    bell = demo.locator("#alert-bell").bounding_box()
    assert header and bell and header["height"] <= 56 and bell["y"] < 30, (header, bell)
    demo.set_viewport_size({"width": 1280, "height": 900})

    # The switcher opens Europe in a second tab; the first stays on the demo project.
    demo.locator(".project-switcher summary").click()
    europe_url = demo.get_by_role("link", name="Europe").get_attribute("href")
    europe = demo.context.new_page()
    europe.errors = []
    europe.on("pageerror", lambda err: europe.errors.append(str(err)))
    europe.goto(base + europe_url)
    expect(europe.locator(".project-switcher summary")).to_have_text("Project: Europe")
    expect(europe.locator("tbody#number-rows > tr[id^=number-]")).to_have_count(6)
    europe.locator(".project-switcher summary").click()
    screenshot(europe, "project-switcher")
    assert not axe_violations(europe)  # the open switcher too
    europe.locator(".project-switcher summary").click()

    # One change in each tab, alternately, from pages opened before the other's change.
    europe.locator("#number-951").get_by_label(re.compile("Agent for")).select_option(label="Vienna Desk")
    expect(europe.locator("#toasts")).to_contain_text("assigned to Vienna Desk")
    demo.locator("#number-1001").get_by_label(re.compile("Agent for")).select_option(label="Survey Caller")
    expect(demo.locator("#toasts")).to_contain_text("assigned to Survey Caller")

    demo.goto(base + "/p/demo/audit/")
    europe.goto(base + "/p/eu/audit/")
    expect(demo.locator("#audit-table")).to_contain_text("Survey Caller")
    expect(demo.locator("#audit-table")).not_to_contain_text("Vienna Desk")
    expect(europe.locator("#audit-table")).to_contain_text("Vienna Desk")
    expect(europe.locator("#audit-table")).not_to_contain_text("Survey Caller")
    # The organisation's pages pass axe as well.
    for path in ("/org/billing/", "/org/search?q=312"):
        demo.goto(base + path)
        assert not axe_violations(demo), path
    screenshot(demo, "org-search")
    demo.goto(base + "/org/billing/")
    screenshot(demo, "org-billing")
    assert not demo.errors and not europe.errors, demo.errors + europe.errors
