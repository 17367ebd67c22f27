"""The billing page: what each number costs and when, the balance's runway, and a CSV of the table.

It reads the mirror (numbers_app.billing.statement): no Staffify call for the numbers, whatever the account's
size; the balance is the header's reading, at most a minute old and read anew after every write (the
page says when it was read).
Dates run on Staffify's clock (`lookups.staffify_now`, so an advanced sandbox clock is honoured). The
filters narrow the table, the totals, the chart and the lists alike; the balance, its runway and the
low-balance warning always speak for the whole account, because the balance pays for every number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from numbers_app import cycles, scope, staffify
from numbers_app.alerts import balance as alert_balance
from numbers_app.billing import costs as costing
from numbers_app.billing import statement
from numbers_app.billing.forms import CostsForm
from numbers_app.mirror import freshness, listing
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberNote, NumberRecord
from numbers_app.organisation import figures
from numbers_app.owned.forms import NumberScopeForm
from numbers_app.rules import PRICE_PER_CYCLE
from numbers_app.scheduled import releases as scheduled_releases
from numbers_app.staffify import lookups
from numbers_app.text.csvsafe import safe_cell
from numbers_app.text.explain import Problem, explain
from numbers_app.text.presenters import NumberRow, build_row, iso_utc
from numbers_app.web.access import HtmxHttpRequest, dashboard_view

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
    return _agent_text(record.agent_name, record.agent_id, agent_names)


def _agent_text(name: str, agent_id: int | None, agent_names: dict[int, str]) -> str:
    if name:
        return name
    return agent_names.get(agent_id, f"#{agent_id}") if agent_id else ""


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
                # Each day's words, formatted once here rather than by four date filters per bar.
                "long_day": date_format(bucket.day, "l j F Y"),
                "day_of_month": bucket.day.day,
                "weekday": date_format(bucket.day, "D")[:2],
                "table_day": date_format(bucket.day, "D j M Y"),
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


CSV_CHUNK = 1000  # rows per piece of the streamed body: one piece per row cost more than the rows


def csv_response(records: statement.Table, now: datetime, agent_names: dict[int, str]) -> StreamingHttpResponse:
    """The whole (filtered) table, streamed from the database in pieces of CSV_CHUNK rows: any account
    size fits. Plain tuples from `values_list` (no model objects, no presenters), each instant turned
    into the viewer's zone once, so 100,000 rows take seconds."""
    zone = timezone.get_current_timezone()
    zone_name = timezone.get_current_timezone_name()
    day = timezone.localtime(now).date().isoformat()
    price = f"{PRICE_PER_CYCLE:.2f}"
    header = [
        "number",
        "country",
        "status",
        "agent",
        "tags",
        "purchased (UTC)",
        f"purchased ({zone_name})",
        f"cycle start ({zone_name})",
        f"cycle end ({zone_name})",
        f"next charge ({zone_name})",
        "days until",
        "price (EUR per 28 days)",
        f"bought before ({zone_name})",
        "name (kept by the dashboard)",
        "note (kept by the dashboard)",
    ]

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).replace(microsecond=0).isoformat() if moment else ""

    columns = (
        "phone_number",
        "country_code",
        "last_status",
        "agent_name",
        "agent_id",
        "tags",
        "purchased_at",
        "effective",
        "first_seen_at",
        "note_name",
        "note_text",
    )
    notes = NumberNote.everywhere.filter(project_id=OuterRef("project_id"), staffify_id=OuterRef("staffify_id"))
    records = records.annotate(
        note_name=Subquery(notes.values("name")[:1]), note_text=Subquery(notes.values("note")[:1])
    )

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        rows = records.values_list(*columns)
        for i, row in enumerate(rows, 1):
            number, country, status, agent_name, agent_id, tags, purchased, effective, first_seen = row[:9]
            note_name, note_text = row[9:]
            active = status == "active"
            due = effective if active else None
            undated = active and due is None
            # Instants and figures are digits first: only the texts can start like a formula.
            writer.writerow(
                (
                    safe_cell(number),
                    safe_cell(country),
                    safe_cell(status.replace("_", " ")),
                    safe_cell(_agent_text(agent_name, agent_id, agent_names)),
                    safe_cell(", ".join(tags or ())),
                    iso_utc(purchased),
                    local(purchased),
                    local(due - cycles.CYCLE) if due else "",
                    local(due),
                    local(due),
                    "" if due is None else cycles.days_until(due, now),
                    price if active else "",
                    local(first_seen) if undated else "",
                    safe_cell(note_name or ""),
                    safe_cell(note_text or ""),
                )
            )
            if i % CSV_CHUNK == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="staffify-billing-{day}.csv"'
    return response


# --- the page ----------------------------------------------------------------------------------


