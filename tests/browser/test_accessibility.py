"""Accessibility and phones: axe-core on every page and every dialog, at desktop and phone widths.

axe-core (tests/browser/vendor/axe-core, from npm) is injected into the page by the test only; the
dashboard never serves it. A page passes with no critical and no serious violation. Each test signs
one persona in once and walks every page in one browser context, opening each page and dialog once and
checking it at each width (the window resized in place): quick, while a failure still names the page,
the width, the rule and the elements.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, screenshot, sign_in

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

# Every page a signed-in person reaches, with and without filters.
PAGES = {
    "list": "/p/main/",
    "list filtered": "/p/main/?status=pending_release&sort=-next_charge",
    "list by tag": "/p/main/?tag=support&country=US",
    "number detail": "/p/main/numbers/1001/",
    "pending number detail": None,  # filled in from the mirror: a number pending release
    "buy results": "/p/main/buy/?country_code=US&number_type=local&area_code=212",  # a team lead: the 403 page
    "billing": "/p/main/billing/",
    "audit": "/p/main/audit/",
    "addresses": "/p/main/addresses/",
    "preferences": "/account/preferences",
    "list, releases scheduled": "/p/main/?scheduled=1",
    "jobs": "/p/main/jobs/",
    "job": None,  # filled in: the newest bulk job, when a test made one
    "changes from a file": "/p/main/bulk/upload",
    "people": "/people/",
    "alerts": "/alerts/",
    "alert settings": "/alerts/settings",
    "second factor set-up": "/account/two-factor",
    "404": "/p/main/numbers/no-such-page/",
}

# A team lead's pages where the role changes the markup (disabled controls, the 403 page); the others
# (billing, the audit log, preferences, the list's filters, the 404 page) are Operations' own, less
# the controls, and are proved above for Operations.
LEAD_PAGES = (
    "list",
    "number detail",
    "pending number detail",
    "buy results",
    "addresses",
    "jobs",
    "changes from a file",
)

RUN_AXE = """async () => {
  // target-size (WCAG 2.2: 24 px) is off by default in axe 4; on here.
  const result = await axe.run(document, {resultTypes: ["violations"], rules: {"target-size": {enabled: true}}});
  return result.violations
    .filter(v => v.impact === "critical" || v.impact === "serious")
    .map(v => `${v.impact} ${v.id} (${v.help}): ` + v.nodes.slice(0, 4).map(n => n.target.join(" ")).join(" | ")
      + (v.nodes.length > 4 ? ` and ${v.nodes.length - 4} more` : ""));
}"""


@pytest.fixture
def phone(chromium, live_server):
    """A phone: 390x844, touch, no hover, coarse pointer (what a plain narrow window is not)."""
    context = chromium.new_context(
        viewport=WIDTHS["phone"], timezone_id="Europe/Amsterdam", locale="en-GB", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    yield lambda user: sign_in(page, live_server.url, user)
    context.close()


UNNAMED_TABLES = """() => [...document.querySelectorAll("table")]
  .filter(t => !t.caption && !t.getAttribute("aria-label") && !t.getAttribute("aria-labelledby"))
  .map(t => t.id || t.className)"""


def axe_violations(page) -> list[str]:
    """The critical and serious violations axe finds in the page as it is now (dialogs included)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self' + nonce) rightly
        # refuses an injected <script>, and the app must not serve axe to make room for it.
        page.evaluate(AXE)
    return page.evaluate(RUN_AXE)


