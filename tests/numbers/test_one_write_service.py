"""Every path that changes a number goes through numbers_app.changes.service, so they agree: what a release
makes obsolete is closed whoever releases, tags follow one rule, and a right is checked the same way."""

import pytest
from django.contrib.auth.models import Permission

from numbers_app import staffify, tasks
from numbers_app.bulk import jobs as bulk
from numbers_app.models import AuditEntry, BulkJob, NumberRecord, ScheduledRelease
from numbers_app.rules import same_tags
from numbers_app.scheduled import releases as scheduled_releases
from tests.helpers import HX, state

from .bulking import run_job, sales, selection

pytestmark = pytest.mark.django_db

State = ScheduledRelease.State


def free_dated_number() -> NumberRecord:
    return NumberRecord.objects.filter(
        gone_at__isnull=True, last_status="active", agent_id__isnull=True, purchased_at__isnull=False
    ).order_by("staffify_id")[0]


def test_a_bulk_release_closes_the_numbers_scheduled_release(ops, ops_user, mirrored):
    record = free_dated_number()
    scheduled = scheduled_releases.schedule(record, ops_user, unassign_first=False)
    assert ops.get("/p/main/?scheduled=1").content.decode().count(f'id="number-{record.staffify_id}"') == 1

    ops.post("/p/main/bulk/start", selection([record], action="release"), headers=HX)
    job, _ = run_job(BulkJob.objects.get())

    assert [row.state for row in job.rows.all()] == ["done"]
    assert state(mirrored, record.staffify_id)["status"] == "pending_release"
    scheduled.refresh_from_db()
    assert scheduled.state == State.DONE
    assert scheduled.message == f"Released by hand by ops in bulk job {job.pk} before the scheduled time."
    assert scheduled_releases.savings()[0] == 0  # billing no longer counts its saving
    assert f'id="number-{record.staffify_id}"' not in ops.get("/p/main/?scheduled=1").content.decode()


def test_a_release_made_outside_the_dashboard_closes_it_at_the_next_sync(ops_user, mirrored):
    record = free_dated_number()
    scheduled = scheduled_releases.schedule(record, ops_user, unassign_first=False)
    assert mirrored.delete(f"/v1/phone-numbers/{record.staffify_id}").status_code == 200  # not through us

    assert tasks.sync_mirror.call().startswith("ok")

    scheduled.refresh_from_db()
    assert scheduled.state == State.DONE
    assert "seen in Staffify by the sync" in scheduled.message
    assert scheduled_releases.savings()[0] == 0


def test_a_bulk_file_changing_only_the_case_of_a_tag_sends_it(ops_user, mirrored):
    record = next(r for r in sales() if r.last_status == "active")
    number = state(mirrored, record.staffify_id)
    wanted = [("SALES" if tag == "sales" else tag) for tag in number["tags"]]
    job = bulk.create_job(ops_user, "file", {}, [bulk.Item(record, "set_tags", {"tags": wanted})])

    job, calls = run_job(job)

    assert [(row.state, row.reason) for row in job.rows.all()] == [("done", "")]
    assert calls == {("PATCH", f"/phone-numbers/{record.staffify_id}"): 1}
    assert state(mirrored, record.staffify_id)["tags"] == wanted
    entry = AuditEntry.objects.get(action="tags", bulk_job=job)
    assert entry.outcome == "ok" and entry.after["tags"] == wanted


def test_one_rule_for_tags_the_same_list_in_another_case_is_a_change_adding_one_is_not():
    number = staffify.PhoneNumber(id=1, phone_number="+14155550100", status="active", tags=("VIP", "sales"))
    assert same_tags(number.tags, ["sales", "VIP"])
    assert not same_tags(number.tags, ["vip", "sales"])

    class Anyone:
        def has_perm(self, perm: str) -> bool:
            return True

    assert bulk.plan_for("set_tags", number, {"tags": ["vip", "sales"]}, Anyone()).verdict == "change"
    assert bulk.plan_for("add_tags", number, {"tags": ["vip"]}, Anyone()).verdict == "skip"  # the tag is there
    removed = bulk.plan_for("remove_tags", number, {"tags": ["vip"]}, Anyone())
    assert removed.verdict == "change" and removed.steps[0].wanted.tags == ("sales",)


@pytest.fixture
def releaser(client, django_user_model):
    """Someone who may release numbers but not assign agents (a custom grant, not one of the roles)."""
    user = django_user_model.objects.create_user(username="releaser", password="pw-releaser")
    codenames = ["view_dashboard", "release_number"]
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="numbers", codename__in=codenames))
    client.force_login(user)
    return client


def test_unassign_first_without_the_right_to_unassign_sends_nothing(releaser, staffify_sandbox):
    before = state(staffify_sandbox, 1001)
    assert before["agent_id"] is not None and before["status"] == "active"

    response = releaser.post("/p/main/numbers/1001/release/confirm", {"unassign_first": "1"}, headers=HX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "cannot assign agents before releasing, so nothing was sent" in html
    assert state(staffify_sandbox, 1001) == before  # neither the unassign nor the release was sent
    entries = list(AuditEntry.objects.filter(number_id=1001).values_list("action", "outcome"))
    assert entries == [("unassign", "denied")]


def test_the_bulk_preview_says_the_same_for_it(releaser, mirrored):
    record = NumberRecord.objects.get(staffify_id=1001)
    preview = releaser.post(
        "/p/main/bulk/preview", selection([record], action="release", unassign_first="on"), headers=HX
    ).content.decode()
    assert "cannot assign agents before releasing" in preview
