"""A row while it saves and after it fails (issue 26): "Saving…" beside the control; an error wraps inside
its cell instead of widening the table past the window."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_a_saving_row_says_so_and_a_row_error_wraps(live_sandbox, login, ops_user, live_server):
    page = login(ops_user)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(live_server.url + "/")
    live_sandbox.post(
        "/control/faults",
        json={"status": None, "delay_ms": 1500, "count": 1, "path_prefix": "/v1/phone-numbers/1001/assign"},
    )
    page.locator("#number-1001").get_by_label(re.compile("Agent for")).select_option(label="Survey Caller")
    expect(page.locator("#number-1001 .saving")).to_have_text("Saving…")
    expect(page.locator("#toasts")).to_contain_text("assigned to Survey Caller")
    expect(page.locator("#number-1001 .saving")).to_have_count(0)

    live_sandbox.post(
        "/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/phone-numbers/1002/assign"}
    )
    page.locator("#number-1002").get_by_label(re.compile("Agent for")).select_option(label="Survey Caller")
    row = page.locator("#number-1002")
    expect(row).to_contain_text("HTTP 503")
    table = page.locator("table.numbers-list")
    width = table.evaluate("t => t.getBoundingClientRect().right")
    assert width <= 1366, width
    release = row.get_by_role("button", name=re.compile(r"^Release"))
    box = release.first.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1366, box
    screenshot(page, "row-error-wraps")
    assert not page.errors, page.errors
