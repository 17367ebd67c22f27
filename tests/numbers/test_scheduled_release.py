"""Release at the end of the paid cycle: schedule on the number's page, see it in the list, the
filter and billing, cancel it, and let the worker make it shortly before the charge on the sandbox's
clock (the task function called directly), with the write-ahead audit, unassigning first or failing
with the reason, and saying loudly when it failed or its charge came first."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from numbers_app import staffify, tasks
from numbers_app.models import AuditEntry, NumberRecord, ScheduledRelease
from numbers_app.scheduled import releases as scheduled_releases
from numbers_app.text.presenters import iso_utc
from tests.billing.test_billing_page import strip_purchase_time
from tests.helpers import HX, advance_to, fault, sandbox_now, state, unassigned_active

pytestmark = pytest.mark.django_db

# On the PostgreSQL pass too (@pytest.mark.postgres): due releases claimed under a lock, the list
# filter and billing's sums.

CYCLE = timedelta(days=28)
State = ScheduledRelease.State


def schedule(client, number_id: int, **data) -> ScheduledRelease:
    response = client.post(f"/p/main/numbers/{number_id}/scheduled-release", data, headers=HX)
    assert response.status_code == 200, response.content.decode()
    return ScheduledRelease.objects.get(staffify_id=number_id, state=State.SCHEDULED)


def run_worker() -> int:
    return tasks.run_scheduled_releases.call()


# --- scheduling ------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_it_schedules_the_release_an_hour_before_the_next_charge(ops, mirrored):
    number_id = unassigned_active(mirrored)
    purchased = staffify.parse_datetime(state(mirrored, number_id)["purchased_at"])
    now = sandbox_now(mirrored)
    response = ops.post(f"/p/main/numbers/{number_id}/scheduled-release", headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="scheduled-release"' in html and "release scheduled" in html and "Cancel the scheduled release" in html
    scheduled = ScheduledRelease.objects.get(staffify_id=number_id)
    # The next charge: purchase + k × 28 days, the first one after Staffify's now.
    assert (scheduled.charge_at - purchased) % CYCLE == timedelta(0)
    assert now < scheduled.charge_at <= now + CYCLE
    assert scheduled.run_at == scheduled.charge_at - timedelta(hours=1)
    assert scheduled.state == State.SCHEDULED and scheduled.unassign_first is False
    entry = AuditEntry.objects.get(number_id=number_id, action=AuditEntry.Action.SCHEDULE_RELEASE)
    assert entry.outcome == AuditEntry.Outcome.OK and entry.username == "ops"
    assert state(mirrored, number_id)["status"] == "active"  # nothing released yet


def test_its_stored_sentences_show_in_the_readers_zone_whoever_wrote_them(ops, lead_user, mirrored):
    """The audit entry and the release's note are written once (by a person in Amsterdam here, by the
    worker in UTC later); a lead in New York reads their instants in New York time, UTC on hover."""
    from django.utils.dateformat import format as date_format

    ops.post("/account/preferences", {"time_zone": "Europe/Amsterdam"})
    number_id = unassigned_active(mirrored)
    scheduled = schedule(ops, number_id)
    entry = AuditEntry.objects.get(number_id=number_id, action=AuditEntry.Action.SCHEDULE_RELEASE)
    assert f"[[{iso_utc(scheduled.run_at)}]]" in entry.message  # stored as an instant, not as Amsterdam text
    lead = Client()
    lead.force_login(lead_user)
    lead.post("/account/preferences", {"time_zone": "America/New_York"})
    with timezone.override("America/New_York"):
        run_at = date_format(timezone.localtime(scheduled.run_at), "j M Y, H:i T")
    for page in (f"/p/main/audit/?number={number_id}", f"/p/main/numbers/{number_id}/"):
        html = lead.get(page).content.decode()
        assert f'<time datetime="{iso_utc(scheduled.run_at)}"' in html and f">{run_at}</time>" in html, page
        assert "[[" not in html, page


def test_the_lead_is_a_setting(ops, mirrored, settings):
    settings.SCHEDULED_RELEASE_LEAD_SECONDS = 3 * 3600
    scheduled = schedule(ops, unassigned_active(mirrored))
    assert scheduled.charge_at - scheduled.run_at == timedelta(hours=3)


def test_the_number_page_offers_it_and_shows_it_once_scheduled(ops, mirrored):
    number_id = unassigned_active(mirrored)
    html = ops.get(f"/p/main/numbers/{number_id}/").content.decode()
    assert ">Release before the next charge</button>" in html
    assert 'id="schedule-release" disabled' not in html
    schedule(ops, number_id)
    html = ops.get(f"/p/main/numbers/{number_id}/").content.decode()
    assert 'id="scheduled-note"' in html and "Cancel the scheduled release" in html
    assert "release scheduled" in html  # the row's badge too


@pytest.mark.postgres
def test_it_shows_in_the_list_in_the_filter_and_on_billing(ops, mirrored):
    number_id = unassigned_active(mirrored)
    html = ops.get("/p/main/billing/").content.decode()
    assert 'id="scheduled-savings"' not in html
    schedule(ops, number_id)
    listed = ops.get("/p/main/").content.decode()
    assert listed.count('class="pill scheduled"') == 1
    filtered = ops.get("/p/main/?scheduled=1").content.decode()
    assert filtered.count('<tr id="number-') == 1 and f'id="number-{number_id}"' in filtered
    assert "1 number matches these filters" in filtered
    html = ops.get("/p/main/billing/").content.decode()
    assert "1 scheduled release saves EUR 5.00 per 28 days" in html
    assert "/p/main/?scheduled=1" in html


@pytest.mark.postgres
def test_two_scheduled_releases_save_twice_the_price(ops, mirrored):
    numbers = mirrored.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
    free = [n["id"] for n in numbers if n["status"] == "active" and n["agent_id"] is None][:2]
    for number_id in free:
        schedule(ops, number_id)
    assert scheduled_releases.savings() == (2, scheduled_releases.PRICE_PER_CYCLE * 2)
    assert "2 scheduled releases save EUR 10.00 per 28 days" in ops.get("/p/main/billing/").content.decode()


@pytest.mark.postgres
def test_a_number_cannot_be_scheduled_twice(ops, mirrored):
    number_id = unassigned_active(mirrored)
    schedule(ops, number_id)
    response = ops.post(f"/p/main/numbers/{number_id}/scheduled-release", headers=HX)
    assert response.status_code == 422
    assert "A release is already scheduled for" in response.content.decode()
    assert ScheduledRelease.objects.filter(staffify_id=number_id).count() == 1


def test_an_undated_number_is_disabled_with_the_reason(ops, mirrored, monkeypatch):
    number_id = unassigned_active(mirrored)
    strip_purchase_time(monkeypatch, {number_id})
    NumberRecord.objects.filter(staffify_id=number_id).update(purchased_at=None, next_charge_at=None)
    html = ops.get(f"/p/main/numbers/{number_id}/").content.decode()
    assert 'id="schedule-release" disabled' in html
    assert "Its purchase time is unknown" in html
    response = ops.post(f"/p/main/numbers/{number_id}/scheduled-release", headers=HX)
    assert response.status_code == 422 and "Its purchase time is unknown" in response.content.decode()
    assert not ScheduledRelease.objects.exists()
    record = NumberRecord.objects.get(staffify_id=number_id)
    assert scheduled_releases.cannot_schedule_reason(record) == scheduled_releases.UNDATED


def test_the_module_refuses_a_pending_number(ops_user, mirrored):
    pending = NumberRecord.objects.filter(last_status="pending_release").first()
    assert pending is not None
    assert "already pending release" in scheduled_releases.cannot_schedule_reason(pending)
    with pytest.raises(scheduled_releases.CannotSchedule):
        scheduled_releases.schedule(pending, ops_user, unassign_first=False)


# --- cancelling ------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_it_can_be_cancelled_until_it_runs(ops, mirrored):
    number_id = unassigned_active(mirrored)
    scheduled = schedule(ops, number_id)
    response = ops.post(f"/p/main/numbers/{number_id}/scheduled-release/cancel", headers=HX)
    assert response.status_code == 200
    assert ">Release before the next charge</button>" in response.content.decode()
    scheduled.refresh_from_db()
    assert scheduled.state == State.CANCELLED
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CANCEL_SCHEDULED, number_id=number_id).exists()
    log = ops.get(f"/p/main/audit/?number={number_id}").content.decode()
    assert "Schedule release before the next charge" in log and "Cancel scheduled release" in log
    assert f'no release at <time datetime="{iso_utc(scheduled.run_at)}"' in log  # the viewer's zone, UTC on hover
    again = ops.post(f"/p/main/numbers/{number_id}/scheduled-release/cancel", headers=HX)
    assert again.status_code == 409 and "No release is scheduled" in again.content.decode()
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    run_worker()
    assert state(mirrored, number_id)["status"] == "active"


@pytest.mark.postgres
def test_a_running_release_cannot_be_cancelled(ops, ops_user, mirrored):
    scheduled = schedule(ops, unassigned_active(mirrored))
    ScheduledRelease.objects.filter(pk=scheduled.pk).update(state=State.RUNNING)
    with pytest.raises(scheduled_releases.CannotSchedule, match="being made right now"):
        scheduled_releases.cancel(scheduled, ops_user)


# --- the worker, on the sandbox's clock --------------------------------------------------------------


@pytest.mark.postgres
def test_it_is_due_on_the_sandbox_clock_and_the_worker_releases_it(ops, mirrored):
    number_id = unassigned_active(mirrored)
    scheduled = schedule(ops, number_id)
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.SCHEDULED  # not due yet on Staffify's clock
    advance_to(mirrored, scheduled.run_at - timedelta(minutes=1))
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.SCHEDULED  # a minute before the window: still not
    assert state(mirrored, number_id)["status"] == "active"
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    assert run_worker() == 1
    scheduled.refresh_from_db()
    assert scheduled.state == State.DONE, scheduled.message
    assert "Released by the worker as scheduled" in scheduled.message
    assert state(mirrored, number_id)["status"] == "pending_release"
    record = NumberRecord.objects.get(staffify_id=number_id)
    assert record.last_status == "pending_release" and record.reclaim_before is not None
    release = AuditEntry.objects.get(number_id=number_id, action=AuditEntry.Action.RELEASE)
    assert release.outcome == AuditEntry.Outcome.OK and release.username == "ops"
    assert release.before["status"] == "active" and release.after["status"] == "pending_release"


def test_without_schedules_the_worker_calls_nothing(mirrored, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no Staffify call expected")

    monkeypatch.setattr(staffify.StaffifyClient, "_request", refuse)
    assert run_worker() == 0


def test_it_unassigns_first_when_asked(ops, mirrored):
    assert state(mirrored, 1001)["agent_id"] is not None
    html = ops.get("/p/main/numbers/1001/").content.decode()
    assert 'name="unassign_first" value="1"' in html
    scheduled = schedule(ops, 1001, unassign_first="1")
    assert scheduled.unassign_first
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.DONE, scheduled.message
    after = state(mirrored, 1001)
    assert after["status"] == "pending_release" and after["agent_id"] is None
    actions = list(AuditEntry.objects.filter(number_id=1001).order_by("at", "id").values_list("action", "outcome"))
    assert actions[-2:] == [("unassign", "ok"), ("release", "ok")]


def test_an_assigned_number_fails_with_the_reason_and_the_banner_says_so(ops, support_user, mirrored):
    scheduled = schedule(ops, 1001)
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.FAILED
    assert "It has an agent" in scheduled.message and "schedule said not to unassign" in scheduled.message
    assert state(mirrored, 1001)["status"] == "active" and state(mirrored, 1001)["agent_id"] is not None
    entry = AuditEntry.objects.get(number_id=1001, action=AuditEntry.Action.RELEASE)
    assert entry.outcome == AuditEntry.Outcome.ERROR and "It has an agent" in entry.message
    for path in ("/p/main/", "/p/main/billing/", "/p/main/audit/"):
        html = ops.get(path).content.decode()
        assert 'id="release-alerts"' in html, path
        assert "scheduled release failed" in html and "It has an agent" in html
        assert "The next charge, EUR 5.00, is on" in html
        assert re.search(r"in 5\d\xa0minutes\.|in 5\d minutes\.", html)  # the time left: just under the hour
        assert f"/p/main/scheduled-releases/{scheduled.pk}/release-now" in html and "/p/main/numbers/1001/" in html
    support = Client()
    support.force_login(support_user)  # Support cannot release: no banner for them
    assert 'id="release-alerts"' not in support.get("/p/main/").content.decode()
    response = ops.post(f"/p/main/scheduled-releases/{scheduled.pk}/dismiss", {"next": "/p/main/billing/"})
    assert response.status_code == 302 and response["Location"] == "/p/main/billing/"
    assert 'id="release-alerts"' not in ops.get("/p/main/").content.decode()


def test_a_failed_release_at_staffify_is_audited_and_shown(ops, mirrored):
    number_id = unassigned_active(mirrored)
    scheduled = schedule(ops, number_id)
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    fault = {"status": 503, "count": 1, "method": "DELETE", "path_prefix": f"/v1/phone-numbers/{number_id}"}
    assert mirrored.post("/control/faults", json=fault).status_code == 201
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.FAILED
    assert "Not released" in scheduled.message and scheduled.request_id
    entry = AuditEntry.objects.get(number_id=number_id, action=AuditEntry.Action.RELEASE)
    assert entry.outcome == AuditEntry.Outcome.ERROR and entry.http_status == 503
    html = ops.get("/p/main/").content.decode()
    assert "scheduled release failed" in html and scheduled.request_id in html
    # "Release now" from the banner: a person's release, made at once.
    response = ops.post(f"/p/main/scheduled-releases/{scheduled.pk}/release-now", {"next": "/p/main/"})
    assert response.status_code == 302 and response["Location"] == "/p/main/"
    scheduled.refresh_from_db()
    assert scheduled.state == State.DONE and scheduled.message.startswith("Released now")
    assert state(mirrored, number_id)["status"] == "pending_release"
    assert 'id="release-alerts"' not in ops.get("/p/main/").content.decode()


@pytest.mark.postgres
def test_a_missed_window_is_not_released_silently(ops, mirrored):
    number_id = unassigned_active(mirrored)
    scheduled = schedule(ops, number_id)
    advance_to(mirrored, scheduled.charge_at + timedelta(minutes=5))  # the worker was down through the window
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.MISSED
    assert state(mirrored, number_id)["status"] == "active"  # not released after a new charge
    assert not AuditEntry.objects.filter(number_id=number_id, action=AuditEntry.Action.RELEASE).exists()
    html = ops.get("/p/main/").content.decode()
    assert "not released before its charge" in html
    assert "has been made: another 28-day cycle is paid" in html and "Release now anyway" in html
    # The worker's note names the charge as an instant the page shows in the viewer's zone.
    assert f'Not released: the charge of EUR 5.00 on <time datetime="{iso_utc(scheduled.charge_at)}"' in html
    assert "[[" not in html
    ops.post(f"/p/main/scheduled-releases/{scheduled.pk}/release-now")
    scheduled.refresh_from_db()
    assert scheduled.state == State.DONE
    assert state(mirrored, number_id)["status"] == "pending_release"


def test_a_number_released_another_way_resolves_the_alert(ops, mirrored):
    scheduled = schedule(ops, 1001)
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    run_worker()
    assert 'id="release-alerts"' in ops.get("/p/main/").content.decode()
    ops.post("/p/main/numbers/1001/release/confirm", {"unassign_first": "1"}, headers=HX)
    assert 'id="release-alerts"' not in ops.get("/p/main/").content.decode()
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.dismissed_at is not None and "released another way" in scheduled.message


# --- roles and CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["support", "lead"])
def test_only_operations_can_schedule_or_cancel(persona, request, mirrored):
    client = request.getfixturevalue(persona)
    number_id = unassigned_active(mirrored)
    html = client.get(f"/p/main/numbers/{number_id}/").content.decode()
    assert 'id="schedule-release" disabled' in html and "Only Operations can release numbers." in html
    response = client.post(f"/p/main/numbers/{number_id}/scheduled-release", headers=HX)
    assert response.status_code == 403
    assert not ScheduledRelease.objects.exists()
    denied = AuditEntry.objects.get(action=AuditEntry.Action.SCHEDULE_RELEASE)
    assert denied.outcome == AuditEntry.Outcome.DENIED
    assert client.post(f"/p/main/numbers/{number_id}/scheduled-release/cancel", headers=HX).status_code == 403


def test_only_operations_can_release_now_or_dismiss(ops, support_user, mirrored):
    support = Client()
    support.force_login(support_user)
    scheduled = schedule(ops, 1001)
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    run_worker()
    assert support.post(f"/p/main/scheduled-releases/{scheduled.pk}/release-now").status_code == 403
    assert support.post(f"/p/main/scheduled-releases/{scheduled.pk}/dismiss").status_code == 403
    scheduled.refresh_from_db()
    assert scheduled.state == State.FAILED and scheduled.dismissed_at is None


def test_every_new_action_needs_the_csrf_token(ops_user, mirrored):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ops_user)
    number_id = unassigned_active(mirrored)
    for path in (
        f"/p/main/numbers/{number_id}/scheduled-release",
        f"/p/main/numbers/{number_id}/scheduled-release/cancel",
        "/p/main/scheduled-releases/1/release-now",
        "/p/main/scheduled-releases/1/dismiss",
    ):
        assert client.post(path).status_code == 403, path
    assert not ScheduledRelease.objects.exists()


def test_the_dismiss_redirect_stays_on_this_site(ops, mirrored):
    scheduled = schedule(ops, 1001)
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    run_worker()
    response = ops.post(f"/p/main/scheduled-releases/{scheduled.pk}/dismiss", {"next": "https://evil.example/"})
    assert response["Location"] == "/p/main/"


# --- answers that never came ---------------------------------------------------------------------------


def lost_answer(monkeypatch, *, acted: bool) -> None:
    """The release's answer never comes (a timeout); Staffify made it (ACTED) or not."""
    original = staffify.StaffifyClient.release

    def release(self, number_id):
        if acted:
            original(self, number_id)
        raise staffify.StaffifyTimeoutError("Staffify did not answer in time.", outcome_unknown=True)

    monkeypatch.setattr(staffify.StaffifyClient, "release", release)