def _balance() -> tuple[lookups.BalanceReading | None, Problem | None]:
    """The balance the worker keeps (never a Staffify call from the page): the page says when it was read."""
    reading = alert_balance.kept()
    if reading is None:
        return None, Problem(
            "The balance has not been read from Staffify yet, so its runway is unknown: the worker reads it "
            "every few minutes, or use Refresh beside the balance at the top of the page."
        )
    return reading, None


@dashboard_view()
@require_POST
def refresh_balance(request: HtmxHttpRequest) -> HttpResponse:
    """The header's Refresh: the one place a person makes the dashboard read the balance (one call).
    Billing, whose runway hangs on it, is reloaded; any other page gets its header's badge back."""
    problem = None
    try:
        alert_balance.read(staffify.get_client())
    except staffify.StaffifyError as err:
        why = explain(err)
        problem = Problem(f"The balance could not be read: {why.message}", why.request_id)
    if not request.htmx:
        return redirect(_back(request))
    current = request.htmx.current_url_abs_path or ""
    if problem is None and current.startswith((scope.reverse("billing"), reverse("org_billing"))):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    context = {"reading": alert_balance.kept(), "balance_problem": problem}
    return render(request, "numbers/_balance.html", context)


def _back(request: HttpRequest) -> str:
    """Back where the person was (without JavaScript), if that is this site; else the owned list."""
    back = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return back
    return scope.reverse("number_list")


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
    return scope.reverse("number_list") + "?" + urlencode({**filters, **more})


@dashboard_view()
@require_GET
def billing(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    zone = timezone.get_current_timezone()
    form = NumberScopeForm(request.GET)
    valid = form.is_valid()
    filters = form.filters if valid else {}
    agents = listing.agents()
    agent_names = {agent_id: name or "" for agent_id, name in staffify.agent_names(agents).items()}
    if request.GET.get("format") == "csv":
        if not valid:
            return render(request, "numbers/billing.html", {"form": form, "agents": agents, "rows": None}, status=400)
        now = lookups.staffify_now()
        shown = listing.numbers(filters)
        return csv_response(statement.table(shown, now, statement.oldest_charge(shown)), now, agent_names)

    reading, balance_problem = _balance()
    balance = reading.balance if reading else None
    balance_read_at = reading.at if reading else timezone.now()
    now = lookups.staffify_now()
    account_records = mirror.owned()  # read only: the worker rolls passed charges forward (tasks.py)
    shown = listing.numbers(filters)
    oldest = statement.oldest_charge(account_records)
    account = statement.totals(account_records, now, oldest)
    selected = statement.totals(shown, now, oldest) if filters else account
    # Net of scheduled releases: the numbers released before their next charge are never charged again.
    releasing = statement.releasing(now).exists()
    account_net = statement.net_totals(account, account_records, now, oldest) if releasing else account
    net = (statement.net_totals(selected, shown, now, oldest) if filters else account_net) if releasing else selected
    # The balance is the organisation's: it runs out on every served project's renewals (net of every
    # served project's scheduled releases), not this one's.
    found = figures.runway(balance, now) if balance is not None else None
    runway = found.at if found else None
    counted = found.counted if found else account_net

    buckets = statement.daily_buckets(shown, now, zone)
    if releasing:
        buckets = statement.net_buckets(buckets, shown, now, zone)
    ordered = statement.table(shown, now, oldest)
    paginator: Paginator[NumberRecord] = Paginator(ordered, PAGE_SIZE)
    paginator.count = selected.numbers  # counted by the totals' aggregate already: no second COUNT(*)
    page = paginator.get_page(request.GET.get("page"))
    rows = [billing_row(r, now, agent_names) for r in page.object_list]
    idle = [billing_row(r, now, agent_names) for r in ordered.filter(statement.IDLE)[:LIST_SIZE]]
    pending = [billing_row(r, now, agent_names) for r in statement.pending(shown)[:LIST_SIZE]]
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
        "net": net,
        "netted": selected.due_28 != net.due_28 or selected.due_7 != net.due_7,
        "gross_runway": found.gross if found else None,
        "balance": balance,
        "balance_read_at": balance_read_at,
        "balance_age": freshness.age(balance_read_at),  # "just now", "4 minutes ago"
        "balance_problem": balance_problem,
        "alert": _alert(balance, runway, now),
        "runway": runway,
        "runway_is_bound": counted.undated > 0,
        "runway_counted": counted,
        "several_projects": len(settings.STAFFIFY_PROJECTS) > 1,
        "runway_in": _time_until(runway, now) if runway else "",
        "horizon_end": now + cycles.RUNWAY_HORIZON,
        "window_end": now + cycles.CYCLE,
        "chart": chart(buckets, now, zone),
        "chart_netted": net.active != selected.active,
        "idle": idle,
        "idle_url": _owned_list(filters, status="active", agent="none"),
        "pending": pending,
        "pending_url": _owned_list(filters, status="pending_release"),
        "list_size": LIST_SIZE,
        "csv_query": urlencode({**filters, "format": "csv"}),
    }
    return render(request, "numbers/billing.html", context)