def overflow(page) -> int:
    """How many pixels the page is wider than the window (0: nothing scrolls sideways)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def pending_number_id() -> int:
    from numbers_app.models import NumberRecord

    record = NumberRecord.objects.filter(last_status="pending_release").order_by("staffify_id").first()
    assert record is not None, "the seed has a number pending release"
    return record.staffify_id


def newest_job_path() -> str | None:
    from numbers_app.models import BulkJob

    job = BulkJob.objects.order_by("-pk").first()
    return f"/p/main/jobs/{job.pk}/" if job else None


def check_at_widths(page, name: str, found: dict[str, list[str]], widths, pictures=None, *, whole_page=True) -> None:
    """Axe on the page as it is now at each of WIDTHS, the window resized in place (the layout is CSS
    only), and back to the first; at phone width, a whole page must not scroll sideways. PICTURES:
    {(name, width): screenshot name}. Problems go into FOUND under "NAME (WIDTH)"."""
    for width in widths:
        page.set_viewport_size(WIDTHS[width])
        problems = axe_violations(page)
        if whole_page and width == "phone" and (wider := overflow(page)) > 0:
            problems.append(f"scrolls sideways by {wider} px at 390 px")
        if problems:
            found[f"{name} ({width})"] = problems
        if pictures and (name, width) in pictures:
            screenshot(page, pictures[(name, width)])
    page.set_viewport_size(WIDTHS[widths[0]])


def visit_every_page(page, base_url: str, widths, pictures=None, only=None) -> dict[str, list[str]]:
    """Axe on every page, or the ONLY ones, at each of WIDTHS (check_at_widths), and every table named."""
    found: dict[str, list[str]] = {}
    for name, path in PAGES.items():
        if only is not None and name not in only:
            continue
        if name == "job":
            path = newest_job_path()
            if path is None:
                continue
        path = path or f"/p/main/numbers/{pending_number_id()}/"
        response = page.goto(base_url + path)
        assert response is not None
        expect(page.locator("main h1")).to_be_visible()
        if unnamed := page.evaluate(UNNAMED_TABLES):
            found[name] = [f"tables without a caption or label: {unnamed}"]
        check_at_widths(page, name, found, widths, pictures)
    return found


def unexpected(errors: list[str]) -> list[str]:
    """The browser's errors, less the statuses of the 403 and 404 pages visited on purpose."""
    return [e for e in errors if not re.match(r"Failed to load resource: .* status of 40[34]", e)]


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{page}:\n  " + "\n  ".join(problems) for page, problems in found.items())


def open_dialogs(page, base_url: str, live_sandbox, ops_user, widths) -> dict[str, list[str]]:
    """The buy confirmation, the release dialog, the tag editor and the address submit dialog, open."""
    from numbers_app import staffify
    from numbers_app.addresses import book as address_book

    found: dict[str, list[str]] = {}

    page.goto(base_url + PAGES["buy results"])
    page.locator("#results tbody tr").first.get_by_role("button").click()
    expect(page.locator("dialog#buy-dialog")).to_be_visible()
    check_at_widths(page, "buy dialog", found, widths, whole_page=False)

    page.goto(base_url + "/p/main/?status=active&agent=none")
    page.get_by_role("button", name=re.compile(r"^Release \+")).first.click()
    dialog = page.locator("dialog[id^=release-dialog-]")
    expect(dialog).to_be_visible()
    check_at_widths(page, "release dialog", found, widths, whole_page=False)
    # Released, so that the audit log holds a release with its reclaim deadline.
    dialog.get_by_role("button", name="Release").click()
    expect(page.locator("#toasts")).to_contain_text("released: reclaimable until")

    page.get_by_role("button", name=re.compile(r"edit the tags of \+")).first.click()
    expect(page.locator("[data-tags-input]")).to_be_visible()
    # A mouse and a keyboard (this context has no touch screen): Escape is offered.
    expect(page.locator(".tag-editor .help")).to_contain_text("Escape cancels")
    check_at_widths(page, "tag editor", found, widths, whole_page=False)

    created = address_book.create(
        staffify.get_client(),
        ops_user,
        {
            "country_code": "NL",
            "city": "Amsterdam",
            "city_code": "020",
            "street_address": "Keizersgracht 10",
            "postal_code": "1015 CN",
            "company_name": "Acme BV",
            "contact_name": "Ada Lovelace",
            "contact_email": "ada@example.com",
            "contact_phone": "+31201234567",
        },
    )
    assert created.ok and created.entry is not None, created
    # Its required document in, so that "Submit for review…" is enabled.
    uploaded = address_book.upload(
        staffify.get_client(),
        ops_user,
        created.entry,
        document_type="government_id",
        filename="id.pdf",
        content=b"%PDF-1.4\n% an id\n",
        content_type="application/pdf",
    )
    assert uploaded.ok, uploaded
    page.goto(base_url + "/")
    page.locator("[data-bulk-row]").first.check()
    bar = page.locator("#bulk-bar")
    bar.locator("select[data-bulk-action]").select_option("add_tags")
    bar.locator("input[name=tags]").fill("a11y")
    bar.get_by_role("button", name="Preview…").click()
    bulk_dialog = page.locator("dialog#bulk-dialog")
    expect(bulk_dialog).to_be_visible()
    check_at_widths(page, "bulk preview dialog", found, widths, whole_page=False)
    bulk_dialog.get_by_role("button", name=re.compile("^Run")).click()  # the job page is visited later
    page.wait_for_url(re.compile(r"/p/main/jobs/\d+/"))

    page.goto(base_url + PAGES["addresses"])
    page.get_by_role("button", name=re.compile("Submit for review")).first.click()
    expect(page.locator(f"dialog#submit-dialog-{created.entry.staffify_id}")).to_be_visible()
    check_at_widths(page, "address submit dialog", found, widths, whole_page=False)
    return found


