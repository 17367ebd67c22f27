"""What a person sees when the dashboard's own database fails under a page: a sentence in place."""

import pytest
from django.db import OperationalError
from playwright.sync_api import expect

from numbers_app.mirror import listing
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_load_more_says_what_failed_in_place_and_can_try_again(live_sandbox, login, ops_user, monkeypatch):
    page = login(ops_user)
    rows = page.locator("tbody#number-rows > tr[id^=number-]")
    expect(rows).to_have_count(50)
    # The agents' options are fetched once the page is idle (app.js): before the database goes down.
    expect(page.locator("#f-agent option")).not_to_have_count(2)

    def database_down(version=None):
        raise OperationalError("database is locked")

    monkeypatch.setattr(listing, "agents", database_down)
    page.locator("#load-more").scroll_into_view_if_needed()
    failed = page.locator("#load-more.row-error")
    expect(failed).to_contain_text("database did not answer")
    expect(failed).to_contain_text("Reference ")
    expect(rows).to_have_count(50)  # nothing lost, nothing pretending to be the end
    screenshot(page, "load-more-failed")

    monkeypatch.undo()
    failed.get_by_role("link", name="Try loading more again").click()
    expect(rows).to_have_count(60)
    expect(page.locator("#load-more")).to_have_count(0)
    assert not page.errors, page.errors
