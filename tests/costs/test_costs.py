"""Costs by agent, tag or country: the grouping rules (two tags count in both, an untagged group, a
number moved between agents counted by the holder at each charge), from when the past is complete,
the coming cycles net of scheduled releases, the CSV's totals, and no Staffify call."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from numbers_app import staffify
from numbers_app.billing import costs
from numbers_app.models import AuditEntry, MirrorAgent, NumberRecord, ScheduledRelease, SyncRun
from numbers_app.rules import PRICE_PER_CYCLE

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]  # the charges are counted in SQL: both engines

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
C = timedelta(days=28)


def number(pk, *, bought, agent=None, tags=(), country="NL", status="active", reclaim_before=None):
    return NumberRecord.objects.create(
        staffify_id=pk,
        phone_number=f"+3120000{pk:04d}",
        purchased_at=bought,
        last_status=status,
        agent_id=agent,
        agent_name=f"Agent {agent}" if agent else "",
        tags=list(tags),
        country_code=country,
        reclaim_before=reclaim_before,
        first_seen_at=bought,
    )


def by_key(report):
    return {g.key: g for g in report.groups}


@pytest.fixture
def account():
    MirrorAgent.objects.create(staffify_id=1, name="Sales", last_seen_at=NOW)
    MirrorAgent.objects.create(staffify_id=2, name="Support", last_seen_at=NOW)
    SyncRun.objects.create(
        state=SyncRun.State.OK, started_at=NOW - 200 * timedelta(days=1), finished_at=NOW - 199 * timedelta(days=1)
    )
    # Bought 100 days ago: charged at 0, 28, 56 and 84 days after (4 charges up to now).
    number(1, bought=NOW - timedelta(days=100), agent=1, tags=["sales", "vip"], country="NL")
    number(2, bought=NOW - timedelta(days=100), agent=2, tags=[], country="DE")
    number(3, bought=None, agent=2, tags=["Sales"], country="DE")  # unknown purchase time


def test_two_tags_count_in_both_with_an_untagged_group_and_the_total_counts_once(account):
    report = costs.report("tag", NOW - timedelta(days=200), NOW + timedelta(days=1), NOW)
    groups = by_key(report)
    assert groups["sales"].past == 4 and groups["vip"].past == 4  # number 1 in both
    assert groups[""].label == "Untagged" and groups[""].past == 4  # number 2
    assert report.total.past == 8  # each charge once: 4 + 4
    assert sum(g.past for g in report.groups) == 12 > report.total.past
    assert groups["sales"].numbers == 2  # "sales" and "Sales" are one tag; the undated one has no past
    assert report.undated == 1 and report.overlapping


def test_a_number_moved_between_agents_counts_for_the_holder_at_each_charge(account):
    # Number 1 moved from Support (2) to Sales (1) 30 days ago: charges at day 0, 28 and 56 after its
    # purchase (100, 72 and 44 days ago) were Support's; the one 16 days ago is Sales'.
    AuditEntry.objects.create(
        at=NOW - timedelta(days=30),
        username="support",
        action=AuditEntry.Action.ASSIGN,
        number_id=1,
        before={"agent_id": 2, "agent_name": "Support"},
        after={"agent_id": 1, "agent_name": "Sales"},
        outcome=AuditEntry.Outcome.OK,
    )
    report = costs.report("agent", NOW - timedelta(days=200), NOW + timedelta(days=1), NOW)
    groups = by_key(report)
    assert groups["1"].past == 1 and groups["1"].label == "Sales"
    assert groups["2"].past == 3 + 4  # number 1 before the move, and number 2
    assert report.total.past == 8
    # A failed assignment moved nothing.
    AuditEntry.objects.filter(number_id=1).update(outcome=AuditEntry.Outcome.ERROR)
    groups = by_key(costs.report("agent", NOW - timedelta(days=200), NOW + timedelta(days=1), NOW))
    assert groups["1"].past == 4


def test_a_period_counts_only_its_charges_and_a_released_number_stops(account):
    # Number 2 released 20 days ago (the reclaim deadline is 7 days after the release).
    NumberRecord.objects.filter(staffify_id=2).update(
        last_status="pending_release", agent_id=None, reclaim_before=NOW - timedelta(days=13)
    )
    report = costs.report("country", NOW - timedelta(days=50), NOW + timedelta(days=1), NOW)
    groups = by_key(report)
    assert groups["NL"].past == 2  # 44 and 16 days ago
    assert groups["DE"].past == 1  # 44 days ago; 16 days ago it was released already
    assert groups["DE"].numbers == 1 and groups["DE"].coming == [1, 1, 1]  # the undated active one


def test_completeness_dates(account):
    report = costs.report("agent", NOW - timedelta(days=300), NOW, NOW)
    assert report.complete_from == NOW - timedelta(days=200)
    assert report.incomplete  # the period starts before the first sync (and one number is undated)
    NumberRecord.objects.filter(purchased_at__isnull=True).update(purchased_at=NOW - timedelta(days=1))
    later = costs.report("agent", NOW - timedelta(days=100), NOW, NOW)
    assert not later.incomplete
    SyncRun.objects.all().delete()
    assert costs.report("agent", NOW - timedelta(days=100), NOW, NOW).complete_from is None


def test_the_coming_cycles_are_net_of_scheduled_releases(account):
    ScheduledRelease.objects.create(
        staffify_id=1, phone_number="+31200000001", charge_at=NOW + timedelta(days=12), run_at=NOW + timedelta(days=11)
    )
    report = costs.report("agent", NOW - timedelta(days=10), NOW, NOW)
    groups = by_key(report)
    assert groups["1"].coming == [0, 0, 0] and groups["1"].per_cycle == PRICE_PER_CYCLE  # gross now, net coming
    assert groups["2"].coming == [2, 2, 2]
    assert report.total.coming_amount == Decimal("30.00")


def test_the_page_and_csv_make_no_staffify_call_and_the_csv_has_the_totals(lead, staffify_sandbox, account):
    lead.get("/p/main/billing/costs")  # the header's balance, read once a minute, is not the page's
    with staffify.track_calls() as stats:
        html = lead.get("/p/main/billing/costs?group=tag&start=2026-01-01").content.decode()
        response = lead.get("/p/main/billing/costs?group=tag&start=2026-01-01&format=csv")
        body = b"".join(response.streaming_content).decode()
    assert stats.calls == 0
    assert "counts in both" in html and "Untagged" in html and 'id="complete-from"' in html
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "tag"
    total = next(r for r in rows if r and r[0].startswith("TOTAL"))
    assert total[1] == "3"  # active numbers now, each once (the one of unknown purchase time too)
    assert any(r and r[0] == "complete from" for r in rows)


@pytest.mark.parametrize(
    "query", ["start=yesterday", "start=2026-05-01&end=2026-01-01", "group=planet", "start=2019-01-01"]
)
def test_bad_input_is_said_in_place(lead, account, query):
    response = lead.get(f"/p/main/billing/costs?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="banner error"' in html and 'id="costs-table"' in html  # said, and the default period shown


def test_the_agents_page_shows_holders_idle_agents_and_numbers_of_a_gone_agent(support, staffify_sandbox, account):
    number(4, bought=NOW - timedelta(days=3), agent=99, tags=[])  # agent 99 is gone from Staffify
    MirrorAgent.objects.create(staffify_id=3, name="Nobody's", last_seen_at=NOW)
    support.get("/p/main/agents/")
    with staffify.track_calls() as stats:
        html = support.get("/p/main/agents/").content.decode()
    assert stats.calls == 0
    assert 'id="agent-2"' in html and "?agent=2" in html
    assert 'id="idle-agent-3"' in html
    assert 'id="missing-99"' in html and "Agent 99" in html
    assert 'name="filter" value="agent=99"' in html and 'value="unassign"' in html
    preview = support.post("/p/main/bulk/preview", {"scope": "filter", "filter": "agent=99", "action": "unassign"})
    assert preview.status_code == 200 and "1 number" in preview.content.decode()
