"""The billing page against the seeded sandbox (60 numbers: 57 active, 3 pending release, EUR 42.50),
its figures checked against the sandbox's own numbers, balance and charges ledger as its clock moves."""

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from numbers_app import staffify
from numbers_app.models import BalanceSeen
from numbers_app.staffify.glue import BALANCE_CACHE_KEY
from sandbox.models import PhoneNumber
from tests.conftest import worker_reads_balance
from tests.helpers import advance_to, fault


def only_this_project_draws_on_the_balance() -> None:
    """The dashboard here serves proj_demo alone; the sandbox's organisation also has proj_eu, whose
    renewals draw on the same balance. These tests compare the page with the sandbox's ledger for a
    one-project organisation (tests/numbers/test_projects.py covers several)."""
    PhoneNumber.objects.filter(project_id="proj_eu").delete()


pytestmark = pytest.mark.django_db

CYCLE = timedelta(days=28)
WEEK = timedelta(days=7)


# --- reading the page ------------------------------------------------------------------------


def page(client, query: str = "") -> str:
    response = client.get("/p/main/billing/" + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response.content.decode()


def every_page(client, query: str = "") -> str:
    """The first page followed by the table rows of every later one (50 rows a page)."""
    html = page(client, query)
    pages = re.search(r"Page 1 of (\d+)", html)
    for n in range(2, int(pages.group(1)) + 1 if pages else 2):
        later = page(client, "&".join(p for p in (query, f"page={n}") if p))
        html += re.search(r'<table class="data responsive billing-table".*?</table>', later, re.S).group(0)
    return html


def amount(html: str, element_id: str) -> Decimal:
    return Decimal(re.search(rf'id="{element_id}" data-amount="([-\d.]+)"', html).group(1))


def count(html: str, element_id: str) -> int:
    return int(re.search(rf'id="{element_id}" data-amount="[-\d.]+" data-count="(\d+)"', html).group(1))


def as_of(html: str) -> datetime:
    return datetime.fromisoformat(re.search(r'id="as-of" data-at="([^"]+)"', html).group(1))


def runway(html: str) -> datetime | None:
    found = re.search(r'id="runway" data-at="([^"]+)"', html)
    return datetime.fromisoformat(found.group(1)) if found else None


def row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="billing-(\d+)"', html)]


def row(html: str, number_id: int) -> str:
    return re.search(rf'<tr id="billing-{number_id}".*?</tr>', html, re.S).group(0)


def cell_instant(row_html: str, label: str) -> datetime | None:
    found = re.search(rf'data-label="{label}"[^>]*><time datetime="([^"]+)"', row_html)
    return staffify.parse_datetime(found.group(1)) if found else None


def table_rows(html: str) -> list[list[str]]:
    """What the table shows, cell by cell (text, and the UTC instant of dates)."""
    rows = []
    for number_id in row_ids(html):
        cells = re.findall(r"<td data-label[^>]*>(.*?)</td>", row(html, number_id), re.S)
        rows.append([re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells])
    return rows


def read_csv(client, query: str = "") -> tuple[list[str], list[list[str]], Any]:
    response = client.get("/p/main/billing/?" + "&".join(p for p in (query, "format=csv") if p))
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return lines[0], lines[1:], response


# --- the sandbox's side ----------------------------------------------------------------------


def sync() -> None:
    """What the worker does every few minutes: walk the account into the mirror."""
    from numbers_app.mirror import store as mirror

    assert mirror.sync(staffify.get_client()).state == "ok"


def numbers(sandbox) -> list[dict]:
    return sandbox.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]


def purchased(number: dict) -> datetime:
    return staffify.parse_datetime(number["purchased_at"])


def expected_next(number: dict, now: datetime) -> datetime:
    """Independently: the first purchase + k x 28 days after now."""
    k = (now - purchased(number)) // CYCLE + 1
    return purchased(number) + k * CYCLE


