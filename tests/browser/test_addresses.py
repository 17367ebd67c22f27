"""An address created, documented, submitted and verified through the Addresses page, then used to buy
an NL number: with Staffify's undocumented address listing switched off, as the documented API has it."""

import re

import pytest
from playwright.sync_api import expect

from numbers_app.models import AddressBookEntry, AuditEntry
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% a scanned passport\n"


def test_creating_verifying_and_buying_with_an_nl_address(live_sandbox, login, ops_user, live_server):
    live_sandbox.put("/control/addresses-listing", json={"enabled": False})
    page = login(ops_user)
    page.get_by_role("link", name="Addresses", exact=True).click()
    expect(page.locator("#requirements")).to_contain_text("Netherlands")

    form = page.locator("form.address-form")
    form.get_by_label("Company (optional)").fill("Acme BV")
    form.get_by_label("Street address").fill("Keizersgracht 10")
    form.get_by_label("Postal code").fill("1015 CN")
    form.locator("#id_city").fill("Amsterdam")
    form.get_by_label("City code").fill("020")
    form.get_by_label("Contact name").fill("Ada Lovelace")
    form.get_by_label("Contact e-mail").fill("ada@example.com")
    form.get_by_label("Contact phone").fill("+31 20 123 4567")
    form.get_by_role("button", name="Create address").click()
    expect(page.locator("#toasts")).to_contain_text("created in Amsterdam")
    entry = AddressBookEntry.objects.get()
    row = page.locator(f"#address-{entry.staffify_id}")
    expect(row).to_contain_text("Pending, not submitted yet")

    row.get_by_label("File (PDF, JPEG, PNG, at most 10 MB)").set_input_files(
        {"name": "passport.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    row.get_by_role("button", name="Upload").click()
    expect(page.locator("#toasts")).to_contain_text("Government ID uploaded")
    screenshot(page, "addresses", full_page=True)

    page.locator(f"#address-{entry.staffify_id}").get_by_role("button", name="Submit for review…").click()
    dialog = page.locator(f"dialog#submit-dialog-{entry.staffify_id}")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This cannot be undone.")
    screenshot(page, "addresses-submit-dialog")
    dialog.get_by_role("button", name="Submit for review").click()
    expect(page.locator(f"#address-{entry.staffify_id}")).to_contain_text("Pending review")

    live_sandbox.post("/control/clock", json={"advance_seconds": 601})  # the carrier's review completes
    page.locator(f"#address-{entry.staffify_id}").get_by_role("button", name="Check status").click()
    expect(page.locator(f"#address-{entry.staffify_id}")).to_contain_text("Verified")
    screenshot(page, "addresses-verified", full_page=True)

    page.get_by_role("link", name="Buy", exact=True).click()
    page.wait_for_url(re.compile(r"/p/main/buy/"), wait_until="load")  # htmx listens from then: typing earlier is lost
    page.get_by_label("Country", exact=True).select_option("NL")
    page.get_by_label("City code", exact=True).fill("020")
    first = page.locator("#results tbody tr").first
    expect(first).to_contain_text("+31 20")
    first.get_by_role("button").click()
    dialog = page.locator("dialog#buy-dialog")
    expect(dialog.get_by_label(re.compile("Address in NL"))).to_contain_text("Keizersgracht 10")
    dialog.get_by_role("button", name="Buy for EUR 5.00").click()
    expect(page.locator("tr.row-new.bought")).to_contain_text("+31 20")
    expect(page.locator("#toasts")).to_contain_text("Bought")
    bought = AuditEntry.objects.get(action="buy", outcome="ok")
    assert bought.after["address_id"] == entry.staffify_id
    assert not page.errors, page.errors
