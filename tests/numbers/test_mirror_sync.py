"""The mirror's sync: a full walk of the account by the worker, changes made outside the dashboard
audited with their window, gone numbers, failures that keep the old mirror, one sync at a time."""

import math
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from numbers_app import staffify, tasks
from numbers_app.audit import log as audit
from numbers_app.mirror import store as mirror
from numbers_app.models import AuditEntry, MirrorAgent, NumberRecord, SyncRun
from numbers_app.staffify import budget
from tests.conftest import sandbox_numbers
from tests.helpers import HX

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_the_first_sync_fills_the_mirror_in_one_walk_and_audits_nothing(staffify_sandbox):
    truth = sandbox_numbers(staffify_sandbox)
    agents = staffify_sandbox.get("/v1/agents?limit=100").json()["agents"]
    with staffify.track_calls() as stats:
        run = mirror.sync(staffify.get_client())
    assert run.state == "ok" and run.numbers_seen == len(truth) == mirror.owned().count()
    assert stats.calls == run.calls == math.ceil(len(truth) / 100) + math.ceil(len(agents) / 100)
    assert MirrorAgent.objects.count() == len(agents)
    for number in truth:
        row = NumberRecord.objects.get(staffify_id=number["id"])
        assert (row.phone_number, row.last_status, row.agent_id, row.tags) == (
            number["phone_number"],
            number["status"],
            number["agent_id"],
            number["tags"],
        )
        assert row.last_seen_at is not None and row.first_seen_at is not None
    assert not AuditEntry.objects.filter(action="outside").exists()


@pytest.mark.django_db
def test_changes_made_outside_the_dashboard_are_mirrored_and_audited_with_their_window(mirrored):
    synced = mirror.last_sync()
    mirrored.put("/v1/phone-numbers/1001/assign", json={"agent_id": 106})
    mirrored.patch("/v1/phone-numbers/1002", json={"tags": ["moved", "by-api"]})
    bought = mirrored.get("/v1/phone-numbers/search?country_code=US&limit=1").json()["numbers"][0]
    new_id = mirrored.post("/v1/phone-numbers", json={"phone_number": bought["phone_number"]}).json()["id"]
    gone = 1036  # pending release: gone once its 7-day window has passed
    mirrored.post("/control/clock", json={"advance_seconds": 8 * 86400})

    run = mirror.sync(staffify.get_client())

    assert run.state == "ok"
    assert NumberRecord.objects.get(staffify_id=1001).agent_id == 106
    assert NumberRecord.objects.get(staffify_id=1002).tags == ["moved", "by-api"]
    assert mirror.owned().filter(staffify_id=new_id).exists()
    assert not mirror.owned().filter(staffify_id=gone).exists()
    assert NumberRecord.objects.get(staffify_id=gone).gone_at is not None
    entries = {e.number_id: e for e in AuditEntry.objects.filter(action="outside")}
    assert {1001, 1002, new_id, gone} <= set(entries)
    assert entries[1001].before["agent_id"] != 106 and entries[1001].after["agent_id"] == 106
    assert entries[new_id].before is None and entries[gone].after is None
    started = synced.started_at.astimezone(UTC)
    assert f"[[{started:%Y-%m-%dT%H:%M}" in entries[new_id].message  # a token: each viewer's zone (below)
    assert "outside the dashboard between" in entries[1001].message
    # The Change column says what changed, before → after (issue 26).
    assert audit.change_summary(entries[1001]).startswith("agent: ")
    assert audit.change_summary(entries[1002]).startswith("tags: ")
    assert audit.change_summary(entries[new_id]).startswith("appeared: active")
    assert audit.change_summary(entries[gone]).startswith("left the account")


@pytest.mark.django_db
def test_the_audit_log_and_its_csv_show_what_an_outside_change_changed(ops, mirrored):
    before = NumberRecord.objects.get(staffify_id=1002)
    old_tags = ", ".join(before.tags) or "none"
    mirrored.patch("/v1/phone-numbers/1002", json={"tags": ["moved", "by-api"]})
    mirror.sync(staffify.get_client())
    entry = AuditEntry.objects.get(action="outside", number_id=1002)
    line = f"tags: {old_tags} → moved, by-api"
    assert audit.change_summary(entry) == line
    html = ops.get("/p/main/audit/?action=outside").content.decode()
    assert f'<td data-label="Change">{line}</td>' in html
    csv = b"".join(ops.get("/p/main/audit/?action=outside&format=csv").streaming_content).decode()
    assert line in csv