def balance(sandbox) -> Decimal:
    return Decimal(str(sandbox.get("/control/balance").json()["balance"]))


def set_balance(sandbox, value) -> None:
    """Staffify's balance changes outside the dashboard; the page shows it once the worker has read it
    anew (on its schedule; its age on the page)."""
    sandbox.put("/control/balance", json={"balance": value})
    worker_reads_balance()


def renewals_after(sandbox, moment: datetime) -> list[dict]:
    charges = sandbox.get("/control/charges").json()["charges"]
    return [c for c in charges if c["reason"] == "renewal" and staffify.parse_datetime(c["at"]) > moment]


# --- every number and its cycle ----------------------------------------------------------------


@pytest.mark.postgres
def test_every_number_appears_with_its_cycle(lead, mirrored):
    html = every_page(lead)
    now = as_of(html)
    owned = numbers(mirrored)
    assert sorted(row_ids(html)) == sorted(n["id"] for n in owned)
    for number in owned:
        cells = row(html, number["id"])
        assert cell_instant(cells, "Purchased") == purchased(number)
        if number["status"] == "active":
            due = expected_next(number, now)
            assert cell_instant(cells, "Next charge") == due
            assert cell_instant(cells, "Cycle end") == due
            assert cell_instant(cells, "Cycle start") == due - CYCLE
            assert "EUR 5.00" in cells
        else:
            assert "none: pending release" in cells


@pytest.mark.postgres
def test_the_table_puts_the_soonest_charge_first_and_pending_numbers_last(lead, mirrored):
    html = every_page(lead)
    ids = row_ids(html)
    assert ids[-3:] == [1006, 1021, 1036]  # by reclaim deadline: 0.5, 3 and 6 days left
    dues = [cell_instant(row(html, i), "Next charge") for i in ids[:-3]]
    assert None not in dues and dues == sorted(dues)  # type: ignore[type-var]


@pytest.mark.postgres
def test_totals_equal_what_the_sandbox_numbers_say(lead, mirrored):
    html = page(lead)
    now = as_of(html)
    active = [n for n in numbers(mirrored) if n["status"] == "active"]
    in_week = [n for n in active if expected_next(n, now) <= now + WEEK]
    assert re.search(r'id="active-count">57<', html)
    assert amount(html, "cost-28") == Decimal("285.00")
    assert amount(html, "due-7") == Decimal(5) * len(in_week)
    assert count(html, "due-7") == len(in_week)
    assert amount(html, "due-28") == Decimal("285.00")  # every active number renews once in 28 days
    assert amount(html, "balance") == Decimal("42.50")


