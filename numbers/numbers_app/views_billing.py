"""The billing page: what each number costs and when, the balance's runway, and a CSV of the table.

It reads the mirror (numbers_app.statement): no Staffify call for the numbers, whatever the account's
size; the balance is the header's reading, at most a minute old and read anew after every write (the
page says when it was read).
Dates run on Staffify's clock (`lookups.staffify_now`, so an advanced sandbox clock is honoured). The
filters narrow the table, the totals, the chart and the lists alike; the balance, its runway and the
low-balance warning always speak for the whole account, because the balance pays for every number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from numbers_app import billing as cycles
from numbers_app import freshness, listing, lookups, mirror, scheduled_releases, staffify, statement
from numbers_app.access import dashboard_view
from numbers_app.csvsafe import safe_cell
from numbers_app.explain import Problem, explain
from numbers_app.forms import NumberScopeForm
from numbers_app.models import NumberRecord
from numbers_app.presenters import NumberRow, build_row, iso_utc
from numbers_app.rules import PRICE_PER_CYCLE

PAGE_SIZE = 50
LIST_SIZE = 50  # the "paying for nothing" and pending lists show this many, then link to the owned list
ZERO = Decimal("0.00")


@dataclass
class BillingRow:
    """One number on the billing page: what the table and the lists show."""

    row: NumberRow
    record: NumberRecord
    agent: str
    next_charge: datetime | None  # rolled forward past Staffify's now
    days_until: int | None
    if_reclaimed: datetime | None = None  # a pending number's next charge, were it reclaimed now

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def purchased_at(self) -> datetime | None:
        return self.record.purchased_at

    @property
    def cycle_start(self) -> datetime | None:
        return self.next_charge - cycles.CYCLE if self.next_charge else None

    @property
    def unknown_purchase(self) -> bool:
        return self.row.is_active and self.next_charge is None

    @property
    def price(self) -> Decimal | None:
        return PRICE_PER_CYCLE if self.row.is_active else None


def _agent(record: NumberRecord, agent_names: dict[int, str]) -> str:
    if record.agent_name:
        return record.agent_name
    return agent_names.get(record.agent_id, f"#{record.agent_id}") if record.agent_id else ""


def billing_row(record: NumberRecord, now: datetime, agent_names: dict[int, str]) -> BillingRow:
    """RECORD comes from `statement.table` (it carries `effective`, its next charge)."""
    due = getattr(record, "effective", None) if record.last_status == "active" else None
    if_reclaimed = None
    if record.last_status == "pending_release" and record.purchased_at is not None:
        if_reclaimed = cycles.next_charge(record.purchased_at, now)  # a reclaimed number keeps its cycle
    return BillingRow(
        row=build_row(mirror.as_number(record), record),
        record=record,
        agent=_agent(record, agent_names),
        next_charge=due,
        days_until=cycles.days_until(due, now) if due else None,
        if_reclaimed=if_reclaimed,
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


def chart(buckets: list[statement.DayBucket], now: datetime, tz) -> dict:
    """Bars of the dated renewals per local day, from now to 28 days ahead, as SVG geometry: every
    bar carries its amount as text and a title, so nothing depends on colour."""
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


class _Echo:
    """csv.writer's file: each row is handed straight to the response instead of being stored."""

    def write(self, value: str) -> str:
        return value


def csv_response(records, now: datetime, agent_names: dict[int, str]) -> StreamingHttpResponse:
    """The whole (filtered) table, streamed row by row from the database: any account size fits."""
    zone = timezone.get_current_timezone_name()
    day = timezone.localtime(now).date().isoformat()
    writer = csv.writer(_Echo())
    header = [
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
        f"bought before ({zone})",
    ]

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for record in records.iterator(chunk_size=2000):
            active = record.last_status == "active"
            due = record.effective if active else None
            undated = active and due is None
            values = (
                record.phone_number,
                record.country_code,
                record.last_status.replace("_", " "),
                _agent(record, agent_names),
                ", ".join(record.tags or ()),
                iso_utc(record.purchased_at),
                _iso_local(record.purchased_at),
                _iso_local(due - cycles.CYCLE if due else None),
                _iso_local(due),
                _iso_local(due),
                "" if due is None else cycles.days_until(due, now),
                f"{PRICE_PER_CYCLE:.2f}" if active else "",
                _iso_local(record.first_seen_at) if undated else "",
            )
            yield writer.writerow([safe_cell(v) for v in values])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="staffify-billing-{day}.csv"'
    return response


