"""Every row flow with the keyboard alone (Tab, Shift+Tab, Enter, Escape, arrows, typing): nothing is
clicked, nothing changes without an explicit Enter, and focus lands where the user was after each swap.
Also the one counting toast, and errors that stay until dismissed."""

import re

import pytest
from playwright.sync_api import expect

from numbers_app.models import AuditEntry
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def number(sandbox, number_id):
    return sandbox.get(f"/v1/phone-numbers/{number_id}").json()


def active(page) -> dict:
    return page.evaluate(
        """() => { const a = document.activeElement, tr = a.closest('tr');
        return {id: a.id, text: (a.innerText || '').trim().split('\\n')[0], tag: a.tagName, row: tr ? tr.id : ''}; }"""
    )


def tab_to(page, condition: str, *, start: str = "#f-country", limit: int = 80, back: bool = False) -> None:
    """Press Tab (Shift+Tab with BACK) from START until `condition` (JS, on `a`, the active element) holds."""
    page.locator(start).focus()
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate(f"(() => {{ const a = document.activeElement; return !!({condition}); }})()"):
            return
    pytest.fail(f"Tab never reached {condition}")


def settled(page) -> None:
    """Any request the page sent before this is answered by now (the server answers in order per page)."""
    assert page.evaluate("fetch('/healthz').then(r => r.status)") in (200, 503)


def writes() -> list[tuple[str, str]]:
    return [(e.action, e.outcome) for e in AuditEntry.objects.exclude(action="login_lockout").order_by("at", "id")]


def test_arrowing_through_agents_changes_nothing_and_enter_commits(live_sandbox, login, support_user):
    page = login(support_user)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    saved = str(number(live_sandbox, 1001)["agent_id"])
    tab_to(page, "a.id === 'agent-1001'")
    select = page.locator("#agent-1001")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(select).not_to_have_value(saved)
    expect(page.locator("#agent-hint-1001")).to_be_visible()
    expect(page.locator("#agent-hint-1001")).to_contain_text("Not saved")
    page.keyboard.press("ArrowUp")
    page.keyboard.type("s")  # typing a letter chooses too, and commits nothing either
    page.keyboard.press("Escape")
    expect(select).to_have_value(saved)
    expect(page.locator("#agent-hint-1001")).to_be_hidden()
    settled(page)
    assert posts == [] and writes() == []
    assert str(number(live_sandbox, 1001)["agent_id"]) == saved
    # Tabbing away with a choice made leaves it unsaved, said beside it; Shift+Tab back and Enter saves it
    page.keyboard.press("End")
    chosen = select.input_value()
    assert chosen != saved
    page.keyboard.press("Tab")
    expect(page.locator("#agent-hint-1001")).to_be_visible()
    settled(page)
    assert posts == []
    while active(page)["id"] != "agent-1001":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("assigned to")
    assert str(number(live_sandbox, 1001)["agent_id"]) == chosen
    assert writes() == [("assign", "ok")]
    # focus is back on the same dropdown, in the new row
    expect(page.locator("#agent-1001")).to_be_focused()
    expect(page.locator("#agent-1001")).to_have_value(chosen)
    assert not page.errors, page.errors


def test_tags_by_keyboard_keep_focus_on_the_tags(live_sandbox, login, support_user):
    page = login(support_user)
    tab_to(page, "a.closest('#tags-1002')")
    page.keyboard.press("Enter")
    field = page.locator("#tags-input-1002")
    expect(field).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("vip, night")
    page.keyboard.press("Enter")
    expect(page.locator("#tags-1002 .tag")).to_have_text(["vip", "night"])
    expect(page.locator("#tags-1002 .tags-display")).to_be_focused()
    assert number(live_sandbox, 1002)["tags"] == ["vip", "night"]
    # Escape cancels, and focus is back on the tags
    page.keyboard.press("Enter")
    expect(field).to_be_focused()
    page.keyboard.type(", oops")
    page.keyboard.press("Escape")
    expect(page.locator("#tags-1002 .tag")).to_have_text(["vip", "night"])
    expect(page.locator("#tags-1002 .tags-display")).to_be_focused()
    settled(page)
    assert number(live_sandbox, 1002)["tags"] == ["vip", "night"]
    assert writes() == [("tags", "ok")]
    assert not page.errors, page.errors


