"""Bulk jobs run as the worker runs them: one write per number that changes, none for the others;
every write audited and linked to its job; resumable after a crash; cancellable; failed rows retried."""

import httpx
import pytest
from django.core.cache import cache
from django.utils import timezone

from numbers_app import staffify
from numbers_app.bulk import jobs as bulk
from numbers_app.changes import settle
from numbers_app.mirror import store as mirror
from numbers_app.models import AuditEntry, BulkJob, BulkJobRow, NumberRecord
from tests.conftest import InTransactionWSGI
from tests.helpers import HX

from .bulking import run_job, sales, selection, writes

# On the PostgreSQL pass too (@pytest.mark.postgres): rows claimed by conditional updates, the runner
# taken over, bulk writes.


def start(client, records, **action) -> BulkJob:
    response = client.post("/p/main/bulk/start", selection(records, **action), headers=HX)
    assert response.status_code == 200, response.content
    job = BulkJob.objects.get()
    assert response["HX-Redirect"] == f"/p/main/jobs/{job.pk}/"
    return job


@pytest.mark.django_db
@pytest.mark.postgres
def test_it_assigns_every_number_with_one_call_each_and_none_for_the_skipped(support, mirrored):
    numbers = [r for r in sales() if r.last_status == "active"]
    support.post(f"/p/main/numbers/{numbers[0].staffify_id}/agent", {"agent_id": "110"}, headers=HX)
    already = {r.staffify_id for r in numbers if r.agent_id == 110} | {numbers[0].staffify_id}
    job = start(support, numbers, action="assign", agent_id="110")
    job, calls = run_job(job)
    assert job.state == "done"
    found = bulk.counts(job)
    assert found["done"] == len(numbers) - len(already)
    assert found["skipped"] == len(already)
    assert writes(calls) == found["done"] == job.calls
    assert sum(calls.values()) == found["done"]  # no read either: the mirror planned every row
    for number_id in already:
        assert ("PUT", f"/phone-numbers/{number_id}/assign") not in calls
    for record in numbers:
        assert mirrored.get(f"/v1/phone-numbers/{record.staffify_id}").json()["agent_id"] == 110
        assert NumberRecord.objects.get(pk=record.pk).agent_id == 110  # the mirror follows each answer
    entries = AuditEntry.objects.filter(bulk_job=job, action="assign")
    assert entries.count() == found["done"] and set(entries.values_list("outcome", flat=True)) == {"ok"}
    assert f'href="/p/main/jobs/{job.pk}/">job #{job.pk}</a>' in support.get("/p/main/audit/").content.decode()
    # The rows that made no call reach the audit log too, counted in the job's closing entry.
    closing = AuditEntry.objects.filter(bulk_job=job, action="bulk").order_by("id").last()
    assert f"{found['done']} done, {found['skipped']} skipped" in closing.message


@pytest.mark.django_db
@pytest.mark.postgres
def test_release_unassigns_first_only_when_asked(ops, mirrored):
    record = next(r for r in sales() if r.last_status == "active" and r.agent_id)
    job = start(ops, [record], action="release")
    job, calls = run_job(job)
    assert bulk.counts(job)["cannot"] == 1 and not calls
    BulkJob.objects.all().delete()
    job = start(ops, [record], action="release", unassign_first="1")
    job, calls = run_job(job)
    assert bulk.counts(job)["done"] == 1
    assert writes(calls) == 2 == job.calls
    state = mirrored.get(f"/v1/phone-numbers/{record.staffify_id}").json()
    assert state["status"] == "pending_release" and state["agent_id"] is None
    assert list(AuditEntry.objects.filter(bulk_job=job).order_by("id").values_list("action", flat=True)) == [
        "bulk",
        "unassign",
        "release",
        "bulk",
    ]
    assert AuditEntry.objects.filter(bulk_job=job).order_by("id").last().message == (
        f"Bulk job {job.pk} finished: 1 done (2 Staffify calls)."
    )