def test_every_page_and_dialog_passes_axe_for_operations(live_sandbox, login, ops_user, live_server):
    """Both widths in one walk: each page and dialog is opened once and checked at desktop, then at
    phone width."""
    page = login(ops_user)
    widths = ("desktop", "phone")
    found = open_dialogs(page, live_server.url, live_sandbox, ops_user, widths)
    found |= visit_every_page(page, live_server.url, widths, {("billing", "phone"): "a11y-billing-phone"})
    assert not found, "\n" + report(found)
    assert not unexpected(page.errors), page.errors


def test_every_page_passes_axe_for_a_team_lead(live_sandbox, login, lead_user, live_server):
    """At desktop width only: a team lead's pages differ from Operations' by their disabled controls (the
    same size, so the phone layout, proved above for Operations, is the same); the pages with none of
    them are Operations' pages less the controls."""
    assert set(LEAD_PAGES) <= PAGES.keys()
    page = login(lead_user)
    pictures = {("list", "desktop"): "a11y-team-lead-list-desktop"}
    found = visit_every_page(page, live_server.url, ("desktop",), pictures, LEAD_PAGES)
    assert not found, "\n" + report(found)

    # What a team lead cannot use looks disabled (not merely faded) and says why.
    page.goto(live_server.url + "/p/main/")
    expect(page.locator("#role-note")).to_contain_text("your role changes nothing")
    disabled = page.locator("#number-rows :is(select, button):disabled")
    assert disabled.count() > 0
    looks = page.evaluate(
        """() => [...document.querySelectorAll("#number-rows :is(select, button):disabled")].map(e => [
            getComputedStyle(e).borderStyle, getComputedStyle(e).cursor, e.title,
            e.getAttribute("aria-describedby")])"""
    )
    assert all(
        look[:2] == ["dashed", "not-allowed"] and look[2] and "role-note" in look[3].split() for look in looks
    ), looks[:3]
    assert not unexpected(page.errors), page.errors


def test_the_login_page_passes_axe_at_both_widths(page, live_server, db):
    found = {}
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.goto(live_server.url + "/accounts/login/")
        found[width] = axe_violations(page)
        if width == "phone" and (wider := overflow(page)) > 0:
            found[width].append(f"scrolls sideways by {wider} px at 390 px")
    assert not any(found.values()), found


def test_ten_numbers_fit_in_three_phone_screens(live_sandbox, phone, ops_user, live_server):
    page = phone(ops_user)
    rows = page.locator("tbody#number-rows > tr[id^=number-]")
    expect(rows).to_have_count(50)
    bottom = page.evaluate(
        "() => { const r = document.querySelectorAll('tbody#number-rows > tr[id^=number-]')[9];"
        " return r.getBoundingClientRect().bottom + window.scrollY; }"
    )
    assert bottom <= 3 * 844, f"the 10th number ends {bottom:.0f} px down the page: more than 3 screens of 844 px"
    assert overflow(page) <= 0
    screenshot(page, "numbers-phone-cards")