def test_release_and_reclaim_with_the_agent_given_back_by_keyboard(live_sandbox, login, ops_user):
    page = login(ops_user)
    before = number(live_sandbox, 1001)
    assert before["agent_id"] is not None
    tab_to(page, "a.closest('#number-1001') && a.innerText.trim().split('\\n')[0] === 'Release'")
    # Escape in the dialog releases nothing and gives focus back to Release
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#release-dialog-1001")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert active(page)["text"] == "Release" and active(page)["row"] == "number-1001"
    settled(page)
    assert writes() == [] and number(live_sandbox, 1001)["status"] == "active"
    # Enter, Tab to "Unassign and release", Enter
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    for _ in range(6):
        if active(page)["text"] == "Unassign and release":
            break
        page.keyboard.press("Tab")
    assert active(page)["text"] == "Unassign and release"
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    row = page.locator("#number-1001")
    expect(row.locator(".pill")).to_contain_text("pending release")
    # focus lands on the row's next step: Reclaim
    expect(row.get_by_role("button", name=re.compile(r"^Reclaim \+"))).to_be_focused()
    offer = row.get_by_role("button", name=f"Reclaim and give it back to {before['agent_name']}")
    expect(offer).to_be_visible()
    page.keyboard.press("Tab")
    expect(offer).to_be_focused()
    page.keyboard.press("Enter")
    expect(row.locator(".pill")).to_have_text("active")
    expect(page.locator("#agent-1001")).to_have_value(str(before["agent_id"]))
    after = number(live_sandbox, 1001)
    assert after["status"] == "active" and after["agent_id"] == before["agent_id"]
    assert writes() == [("unassign", "ok"), ("release", "ok"), ("reclaim", "ok"), ("assign", "ok")]
    expect(row.get_by_role("button", name="Release")).to_be_focused()
    expect(page.locator("#toasts")).to_contain_text(f"assigned to {before['agent_name']} again")
    assert not page.errors, page.errors


def test_buying_by_keyboard_with_agent_and_tags_stays_in_the_search(live_sandbox, login, ops_user, live_server):
    page = login(ops_user)
    page.goto(f"{live_server.url}/p/main/buy/?country_code=US&number_type=local&area_code=212&limit=5")
    tab_to(page, "a.matches('#results button') && a.innerText.trim() === 'Buy'", start="#s-limit")
    result_row = active(page)["row"]
    wanted = "+" + result_row.removeprefix("result-")
    # Escape in the confirmation buys nothing, and focus is back on the result's Buy
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#buy-dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert active(page)["row"] == result_row and active(page)["text"] == "Buy"
    # Enter; choose the agent by typing, Tab to the tags, type them, Enter buys
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Agent")).to_be_focused()
    page.keyboard.type("Survey")
    expect(dialog.get_by_label("Agent")).to_have_value("110")
    page.keyboard.press("Tab")
    expect(dialog.get_by_label("Tags, separated by commas")).to_be_focused()
    page.keyboard.type("vip, night")
    screenshot(page, "buy-dialog-set-up")
    settled(page)
    assert writes() == []  # choosing in the dialog sent nothing
    page.keyboard.press("Enter")
    bought_row = page.locator(f"#{result_row}")
    expect(bought_row).to_contain_text("Bought")
    expect(bought_row).to_contain_text("assigned to Survey Caller, tagged vip, night.")
    expect(dialog).to_have_count(0)
    assert "/p/main/buy/?" in page.url and "area_code=212" in page.url  # the search stayed
    expect(page.locator("#s-area")).to_have_value("212")
    expect(page.locator("#balance-badge")).to_contain_text("Balance EUR 37.50")  # the header follows
    link = bought_row.get_by_role("link")
    expect(link).to_be_focused()
    owned = {n["phone_number"]: n for n in live_sandbox.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]}
    assert owned[wanted]["agent_id"] == 110 and owned[wanted]["tags"] == ["vip", "night"]
    assert writes() == [("buy", "ok"), ("assign", "ok"), ("tags", "ok")]
    assert link.get_attribute("href") == f"/p/main/numbers/{owned[wanted]['id']}/"
    screenshot(page, "buy-bought-in-place")
    page.keyboard.press("Enter")  # the link leads to the number
    page.wait_for_url(re.compile(rf"/p/main/numbers/{owned[wanted]['id']}/$"))
    assert not page.errors, page.errors


