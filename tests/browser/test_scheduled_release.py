"""Release at the end of the paid cycle in headless Chromium: schedule it on the number's page, see it
in the list, its filter and on billing, move the sandbox clock into the lead window, let the worker's
task run, and see the number released before the charge, which then never comes for it."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from numbers_app import tasks
from numbers_app.models import NumberRecord, ScheduledRelease
from numbers_app.scheduled import releases as scheduled_releases
from tests.browser.conftest import screenshot
from tests.helpers import advance_to, sandbox_now

pytestmark = pytest.mark.browser


def balance(sandbox) -> Decimal:
    return Decimal(str(sandbox.get("/v1/credits").json()["balance"]))


def renewals(sandbox) -> list[dict]:
    return [c for c in sandbox.get("/control/charges").json()["charges"] if c["reason"] == "renewal"]


def free_numbers(sandbox) -> list[dict]:
    numbers = sandbox.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
    return [n for n in numbers if n["status"] == "active" and n["agent_id"] is None]


def test_a_release_scheduled_before_the_charge_runs_and_saves_the_charge(live_sandbox, login, ops_user, live_server):
    number = free_numbers(live_sandbox)[0]
    number_id = number["id"]
    page = login(ops_user)
    page.goto(f"{live_server.url}/p/main/numbers/{number_id}/")
    panel = page.locator("#scheduled-release")
    expect(panel).to_contain_text("Release at the end of the paid cycle")
    panel.get_by_role("button", name="Release before the next charge").click()
    expect(page.locator("#scheduled-note")).to_contain_text("release scheduled")
    expect(page.locator("#scheduled-note")).to_contain_text("60 minutes before the charge of EUR 5.00")
    expect(page.locator("#toasts")).to_contain_text("will be released before its next charge")
    screenshot(page, "scheduled-release")
    scheduled = ScheduledRelease.objects.get(staffify_id=number_id)

    page.get_by_role("link", name="← Owned numbers").click()
    expect(page.locator(f"#number-{number_id} .pill.scheduled")).to_have_text("release scheduled")
    page.get_by_label("Release", exact=True).select_option("1")
    page.wait_for_url(re.compile(r"scheduled=1"))
    expect(page.locator("tbody#number-rows > tr[id^=number-]")).to_have_count(1)
    expect(page.locator(f"#number-{number_id}")).to_be_visible()
    screenshot(page, "scheduled-release-list")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    expect(page.locator("#scheduled-savings")).to_contain_text("1 scheduled release saves EUR 5.00 per 28 days")

    # Into the lead window on Staffify's clock: the worker's next pass releases it.
    advance_to(live_sandbox, scheduled.run_at + timedelta(minutes=2))
    assert tasks.run_scheduled_releases.call() == 1
    scheduled.refresh_from_db()
    assert scheduled.state == ScheduledRelease.State.DONE, scheduled.message
    page.goto(f"{live_server.url}/p/main/numbers/{number_id}/")
    expect(page.locator(f"#number-{number_id}")).to_contain_text("pending release")
    expect(page.locator("#scheduled-release")).to_contain_text("Only an active number can be released")
    expect(page.locator("#release-alerts")).to_have_count(0)
    assert NumberRecord.objects.get(staffify_id=number_id).last_status == "pending_release"

    # Past the charge instant: every other renewal in the window is charged, this number's is not.
    before, known = balance(live_sandbox), {c["id"] for c in renewals(live_sandbox)}
    advance_to(live_sandbox, scheduled.charge_at + timedelta(minutes=1))
    after = balance(live_sandbox)
    new = [c for c in renewals(live_sandbox) if c["id"] not in known]
    assert all(c["phone_number_id"] != number_id for c in new)
    assert before - after == Decimal("5.00") * len(new)
    assert live_sandbox.get(f"/v1/phone-numbers/{number_id}").json()["status"] == "pending_release"
    assert not page.errors, page.errors


def test_a_failed_scheduled_release_shows_on_every_page_until_dismissed(live_sandbox, login, ops_user, live_server):
    record = NumberRecord.objects.get(staffify_id=1001)  # assigned to an agent in the seed
    assert record.agent_id is not None
    scheduled = scheduled_releases.schedule(record, ops_user, unassign_first=False, now=sandbox_now(live_sandbox))
    advance_to(live_sandbox, scheduled.run_at + timedelta(minutes=5))
    tasks.run_scheduled_releases.call()
    page = login(ops_user)
    banner = page.locator("#release-alerts")
    expect(banner).to_contain_text("scheduled release failed")
    expect(banner).to_contain_text("It has an agent")
    expect(banner).to_contain_text(re.compile(r"The next charge, EUR 5\.00, is on .*: in 5\d\s+minutes"))
    screenshot(page, "scheduled-release-failed")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    expect(page.locator("#release-alerts")).to_contain_text("scheduled release failed")
    page.locator("#release-alerts").get_by_role("button", name="Dismiss").click()
    page.wait_for_url(f"{live_server.url}/p/main/billing/")
    expect(page.locator("#release-alerts")).to_have_count(0)
    assert not page.errors, page.errors


def test_scheduling_releases_in_bulk_unassigns_first_in_the_preview_and_cancels_from_the_badge_and_in_bulk(
    live_sandbox, worker, login, ops_user, live_server
):
    """Two numbers ticked, one with an agent: the preview offers "unassign first" in place (no cancel,
    tick, preview again), lists when each will be released, and the job says "Scheduled"; the list's
    badge cancels one, the bar cancels the other in bulk."""
    records = NumberRecord.objects.filter(last_status="active", gone_at=None).exclude(purchased_at=None)
    free = records.filter(agent_id__isnull=True).order_by("staffify_id").first()
    busy = records.filter(agent_id__isnull=False).order_by("staffify_id").first()
    assert free and busy
    page = login(ops_user)
    for record in (free, busy):
        page.locator(f"#number-{record.staffify_id} input[data-bulk-row]").check()
    bar = page.locator("#bulk-bar")
    bar.get_by_label("Other action").select_option("schedule_release")
    bar.get_by_role("button", name="Preview…").click()
    dialog = page.locator("dialog#bulk-dialog")
    expect(dialog).to_contain_text("1 of them has an agent")
    expect(dialog.locator('[data-preview="change"]')).to_have_text("1")
    dialog.get_by_role("button", name="Unassign first and preview again").click()
    expect(page.locator("dialog#bulk-dialog[open]")).to_contain_text("(unassigning first)")
    expect(dialog).to_have_count(1)  # the new preview replaced the first
    expect(dialog.locator('[data-preview="change"]')).to_have_text("2")
    instants = dialog.locator(".release-instants li")
    expect(instants).to_have_count(2)
    expect(instants.first).to_contain_text(
        re.compile(r"to be released \d+ \w{3} \d{4}, \d\d:\d\d CET, before the charge")
    )
    screenshot(page, "bulk-schedule-preview")
    dialog.get_by_role("button", name="Run: change 2 numbers").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/"))
    expect(page.locator('[data-count="done"]')).to_have_text("2 scheduled", timeout=60_000)
    expect(page.locator("#job-row-table .pill.row-done").first).to_have_text("Scheduled")
    expect(page.locator("[data-job-progress]")).to_have_text("2 of 2 numbers")
    screenshot(page, "bulk-schedule-job")
    assert set(scheduled_releases.waiting().values_list("staffify_id", flat=True)) == {
        free.staffify_id,
        busy.staffify_id,
    }

    page.goto(f"{live_server.url}/?scheduled=1")
    expect(page.locator("tbody#number-rows > tr[id^=number-]")).to_have_count(2)
    page.locator(f"#number-{free.staffify_id}").get_by_role("button", name=re.compile("^Cancel the scheduled")).click()
    expect(page.locator("#toasts")).to_contain_text("is cancelled")
    page.wait_for_url(re.compile(r"scheduled=1"))
    expect(page.locator("tbody#number-rows > tr[id^=number-]")).to_have_count(1)
    page.locator(f"#number-{busy.staffify_id} input[data-bulk-row]").check()
    bar.get_by_label("Other action").select_option("cancel_scheduled_release")
    bar.get_by_role("button", name="Preview…").click()
    expect(dialog).to_contain_text("will not be made")
    dialog.get_by_role("button", name="Run: change 1 number").click()
    expect(page.locator('[data-count="done"]')).to_have_text("1 cancelled", timeout=60_000)
    assert not scheduled_releases.waiting().exists()
    assert not page.errors, page.errors


def test_scheduling_and_cancelling_on_the_number_page_refresh_its_row_and_history(
    live_sandbox, login, ops_user, live_server
):
    """Without a reload: the row's badge and the history follow the panel (issue 26, item 7)."""
    number_id = free_numbers(live_sandbox)[0]["id"]
    page = login(ops_user)
    page.goto(f"{live_server.url}/numbers/{number_id}/")
    page.evaluate("window.__same_page = true")
    row, history = page.locator(f"#number-{number_id}"), page.locator("#history-panel")
    page.locator("#scheduled-release").get_by_role("button", name="Release before the next charge").click()
    expect(row.locator(".pill.scheduled")).to_have_text("release scheduled")
    expect(history).to_contain_text("release at")
    page.locator("#scheduled-release").get_by_role("button", name="Cancel the scheduled release").click()
    expect(page.locator("#toasts")).to_contain_text("is cancelled")
    expect(row.locator(".pill.scheduled")).to_have_count(0)
    expect(history).to_contain_text("no release at")
    assert page.evaluate("window.__same_page") is True  # no reload
    assert not page.errors, page.errors