def test_a_late_answer_is_checked_at_once(ops, mirrored, monkeypatch):
    number_id = unassigned_active(mirrored)
    scheduled = schedule(ops, number_id)
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    lost_answer(monkeypatch, acted=True)
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.DONE and "Staffify answered late; checked" in scheduled.message
    assert NumberRecord.objects.get(staffify_id=number_id).last_status == "pending_release"


@pytest.mark.postgres
def test_an_unknown_outcome_is_settled_by_the_sweeper_and_then_shown(ops, mirrored, monkeypatch, settings):
    number_id = unassigned_active(mirrored)
    scheduled = schedule(ops, number_id)
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    lost_answer(monkeypatch, acted=False)
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.UNKNOWN
    assert scheduled.audit_entry.outcome == AuditEntry.Outcome.UNKNOWN
    html = ops.get("/p/main/").content.decode()
    assert "release not confirmed yet" in html and "Release now" not in html  # being checked: no second release
    settings.SETTLE_ABANDONED_SECONDS = 0  # the sweeper's wait, over at once
    tasks.settle_writes.call()
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.FAILED and scheduled.message.startswith("Checked afterwards: not released.")
    assert "scheduled release failed" in ops.get("/p/main/").content.decode()


# --- settings ------------------------------------------------------------------------------------------


