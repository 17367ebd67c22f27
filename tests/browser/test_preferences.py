"""A user sets their time zone from the page header; dates then show in it."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_choosing_a_time_zone(live_sandbox, login, ops_user, live_server):
    page = login(ops_user)
    page.get_by_role("link", name=re.compile(r"^ops")).click()
    page.get_by_label("Time zone for every date and time shown").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text("Dates now show in Asia/Tokyo")
    page.goto(live_server.url + "/p/main/numbers/1001/")
    purchased = page.locator("dl.facts time").first
    expect(purchased).to_contain_text("JST")
    assert purchased.get_attribute("title").endswith(" UTC")
    assert not page.errors, page.errors