# Every element of each card shown in the first screen that lies outside the window (sideways), or
# whose text is cut by its box: the badge, the dates, the actions, the agent menu.
OUTSIDE = """() => [...document.querySelectorAll("tbody#number-rows > tr[id^=number-]")].slice(0, 8).flatMap(row =>
  [...row.querySelectorAll("td, td *")]
    .filter(e => e.getClientRects().length && getComputedStyle(e).position !== "absolute")
    .filter(e => { const r = e.getBoundingClientRect();
      return r.left < -0.5 || r.right > window.innerWidth + 0.5
        || (e.tagName === "TD" && e.scrollWidth > e.clientWidth + 1); })
    .map(e => row.id + " " + e.tagName.toLowerCase() + "." + e.className + ": "
      + (e.textContent || "").trim().slice(0, 40)))"""
FIRST_CARD = """() => {
  const r = document.querySelector("tbody#number-rows > tr[id^=number-]").getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, height: window.innerHeight, scrolled: window.scrollY}; }"""


CLIPPED_SELECTS = """(selector) => [...document.querySelectorAll(selector)].map(s => {
  const style = getComputedStyle(s), text = s.options[s.selectedIndex].text;
  const canvas = document.createElement("canvas").getContext("2d");
  canvas.font = style.font;
  const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 18;
  return [text, Math.ceil(canvas.measureText(text).width), Math.floor(room)]; })
  .filter(([, width, room]) => width > room)"""


def test_phone_cards_fit_the_window_and_the_first_is_on_the_first_screen_for_every_role(
    live_sandbox, phone, ops_user, support_user, lead_user, live_server
):
    """At 390 px: nothing of a card (the scheduled-release badge, the next charge, the actions, a
    pending number's countdown) lies outside the window or is cut, and the first card is whole on the
    first screen for each role (the header's menu, "Filters (n)" and the role note fold or fit)."""
    from numbers_app.models import NumberRecord
    from numbers_app.scheduled import releases

    record = NumberRecord.objects.filter(last_status="active", agent_id__isnull=True).exclude(purchased_at=None).first()
    assert record is not None
    releases.schedule(record, ops_user, unassign_first=False)
    found = {}
    for user in (ops_user, support_user, lead_user):
        page = phone(user)
        expect(page.locator("tbody#number-rows > tr[id^=number-]").first).to_be_visible()
        card = page.evaluate(FIRST_CARD)
        if card["scrolled"] or card["top"] < 0 or card["bottom"] > card["height"]:
            found[f"first card ({user.username})"] = card
        for path in ("/", "/?scheduled=1", "/?status=pending_release"):
            if path != "/":
                page.goto(live_server.url + path)
            if outside := page.evaluate(OUTSIDE):
                found[f"{path} ({user.username})"] = outside[:6]
        if user is lead_user:
            screenshot(page, "numbers-phone-pending")
    assert not found, found
    page.goto(live_server.url + "/?scheduled=1")
    expect(page.locator(".pill.scheduled")).to_be_visible()
    # The menu button opens the header's pages; Filters (n) counts the filters in use.
    expect(page.locator("nav[aria-label=Main]")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name="Billing")).to_be_visible()
    page.get_by_role("button", name="Menu").click()
    toggle = page.get_by_role("button", name=re.compile(r"^Filters \(1\)"))
    expect(page.get_by_label("Release", exact=True)).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    # The filters' menus show their choice whole ("Any status", not "Any statu"), and so does the buy
    # page's country ("Netherlands (NL) · needs address").
    clipped = page.evaluate(CLIPPED_SELECTS, "main form.filters select")
    assert not clipped, clipped
    page.locator("#f-tag").fill("support")
    expect(page.get_by_role("button", name=re.compile(r"^Filters \(2\)"))).to_be_visible()
    screenshot(page, "numbers-phone-filters")
    page.goto(live_server.url + "/p/main/buy/?country_code=NL&number_type=local")
    clipped = page.evaluate(CLIPPED_SELECTS, "main form.filters select")
    assert not clipped, clipped
    # Ticking a card brings a one-line bar that leaves the card in sight, whose menus show their words
    # whole ("Assign…", "Choose…") beside the select's arrow (about 18 px); a role that can change
    # nothing is told so in words, not by a disabled menu cut to "Your role cannot chang".
    for user in (lead_user, ops_user):
        page = phone(user)
        page.locator("tbody#number-rows input[data-bulk-row]").first.check()
        bar = page.locator("#bulk-bar")
        expect(bar).to_be_visible()
        box = bar.bounding_box()
        assert box is not None and box["height"] <= 70, (user.username, box)
        assert box["x"] + box["width"] <= 390.5, (user.username, box)
        clipped = page.evaluate(CLIPPED_SELECTS, "#bulk-bar select")
        assert not clipped, (user.username, clipped)
    expect(bar.locator("select")).to_have_count(2)
    screenshot(page, "numbers-phone-bulk-bar")