def test_the_lead_and_the_check_interval_are_settings_checked_at_start():
    from tests.dashboard.test_settings import SANDBOX, load_settings, refusal

    lead = load_settings({**SANDBOX, "SCHEDULED_RELEASE_LEAD_SECONDS": "7200"})["SCHEDULED_RELEASE_LEAD_SECONDS"]
    assert lead == 7200
    assert load_settings(SANDBOX)["SCHEDULED_RELEASE_LEAD_SECONDS"] == 3600
    malformed = {**SANDBOX, "SCHEDULED_RELEASE_LEAD_SECONDS": "soon"}
    assert "SCHEDULED_RELEASE_LEAD_SECONDS='soon' is not a number" in refusal(malformed)
    too_slow = {**SANDBOX, "SCHEDULED_RELEASE_LEAD_SECONDS": "600", "SCHEDULED_RELEASE_CHECK_SECONDS": "400"}
    assert "must be at most half of SCHEDULED_RELEASE_LEAD_SECONDS" in refusal(too_slow)


def test_the_worker_task_is_registered_to_run_every_minute():
    from numbers_app.schedule import REGISTRY

    assert REGISTRY[tasks.run_scheduled_releases.module_path].seconds == 60


@pytest.mark.postgres
def test_a_corrected_purchase_time_moves_the_release_with_the_charge(ops, mirrored):
    number_id = unassigned_active(mirrored)
    scheduled = schedule(ops, number_id)
    old_charge = scheduled.charge_at
    # Operations corrects the purchase time (numbers_app.buying.purchase_times): one day later than Staffify said.
    NumberRecord.objects.filter(staffify_id=number_id).update(purchased_at=old_charge - CYCLE + timedelta(days=1))
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.charge_at == old_charge + timedelta(days=1)
    assert scheduled.run_at == scheduled.charge_at - timedelta(hours=1)
    assert scheduled.state == State.SCHEDULED and scheduled.message.startswith("Re-planned")