@pytest.mark.django_db
def test_an_outside_changes_window_shows_in_each_viewers_zone_with_utc_on_hover(ops, lead_user, mirrored):
    """The worker writes the audit entry once; each viewer reads its instants in the dashboard's one date
    style in their own zone ("4 Dec 2026, 14:53 CET"), the UTC instant on hover, and the CSV in UTC."""
    from django.test import Client
    from django.utils.dateformat import format as date_format

    lead = Client()
    lead.force_login(lead_user)
    mirrored.patch("/v1/phone-numbers/1002", json={"tags": ["moved"]})
    mirror.sync(staffify.get_client())
    entry = AuditEntry.objects.get(action="outside", number_id=1002)
    until = entry.at.astimezone(UTC)
    ops.post("/account/preferences", {"time_zone": "Europe/Amsterdam"})
    lead.post("/account/preferences", {"time_zone": "America/New_York"})
    for viewer, zone in ((ops, "Europe/Amsterdam"), (lead, "America/New_York")):
        html = viewer.get("/p/main/audit/?action=outside").content.decode()
        with timezone.override(zone):
            local = date_format(timezone.localtime(until), "j M Y, H:i T")
        assert f'title="{until:%Y-%m-%d %H:%M:%S} UTC">{local}</time>' in html, zone
        assert "[[" not in html
    page = ops.get("/p/main/numbers/1002/").content.decode()
    assert "outside the dashboard" in page and "[[" not in page
    csv = b"".join(ops.get("/p/main/audit/?action=outside&format=csv").streaming_content).decode()
    assert f"{until.day} {until:%b %Y, %H:%M} UTC" in csv and "[[" not in csv


@pytest.mark.django_db
def test_a_failed_sync_keeps_the_old_mirror_and_the_page_says_so(ops, mirrored):
    before = list(NumberRecord.objects.values_list("staffify_id", "agent_id", "last_seen_at"))
    mirrored.put("/v1/phone-numbers/1001/assign", json={"agent_id": 106})
    mirrored.post("/control/faults", json={"status": 503, "count": 100, "path_prefix": "/v1/phone-numbers"})

    run = mirror.sync(staffify.get_client())

    assert run.state == "failed" and "503" in run.error
    assert list(NumberRecord.objects.values_list("staffify_id", "agent_id", "last_seen_at")) == before
    assert not NumberRecord.objects.filter(gone_at__isnull=False).exists()
    html = ops.get("/p/main/").content.decode()
    assert "The last sync failed" in html and "what you see is as of the sync before" in html


@pytest.mark.django_db
def test_one_sync_at_a_time_and_a_dead_one_is_taken_over(staffify_sandbox):
    first = mirror.begin()
    with pytest.raises(mirror.SyncBusy):
        mirror.begin()
    SyncRun.objects.filter(pk=first.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    second = mirror.begin()
    first.refresh_from_db()
    assert first.state == "failed" and "stopped" in first.error
    assert mirror.sync(staffify.get_client(), second).state == "ok"
    assert mirror.begin().state == "running"  # the lock is free again


@pytest.mark.django_db
def test_the_sync_waits_rather_than_spend_the_reserve_people_need(staffify_sandbox):
    limit = 300
    budget.record({"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "10", "X-RateLimit-Reset": "9999999999"})
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        budget.record({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", "X-RateLimit-Reset": "9999999998"})

    with staffify.track_calls() as stats:
        run = mirror.sync(staffify.get_client(), sleep=sleep)
    assert waits and run.state == "ok"
    assert stats.calls == run.calls


@pytest.mark.django_db
def test_a_write_updates_its_row_at_once(ops, mirrored):
    response = ops.post("/p/main/numbers/1001/agent", {"agent_id": "106"}, headers=HX)
    assert response.status_code == 200
    row = NumberRecord.objects.get(staffify_id=1001)
    assert row.agent_id == 106 and row.last_seen_at > mirror.last_sync().finished_at


@pytest.mark.django_db
def test_refresh_now_starts_a_sync_in_the_worker_and_the_page_follows_it(ops, staffify_sandbox):
    response = ops.post("/p/main/sync/", headers=HX)
    assert response.status_code == 200 and "Syncing with Staffify" in response.content.decode()
    run = SyncRun.objects.get(state="running")
    queued = DBTaskResult.objects.get(task_path=tasks.sync_mirror.module_path)
    assert queued.args_kwargs["args"] == [run.pk]
    assert ops.post("/p/main/sync/", headers=HX).status_code == 200
    assert SyncRun.objects.count() == 1, "a second click joins the running sync"

    assert tasks.sync_mirror.call(run.pk).startswith("ok")

    status = ops.get(f"/p/main/sync/status?run={run.pk}", headers=HX)
    assert "mirrorSynced" in status["HX-Trigger"]
    assert "Synced with Staffify" in status.content.decode()
    assert mirror.owned().count() == 60


@pytest.mark.django_db
def test_the_freshness_line_says_the_age_in_words(ops, mirrored):
    SyncRun.objects.filter(state="ok").update(finished_at=timezone.now() - timedelta(minutes=7, seconds=5))
    html = ops.get("/p/main/").content.decode()
    assert "7\xa0minutes ago." in html


@pytest.mark.django_db
def test_a_write_answered_while_a_page_was_in_flight_is_not_overwritten(mirrored, monkeypatch):
    from dataclasses import replace

    from numbers_app.mirror import ledger

    client = staffify.get_client()
    read_page = client.list_numbers

    def list_numbers(**params):
        page = read_page(**params)  # Staffify's answer, as of before the write below
        if params.get("after") is None:
            ledger.record_seen(replace(client.get_number(1001), agent_id=106, agent_name="Claims Intake"))
        return page

    monkeypatch.setattr(client, "list_numbers", list_numbers)
    assert mirror.sync(client).state == "ok"
    assert NumberRecord.objects.get(staffify_id=1001).agent_id == 106
