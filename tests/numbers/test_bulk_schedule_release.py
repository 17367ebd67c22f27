""" "Release before the next charge" as a bulk action: the job schedules each release (no Staffify
write), with the same reasons as on a number's page; the worker makes them later."""

import pytest

from numbers_app.models import BulkJob, NumberRecord, ScheduledRelease
from numbers_app.scheduled import releases as scheduled_releases
from tests.helpers import HX

from .bulking import run_job, selection, writes

pytestmark = pytest.mark.django_db


def active(**filters) -> list[NumberRecord]:
    return list(
        NumberRecord.objects.filter(gone_at__isnull=True, last_status="active", **filters).order_by("staffify_id")
    )


def test_it_schedules_each_release_and_says_why_not_for_the_others(ops, mirrored):
    free = active(agent_id__isnull=True)[:3]
    with_agent = active(agent_id__isnull=False)[0]
    undated = free.pop()
    NumberRecord.objects.filter(pk=undated.pk).update(purchased_at=None)
    already = free.pop()
    scheduled_releases.schedule(already, ops_user_of(ops), unassign_first=False)
    chosen = [*free, with_agent, undated, already]

    preview = ops.post(
        "/p/main/bulk/preview", selection(chosen, action="schedule_release"), headers=HX
    ).content.decode()
    assert "Release before the next charge" in preview
    assert "has an agent" in preview and "purchase time unknown" in preview
    assert "EUR 5.00" in preview  # the saving per 28 days of the one that will be scheduled

    response = ops.post("/p/main/bulk/start", selection(chosen, action="schedule_release"), headers=HX)
    assert response.status_code == 200, response.content
    job, calls = run_job(BulkJob.objects.get())
    assert job.state == "done"
    assert writes(calls) == 0  # scheduling asks nothing of Staffify: the worker releases later
    states = {r.number_id: r.state for r in job.rows.all()}
    assert states == {
        free[0].staffify_id: "done",
        with_agent.staffify_id: "cannot",
        undated.staffify_id: "cannot",
        already.staffify_id: "skipped",
    }
    waiting = ScheduledRelease.objects.filter(state="scheduled").values_list("staffify_id", flat=True)
    assert set(waiting) == {free[0].staffify_id, already.staffify_id}


def test_unassign_first_lets_a_number_with_an_agent_be_scheduled(ops, mirrored):
    with_agent = active(agent_id__isnull=False, purchased_at__isnull=False)[0]
    ops.post("/p/main/bulk/start", selection([with_agent], action="schedule_release", unassign_first="on"), headers=HX)
    job, _ = run_job(BulkJob.objects.get())
    assert [r.state for r in job.rows.all()] == ["done"]
    assert ScheduledRelease.objects.get(staffify_id=with_agent.staffify_id).unassign_first is True


def test_support_cannot_schedule_releases_in_bulk(support, mirrored):
    response = support.post("/p/main/bulk/start", selection(active()[:2], action="schedule_release"), headers=HX)
    assert response.status_code == 403
    assert not ScheduledRelease.objects.exists()


def ops_user_of(client):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


def test_the_job_list_and_the_finished_notice_say_scheduled_not_done(ops, mirrored):
    """Nothing is released when the job ends: its results, the jobs list and the notice on every page
    say how many were scheduled (issue 26, item 8), and the rows' results are pills like the list's."""
    free = active(agent_id__isnull=True, purchased_at__isnull=False)[:2]
    ops.post("/p/main/bulk/start", selection(free, action="schedule_release"), headers=HX)
    job, _ = run_job(BulkJob.objects.get())
    jobs = ops.get("/p/main/jobs/").content.decode()
    assert "2 scheduled, 0 skipped, 0 failed" in jobs and "2 done" not in jobs
    assert 'class="pill job-done"' in jobs
    notice = ops.get("/p/main/").content.decode()
    assert f"Bulk job {job.pk} (" in notice
    assert "2 scheduled, 0 skipped, 0 failed" in notice and "2 done" not in notice
    page = ops.get(f"/p/main/jobs/{job.pk}/").content.decode()
    assert 'class="pill row-done scheduled">Scheduled<' in page
    assert f'class="num" href="/p/main/numbers/{free[0].staffify_id}/"' in page
    audit = ops.get("/p/main/audit/").content.decode()
    assert f"Bulk job {job.pk} finished: 2 scheduled (0 Staffify calls)." in audit


def test_a_scheduling_jobs_release_instants_are_in_each_viewers_zone(ops, mirrored):
    """The worker writes each row's "to be released …" once; the preview and the job page show it in the
    viewer's zone with UTC on hover (not the worker's zone), the CSV in UTC (issue 26: one date style)."""
    from datetime import UTC

    from django.utils import timezone
    from django.utils.dateformat import format as date_format

    free = active(agent_id__isnull=True, purchased_at__isnull=False)[:1]
    ops.post("/account/preferences", {"time_zone": "America/New_York"})
    preview = ops.post("/p/main/bulk/preview", selection(free, action="schedule_release"), headers=HX).content.decode()
    ops.post("/p/main/bulk/start", selection(free, action="schedule_release"), headers=HX)
    job, _ = run_job(BulkJob.objects.get())
    run_at = ScheduledRelease.objects.get(staffify_id=free[0].staffify_id).run_at.astimezone(UTC)
    with timezone.override("America/New_York"):
        local = date_format(timezone.localtime(run_at), "j M Y, H:i T")
    page = ops.get(f"/p/main/jobs/{job.pk}/").content.decode()
    for html in (preview, page):
        assert f'title="{run_at:%Y-%m-%d %H:%M:%S} UTC">{local}</time>' in html
        assert "[[" not in html
    csv = b"".join(ops.get(f"/p/main/jobs/{job.pk}/results.csv").streaming_content).decode()
    assert f"to be released {run_at.day} {run_at:%b %Y, %H:%M} UTC" in csv and "[[" not in csv