# --- costs by agent, tag or country ------------------------------------------------------------


def _local_midnight(day, zone) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _bars(report: costing.Report) -> None:
    """Each group's bar widths (percent of the largest figure), for the CSS chart."""
    peak = max([g.past_amount for g in report.groups] + [g.coming_amount for g in report.groups] + [ZERO]) or 1
    for group in report.groups:
        group.past_width = round(float(group.past_amount / peak) * 100, 1)  # type: ignore[attr-defined]
        group.coming_width = round(float(group.coming_amount / peak) * 100, 1)  # type: ignore[attr-defined]


def costs_csv(report: costing.Report, zone) -> StreamingHttpResponse:
    """One line per group, the totals, and what the figures mean, streamed as it is written."""

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).replace(microsecond=0).isoformat() if moment else ""

    cycles_head = [
        f"cycle {i + 1} ({local(a)[:10]} to {local(b)[:10]}) EUR net" for i, (a, b) in enumerate(report.cycles)
    ]
    header = [
        costing.GROUPS[report.by].lower(),
        "active numbers now",
        f"cost per {cycles.CYCLE_DAYS} days EUR",
        "charges in the period",
        "charged in the period EUR",
        *cycles_head,
        "next three cycles EUR net",
    ]

    def line(group: costing.Group, label: str) -> list:
        return [
            safe_cell(label),
            group.numbers,
            f"{group.per_cycle:.2f}",
            group.past,
            f"{group.past_amount:.2f}",
            *[f"{a:.2f}" for a in group.coming_amounts],
            f"{group.coming_amount:.2f}",
        ]

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)

        def flush() -> str:
            text = out.getvalue()
            out.seek(0)
            out.truncate()
            return text

        writer.writerow(header)
        for i, group in enumerate(report.groups, 1):
            writer.writerow(line(group, group.label))
            if i % CSV_CHUNK == 0:
                yield flush()
        writer.writerow(line(report.total, "TOTAL (each charge once)"))
        writer.writerow([])
        writer.writerow(
            ["period", f"{local(report.start)} to {local(report.end)} (past charges up to {local(report.now)})"]
        )
        writer.writerow(["complete from", local(report.complete_from) or "no sync yet"])
        if report.undated:
            writer.writerow(["left out of the past", f"{report.undated} numbers of unknown purchase time"])
        if report.overlapping:
            writer.writerow(
                ["note", "a number with two tags counts in both: the tag lines add up to more than the total"]
            )
        if report.by == "agent":
            writer.writerow(
                ["rule", "each charge belongs to the agent that held the number at the instant of the charge"]
            )
        writer.writerow(["coming cycles", "net of scheduled releases"])
        yield flush()

    day = timezone.localtime(report.now).date().isoformat()
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="staffify-costs-by-{report.by}-{day}.csv"'
    return response


@dashboard_view()
@require_GET
def costs(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Costs by agent, tag or country: a past period and the next three cycles, from the mirror and the
    dashboard's records (numbers_app.billing.costs): no Staffify call."""
    zone = timezone.get_current_timezone()
    now = lookups.staffify_now()
    form = CostsForm(request.GET, today=now.astimezone(zone).date())
    problem = None
    if not form.is_valid():
        problem = Problem(" ".join(str(e) for errors in form.errors.values() for e in errors))
        form = CostsForm({}, today=now.astimezone(zone).date())
        form.is_valid()
    data = form.cleaned_data
    start = _local_midnight(data["start"], zone)
    end = _local_midnight(data["end"] + cycles.DAY, zone)
    report = costing.report(data["group"], start, end, now)
    if request.GET.get("format") == "csv" and problem is None:
        return costs_csv(report, zone)
    _bars(report)
    for group in report.groups:
        group.url = _group_url(report.by, group.key)  # type: ignore[attr-defined]
    query = {"group": report.by, "start": data["start"].isoformat(), "end": data["end"].isoformat()}
    context = {
        "form": form,
        "report": report,
        "problem": problem,
        "groups": costing.GROUPS,
        "zone": str(zone),
        "freshness": freshness.context(),
        "period_last_day": data["end"],
        "csv_query": urlencode({**query, "format": "csv"}),
        "query": query,
    }
    return render(request, "numbers/costs.html", context, status=400 if problem else 200)


def _group_url(by: str, key: str) -> str:
    """The owned list filtered to the group (the numbers in it now)."""
    if by == "agent":
        return _owned_list({}, agent=key)
    if by == "country":
        return _owned_list({}, country=key) if key else ""
    return _owned_list({}, tag=key) if key else ""
