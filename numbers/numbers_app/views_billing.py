"""The billing page: what each number costs and when, the balance's runway, and a CSV of the table.

Every date is purchase + k x 28 days (numbers/billing.py), on Staffify's clock (`lookups.staffify_now`,
so an advanced sandbox clock is honoured). The filters narrow the table, the totals, the chart and the
lists alike; the balance, its runway and the low-balance warning always speak for the whole account,
because the balance pays for every number whatever the filter shows.
"""

from __future__ import annotations

import contextlib
import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from numbers_app import billing as cycles
from numbers_app import lookups, staffify
from numbers_app.access import dashboard_view
from numbers_app.csvsafe import safe_cell
from numbers_app.explain import Problem, explain
from numbers_app.forms import NumberScopeForm, matches
from numbers_app.presenters import NumberRow, build_rows, iso_utc
from numbers_app.rules import PRICE_PER_CYCLE

WEEK = timedelta(days=7)
ZERO = Decimal("0.00")


@dataclass
class BillingRow:
    """One number on the billing page: what the table and the CSV show."""

    row: NumberRow
    agent: str
    cycle: cycles.Cycle | None
    days_until: int | None
    if_reclaimed: datetime | None = None  # a pending number's next charge, were it reclaimed now

    # The duck type numbers/billing.py schedules on.
    @property
    def id(self) -> int:
        return self.row.id

    @property
    def status(self) -> str:
        return self.row.status

    @property
    def purchased_at(self) -> datetime | None:
        return self.row.purchased_at

    @property
    def next_charge(self) -> datetime | None:
        return self.cycle.end if self.cycle else None

    @property
    def scheduled(self) -> bool:
        return self.cycle is not None

    @property
    def unknown_purchase(self) -> bool:
        return self.row.purchased_at is None

    @property
    def price(self) -> Decimal | None:
        return PRICE_PER_CYCLE if self.row.is_active else None

    def sort_key(self) -> tuple:
        if self.cycle:
            return (0, self.cycle.end, self.id)
        if self.row.is_active:
            return (1, self.id)
        return (2, self.row.reclaim_before or datetime.max.replace(tzinfo=UTC), self.id)


def billing_row(row: NumberRow, now: datetime, agent_names: dict[int, str]) -> BillingRow:
    agent = row.agent_name or (agent_names.get(row.agent_id, f"#{row.agent_id}") if row.agent_id else "")
    cycle = days = None
    if row.is_active and row.purchased_at is not None:
        cycle = cycles.cycle_at(row.purchased_at, now)
        days = cycles.days_until(cycle.end, now)
    if_reclaimed = None
    if row.is_pending and row.purchased_at is not None:
        if_reclaimed = cycles.next_charge(row.purchased_at, now)  # a reclaimed number keeps its cycle
    return BillingRow(row=row, agent=agent, cycle=cycle, days_until=days, if_reclaimed=if_reclaimed)


@dataclass
class Totals:
    """Figures for a set of numbers (the filtered ones, or the whole account)."""

    active: int
    unknown: int  # active numbers whose purchase time is unknown: left out of the schedule
    cost_per_cycle: Decimal
    unknown_cost: Decimal
    due_7: Decimal
    due_7_count: int
    due_28: Decimal
    due_28_count: int
    charges_28: list[cycles.Charge]


def totals(rows: list[BillingRow], now: datetime) -> Totals:
    active = [r for r in rows if r.row.is_active]
    unknown = sum(1 for r in active if r.unknown_purchase)
    charges_7 = cycles.charges_between(rows, now, now + WEEK)
    charges_28 = cycles.charges_between(rows, now, now + cycles.CYCLE)
    return Totals(
        active=len(active),
        unknown=unknown,
        cost_per_cycle=PRICE_PER_CYCLE * len(active),
        unknown_cost=PRICE_PER_CYCLE * unknown,
        due_7=cycles.total(charges_7),
        due_7_count=len(charges_7),
        due_28=cycles.total(charges_28),
        due_28_count=len(charges_28),
        charges_28=charges_28,
    )