@pytest.mark.django_db
@pytest.mark.postgres
def test_tags_are_added_and_removed_without_touching_the_others(support, mirrored):
    numbers = [r for r in sales() if r.last_status == "active"][:3]
    job, _ = run_job(start(support, numbers, action="add_tags", tags="emea, Sales"))
    assert bulk.counts(job)["done"] == 3
    for record in numbers:
        tags = mirrored.get(f"/v1/phone-numbers/{record.staffify_id}").json()["tags"]
        assert tags == [*record.tags, "emea"]
    BulkJob.objects.all().delete()
    job, _ = run_job(start(support, numbers, action="remove_tags", tags="emea"))
    for record in numbers:
        assert mirrored.get(f"/v1/phone-numbers/{record.staffify_id}").json()["tags"] == record.tags


@pytest.mark.django_db
@pytest.mark.postgres
def test_adding_tags_keeps_a_tag_set_outside_the_dashboard_since_the_last_sync(support, mirrored):
    record, other = [r for r in sales() if r.last_status == "active"][:2]
    outside = [*record.tags, "set-elsewhere"]
    mirrored.patch(f"/v1/phone-numbers/{record.staffify_id}", json={"tags": outside})  # the mirror does not know
    mirrored.patch(f"/v1/phone-numbers/{other.staffify_id}", json={"tags": [*other.tags, "emea"]})
    job, calls = run_job(start(support, [record, other], action="add_tags", tags="emea"))
    assert mirrored.get(f"/v1/phone-numbers/{record.staffify_id}").json()["tags"] == [*outside, "emea"]
    rows = {r.number_id: r for r in job.rows.all()}
    assert rows[other.staffify_id].state == "skipped"  # already tagged at Staffify: read, not written
    assert "read from Staffify just now" in rows[other.staffify_id].reason
    assert writes(calls) == 1
    assert NumberRecord.objects.get(staffify_id=record.staffify_id).tags == [*outside, "emea"]