def test_the_chart_has_a_labelled_bar_per_day_adding_up_to_the_28_day_figure(lead, mirrored):
    html = page(lead)
    svg = re.search(r"<svg class=\"billing-chart\".*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and 'aria-label="Upcoming renewals per day from' in svg
    amounts = [Decimal(a) for a in re.findall(r'<text class="amount[^"]*"[^>]*>([\d.]+)</text>', svg)]
    assert len(amounts) in (29, 30)  # today and the 28th day ahead are partial
    assert sum(amounts) == amount(html, "due-28")
    assert len(re.findall(r"<title>", svg)) == len(amounts)
    assert "style=" not in svg  # the CSP forbids inline style


def test_idle_numbers_are_paying_for_nothing_with_a_link_to_act(lead, mirrored):
    html = page(lead)
    idle = [n for n in numbers(mirrored) if n["status"] == "active" and n["agent_id"] is None]
    section = re.search(r'id="paying-for-nothing".*?</section>', html, re.S).group(0)
    listed = sorted(int(i) for i in re.findall(r'<tr id="idle-(\d+)"', section))
    assert listed == sorted(n["id"] for n in idle)
    assert f"cost EUR {5 * len(idle)}.00 every 28 days" in section
    assert f'href="/p/main/numbers/{idle[0]["id"]}/">Assign or release' in section


def test_pending_numbers_are_listed_apart_with_their_deadline(lead, mirrored):
    html = page(lead)
    section = re.search(r'id="pending-release".*?</section>', html, re.S).group(0)
    for number in numbers(mirrored):
        if number["status"] == "pending_release":
            deadline = staffify.parse_datetime(number["reclaim_before"])
            pending = re.search(rf'<tr id="pending-{number["id"]}".*?</tr>', section, re.S).group(0)
            assert cell_instant(pending, "Reclaim before") == deadline
            assert cell_instant(pending, "If reclaimed") == expected_next(number, as_of(html))


def test_dates_are_shown_in_the_viewers_zone_with_utc_on_hover(lead, lead_user, mirrored):
    from numbers_app.models import Preference

    Preference.objects.create(user=lead_user, time_zone="America/New_York")
    html = page(lead)
    first = row(html, row_ids(html)[0])
    due = cell_instant(first, "Next charge")
    local = due.astimezone(ZoneInfo("America/New_York"))
    assert f'title="{due:%Y-%m-%d %H:%M:%S} UTC">{local.day} {local:%b %Y, %H:%M %Z}</time>' in first
    assert "Times in America/New_York" in html


# --- filters and CSV --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("country=NL", lambda n: n["country_code"] == "NL"),
        ("country=de", lambda n: n["country_code"] == "DE"),
        ("agent=none", lambda n: n["agent_id"] is None),
        ("agent=106", lambda n: n["agent_id"] == 106),
        ("tag=Berlin", lambda n: "berlin" in n["tags"]),
        ("country=NL&tag=sales", lambda n: n["country_code"] == "NL" and "sales" in n["tags"]),
    ],
)
@pytest.mark.postgres
def test_filters_narrow_the_table_totals_and_chart_but_not_the_balance(lead, mirrored, query, check):
    whole = page(lead)
    html = page(lead, query)
    matching = [n for n in numbers(mirrored) if check(n)]
    active = [n for n in matching if n["status"] == "active"]
    now = as_of(html)
    assert matching
    assert sorted(row_ids(html)) == sorted(n["id"] for n in matching)
    assert f"{len(matching)} of 60 numbers match the filters." in html
    assert re.search(rf'id="active-count">{len(active)}<', html)
    assert amount(html, "cost-28") == Decimal(5) * len(active)
    assert amount(html, "due-7") == Decimal(5) * sum(1 for n in active if expected_next(n, now) <= now + WEEK)
    assert amount(html, "due-28") == Decimal(5) * len(active)
    svg_amounts = re.findall(r'<text class="amount[^"]*"[^>]*>([\d.]+)</text>', html)
    assert sum(Decimal(a) for a in svg_amounts) == Decimal(5) * len(active)
    # The balance pays for the whole account: its runway ignores the filter.
    assert amount(html, "balance") == amount(whole, "balance")
    assert runway(html) == runway(whole)


def test_the_csv_is_exactly_the_table(lead, mirrored):
    html = every_page(lead)
    header, lines, response = read_csv(lead)
    day = as_of(html).astimezone(ZoneInfo("Europe/Amsterdam")).date()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="staffify-billing-{day:%Y-%m-%d}.csv"'
    assert header == [
        "number",
        "country",
        "status",
        "agent",
        "tags",
        "purchased (UTC)",
        "purchased (Europe/Amsterdam)",
        "cycle start (Europe/Amsterdam)",
        "cycle end (Europe/Amsterdam)",
        "next charge (Europe/Amsterdam)",
        "days until",
        "price (EUR per 28 days)",
        "bought before (Europe/Amsterdam)",
        "name (kept by the dashboard)",
        "note (kept by the dashboard)",
    ]
    shown = table_rows(html)
    assert len(lines) == len(shown) == 60
    by_id = {n["id"]: n for n in numbers(mirrored)}
    for number_id, line, cells in zip(row_ids(html), lines, shown, strict=True):
        number = by_id[number_id]
        assert line[0] == number["phone_number"]
        assert line[1:3] == [cells[1], cells[2]]
        assert line[3] == (cells[3] if cells[3] != "no agent" else "")
        assert line[4] == ", ".join(number["tags"])
        assert staffify.parse_datetime(line[5]) == purchased(number)
        assert datetime.fromisoformat(line[6]) == purchased(number).replace(microsecond=0)
        due = cell_instant(row(html, number_id), "Next charge")
        if due:
            assert datetime.fromisoformat(line[9]) == due.replace(microsecond=0)
            assert datetime.fromisoformat(line[8]) == due.replace(microsecond=0)
            assert datetime.fromisoformat(line[7]) == (due - CYCLE).replace(microsecond=0)
            assert line[10] == cells[9]
            assert line[11] == "5.00"
        else:
            assert line[7:13] == ["", "", "", "", "", ""]


