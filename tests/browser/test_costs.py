"""The costs page in headless Chromium: a Team lead goes from billing to costs, groups by tag, exports
the CSV and finds the totals in it; all of it from the mirror (live_sandbox walks the account first)."""

import csv

import pytest
from playwright.sync_api import expect

from numbers_app.models import NumberRecord

pytestmark = pytest.mark.browser


def test_a_lead_groups_costs_by_tag_and_exports_the_totals(live_sandbox, login, lead_user, live_server):
    page = login(lead_user)
    page.goto(f"{live_server.url}/p/main/billing/")
    page.get_by_role("link", name="Costs by agent, tag or country").click()
    page.wait_for_url(f"{live_server.url}/p/main/billing/costs")
    expect(page.get_by_role("heading", name="Costs", exact=True)).to_be_visible()
    expect(page.locator("#completeness")).to_contain_text("complete from")
    page.get_by_label("Tag").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(lambda url: "group=tag" in url)
    expect(page.locator("#costs-rules")).to_contain_text("A number with two tags counts in both")
    active = NumberRecord.objects.filter(last_status="active", gone_at__isnull=True).count()
    expect(page.locator("#costs-total td").first).to_have_text(str(active))
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    path = download_info.value.path()
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "tag"
    total = next(r for r in rows if r and r[0].startswith("TOTAL"))
    assert total[1] == str(active) and total[2] == f"{active * 5}.00"
    assert any(r and r[0] == "note" and "counts in both" in r[1] for r in rows)