class LosingAssignAnswers(httpx.BaseTransport):
    """Every assign reaches the sandbox and is made, but its answer is lost on the way back."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.assigns = inner, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "PUT" and request.url.path.endswith("/assign"):
            self.assigns += 1
            raise httpx.ReadTimeout("timed out", request=request)
        return response


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_write_whose_answer_was_lost_is_read_back_and_counted_done_not_resent(support, mirrored, settings):
    numbers = [r for r in sales() if r.last_status == "active" and r.agent_id != 110][:3]
    transport = LosingAssignAnswers(httpx.WSGITransport(app=InTransactionWSGI()))
    settings.STAFFIFY_TRANSPORT = transport
    job, _ = run_job(start(support, numbers, action="assign", agent_id="110"))
    assert bulk.counts(job)["done"] == 3
    assert transport.assigns == 3  # one each: a write whose answer was lost is read back, never resent
    for record in numbers:
        assert mirrored.get(f"/v1/phone-numbers/{record.staffify_id}").json()["agent_id"] == 110
    entries = AuditEntry.objects.filter(bulk_job=job, action="assign")
    assert set(entries.values_list("outcome", flat=True)) == {"ok"}
    assert all("checked" in e.message for e in entries)


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_row_left_sent_by_a_dead_worker_is_read_back_not_resent(support, mirrored):
    """Row 1: Staffify made the change, then the worker died before recording it. Row 2: the worker
    died before the call left. Neither is done twice, neither is skipped."""
    numbers = [r for r in sales() if r.last_status == "active" and r.agent_id != 110][:3]
    job = start(support, numbers, action="assign", agent_id="110")
    rows = list(job.rows.order_by("position"))
    client = staffify.get_client()
    for row, happened in ((rows[0], True), (rows[1], False)):
        before = mirror.as_number(NumberRecord.objects.get(staffify_id=row.number_id))
        from dataclasses import replace

        settle.begin(support_user(job), "assign", before, replace(before, agent_id=110), bulk_job=job)
        BulkJobRow.objects.filter(pk=row.pk).update(state="sent", sent_at=timezone.now())
        if happened:
            client.assign(row.number_id, 110)
    BulkJob.objects.filter(pk=job.pk).update(state="running", heartbeat_at=timezone.now() - bulk.stale_after() * 2)
    job, calls = run_job(job)
    assert job.state == "done" and bulk.counts(job)["done"] == 3
    first, second, third = (r.number_id for r in rows)
    assert calls[("GET", f"/phone-numbers/{first}")] == 1 and ("PUT", f"/phone-numbers/{first}/assign") not in calls
    assert calls[("GET", f"/phone-numbers/{second}")] == 1 and calls[("PUT", f"/phone-numbers/{second}/assign")] == 1
    assert calls[("PUT", f"/phone-numbers/{third}/assign")] == 1 and ("GET", f"/phone-numbers/{third}") not in calls
    outcomes = {
        (e.number_id, e.outcome) for e in AuditEntry.objects.filter(bulk_job=job, action="assign").order_by("id")
    }
    assert outcomes == {(first, "ok"), (second, "error"), (second, "ok"), (third, "ok")}
    assert not AuditEntry.objects.filter(bulk_job=job, outcome__in=["sent", "unknown"]).exists()


def support_user(job):
    return job.created_by


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_running_job_is_not_taken_over_while_its_worker_beats(support, mirrored):
    job = start(support, sales()[:2], action="unassign")
    BulkJob.objects.filter(pk=job.pk).update(state="running", heartbeat_at=timezone.now())
    assert bulk.run(job.pk).startswith("not claimed")
    assert list(bulk.to_resume()) == []
    BulkJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - bulk.stale_after() * 2)
    assert list(bulk.to_resume()) == [job]


@pytest.mark.django_db
def test_cancel_a_queued_job_cancels_its_rows(support, mirrored):
    job = start(support, [r for r in sales() if r.agent_id][:3], action="unassign")
    response = support.post(f"/p/main/jobs/{job.pk}/cancel")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == "cancelled" and bulk.counts(job)["cancelled"] == 3
    _, calls = run_job(job)
    assert not calls


@pytest.mark.django_db
@pytest.mark.postgres
def test_cancel_a_running_job_stops_before_the_rows_not_yet_sent(support, mirrored):
    job = start(support, [r for r in sales() if r.agent_id and r.last_status == "active"][:3], action="unassign")
    BulkJob.objects.filter(pk=job.pk).update(state="cancelling", heartbeat_at=None)
    job, calls = run_job(job)
    assert job.state == "cancelled" and bulk.counts(job)["cancelled"] == 3 and not calls


@pytest.mark.django_db
@pytest.mark.postgres
def test_failed_rows_say_why_and_are_retried_in_a_new_job(support, mirrored):
    numbers = [r for r in sales() if r.last_status == "active" and r.agent_id != 103][:4]
    for record in numbers[:2]:
        fault = {"status": 422, "count": 1, "path_prefix": f"/v1/phone-numbers/{record.staffify_id}/assign"}
        assert mirrored.post("/control/faults", json=fault).status_code == 201
    job, _ = run_job(start(support, numbers, action="assign", agent_id="103"))
    found = bulk.counts(job)
    assert found["failed"] == 2 and found["done"] == 2
    failed = list(job.rows.filter(state="failed"))
    assert all(row.reason and row.request_id for row in failed)
    page = support.get(f"/p/main/jobs/{job.pk}/?state=failed").content.decode()
    assert failed[0].reason in page or failed[0].reason.replace("'", "&#x27;") in page
    response = support.post(f"/p/main/jobs/{job.pk}/retry", headers=HX)
    retry = BulkJob.objects.exclude(pk=job.pk).get()
    assert response["HX-Redirect"] == f"/p/main/jobs/{retry.pk}/"
    assert retry.retry_of == job and retry.total == 2
    assert AuditEntry.objects.filter(bulk_job=retry, action="bulk", message__contains="retrying").exists()
    retry, calls = run_job(retry)
    assert bulk.counts(retry)["done"] == 2 and writes(calls) == 2


@pytest.mark.django_db
def test_a_429_slows_the_job_and_the_row_is_done_later(support, mirrored):
    record = next(r for r in sales() if r.last_status == "active" and r.agent_id != 104)
    fault = {"status": 429, "count": 1, "path_prefix": f"/v1/phone-numbers/{record.staffify_id}/assign"}
    mirrored.post("/control/faults", json=fault)
    job = start(support, [record], action="assign", agent_id="104")
    waited = []

    def sleep(seconds):  # the pause is real (the budget's); the test skips the wait itself
        waited.append(seconds)
        cache.clear()

    with staffify.track_calls() as stats:
        bulk.run(job.pk, sleep=sleep)
    job.refresh_from_db()
    assert bulk.counts(job)["done"] == 1
    # Refused once, read back (a 429 may come after Staffify acted: it had not), paused, then done.
    assert [method for method, *_ in stats.requests] == ["PUT", "GET", "PUT"] and waited


@pytest.mark.django_db
def test_the_results_csv_is_streamed_and_safe_for_spreadsheets(support, mirrored):
    job, _ = run_job(start(support, sales()[:3], action="unassign"))
    BulkJobRow.objects.filter(job=job, position=0).update(reason="=HYPERLINK(1)")
    response = support.get(f"/p/main/jobs/{job.pk}/results.csv")
    assert response.streaming and response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("line,number id,phone number,action")
    assert len(lines) == 4
    assert "'=HYPERLINK(1)" in text
    first = job.rows.get(position=0)
    assert lines[1].startswith(f",{first.number_id},{first.phone_number},")  # E.164: no quote needed


@pytest.mark.django_db
def test_the_starter_sees_one_dismissible_notice_when_the_job_ends(support, mirrored):
    job = start(support, sales()[:2], action="unassign")
    html = support.get("/p/main/").content.decode()
    assert 'hx-get="/p/main/jobs/notice" hx-trigger="every 2s"' in html  # polls only while it runs
    run_job(job)
    html = support.get("/p/main/jobs/notice").content.decode()
    assert f"Bulk job {job.pk}" in html and "finished" in html
    support.post(f"/p/main/jobs/{job.pk}/seen", headers=HX)
    html = support.get("/p/main/").content.decode()
    assert f"Bulk job {job.pk}" not in html and "every 2s" not in html


@pytest.mark.django_db
def test_jobs_pages_list_and_show_progress(lead, support, mirrored):
    job = start(support, sales()[:2], action="unassign")
    html = support.get(f"/p/main/jobs/{job.pk}/", headers={**HX, "HX-Target": "job-progress"}).content.decode()
    assert 'hx-trigger="every 1s"' in html and "<progress" in html and 'aria-label="Job' in html
    run_job(job)
    response = support.get(f"/p/main/jobs/{job.pk}/", headers={**HX, "HX-Target": "job-progress"})
    assert "every 1s" not in response.content.decode() and "jobFinished" in response["HX-Trigger"]
    assert f"/p/main/jobs/{job.pk}/" in support.get("/p/main/jobs/").content.decode()
    assert support.get("/p/main/jobs/999/").status_code == 404


@pytest.mark.django_db
def test_a_team_lead_may_read_jobs_but_not_cancel_or_retry_them(client, support_user, lead_user, mirrored):
    client.force_login(support_user)
    job = start(client, sales()[:2], action="unassign")
    client.force_login(lead_user)
    assert client.get(f"/p/main/jobs/{job.pk}/").status_code == 200
    assert client.post(f"/p/main/jobs/{job.pk}/cancel").status_code == 403
    assert client.post(f"/p/main/jobs/{job.pk}/retry").status_code == 403
    assert client.post("/p/main/bulk/start", selection(sales()[:2], action="unassign"), headers=HX).status_code == 403


@pytest.mark.django_db
def test_every_mutation_needs_the_csrf_token(support_user, mirrored):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(support_user)
    data = selection(sales()[:2], action="unassign")
    for url in (
        "/p/main/bulk/preview",
        "/p/main/bulk/start",
        "/p/main/bulk/upload",
        "/p/main/jobs/1/cancel",
        "/p/main/jobs/1/retry",
        "/p/main/jobs/1/seen",
    ):
        assert client.post(url, data).status_code == 403, url


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_long_job_runs_in_slices_so_the_worker_runs_its_other_tasks_between(support, mirrored):
    from django_tasks_db.models import DBTaskResult

    from numbers_app.tasks import run_bulk_job

    job = start(
        support,
        [r for r in sales() if r.last_status == "active" and r.agent_id != 104][:3],
        action="assign",
        agent_id="104",
    )
    said = bulk.run(job.pk, slice_seconds=1e-9)
    assert said == "slice done: 1 of 3 rows finished; enqueued again"
    job.refresh_from_db()
    assert job.state == "running" and job.heartbeat_at is None  # free for the next slice
    assert DBTaskResult.objects.filter(task_path=run_bulk_job.module_path, status="READY").exists()
    assert bulk.run(job.pk, slice_seconds=1e-9).startswith("slice done: 2 of 3")
    job, _ = run_job(job)
    assert job.state == "done" and bulk.counts(job)["done"] == 3


@pytest.mark.django_db
def test_the_job_leaves_the_reserve_to_people(support, mirrored):
    """At the reserve (30% of the limit left), background work waits; a page may still call."""
    import time as clock

    from numbers_app.staffify import budget

    record = next(r for r in sales() if r.last_status == "active" and r.agent_id != 104)
    job = start(support, [record], action="assign", agent_id="104")
    headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "90",
        "X-RateLimit-Reset": str(int(clock.time()) + 60),
    }
    budget.record(headers)
    seen = []

    def sleep(seconds):
        seen.append((seconds, budget.allow("page"), mirrored.get(f"/v1/phone-numbers/{record.staffify_id}").json()))
        if len(seen) == 3:
            cache.clear()  # the window ends

    with staffify.track_calls() as stats:
        bulk.run(job.pk, sleep=sleep)
    assert len(seen) == 3 and all(page_may for _, page_may, _ in seen)
    assert all(number["agent_id"] != 104 for _, _, number in seen)  # nothing sent while it waited
    assert stats.calls == 1 and bulk.counts(BulkJob.objects.get(pk=job.pk))["done"] == 1


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_sent_row_that_cannot_be_read_back_waits_for_the_next_slice(support, mirrored):
    record = next(r for r in sales() if r.last_status == "active" and r.agent_id != 104)
    job = start(support, [record], action="assign", agent_id="104")
    BulkJobRow.objects.filter(job=job).update(state="sent", sent_at=timezone.now())
    fault = {"status": 503, "count": 2, "path_prefix": f"/v1/phone-numbers/{record.staffify_id}", "method": "GET"}
    mirrored.post("/control/faults", json=fault)
    assert "enqueued again" in bulk.run(job.pk, sleep=lambda s: None)
    job.refresh_from_db()
    assert job.state == "running" and job.rows.get().state == "sent"  # not finished, not resent
    job, calls = run_job(job)  # Staffify answers again: read back (not done), then sent once
    assert job.state == "done" and job.rows.get().state == "done"
    assert calls[("PUT", f"/phone-numbers/{record.staffify_id}/assign")] == 1


@pytest.mark.django_db
def test_finished_job_notices_do_not_stack_one_dismiss_clears_them(support, mirrored):
    first = start(support, sales()[:1], action="unassign")
    run_job(first)
    response = support.post("/bulk/start", selection(sales()[1:2], action="add_tags", tags="x"), headers=HX)
    assert response.status_code == 200
    second = BulkJob.objects.exclude(pk=first.pk).get()
    run_job(second)
    html = support.get("/p/main/jobs/notice").content.decode()
    assert f"Bulk job {second.pk}" in html and f"Bulk job {first.pk}" not in html
    assert "1 earlier job finished too" in html and "Dismiss all 2" in html
    support.post(f"/jobs/{second.pk}/seen", headers=HX)
    html = support.get("/p/main/").content.decode()
    assert "Bulk job" not in html
