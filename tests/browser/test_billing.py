"""The billing page in headless Chromium: a Team lead pages through it, filters it, exports the CSV
and sees the warning; all of it from the mirror (live_sandbox walks the account into it first)."""

import csv
import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from numbers_app.models import NumberRecord
from tests.browser.conftest import screenshot
from tests.conftest import worker_reads_balance

pytestmark = pytest.mark.browser


def table_numbers(page) -> list[str]:
    return page.locator("#billing-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.number)")


def table_next_charges(page) -> list[str | None]:
    return page.locator("#billing-table tbody tr").evaluate_all(
        "rows => rows.map(r => { const t = r.querySelector('td.next-charge time'); return t && t.dateTime; })"
    )


def test_a_team_lead_filters_exports_and_sees_the_low_balance_warning(live_sandbox, login, lead_user, live_server):
    live_sandbox.put("/control/balance", json={"balance": 1000})
    worker_reads_balance()
    page = login(lead_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    page.wait_for_url(f"{live_server.url}/billing/")
    expect(page.get_by_role("heading", name="Billing", exact=True)).to_be_visible()
    expect(page.locator("#billing-table tbody tr")).to_have_count(50)
    expect(page.locator("#table-note")).to_contain_text("60 numbers. Showing 1 to 50.")
    expect(page.locator("#freshness")).to_contain_text("Synced with Staffify")
    expect(page.locator("#balance")).to_have_text("EUR 1,000.00")
    expect(page.locator("#balance-age")).to_contain_text("just now")
    page.get_by_role("link", name="Next 50").click()
    page.wait_for_url(re.compile(r"/billing/\?page=2$"))
    expect(page.locator("#billing-table tbody tr")).to_have_count(10)
    page.get_by_role("link", name="Previous 50").click()
    expect(page.locator("#billing-table tbody tr")).to_have_count(50)
    expect(page.locator("#balance-alert")).to_have_count(0)
    expect(page.get_by_role("img", name=re.compile("^Upcoming renewals per day"))).to_be_visible()

    page.get_by_label("Country").fill("nl")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"/billing/\?country=nl"))
    owned = live_sandbox.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
    dutch = {n["phone_number"] for n in owned if n["country_code"] == "NL"}
    expect(page.locator("#billing-table tbody tr")).to_have_count(len(dutch))
    expect(page.locator("#table-note")).to_contain_text(f"{len(dutch)} of 60 numbers match the filters.")
    shown = table_numbers(page)
    assert set(shown) == dutch

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert re.fullmatch(r"staffify-billing-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), newline="", encoding="utf-8") as file:
        header, *lines = list(csv.reader(file))
    assert header[0] == "number" and header[9] == "next charge (Europe/Amsterdam)"
    assert [line[0] for line in lines] == shown
    for line, due in zip(lines, table_next_charges(page), strict=True):
        if due:
            assert datetime.fromisoformat(line[9]) == datetime.fromisoformat(due).replace(microsecond=0)
        else:
            assert line[9] == ""

    live_sandbox.put("/control/balance", json={"balance": 3})
    page.reload()
    expect(page.locator("#balance")).to_have_text("EUR 1,000.00")  # the worker's reading: no call from a page
    page.get_by_role("button", name="Refresh the balance").click()  # the one call a person makes for it
    expect(page.locator("#balance")).to_have_text("EUR 3.00")  # billing reloads: the runway follows
    alert = page.locator("#balance-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("The balance EUR 3.00 does not cover the EUR")
    expect(alert).to_contain_text("due in the next 7 days; it runs out on")
    expect(page.locator("#billing-table tbody tr")).to_have_count(len(dutch))  # the filter stayed

    page.get_by_role("link", name="Clear").click()
    expect(page.locator("#billing-table tbody tr")).to_have_count(50)
    expect(alert).to_be_visible()
    screenshot(page, "billing")
    assert not page.errors, page.errors


def test_an_account_of_undated_numbers_shows_its_bounds(live_sandbox, login, lead_user, live_server):
    # Bought before the dashboard existed, on a Staffify that does not say when: no purchase times.
    NumberRecord.objects.update(purchased_at=None, next_charge_at=None)
    live_sandbox.put("/control/balance", json={"balance": 42.5})
    worker_reads_balance()
    page = login(lead_user)
    page.goto(f"{live_server.url}/billing/")
    expect(page.locator("#balance-alert")).to_be_visible()
    expect(page.locator("body")).to_contain_text("up to")
    screenshot(page, "billing-bounds", full_page=False)
    assert not page.errors, page.errors
