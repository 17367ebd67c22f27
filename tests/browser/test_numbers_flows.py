"""Every dashboard flow driven in headless Chromium against the live server and its sandbox."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from numbers_app import staffify
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def owned(sandbox):
    return {n["phone_number"]: n for n in sandbox.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]}


def number(sandbox, number_id):
    return sandbox.get(f"/v1/phone-numbers/{number_id}").json()


def row(page, number_id):
    return page.locator(f"#number-{number_id}")


def test_the_owned_list_scrolls_filters_and_looks_right(live_sandbox, login, ops_user, live_server):
    page = login(ops_user, by_form=True)  # the one browser test that signs in through the login form
    expect(page.locator("tbody#number-rows > tr[id^=number-]")).to_have_count(50)
    expect(page.locator(".countdown").first).to_contain_text("left to reclaim")
    screenshot(page, "numbers")
    page.locator("#load-more").scroll_into_view_if_needed()
    expect(page.locator("tbody#number-rows > tr[id^=number-]")).to_have_count(60)
    expect(page.locator("#freshness")).to_contain_text("Synced with Staffify")
    page.get_by_label("Tag", exact=True).fill("berlin")
    berlin = [n for n in owned(live_sandbox).values() if "berlin" in n["tags"]]
    expect(page.locator(".results-note")).to_contain_text(f"{len(berlin)} numbers match these filters.")
    expect(page.locator("tbody#number-rows > tr[id^=number-]")).to_have_count(len(berlin))
    assert "tag=berlin" in page.url  # the filter is in the address bar, so back and reload keep it
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/p/main/")
    screenshot(page, "numbers-phone")
    assert not page.errors, page.errors


def test_buying_a_us_number(live_sandbox, login, ops_user, live_server):
    page = login(ops_user)
    page.get_by_role("link", name="Buy", exact=True).click()
    page.wait_for_url(re.compile(r"/p/main/buy/"), wait_until="load")  # htmx listens from then: typing earlier is lost
    page.get_by_label("Area code (US/CA)").fill("212")
    first = page.locator("#results tbody tr").first
    expect(first).to_contain_text("+1 212")
    wanted = first.locator("td").first.inner_text()
    screenshot(page, "buy")
    first.get_by_role("button").click()
    dialog = page.locator("dialog#buy-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("EUR 5.00 every 28 days")
    expect(dialog).to_contain_text("Balance")
    screenshot(page, "buy-dialog")
    buy = dialog.get_by_role("button", name="Buy for EUR 5.00")
    posts = []
    page.on(
        "request", lambda r: posts.append(r.url) if r.method == "POST" and "/p/main/buy/purchase" in r.url else None
    )
    # A double click, and the same form submitted twice before any answer: one purchase is sent
    # (and the server would refuse a second confirmation anyway).
    buy.evaluate("b => { b.click(); b.form.requestSubmit(); }")
    # The search stays; the result row says it was bought and links to it.
    expect(page.locator("tr.row-new.bought")).to_contain_text(wanted)
    expect(page.locator("#toasts")).to_contain_text("Bought")
    assert "/p/main/buy/" in page.url
    assert sum(1 for p in owned(live_sandbox) if p.replace(" ", "") == wanted.replace(" ", "").replace("-", "")) == 1
    assert live_sandbox.get("/v1/credits").json()["balance"] == 37.5
    assert len(posts) == 1, posts
    assert not page.errors, page.errors


def test_buying_an_nl_number_with_its_address(live_sandbox, login, ops_user):
    page = login(ops_user)
    page.get_by_role("link", name="Buy", exact=True).click()
    page.wait_for_url(re.compile(r"/p/main/buy/"), wait_until="load")  # htmx listens from then: typing earlier is lost
    page.get_by_label("Country", exact=True).select_option("NL")
    expect(page.get_by_label("City code", exact=True)).to_be_visible()
    expect(page.get_by_label("Area code (US/CA)")).to_be_hidden()
    page.get_by_label("City code", exact=True).fill("020")
    first = page.locator("#results tbody tr").first
    expect(first).to_contain_text("+31 20")
    first.get_by_role("button").click()
    dialog = page.locator("dialog#buy-dialog")
    address = dialog.get_by_label(re.compile("Address in NL"))
    expect(address).to_contain_text("Amsterdam (020)")
    assert page.locator("#buy-city-code").input_value() == "020"
    # At 390 px the dialog's facts (number and place, the balance after) wrap inside it (issue 26, item 1).
    page.set_viewport_size({"width": 390, "height": 844})
    outside = page.evaluate(
        """() => { const edge = document.querySelector("dialog#buy-dialog").getBoundingClientRect().right;
          return [...document.querySelectorAll("dialog#buy-dialog dd, dialog#buy-dialog dd *")]
            .filter(e => e.getBoundingClientRect().right > edge).map(e => e.textContent.trim()); }"""
    )
    assert not outside, outside
    dialog.get_by_role("button", name="Buy for EUR 5.00").click()
    expect(page.locator("tr.row-new.bought")).to_contain_text("+31 20")
    assert not page.errors, page.errors


def test_assign_reassign_and_unassign_from_the_dropdown(live_sandbox, login, support_user):
    page = login(support_user)
    select = row(page, 1001).get_by_label(re.compile("Agent for"))
    select.focus()
    select.select_option(label="Survey Caller")
    expect(page.locator("#toasts")).to_contain_text("assigned to Survey Caller")
    assert number(live_sandbox, 1001)["agent_id"] == 110
    row(page, 1001).get_by_label(re.compile("Agent for")).select_option(label="Billing Helper")
    expect(page.locator("#toasts")).to_contain_text("assigned to Billing Helper")
    assert number(live_sandbox, 1001)["agent_id"] == 103
    row(page, 1001).get_by_label(re.compile("Agent for")).select_option(label="— no agent —")
    expect(page.locator("#toasts")).to_contain_text("unassigned")
    assert number(live_sandbox, 1001)["agent_id"] is None
    expect(row(page, 1001).get_by_label(re.compile("Agent for"))).to_have_value("")
    assert not page.errors, page.errors


def test_a_short_rows_controls_are_named_and_work_in_the_browser(live_sandbox, login, ops_user):
    """A row arrives short (numbers_app.text.row_html); app.js writes each control's name and URL from
    the row's number and its <tbody>'s patterns, on the first page and in a row swapped in later."""
    page = login(ops_user)
    shown = row(page, 1001).locator("a.num").inner_text()
    for control in (
        row(page, 1001).get_by_role("checkbox", name=f"Select {shown}", exact=True),
        row(page, 1001).get_by_role("combobox", name=f"Agent for {shown}", exact=True),
        row(page, 1001).get_by_role("button", name=re.compile(rf": edit the tags of {re.escape(shown)}$")),
        row(page, 1001).get_by_role("button", name=f"Release {shown}", exact=True),
    ):
        expect(control).to_have_count(1)
    select = row(page, 1001).get_by_role("combobox", name=f"Agent for {shown}")
    expect(select.locator("option").first).to_have_text("— no agent —")
    expect(select).to_have_attribute("data-saved", select.input_value())
    select.select_option(label="Survey Caller")
    expect(page.locator("#toasts")).to_contain_text("assigned to Survey Caller")
    # The row the server sent back is dressed too: its dropdown works again.
    expect(row(page, 1001).get_by_role("combobox", name=f"Agent for {shown}")).to_have_attribute("data-saved", "110")
    row(page, 1001).get_by_role("combobox", name=f"Agent for {shown}").select_option(label="Billing Helper")
    expect(page.locator("#toasts")).to_contain_text("assigned to Billing Helper")
    assert number(live_sandbox, 1001)["agent_id"] == 103
    row(page, 1001).get_by_role("button", name=f"Release {shown}").click()
    expect(page.locator("dialog[id^=release-dialog-]")).to_be_visible()
    assert not page.errors, page.errors


def test_a_note_is_written_in_its_row_kept_through_a_reload_and_found_by_search(
    live_sandbox, login, support_user, live_server
):
    """Support names a number and notes it in place (the button's URL and name written by app.js from its
    row); the row shows it, a reload keeps it, the list's search finds it."""
    page = login(support_user)
    shown = row(page, 1002).locator("a.num").inner_text()
    row(page, 1002).get_by_role("button", name=f"add note to {shown}", exact=True).click()
    page.get_by_label("Name").fill("Front desk")
    page.get_by_label("Note").fill("Kept for the Zanzibar office")
    page.locator("#note-1002").get_by_role("button", name="Save").click()
    expect(page.locator("#note-1002")).to_contain_text("Front desk")
    edit = row(page, 1002).get_by_role("button", name=re.compile(rf": edit the name and note of {re.escape(shown)}$"))
    expect(edit).to_have_count(1)  # the saved cell, swapped in, is dressed too
    page.goto(f"{live_server.url}/p/main/?q=zanzibar")
    expect(page.locator("tbody#number-rows > tr[id^=number-]")).to_have_count(1)
    expect(row(page, 1002)).to_contain_text("Front desk")
    assert not page.errors, page.errors