def _time_until(moment: datetime, now: datetime) -> str:
    """Whole days or hours to go, like "in 5 days" or "in 3 hours"; never months (a cycle is not a month)."""
    ahead = moment - now
    if ahead < timedelta(hours=1):
        return "within the hour"
    if ahead < timedelta(days=1):
        hours = ahead // timedelta(hours=1)
        return f"in {hours} hour{'s' if hours != 1 else ''}"
    return f"in {ahead.days} day{'s' if ahead.days != 1 else ''}"


# --- the chart ---------------------------------------------------------------------------------

BAR_WIDTH, BAR_GAP, PLOT_HEIGHT, LEFT, TOP, BOTTOM = 26, 8, 120, 46, 26, 46


def _amount_text(amount: Decimal) -> str:
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"


def chart(charges: list[cycles.Charge], now: datetime, tz) -> dict:
    """Bars of the upcoming renewals per local day, from now to 28 days ahead, as SVG geometry: every
    bar carries its amount as text and a title, so nothing depends on colour."""
    buckets = cycles.daily_buckets(charges, now, now + cycles.CYCLE, tz)
    peak = max((b.amount for b in buckets), default=ZERO) or PRICE_PER_CYCLE
    step = BAR_WIDTH + BAR_GAP
    bars = []
    today = now.astimezone(tz).date()
    for i, bucket in enumerate(buckets):
        height = int(round(float(bucket.amount / peak) * PLOT_HEIGHT))
        x = LEFT + i * step
        first_of_month = i == 0 or bucket.day.day == 1
        bars.append(
            {
                "x": x,
                "cx": x + BAR_WIDTH / 2,
                "y": TOP + PLOT_HEIGHT - height,
                "height": height,
                "label_y": TOP + PLOT_HEIGHT - height - 5,
                "bucket": bucket,
                "text": _amount_text(bucket.amount),
                "today": bucket.day == today,
                "weekend": bucket.day.weekday() >= 5,
                "month": bucket.day.strftime("%b") if first_of_month else "",
            }
        )
    busiest = max(buckets, key=lambda b: (b.amount, -b.day.toordinal()), default=None)
    width = LEFT + len(buckets) * step + 4
    return {
        "bars": bars,
        "width": width,
        "height": TOP + PLOT_HEIGHT + BOTTOM,
        "left": LEFT,
        "top": TOP,
        "bar_width": BAR_WIDTH,
        "plot_height": PLOT_HEIGHT,
        "baseline": TOP + PLOT_HEIGHT,
        "axis_right": width - 4,
        "peak": peak,
        "peak_text": _amount_text(peak),
        "day_y": TOP + PLOT_HEIGHT + 15,
        "weekday_y": TOP + PLOT_HEIGHT + 28,
        "month_y": TOP + PLOT_HEIGHT + 41,
        "first": buckets[0].day if buckets else None,
        "last": buckets[-1].day if buckets else None,
        "count": sum(b.count for b in buckets),
        "total": sum((b.amount for b in buckets), ZERO),
        "busiest": busiest if busiest and busiest.count else None,
    }


# --- CSV ---------------------------------------------------------------------------------------


def _iso_local(moment: datetime | None) -> str:
    return timezone.localtime(moment).replace(microsecond=0).isoformat() if moment else ""


def csv_response(rows: list[BillingRow], now: datetime) -> HttpResponse:
    zone = timezone.get_current_timezone_name()
    day = timezone.localtime(now).date().isoformat()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="staffify-billing-{day}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "number",
            "country",
            "status",
            "agent",
            "tags",
            "purchased (UTC)",
            f"purchased ({zone})",
            f"cycle start ({zone})",
            f"cycle end ({zone})",
            f"next charge ({zone})",
            "days until",
            "price (EUR per 28 days)",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    r.row.phone_number,
                    r.row.country or "",
                    r.row.status.replace("_", " "),
                    r.agent,
                    ", ".join(r.row.tags),
                    iso_utc(r.purchased_at),
                    _iso_local(r.purchased_at),
                    _iso_local(r.cycle.start if r.cycle else None),
                    _iso_local(r.cycle.end if r.cycle else None),
                    _iso_local(r.next_charge),
                    "" if r.days_until is None else r.days_until,
                    f"{r.price:.2f}" if r.price is not None else "",
                )
            ]
        )
    return response