def test_one_toast_counts_and_errors_stay_until_dismissed(live_sandbox, login, support_user):
    page = login(support_user)
    page.clock.install()
    page.reload()
    for number_id in (1001, 1002, 1003):
        select = page.locator(f"#agent-{number_id}")
        select.select_option(label="Survey Caller")  # a pointer's choice commits at once
        expect(page.locator(f"#agent-{number_id}")).to_have_value("110")
    toasts = page.locator("#toasts .toast")
    expect(toasts).to_have_count(1)
    expect(toasts.first).to_contain_text("3 numbers moved.")
    expect(toasts.first).to_contain_text("assigned to Survey Caller")
    expect(toasts.first).to_have_attribute("role", "status")
    expect(page.locator("#toasts")).to_have_attribute("aria-live", "polite")
    screenshot(page, "toast-counting")
    # an error toast (the event a failed request sends; twice: counted, not stacked) stays until dismissed
    page.evaluate(
        """() => {
        const body = document.body;
        htmx.trigger(body, 'toast', {level: 'error', message: 'Nothing was changed: a test error.'});
        htmx.trigger(body, 'toast', {level: 'error', message: 'Nothing was changed: a test error.'});
    }"""
    )
    error = page.locator("#toasts .toast.error")
    expect(error).to_have_count(1)
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("(2×)")
    page.clock.run_for(10_000)
    expect(page.locator("#toasts .toast.success")).to_have_count(0)  # gone after a few seconds
    page.clock.run_for(60_000)
    expect(error).to_have_count(1)  # still there
    error.get_by_role("button", name="Dismiss").focus()
    page.keyboard.press("Enter")
    expect(error).to_have_count(0)
    assert not page.errors, page.errors


def test_tags_breaking_a_rule_in_the_buy_dialog_stop_the_purchase_in_the_browser(live_sandbox, login, ops_user):
    page = login(ops_user)
    page.goto(page.url + "buy/?country_code=US&number_type=local&area_code=212&limit=5")
    tab_to(page, "a.matches('#results button') && a.innerText.trim() === 'Buy'", start="#s-limit")
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#buy-dialog")
    expect(dialog.get_by_label("Agent")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("vip, vip")
    expect(dialog.locator("#buy-tags-error")).to_have_text("Tag “vip” appears twice.")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.keyboard.press("Enter")
    settled(page)
    assert posts == [] and writes() == []
    expect(dialog).to_be_visible()
    assert not page.errors, page.errors


def test_a_bulk_action_by_keyboard_changes_nothing_until_run(live_sandbox, worker, login, support_user):
    """Tick two numbers with Space, choose "Add tags", type them, preview with Enter, Escape changes
    nothing; preview again and Run with Enter: the job tags both numbers."""
    page = login(support_user)
    targets = ["number-1001", "number-1002"]
    for target in targets:
        tab_to(page, f"a.matches('[data-bulk-row]') && a.closest('tr').id === '{target}'")
        page.keyboard.press("Space")
    expect(page.locator("[data-bulk-count]")).to_contain_text("2 selected")
    # Arrowing through "Assign to" only chooses: no preview pops up until Enter.
    tab_to(page, "a.matches('select[data-bulk-assign]')", start="#bulk-bar [data-bulk-clear]", limit=5)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    settled(page)
    expect(page.locator("dialog#bulk-dialog")).to_have_count(0)
    page.keyboard.press("Enter")
    expect(page.locator("dialog#bulk-dialog")).to_be_visible()
    expect(page.locator("dialog#bulk-dialog")).to_contain_text("Assign an agent")
    page.keyboard.press("Escape")
    expect(page.locator("dialog#bulk-dialog")).to_have_count(0)
    tab_to(page, "a.matches('select[data-bulk-action]')", start="#bulk-bar [data-bulk-clear]", limit=5)
    while page.evaluate("document.activeElement.value") != "add_tags":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "tags"
    page.keyboard.type("keyboard-made")
    tab_to(page, "a.matches('#bulk-bar button[type=submit]')", start="#bulk-bar input[name=tags]", limit=5)
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#bulk-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Add tags")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    settled(page)
    assert writes() == [] and all("keyboard-made" not in number(live_sandbox, n)["tags"] for n in (1001, 1002))

    page.locator("#bulk-bar button[type=submit]").focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    tab_to(page, "a.matches('#bulk-dialog button[type=submit]')", start="#bulk-dialog", limit=10)
    assert active(page)["text"] == "Run: change 2 numbers"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/p/main/jobs/\d+/"))
    expect(page.locator("main")).to_contain_text("2 done", timeout=60_000)
    assert all("keyboard-made" in number(live_sandbox, n)["tags"] for n in (1001, 1002))