@pytest.mark.postgres
def test_a_release_left_running_by_a_dead_worker_is_made_once(ops, mirrored, settings):
    number_id = unassigned_active(mirrored)
    scheduled = schedule(ops, number_id)
    advance_to(mirrored, scheduled.run_at + timedelta(minutes=1))
    settings.SETTLE_ABANDONED_SECONDS = 60
    claimed = timezone.now() - timedelta(seconds=30)
    ScheduledRelease.objects.filter(pk=scheduled.pk).update(state=State.RUNNING, claimed_at=claimed)
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.RUNNING  # it may still be alive
    ScheduledRelease.objects.filter(pk=scheduled.pk).update(claimed_at=claimed - timedelta(minutes=1))
    run_worker()
    scheduled.refresh_from_db()
    assert scheduled.state == State.DONE, scheduled.message
    assert state(mirrored, number_id)["status"] == "pending_release"
    assert AuditEntry.objects.filter(number_id=number_id, action=AuditEntry.Action.RELEASE).count() == 1


def test_releasing_by_hand_ends_the_scheduled_release(ops, mirrored):
    number_id = unassigned_active(mirrored)
    scheduled = schedule(ops, number_id)
    response = ops.post(f"/p/main/numbers/{number_id}/release/confirm", headers=HX)
    assert "release scheduled" not in response.content.decode()
    scheduled.refresh_from_db()
    assert scheduled.state == State.DONE and "Released by hand by ops" in scheduled.message
    assert "scheduled release" not in ops.get("/p/main/billing/").content.decode()