# --- the page ----------------------------------------------------------------------------------


@dataclass
class Fetched:
    """What the page reads from Staffify: every owned number, the agents, the balance, its clock."""

    numbers: list[staffify.PhoneNumber] | None = None
    truncated: bool = False
    agents: list[staffify.Agent] = field(default_factory=list)
    balance: Decimal | None = None
    problem: Problem | None = None
    balance_problem: Problem | None = None
    now: datetime | None = None


def _fetch(client: staffify.StaffifyClient) -> Fetched:
    found = Fetched()
    with contextlib.suppress(staffify.StaffifyError):
        # Without them the agent filter offers "no agent" only; names come with the numbers anyway.
        found.agents = lookups.agents(client)
    try:
        found.numbers, found.truncated = lookups.all_numbers(client)
    except staffify.StaffifyError as err:
        found.problem = explain(err)
        return found
    try:
        found.balance = lookups.fresh_balance(client)
    except staffify.StaffifyError as err:
        why = explain(err)
        found.balance_problem = Problem(
            f"The balance cannot be read right now, so its runway is unknown. {why.message}", why.request_id
        )
    found.now = lookups.staffify_now(client)  # after the calls: their answers carry Staffify's clock
    return found


@dashboard_view()
@require_GET
def billing(request: HttpRequest) -> HttpResponse:
    zone = timezone.get_current_timezone()
    form = NumberScopeForm(request.GET)
    valid = form.is_valid()
    filters = form.filters if valid else {}
    wants_csv = request.GET.get("format") == "csv"
    fetched = _fetch(staffify.get_client())
    context: dict = {
        "form": form,
        "filters": filters,
        "agents": fetched.agents,
        "rows": None,
        "problem": fetched.problem,
        "balance_problem": fetched.balance_problem,
    }
    if fetched.numbers is None or fetched.now is None:  # _fetch sets `now` whenever it has the numbers
        return render(request, "numbers/billing.html", context, status=503 if wants_csv else 200)
    now, balance = fetched.now, fetched.balance
    agent_names = {a.id: a.name for a in fetched.agents}
    everything = sorted(
        (billing_row(r, now, agent_names) for r in build_rows(fetched.numbers)), key=BillingRow.sort_key
    )
    shown = [r for r in everything if matches(r.row, filters, r.row.country)]
    if wants_csv:
        if not valid:
            return render(request, "numbers/billing.html", context, status=400)
        return csv_response(shown, now)

    account = totals(everything, now)
    selected = totals(shown, now) if filters else account
    runway = cycles.runway(balance, everything, now) if balance is not None else None
    alert = None
    if balance is not None and balance < 0:
        alert = "negative"
    elif balance is not None and balance < account.due_7:
        alert = "error"
    elif runway is not None and runway <= now + cycles.CYCLE:
        alert = "warning"
    idle = [r for r in shown if r.row.is_active and r.row.agent_id is None]
    context.update(
        {
            "now": now,
            "zone": str(zone),
            "price": PRICE_PER_CYCLE,
            "rows": shown,
            "total_rows": len(everything),
            "truncated": fetched.truncated,
            "scanned": len(fetched.numbers),
            "account": account,
            "selected": selected,
            "balance": balance,
            "alert": alert,
            "runway": runway,
            "runway_in": _time_until(runway, now) if runway else "",
            "horizon_end": now + cycles.RUNWAY_HORIZON,
            "window_end": now + cycles.CYCLE,
            "chart": chart(selected.charges_28, now, zone),
            "idle": idle,
            "idle_cost": PRICE_PER_CYCLE * len(idle),
            "pending": [r for r in shown if r.row.is_pending],
            "csv_query": urlencode({**filters, "format": "csv"}),
        }
    )
    return render(request, "numbers/billing.html", context)