def test_a_failed_assignment_says_why_and_shows_the_true_agent(live_sandbox, login, support_user):
    page = login(support_user)
    before = str(number(live_sandbox, 1001)["agent_id"])
    live_sandbox.post(
        "/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/phone-numbers/1001/assign"}
    )
    row(page, 1001).get_by_label(re.compile("Agent for")).select_option(label="Survey Caller")
    expect(row(page, 1001)).to_contain_text(
        "Staffify is having trouble (HTTP 503). Nothing was changed: the dashboard checked."
    )
    expect(row(page, 1001).get_by_label(re.compile("Agent for"))).to_have_value(before)


def test_editing_tags_in_place(live_sandbox, login, support_user):
    page = login(support_user)
    page.locator("#tags-1002 .tags-display").click()
    field = page.get_by_label("Tags, separated by commas")
    expect(field).to_be_focused()
    field.fill("vip, support, night")
    field.press("Enter")
    expect(page.locator("#tags-1002 .tag")).to_have_text(["vip", "support", "night"])
    assert number(live_sandbox, 1002)["tags"] == ["vip", "support", "night"]
    # Escape cancels
    page.locator("#tags-1002 .tags-display").click()
    expect(page.get_by_label("Tags, separated by commas")).to_be_focused()
    page.get_by_label("Tags, separated by commas").fill("something else")
    page.get_by_label("Tags, separated by commas").press("Escape")
    expect(page.locator("#tags-1002 .tag")).to_have_text(["vip", "support", "night"])
    # a 21st tag is refused beside the field, in the browser, and nothing is sent
    page.locator("#tags-1002 .tags-display").click()
    field = page.get_by_label("Tags, separated by commas")
    # The editor puts the caret at the end once it has settled: filling before that would append.
    expect(field).to_be_focused()
    field.fill(", ".join(f"tag{i}" for i in range(21)))
    expect(page.locator("#tags-error-1002")).to_have_text("At most 20 tags: this has 21.")
    screenshot(page, "tags-editor")
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and "/tags" in r.url else None)
    field.press("Enter")
    # A request the page makes after Enter is answered after any request Enter would have sent.
    assert page.evaluate("fetch('/healthz').then(r => r.status)") in (200, 503)
    assert sent == []
    expect(page.locator("#tags-error-1002")).to_have_text("At most 20 tags: this has 21.")
    assert number(live_sandbox, 1002)["tags"] == ["vip", "support", "night"]
    assert not page.errors, page.errors