@pytest.mark.parametrize("query", ["country=NL", "agent=none", "tag=berlin", "country=DE&agent=106"])
def test_the_csv_follows_the_filters(lead, mirrored, query):
    html = page(lead, query)
    assert f'href="?{query.replace("&", "&amp;")}&amp;format=csv"' in html
    _, lines, _ = read_csv(lead, query)
    by_id = {n["id"]: n["phone_number"] for n in numbers(mirrored)}
    assert [line[0] for line in lines] == [by_id[i] for i in row_ids(html)]


def test_csv_cells_cannot_run_as_formulas(lead, mirrored):
    mirrored.patch("/v1/phone-numbers/1001", json={"tags": ['=HYPERLINK("http://x")', "ok"]})
    mirrored.patch("/v1/phone-numbers/1002", json={"tags": ["@SUM(A1)"]})
    sync()
    _, lines, _ = read_csv(lead)
    tags = {line[0]: line[4] for line in lines}
    by_id = {n["id"]: n["phone_number"] for n in numbers(mirrored)}
    assert tags[by_id[1001]] == '\'=HYPERLINK("http://x"), ok'
    assert tags[by_id[1002]] == "'@SUM(A1)"
    assert all(line[0].startswith("+") for line in lines)  # E.164 numbers are no formula


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("country=NLD", "A country is two letters, like NL."),
        ("country=1", "A country is two letters, like NL."),
        ("agent=abc", "Choose an agent from the list."),
        ("tag=" + "x" * 51, "A tag has at most 50 characters."),
    ],
)
def test_bad_filter_input_is_explained_in_place(lead, mirrored, query, message):
    html = page(lead, query)
    assert '<p class="error" id="b-' in html and message in html
    assert 'aria-invalid="true"' in html
    assert "Showing every number instead." in html
    assert len(row_ids(html)) == 50 and "60 numbers." in html
    response = lead.get(f"/p/main/billing/?{query}&format=csv")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_every_role_may_read_billing(client, ops_user, support_user, lead_user, outsider, mirrored):
    for user in (ops_user, support_user, lead_user):
        client.force_login(user)
        assert client.get("/p/main/billing/").status_code == 200
    client.force_login(outsider)
    assert client.get("/p/main/billing/").status_code == 403
    client.logout()
    assert client.get("/p/main/billing/").status_code == 302


# --- when Staffify cannot answer, or does not say -----------------------------------------------


def test_the_page_makes_no_staffify_call_the_balance_is_the_workers(lead, mirrored):
    fault(mirrored, "/v1/phone-numbers", status=503)  # Staffify's number list is down: billing does not need it
    with staffify.track_calls() as stats:
        html = page(lead)
    assert stats.calls == 0
    assert len(row_ids(html)) == 50 and "60 numbers." in html
    assert 'id="freshness"' in html and "Synced with Staffify" in html
    assert 'id="balance-age"' in html and "read from Staffify's /credits" in html


