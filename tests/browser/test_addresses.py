"""An address created, documented, submitted and verified through the Addresses page, then used to buy
an NL number: with Staffify's undocumented address listing switched off, as the documented API has it."""

import re

import pytest
from playwright.sync_api import expect

from numbers_app.models import AddressBookEntry, AuditEntry
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% a scanned passport\n"


def heading_visible(page, card) -> None:
    """The page landed on the address's card with its heading whole in the viewport."""
    box = card.locator("h3").bounding_box()
    assert box is not None
    viewport = page.viewport_size
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], box


def test_creating_verifying_and_buying_with_an_nl_address(live_sandbox, login, ops_user, live_server):
    live_sandbox.put("/control/addresses-listing", json={"enabled": False})
    page = login(ops_user)
    page.get_by_role("link", name="Addresses", exact=True).click()
    expect(page.locator("#requirements")).to_contain_text("Netherlands")

    form = page.locator("form.address-form")
    expect(page.locator("select[name=country_code]")).to_have_count(1)  # one Country select
    page.get_by_label("Country", exact=True).select_option("FR")
    expect(page.locator("#requirements")).to_contain_text("France")
    page.reload()
    expect(page.get_by_label("Country", exact=True)).to_have_value("FR")  # kept
    page.get_by_label("Country", exact=True).select_option("NL")
    expect(page.locator("#requirements")).to_contain_text("Netherlands")
    widest = form.locator("input[type=text]").evaluate_all("els => Math.max(...els.map(e => e.offsetWidth))")
    assert widest <= 26 * 16, widest  # not 1,300 px
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
    heading_visible(page, row)
    expect(row.locator("[aria-current=step]")).to_contain_text("Upload documents")
    submit = row.get_by_role("button", name=re.compile("Submit for review"))
    expect(submit).to_be_disabled()
    expect(row).to_contain_text("Upload the Government ID first")

    row.get_by_label("File (PDF, JPEG, PNG, at most 10 MB)").set_input_files(
        {"name": "passport.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    row.get_by_role("button", name="Upload").click()
    expect(page.locator("#toasts")).to_contain_text("Government ID uploaded")
    heading_visible(page, row)
    expect(row.locator("[aria-current=step]")).to_contain_text("Submit for review")
    expect(submit).to_be_enabled()
    screenshot(page, "addresses", full_page=True)

    page.locator(f"#address-{entry.staffify_id}").get_by_role("button", name="Submit for review…").click()
    dialog = page.locator(f"dialog#submit-dialog-{entry.staffify_id}")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This cannot be undone.")
    screenshot(page, "addresses-submit-dialog")
    dialog.get_by_role("button", name="Submit for review").click()
    expect(page.locator(f"#address-{entry.staffify_id}")).to_contain_text("Pending review")
    heading_visible(page, row)
    expect(row.locator("[aria-current=step]")).to_contain_text("Carrier's review")
    expect(row).to_contain_text("The carrier's review takes about 10 minutes")

    live_sandbox.post("/control/clock", json={"advance_seconds": 601})  # the carrier's review completes
    page.locator(f"#address-{entry.staffify_id}").get_by_role("button", name="Check status").click()
    expect(page.locator(f"#address-{entry.staffify_id}")).to_contain_text("Verified")
    heading_visible(page, row)
    expect(row.locator("[aria-current=step]")).to_contain_text("Use it")
    screenshot(page, "addresses-verified", full_page=True)
    search = row.get_by_role("link", name="Search numbers in NL")
    expect(search).to_have_attribute("href", "/p/main/buy/?country_code=NL&number_type=local")

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


def test_the_book_shows_the_listings_addresses_and_fits_a_phone(live_sandbox, login, ops_user, live_server):
    """With Staffify's listing on, the book shows what the buy dialog offers, marked "Not in your book",
    and adding one makes it the book's; at 390 px nothing of a card lies outside the viewport."""
    live_sandbox.put("/control/addresses-listing", json={"enabled": True})
    page = login(ops_user)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/addresses/")
    expect(page.locator("#address-book")).not_to_contain_text("No addresses yet")
    outside = page.locator(".address-card.outside").filter(has_text="Demo B.V.").first
    expect(outside).to_contain_text("Not in your book")
    widest = page.evaluate("document.documentElement.scrollWidth")
    assert widest <= 390, widest
    screenshot(page, "addresses-phone", full_page=True)
    outside.get_by_role("button", name=re.compile("Add to your book")).click()
    expect(page.locator("#toasts")).to_contain_text("added to the address book")
    added = AddressBookEntry.objects.get()
    card = page.locator(f"#address-{added.staffify_id}")
    expect(card).not_to_contain_text("Not in your book")
    heading_visible(page, card)
    assert not page.errors, page.errors