def test_the_server_refuses_a_21st_tag_even_without_the_browser_check(live_sandbox, login, support_user):
    page = login(support_user)
    page.locator("#tags-1002 .tags-display").click()
    field = page.get_by_label("Tags, separated by commas")
    expect(field).to_be_focused()  # settled: its caret is placed before the value is replaced
    field.evaluate("el => el.removeAttribute('data-tags-input')")  # no browser check: the server must say it
    field.fill(", ".join(f"tag{i}" for i in range(21)))
    field.press("Enter")
    expect(page.locator("#tags-error-1002")).to_have_text("At most 20 tags: this has 21.")


def test_release_watch_the_countdown_and_reclaim(live_sandbox, login, ops_user):
    page = login(ops_user)
    candidates = [n for n in owned(live_sandbox).values() if n["status"] == "active" and n["agent_id"] is not None]
    target = candidates[0]["id"]
    row(page, target).get_by_role("button", name="Release").click()
    dialog = page.locator(f"dialog#release-dialog-{target}")
    expect(dialog).to_contain_text("It is assigned to")
    expect(dialog).to_contain_text("pending release for 7 days")
    screenshot(page, "release-dialog")
    dialog.get_by_role("button", name="Unassign and release").click()
    expect(dialog).to_be_hidden()
    countdown = row(page, target).locator(".countdown")
    expect(countdown).to_contain_text(re.compile(r"6d 23:59:\d\d left to reclaim"))
    expect(countdown).not_to_have_text(countdown.inner_text(), use_inner_text=True)  # it ticks in the browser
    assert number(live_sandbox, target)["status"] == "pending_release"
    page.reload()  # the deadline survives a reload
    expect(row(page, target).locator(".countdown")).to_contain_text("left to reclaim")
    row(page, target).get_by_role("button", name=re.compile(r"^Reclaim \+")).click()
    expect(row(page, target).locator(".pill")).to_have_text("active")
    assert number(live_sandbox, target)["status"] == "active"
    assert not page.errors, page.errors