def test_the_csv_makes_no_staffify_call(lead, mirrored):
    with staffify.track_calls() as stats:
        _, lines, response = read_csv(lead)
    assert stats.calls == 0
    assert response.streaming and len(lines) == 60


def test_a_balance_never_read_leaves_the_rest_of_the_page(lead, mirrored):
    cache.delete(BALANCE_CACHE_KEY)  # the worker has not read it yet (or Staffify never answered it)
    BalanceSeen.objects.all().delete()
    fault(mirrored, "/v1/credits", status=503)
    worker_reads_balance()
    html = page(lead)
    assert "The balance has not been read from Staffify yet, so its runway is unknown" in html
    assert len(row_ids(html)) == 50
    assert amount(html, "due-28") == Decimal("285.00")
    assert 'id="balance-alert"' not in html


def strip_purchase_time(monkeypatch, ids: set[int]) -> None:
    """Staffify's documented number object has no purchase time: drop the sandbox's for these ids."""
    original = staffify.PhoneNumber.from_api.__func__  # type: ignore[attr-defined]  # the classmethod's function

    def without(cls, data):
        if data.get("id") in ids:
            data = {k: v for k, v in data.items() if k not in ("purchased_at", "created_at")}
        return original(cls, data)

    monkeypatch.setattr(staffify.PhoneNumber, "from_api", classmethod(without))


# --- the balance, its runway and the warnings ----------------------------------------------------


def test_the_seeded_balance_does_not_cover_the_week(lead, mirrored):
    html = page(lead)
    due = amount(html, "due-7")
    assert due > Decimal("42.50")
    alert = re.search(r'id="balance-alert">(.*?)</div>', html, re.S).group(1)
    said = f"The balance EUR 42.50 does not cover the EUR {due} due in the next 7 days; it runs out on"
    assert said in alert
    assert f'datetime="{runway(html).isoformat().replace("+00:00", "Z")}"' in alert


def test_a_large_balance_has_no_warning(lead, mirrored):
    set_balance(mirrored, 2000)
    html = page(lead)
    assert 'id="balance-alert"' not in html
    assert runway(html) is not None and runway(html) > as_of(html) + 4 * CYCLE


def test_a_balance_beyond_a_year_of_renewals_never_runs_out_within_it(lead, mirrored):
    set_balance(mirrored, 5 * 57 * 14)
    html = page(lead)
    assert runway(html) is None
    assert "Not within a year" in html


def test_the_warning_appears_when_the_balance_is_lowered(lead, mirrored):
    set_balance(mirrored, 1000)
    assert 'id="balance-alert"' not in page(lead)
    set_balance(mirrored, 3)
    html = page(lead)
    assert '<div class="banner error billing-alert" role="alert" id="balance-alert">' in html
    assert "The balance EUR 3.00 does not cover the EUR" in html
    # The first renewal is already more than EUR 3.
    first_due = min(cell_instant(row(html, i), "Next charge") or as_of(html) + CYCLE for i in row_ids(html))
    assert runway(html) == first_due


def test_a_balance_that_covers_the_week_but_not_the_cycle_gets_the_softer_warning(lead, mirrored):
    due_7 = amount(page(lead), "due-7")
    set_balance(mirrored, str(due_7 + Decimal("2.50")))
    html = page(lead)
    assert '<div class="banner warning billing-alert" role="status" id="balance-alert">' in html
    assert f"The balance EUR {due_7 + Decimal('2.50')} covers the renewals until" in html
    assert as_of(html) + WEEK < runway(html) <= as_of(html) + CYCLE


# --- against the sandbox's own charges, its clock moving -------------------------------------------


