"""An Ops user's actions appear in the audit log and in the number's history."""

import csv
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_ops_actions_appear_in_the_audit_log_and_the_history(live_sandbox, login, ops_user, live_server):
    page = login(ops_user)
    page.locator("#number-1001").get_by_label(re.compile("Agent for")).select_option(label="Survey Caller")
    expect(page.locator("#toasts")).to_contain_text("assigned to Survey Caller")
    # The toast comes with the response, before the row is swapped: wait for the new row's select.
    expect(page.locator("#number-1001").get_by_label(re.compile("Agent for"))).to_be_enabled()
    page.locator("#tags-1001 .tags-display").click()
    expect(page.get_by_label("Tags, separated by commas")).to_be_focused()
    page.get_by_label("Tags, separated by commas").fill("vip, night")
    page.get_by_label("Tags, separated by commas").press("Enter")
    expect(page.locator("#tags-1001 .tag")).to_have_text(["vip", "night"])
    live_sandbox.post(
        "/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/phone-numbers/1002/assign"}
    )
    page.locator("#number-1002").get_by_label(re.compile("Agent for")).select_option(label="Survey Caller")
    expect(page.locator("#number-1002")).to_contain_text("HTTP 503")

    page.get_by_role("link", name="Audit log").click()
    rows = page.locator("#audit-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Failed at Staffify")
    expect(rows.nth(0)).to_contain_text("Request id req_")
    expect(rows.nth(1)).to_contain_text("tags:")
    expect(rows.nth(2)).to_contain_text("agent: Sales Assistant → Survey Caller")
    expect(rows.nth(2)).to_contain_text("ops")
    hover = rows.nth(2).locator("time").get_attribute("title")
    assert hover.endswith(" UTC")
    screenshot(page, "audit")
    page.get_by_label("Outcome").select_option("ok")
    expect(rows).to_have_count(2)
    assert "outcome=ok" in page.url
    with page.expect_download() as download:
        page.get_by_role("link", name="Export these as CSV").click()
    content = download.value.path().read_text(encoding="utf-8")
    table = list(csv.reader(content.splitlines()))
    assert len(table) == 3 and {r[3] for r in table[1:]} == {"Assign agent", "Edit tags"}

    page.goto(live_server.url + "/p/main/numbers/1001/")
    history = page.locator(".history li")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("Edit tags")
    screenshot(page, "detail")
    assert not page.errors, page.errors


def test_a_change_made_outside_the_dashboard_shows_before_and_after(live_sandbox, login, lead_user, live_server):
    """Tags and an agent changed through the API: the sync's audit rows say what they were before."""
    from numbers_app import staffify
    from numbers_app.mirror import store as mirror
    from numbers_app.models import NumberRecord

    old_tags = ", ".join(NumberRecord.objects.get(staffify_id=1002).tags) or "none"
    live_sandbox.patch("/v1/phone-numbers/1002", json={"tags": ["moved", "by-api"]})
    live_sandbox.put("/v1/phone-numbers/1001/assign", json={"agent_id": 106})
    assert mirror.sync(staffify.get_client()).state == "ok"
    page = login(lead_user)
    page.goto(live_server.url + "/audit/?action=outside")
    rows = page.locator("#audit-table tbody tr")
    expect(rows.filter(has_text="+").filter(has_text=f"tags: {old_tags} → moved, by-api")).to_have_count(1)
    expect(rows.filter(has_text=re.compile(r"agent: .+ → "))).to_have_count(1)
    screenshot(page, "audit-outside-change")
    assert not page.errors, page.errors