def test_release_now_after_a_failed_try_follows_its_own_writes_not_the_earlier_ones(ops, ops_user, mirrored):
    assert state(mirrored, 1001)["agent_id"] is not None
    scheduled = schedule(ops, 1001, unassign_first="1")
    earlier = AuditEntry.objects.create(
        at=timezone.now(), action=AuditEntry.Action.RELEASE, outcome=AuditEntry.Outcome.ERROR, number_id=1001
    )
    ScheduledRelease.objects.filter(pk=scheduled.pk).update(state=State.FAILED, audit_entry=earlier)
    fault(mirrored, "/v1/phone-numbers/1001/assign", status=503, method="DELETE")

    scheduled_releases.release_now(staffify.get_client(), ScheduledRelease.objects.get(pk=scheduled.pk), ops_user)

    scheduled.refresh_from_db()
    assert scheduled.state == State.FAILED and scheduled.audit_entry is None  # no release was sent this time
    assert scheduled.message.startswith("Not released: unassigning") and "first failed" in scheduled.message
    assert state(mirrored, 1001)["status"] == "active"


def test_the_banner_leaves_out_numbers_the_mirror_shows_released_or_gone(mirrored):
    """The banner's failed and missed releases, less those whose number the mirror already shows pending
    release or gone (the worker's next pass resolves them), read without a subquery over the mirror."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    records = list(NumberRecord.objects.filter(last_status="active").order_by("staffify_id")[:3])
    now = timezone.now()
    for record, state_ in zip(records, (State.FAILED, State.MISSED, State.FAILED), strict=True):
        ScheduledRelease.objects.create(
            staffify_id=record.staffify_id,
            phone_number=record.phone_number,
            charge_at=now + timedelta(days=1),
            run_at=now + timedelta(hours=23),
            state=state_,
        )
    NumberRecord.objects.filter(pk=records[1].pk).update(last_status="pending_release")
    NumberRecord.objects.filter(pk=records[2].pk).update(gone_at=now)
    with CaptureQueriesContext(connection) as queries:
        shown = [r.staffify_id for r in scheduled_releases.alerts()]
    assert shown == [records[0].staffify_id]
    assert not any("numbers_numberrecord" in q["sql"] and "numbers_scheduledrelease" in q["sql"] for q in queries)
    ScheduledRelease.objects.update(dismissed_at=now)
    with CaptureQueriesContext(connection) as queries:
        assert list(scheduled_releases.alerts()) == []
    assert not any("numbers_numberrecord" in q["sql"] for q in queries)  # nothing open: no read of the mirror