@pytest.mark.postgres
def test_the_7_and_28_day_figures_are_what_the_sandbox_then_charges(lead, mirrored):
    only_this_project_draws_on_the_balance()
    set_balance(mirrored, 1000)
    html = every_page(lead)
    now, due_7, due_28 = as_of(html), amount(html, "due-7"), amount(html, "due-28")
    expected_7 = sorted(
        (cell_instant(row(html, i), "Next charge"), i)
        for i in row_ids(html)
        if (cell_instant(row(html, i), "Next charge") or now + CYCLE * 2) <= now + WEEK
    )
    assert len(expected_7) == count(html, "due-7")
    start = balance(mirrored)

    advance_to(mirrored, now + WEEK)
    assert start - balance(mirrored) == due_7
    charged = renewals_after(mirrored, now)
    assert sorted((staffify.parse_datetime(c["at"]), c["phone_number_id"]) for c in charged) == expected_7

    advance_to(mirrored, now + CYCLE)
    assert start - balance(mirrored) == due_28
    charged = renewals_after(mirrored, now)
    assert len(charged) == count(html, "due-28") == 57
    assert {c["phone_number_id"] for c in charged} == {
        i for i in row_ids(html) if cell_instant(row(html, i), "Next charge")
    }
    # Pending numbers did not renew: their windows closed and they are gone.
    assert {1006, 1021, 1036}.isdisjoint(c["phone_number_id"] for c in charged)


@pytest.mark.postgres
def test_the_page_follows_the_sandbox_clock_across_several_cycles(lead, mirrored):
    only_this_project_draws_on_the_balance()
    set_balance(mirrored, 5000)
    first = every_page(lead)
    start = as_of(first)
    nexts = {i: cell_instant(row(first, i), "Next charge") for i in row_ids(first)}
    for cycles in (1, 2, 3):
        advance_to(mirrored, start + cycles * CYCLE)
        html = every_page(lead)
        assert as_of(html) - (start + cycles * CYCLE) < timedelta(seconds=5)
        for number_id, due in nexts.items():
            if due is not None:
                assert cell_instant(row(html, number_id), "Next charge") == due + cycles * CYCLE
        spent = Decimal(5) * 57 * cycles
        assert balance(mirrored) == Decimal(5000) - spent
        assert amount(html, "balance") == Decimal(5000) - spent
        assert amount(html, "due-28") == Decimal("285.00")


@pytest.mark.postgres
def test_the_runway_is_when_the_sandbox_balance_first_goes_below_zero(lead, mirrored):
    only_this_project_draws_on_the_balance()
    set_balance(mirrored, 1000)  # 200 renewals: into the 4th cycle
    html = page(lead)
    now, end = as_of(html), runway(html)
    assert end is not None
    assert now + 3 * CYCLE < end < now + 4 * CYCLE

    # Through several cycles, up to a second before the runway: the balance never went below zero.
    for cycles in (1, 2, 3):
        advance_to(mirrored, now + cycles * CYCLE)
        assert balance(mirrored) >= 0
    advance_to(mirrored, end - timedelta(seconds=1))
    assert balance(mirrored) >= 0
    advance_to(mirrored, end + timedelta(seconds=1))
    assert balance(mirrored) < 0

    # The ledger agrees: the first renewal that took the balance below zero is at the runway.
    left = Decimal(1000)
    charges = sorted(renewals_after(mirrored, now), key=lambda c: (c["at"], c["id"]))
    for charge in charges:
        left -= Decimal(str(charge["amount"]))
        if left < 0:
            assert staffify.parse_datetime(charge["at"]) == end
            break
    else:
        pytest.fail("the balance never went below zero in the ledger")


def test_a_balance_already_below_zero_says_so(lead, mirrored):
    set_balance(mirrored, 3)
    now = as_of(page(lead))
    advance_to(mirrored, now + WEEK)  # renewals are charged whatever the balance
    html = page(lead)
    assert balance(mirrored) < 0
    alert = re.search(r'id="balance-alert">(.*?)</div>', html, re.S).group(1)
    assert f"The balance is EUR {balance(mirrored):,.2f}: below zero already." in alert
    assert "The next renewal, on" in alert and "is not covered either." in alert