# --- the page ----------------------------------------------------------------------------------


def _balance(client: staffify.StaffifyClient) -> tuple[lookups.BalanceReading | None, Problem | None]:
    """The header's reading (at most a minute old, read anew after every write): the page says when."""
    try:
        return lookups.current_balance(client), None
    except staffify.StaffifyError as err:
        why = explain(err)
        return None, Problem(
            f"The balance cannot be read right now, so its runway is unknown. {why.message}", why.request_id
        )


def _alert(balance: Decimal | None, runway: datetime | None, now: datetime) -> str | None:
    if balance is None:
        return None
    if balance < 0:
        return "negative"
    if runway is not None and runway <= now + statement.WEEK:
        return "error"  # the same as: the balance is below what the next 7 days may cost
    if runway is not None and runway <= now + cycles.CYCLE:
        return "warning"
    return None


def _owned_list(filters: dict[str, str], **more: str) -> str:
    return reverse("number_list") + "?" + urlencode({**filters, **more})


@dashboard_view()
@require_GET
def billing(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    zone = timezone.get_current_timezone()
    form = NumberScopeForm(request.GET)
    valid = form.is_valid()
    filters = form.filters if valid else {}
    agents = listing.agents()
    agent_names = {a.id: a.name or "" for a in agents}
    if request.GET.get("format") == "csv":
        if not valid:
            return render(request, "numbers/billing.html", {"form": form, "agents": agents, "rows": None}, status=400)
        now = lookups.staffify_now()
        shown = listing.numbers(filters)
        return csv_response(statement.table(shown, now, statement.oldest_charge(shown)), now, agent_names)

    client = staffify.get_client()
    reading, balance_problem = _balance(client)
    balance = reading.balance if reading else None
    balance_read_at = reading.at if reading else timezone.now()
    now = lookups.staffify_now(client)  # after the call: its answer carries Staffify's clock
    account_records = mirror.owned()
    shown = listing.numbers(filters)
    oldest = statement.oldest_charge(account_records)
    account = statement.totals(account_records, now, oldest)
    selected = statement.totals(shown, now, oldest) if filters else account
    runway = statement.runway(balance, account_records, account, now, oldest) if balance is not None else None

    ordered = statement.table(shown, now, oldest)
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [billing_row(r, now, agent_names) for r in page.object_list]
    idle = [billing_row(r, now, agent_names) for r in ordered.filter(statement.IDLE)[:LIST_SIZE]]
    pending = [billing_row(r, now, agent_names) for r in ordered.filter(statement.PENDING)[:LIST_SIZE]]
    query = {**filters}
    scheduled_count, scheduled_saving = scheduled_releases.savings()
    context: dict = {
        "scheduled_count": scheduled_count,
        "scheduled_saving": scheduled_saving,
        "scheduled_url": _owned_list({}, scheduled="1"),
        "form": form,
        "filters": filters,
        "agents": agents,
        "freshness": freshness.context(),
        "now": now,
        "zone": str(zone),
        "price": PRICE_PER_CYCLE,
        "rows": rows,
        "page": page,
        "page_query": urlencode(query),
        "total_rows": account.numbers,
        "account": account,
        "selected": selected,
        "balance": balance,
        "balance_read_at": balance_read_at,
        "balance_problem": balance_problem,
        "alert": _alert(balance, runway, now),
        "runway": runway,
        "runway_is_bound": account.undated > 0,
        "runway_in": _time_until(runway, now) if runway else "",
        "horizon_end": now + cycles.RUNWAY_HORIZON,
        "window_end": now + cycles.CYCLE,
        "chart": chart(statement.daily_buckets(shown, now, zone), now, zone),
        "idle": idle,
        "idle_url": _owned_list(filters, status="active", agent="none"),
        "pending": pending,
        "pending_url": _owned_list(filters, status="pending_release"),
        "list_size": LIST_SIZE,
        "csv_query": urlencode({**filters, "format": "csv"}),
    }
    return render(request, "numbers/billing.html", context)
