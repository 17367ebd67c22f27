"""Bulk work in headless Chromium: the 15 "sales" numbers moved to another agent in a few clicks, the
job's progress watched to its end, and failed rows retried. The real django-tasks-db worker loop runs
in a thread of the test process, on the live server's database."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from numbers_app import staffify
from numbers_app.mirror import store as mirror
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
TARGET, SECOND = 110, 103
SALES = 15


def fifteen_sales(api) -> list[dict]:
    """Exactly 15 active "sales" numbers, none on TARGET or SECOND: set up through the API when the
    seed differs, then synced into the mirror."""
    numbers = api.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
    fit = [n for n in numbers if n["status"] == "active" and n["agent_id"] not in (TARGET, SECOND)]
    chosen = [n for n in fit if "sales" in n["tags"]][:SALES]
    chosen += [n for n in fit if n not in chosen][: SALES - len(chosen)]
    for n in numbers:
        tags = [t for t in n["tags"] if t != "sales"]
        if n in chosen:
            tags.append("sales")
        if sorted(tags) != sorted(n["tags"]):
            if n["status"] != "active":
                api.post(f"/v1/phone-numbers/{n['id']}/reclaim")
            assert api.patch(f"/v1/phone-numbers/{n['id']}", json={"tags": tags}).status_code == 200
    assert mirror.sync(staffify.get_client()).state == "ok"
    assert len(chosen) == SALES
    return chosen


def test_fifteen_sales_numbers_move_to_another_agent_in_a_few_clicks(
    live_sandbox, worker, login, support_user, live_server
):
    chosen = fifteen_sales(live_sandbox)
    page = login(support_user)
    page.get_by_label("Tag", exact=True).fill("sales")
    expect(page.locator(".results-note")).to_contain_text(f"{SALES} numbers match these filters.")
    expect(page.locator("tbody#number-rows > tr[id^=number-]")).to_have_count(SALES)

    clicks = 0
    page.get_by_label("Select all numbers shown").check()
    clicks += 1
    bar = page.locator("#bulk-bar")
    expect(bar).to_be_visible()
    expect(bar.locator("[data-bulk-count]")).to_have_text(f"{SALES} selected")
    screenshot(page, "bulk-selection")
    bar.get_by_label("Assign to").select_option(str(TARGET))
    clicks += 1
    dialog = page.locator("dialog#bulk-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator('[data-preview="change"]')).to_have_text(str(SALES))
    screenshot(page, "bulk-preview")
    dialog.get_by_role("button", name=f"Run: change {SALES} numbers").click()
    clicks += 1
    assert clicks <= 4

    page.wait_for_url(f"{live_server.url}/p/main/jobs/*/")
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("max", str(SALES))
    expect(progress).to_have_attribute("value", str(SALES), timeout=90_000)
    expect(page.locator('[data-count="done"]')).to_have_text(f"{SALES} done")
    expect(page.locator("#job-row-table tbody tr")).to_have_count(SALES)
    expect(page.locator("#job-notice")).to_contain_text("finished")  # the starter's notice, on any page
    screenshot(page, "bulk-job")
    for n in chosen:
        assert live_sandbox.get(f"/v1/phone-numbers/{n['id']}").json()["agent_id"] == TARGET

    # Again to a second agent, with Staffify refusing two of the numbers.
    for n in chosen[:2]:
        fault = {"status": 422, "count": 1, "path_prefix": f"/v1/phone-numbers/{n['id']}/assign"}
        assert live_sandbox.post("/control/faults", json=fault).status_code == 201
    page.get_by_role("button", name="Dismiss").click()
    expect(page.locator("#job-notice")).not_to_contain_text("finished")
    page.goto(f"{live_server.url}/p/main/?tag=sales")
    page.get_by_label("Select all numbers shown").check()
    page.locator("#bulk-bar").get_by_label("Assign to").select_option(str(SECOND))
    page.locator("dialog#bulk-dialog").get_by_role("button", name=f"Run: change {SALES} numbers").click()
    page.wait_for_url(f"{live_server.url}/p/main/jobs/*/")
    expect(page.get_by_role("progressbar")).to_have_attribute("value", str(SALES), timeout=90_000)
    expect(page.locator('[data-count="failed"]')).to_have_text("2 failed")
    expect(page.locator('[data-count="done"]')).to_have_text(f"{SALES - 2} done")
    failed = page.locator("#job-row-table tbody tr.job-row-failed")
    expect(failed).to_have_count(2)
    expect(failed.first).to_contain_text("Failed")
    assert failed.first.locator("td").nth(3).inner_text().strip()  # the reason
    assert failed.first.locator(".request-id").inner_text().strip()  # Staffify's request id
    screenshot(page, "bulk-job-failed", full_page=True)

    first_job = page.url
    page.get_by_role("button", name="Retry the 2 failed rows").click()
    page.wait_for_url(lambda url: "/p/main/jobs/" in url and url != first_job)
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "2", timeout=60_000)
    expect(page.locator('[data-count="done"]')).to_have_text("2 done")
    for n in chosen:
        assert live_sandbox.get(f"/v1/phone-numbers/{n['id']}").json()["agent_id"] == SECOND
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.locator("#jobs tbody tr")).to_have_count(3)
    screenshot(page, "bulk-jobs")
    assert not page.errors, page.errors


def test_select_all_that_match_covers_the_whole_filter_not_just_the_page(live_sandbox, login, ops_user, live_server):
    page = login(ops_user)
    total = int(page.locator("#numbers-table").get_attribute("data-bulk-total"))
    shown = page.locator("tbody#number-rows > tr[id^=number-]")
    expect(shown).to_have_count(50)
    assert total > 50
    first, fourth = shown.nth(0).locator("input[data-bulk-row]"), shown.nth(3).locator("input[data-bulk-row]")
    first.check()
    fourth.click(modifiers=["Shift"])  # a range: rows 1 to 4
    expect(page.locator("[data-bulk-count]")).to_have_text("4 selected")
    page.get_by_label("Select all numbers shown").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("50 selected")
    page.get_by_role("button", name=f"Select all {total} numbers that match this filter").click()
    expect(page.locator("[data-bulk-count]")).to_have_text(f"All {total} numbers that match this filter are selected")
    page.get_by_label("Other action").select_option("release")
    page.get_by_label("Unassign first").check()
    page.get_by_role("button", name="Preview…").click()
    dialog = page.locator("dialog#bulk-dialog")
    expect(dialog).to_contain_text(f"for {total} numbers")
    expect(dialog).to_contain_text("Saving: EUR")
    dialog.get_by_role("button", name="Cancel").click()
    assert not page.errors, page.errors