def test_the_countdown_reaching_zero_disables_reclaim(live_sandbox, login, ops_user, live_server):
    page = login(ops_user)
    pending = number(live_sandbox, 1006)
    from numbers_app.staffify import parse_datetime

    clock = live_sandbox.get("/control/clock").json()["now"]
    left = parse_datetime(pending["reclaim_before"]) - parse_datetime(clock)
    live_sandbox.post("/control/clock", json={"advance_seconds": int((left - timedelta(seconds=60)).total_seconds())})
    # The dashboard learns Staffify's clock from its answers (the header's balance, within a minute, in use).
    staffify.get_client().credits()
    # The browser's clock runs as usual from here, and is moved on below instead of waited for.
    page.clock.install()
    page.goto(live_server.url + "/p/main/?status=pending_release")
    # Up to 60 s are left when the page is made, and the browser counts from the server's "now" then.
    expect(row(page, 1006).locator(".countdown")).to_contain_text(re.compile(r"00:00:[0-5]\d left to reclaim"))
    expect(row(page, 1006).get_by_role("button", name=re.compile("^Reclaim"))).to_be_enabled()
    page.clock.fast_forward(61_000)
    expect(row(page, 1006).locator(".countdown")).to_contain_text("the number is gone")
    expect(row(page, 1006).get_by_role("button", name="Reclaim")).to_be_disabled()


def test_a_402_is_explained_with_the_balance(live_sandbox, login, ops_user):
    page = login(ops_user)
    page.get_by_role("link", name="Buy", exact=True).click()
    page.wait_for_url(re.compile(r"/p/main/buy/"), wait_until="load")  # htmx listens from then: typing earlier is lost
    page.locator("#results tbody tr").first.get_by_role("button").click()
    dialog = page.locator("dialog#buy-dialog")
    expect(dialog).to_contain_text("EUR 42.50")
    live_sandbox.put("/control/balance", json={"balance": 2})  # someone spends it meanwhile
    dialog.get_by_role("button", name="Buy for EUR 5.00").click()
    expect(page.locator("dialog#buy-dialog")).to_contain_text(
        "the balance is EUR 2.00 and a number needs EUR 5.00 up front"
    )
    expect(page.locator("dialog#buy-dialog")).to_contain_text("Staffify request id req_")
    expect(page.locator("dialog#buy-dialog").get_by_role("button", name="Buy for EUR 5.00")).to_be_disabled()
    screenshot(page, "buy-402")