SMALL_TARGETS = """(targets) => [...document.querySelectorAll(targets)]
  .filter(e => e.offsetParent !== null)
  .map(e => [e.outerHTML.slice(0, 80), Math.round(e.getBoundingClientRect().height)])
  .filter(([, h]) => h < 44)"""
# What a finger taps: every control, the numbers' links, the header's links.
TARGETS = (
    "main :is(button, select, .button, a.num, tr.load-more a,"
    " input:not([type=hidden]):not([type=file]):not([type=checkbox]):not([type=radio])),"
    " .topbar :is(nav a, .who, button)"
)


def test_tap_targets_on_a_phone_are_44_px(live_sandbox, phone, ops_user, live_server):
    page = phone(ops_user)
    found = {}
    for path in (
        "/p/main/addresses/",
        "/p/main/billing/",
        "/p/main/buy/?country_code=US&number_type=local&area_code=212",
        "/p/main/",
    ):
        page.goto(live_server.url + path)
        expect(page.locator("main h1")).to_be_visible()
        if small := page.evaluate(SMALL_TARGETS, TARGETS):
            found[path] = small[:5]
    assert not found, found
    expect(page.locator("tbody#number-rows > tr[id^=number-]")).to_have_count(50)
    # Touch screens have no Escape key: the tag editor does not offer it there.
    page.get_by_role("button", name=re.compile(r"edit the tags of \+")).first.click()
    help_text = page.locator(".tag-editor .help")
    expect(help_text).to_be_visible()
    assert "Escape" not in help_text.inner_text()


def test_a_release_on_its_last_day_reads_and_looks_urgent(live_sandbox, login, ops_user, live_server):
    page = login(ops_user)
    # A release made now: 7 days left, not urgent. The seed has one with less than a day left.
    page.goto(live_server.url + "/p/main/?status=active&agent=none")
    page.get_by_role("button", name=re.compile(r"^Release \+")).first.click()
    page.locator("dialog[id^=release-dialog-]").get_by_role("button", name="Release").click()
    expect(page.locator("#toasts")).to_contain_text("released: reclaimable until")
    page.goto(live_server.url + "/p/main/?status=pending_release")
    expect(page.locator(".countdown").first).to_contain_text("left to reclaim")
    countdowns = page.evaluate(
        """() => {
          const now = Date.parse(document.body.dataset.serverNow);
          return [...document.querySelectorAll("[data-countdown]")].map(el => ({
            hours: (Date.parse(el.dataset.deadline) - now) / 3600000,
            text: el.textContent, urgent: el.classList.contains("urgent"),
            colour: getComputedStyle(el).color}));
        }"""
    )
    assert any(c["hours"] <= 24 for c in countdowns) and any(c["hours"] > 24 for c in countdowns), countdowns
    for c in countdowns:
        last_day = c["hours"] <= 24
        assert c["urgent"] == last_day, c
        assert c["text"].startswith("Last day: ") == last_day, c  # said in words, not by colour alone
    urgent = next(c for c in countdowns if c["urgent"])
    calm = next(c for c in countdowns if not c["urgent"])
    assert urgent["colour"] != calm["colour"]
    screenshot(page, "countdown-urgent")