def test_a_503_and_a_timeout_are_explained(live_sandbox, login, ops_user, live_server, settings):
    page = login(ops_user)
    live_sandbox.post(
        "/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/phone-numbers", "method": "GET"}
    )
    page.goto(
        f"{live_server.url}/p/main/numbers/1001/"
    )  # the number page reads Staffify live; the list reads the mirror
    expect(page.locator(".banner.error")).to_contain_text("Staffify is having trouble (HTTP 503). Nothing was changed.")
    expect(page.locator(".banner.error")).to_contain_text("Staffify request id req_")
    screenshot(page, "error-503")
    settings.STAFFIFY_TIMEOUT = 0.5
    live_sandbox.post(
        "/control/faults",
        json={"status": None, "delay_ms": 1500, "count": 1, "path_prefix": "/v1/phone-numbers", "method": "GET"},
    )
    page.reload()
    expect(page.locator(".banner.error")).to_contain_text("Staffify did not answer in time. Nothing was changed.")
    # The sandbox is still sleeping on the delayed request: live_sandbox waits for it at teardown.


def test_support_cannot_buy_or_release(live_sandbox, login, support_user, live_server):
    page = login(support_user)
    expect(page.locator(".role-note")).to_contain_text("buying, releasing and reclaiming numbers is for Operations")
    expect(page.get_by_role("link", name="Buy a number")).to_have_count(0)
    expect(row(page, 1001).get_by_role("button", name="Release")).to_be_disabled()
    response = page.goto(live_server.url + "/p/main/buy/")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("Your role (Support) cannot buy numbers.")


def test_a_team_lead_can_change_nothing(live_sandbox, login, lead_user, live_server):
    page = login(lead_user)
    expect(page.locator(".role-note")).to_contain_text("your role changes nothing")
    expect(row(page, 1001).get_by_label(re.compile("Agent for"))).to_be_disabled()
    expect(page.locator("#tags-1001 button")).to_have_count(0)
    expect(row(page, 1036).get_by_role("button", name="Reclaim")).to_be_disabled()
    screenshot(page, "team-lead")
    # and the server refuses even when the page is bypassed
    status = page.evaluate("""async () => {
        const token = JSON.parse(document.body.getAttribute('hx-headers'))['x-csrftoken'];
        const form = 'application/x-www-form-urlencoded';
        const headers = {'X-CSRFToken': token, 'HX-Request': 'true', 'Content-Type': form};
        const r = await fetch('/p/main/numbers/1001/agent', {method: 'POST', headers: headers, body: 'agent_id=110'});
        return r.status; }""")
    assert status == 403
    assert number(live_sandbox, 1001)["agent_id"] != 110


def test_the_detail_page(live_sandbox, login, ops_user, live_server):
    page = login(ops_user)
    row(page, 1001).get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("+1")
    expect(page.locator("dl.facts")).to_contain_text("Purchased")
    page.get_by_label(re.compile("Agent for")).select_option(label="Survey Caller")
    expect(page.locator("#toasts")).to_contain_text("assigned to Survey Caller")


def test_the_keyboard_reaches_the_agent_select_and_the_tag_editor(live_sandbox, login, support_user):
    page = login(support_user)
    page.get_by_label("Country", exact=True).focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "agent-1001":
            break
    else:
        pytest.fail("Tab never reached the first row's agent select")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#tags-1001') !== null")
    page.keyboard.press("Enter")
    field = page.get_by_label("Tags, separated by commas")
    expect(field).to_be_focused()
    page.keyboard.type(", keyboard")
    page.keyboard.press("Enter")
    expect(page.locator("#tags-1001 .tag").last).to_have_text("keyboard")
    assert number(live_sandbox, 1001)["tags"][-1] == "keyboard"


def test_a_refusal_says_why_in_place_even_with_djangos_debug_script(live_sandbox, login, ops_user, settings):
    settings.DEBUG = True  # `make run`: django-htmx's debug script then puts any 403 in place of the page
    page = login(ops_user)
    before = number(live_sandbox, 1001)["agent_id"]
    page.context.clear_cookies(name="csrftoken")  # a stale page: the form's token no longer matches
    row(page, 1001).get_by_label(re.compile("Agent for")).select_option(label="Survey Caller")
    expect(page.locator("#toasts")).to_contain_text("nothing was changed. Reload the page and try again.")
    expect(row(page, 1001)).to_be_visible()  # the page is still there, around the toast
    assert number(live_sandbox, 1001)["agent_id"] == before
