"""Bulk work: preview and start an action over a selection or a CSV file; the jobs and their progress.

Previews read the mirror only (0 Staffify calls); the job runs in the worker (numbers_app.bulk.jobs).
"""

from __future__ import annotations

import csv

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, trigger_client_event

from numbers_app import scope
from numbers_app.audit import log as audit
from numbers_app.bulk import files as bulk_files
from numbers_app.bulk import jobs as bulk
from numbers_app.bulk.forms import ActionForm, SelectionForm
from numbers_app.models import BulkJob, BulkJobRow
from numbers_app.roles import denial
from numbers_app.text import instants
from numbers_app.text.csvsafe import safe_row
from numbers_app.text.presenters import iso_utc
from numbers_app.web.access import HtmxHttpRequest, dashboard_view
from numbers_app.web.htmx import toast

ROWS_PAGE = 100


def _problem(request: HtmxHttpRequest, message: str, status: int = 422) -> HttpResponse:
    """Bad input: said in a toast (HTMX) or on the preview page, never a 500."""
    if request.htmx:
        response = reswap(HttpResponse(message, status=status), "none")
        return toast(response, message, "error")
    return render(request, "numbers/bulk_preview.html", {"problem": message}, status=status)


def _errors(*forms_: forms.Form) -> str:
    return " ".join(str(e) for f in forms_ for errors in f.errors.values() for e in errors)


def _bound(request: HtmxHttpRequest) -> tuple[SelectionForm, ActionForm]:
    return SelectionForm(request.POST), ActionForm(request.POST)


@dashboard_view()
@require_GET
def bulk_bar(request: HtmxHttpRequest) -> HttpResponse:
    """The owned list's selection bar, fetched by static/js/bulk.js when a row's checkbox is first
    reached (focus or pointer): hidden until something is selected, it is not part of every list page."""
    return render(request, "numbers/_bulk_bar.html")


@dashboard_view()
@require_POST
def bulk_preview(request: HtmxHttpRequest) -> HttpResponse:
    selection, action = _bound(request)
    if not (selection.is_valid() & action.is_valid()):
        return _problem(request, _errors(selection, action))
    key, params = action.cleaned_data["action"], action.cleaned_data["params"]
    records = list(selection.records()[: bulk.MAX_ROWS + 1])
    if len(records) > bulk.MAX_ROWS:
        return _problem(request, f"More than {bulk.MAX_ROWS} numbers match: narrow the filter and run it in parts.")
    if not records:
        return _problem(request, "None of the selected numbers is in the account any more.")
    preview = bulk.preview(key, params, records, request.user)
    context = {
        "preview": preview,
        "unassign_offer": _unassign_offer(request, key, params, records, preview),
        "action_key": key,
        "description": bulk.describe(key, params),
        "allowed": request.user.has_perm(bulk.ACTIONS[key].perm),
        "denied": denial(request.user, bulk.ACTIONS[key].perm),
        "fields": _carry(request),
    }
    if request.htmx:
        return render(request, "numbers/_bulk_dialog.html", context)
    return render(request, "numbers/bulk_preview.html", context)


def _unassign_offer(request: HtmxHttpRequest, key: str, params: dict, records: list, preview: bulk.Preview) -> int:
    """How many more numbers a release (now or before the charge) could take if their agents were
    unassigned first: the preview offers it in place (the mirror answers, no Staffify call)."""
    if "unassign_first" not in bulk.ACTIONS[key].inputs or params.get("unassign_first") or not preview.cannot:
        return 0
    if not request.user.has_perm("numbers.assign_agent"):
        return 0
    return bulk.preview(key, {**params, "unassign_first": True}, records, request.user).change - preview.change


CARRIED = ("scope", "ids", "filter", "action", "quick", "agent_id", "tags", "unassign_first")


def _carry(request: HtmxHttpRequest) -> list[tuple[str, str]]:
    """The posted selection and action, carried through the preview into its Run button."""
    return [(name, request.POST[name]) for name in CARRIED if request.POST.get(name)]


@dashboard_view()
@require_POST
def bulk_start(request: HtmxHttpRequest) -> HttpResponse:
    selection, action = _bound(request)
    if not (selection.is_valid() & action.is_valid()):
        return _problem(request, _errors(selection, action))
    key, params = action.cleaned_data["action"], action.cleaned_data["params"]
    if not request.user.has_perm(bulk.ACTIONS[key].perm):
        message = denial(request.user, bulk.ACTIONS[key].perm)
        audit.record(request.user, audit.Action.BULK, outcome=audit.Outcome.DENIED, message=message)
        if request.htmx:
            return _problem(request, message, status=403)
        raise PermissionDenied(message)
    records = list(selection.records()[: bulk.MAX_ROWS + 1])
    if not records or len(records) > bulk.MAX_ROWS:
        return _problem(request, f"Select between 1 and {bulk.MAX_ROWS} numbers of the account.")
    job = bulk.create_job(request.user, key, params, [bulk.Item(r, key, params) for r in records])
    return _to_job(request, job)


def _to_job(request: HtmxHttpRequest, job: BulkJob) -> HttpResponse:
    url = scope.reverse("bulk_job", job.pk)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


class UploadForm(forms.Form):
    file = forms.FileField(required=False)
    content = forms.CharField(required=False, max_length=bulk_files.MAX_BYTES, strip=False)  # carried by the preview
    filename = forms.CharField(required=False, max_length=200)


def _upload_perm_denied(request, parsed: bulk_files.Parsed) -> str:
    needed = {bulk.ACTIONS[item.action].perm for item in parsed.items}
    missing = sorted(p for p in needed if not request.user.has_perm(p))
    return " ".join(denial(request.user, p) for p in missing)


@dashboard_view()
def bulk_upload(request: HtmxHttpRequest) -> HttpResponse:
    """GET: the upload form. POST: the file's preview against the mirror; POST with `run`: the job."""
    context: dict = {"max_kb": bulk_files.MAX_BYTES // 1024, "max_lines": bulk_files.MAX_LINES}
    if request.method != "POST":
        return render(request, "numbers/bulk_upload.html", context)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        context["error"] = _errors(form)
        return render(request, "numbers/bulk_upload.html", context, status=422)
    upload = form.cleaned_data["file"]
    if upload is not None:
        if upload.size > bulk_files.MAX_BYTES:
            context["error"] = f"The file is larger than {bulk_files.MAX_BYTES // 1024} KB: split it."
            return render(request, "numbers/bulk_upload.html", context, status=422)
        data, filename = upload.read(bulk_files.MAX_BYTES + 1), upload.name or "upload.csv"
    elif form.cleaned_data["content"]:
        data, filename = form.cleaned_data["content"].encode(), form.cleaned_data["filename"] or "upload.csv"
    else:
        context["error"] = "Choose a CSV file to upload."
        return render(request, "numbers/bulk_upload.html", context, status=422)
    parsed = bulk_files.parse(data)
    context.update(parsed=parsed, filename=filename[:200])
    if parsed.error:
        context["error"] = parsed.error
        return render(request, "numbers/bulk_upload.html", context, status=422)
    denied = _upload_perm_denied(request, parsed)
    if request.POST.get("run") == "1" and parsed.items:
        if denied:
            audit.record(request.user, audit.Action.BULK, outcome=audit.Outcome.DENIED, message=denied)
            raise PermissionDenied(denied)
        job = bulk.create_job(request.user, "file", {"filename": filename[:200]}, parsed.items)
        return _to_job(request, job)
    context.update(
        preview=bulk.preview_items(parsed.items, request.user),
        content=data.decode("utf-8-sig"),
        denied=denied,
    )
    return render(request, "numbers/bulk_upload.html", context)


# ---------------------------------------------------------------------------------------------
# Jobs


def _get_job(job_id: int) -> BulkJob:
    job = BulkJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        raise Http404("No such job.")
    return job


def _may_change(user, job: BulkJob) -> bool:
    """Cancel and retry: the job's starter, or anyone with the permission its action needs."""
    perms = {bulk.ACTIONS[a].perm for a in job.rows.values_list("action", flat=True).distinct() if a in bulk.ACTIONS}
    return job.created_by_id == user.pk or (bool(perms) and all(user.has_perm(p) for p in perms))


@dashboard_view()
@require_GET
def bulk_jobs(request: HtmxHttpRequest) -> HttpResponse:
    jobs = list(BulkJob.objects.select_related("created_by")[:50])
    for job in jobs:
        job.found = bulk.counts(job)  # type: ignore[attr-defined]
        job.finished_rows = bulk.progress(job, job.found)  # type: ignore[attr-defined]
    return render(request, "numbers/jobs.html", {"jobs": jobs})


def _job_context(request: HtmxHttpRequest, job: BulkJob) -> dict:
    found = bulk.counts(job)
    return {
        "job": job,
        "found": found,
        "finished_rows": bulk.progress(job, found),
        "may_change": _may_change(request.user, job),
    }


@dashboard_view()
@require_GET
def bulk_job(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = _get_job(job_id)
    context = _job_context(request, job)
    state = request.GET.get("state", "")
    rows = job.rows.all()
    if state in BulkJobRow.State.values:
        rows = rows.filter(state=state)
    page_number = request.GET.get("page", "1")
    page = Paginator(rows, ROWS_PAGE).get_page(page_number if page_number.isdigit() and len(page_number) < 8 else 1)
    for row in page.object_list:
        row.change = bulk.describe(row.action, row.params) if row.action in bulk.ACTIONS else row.action  # type: ignore[attr-defined]
    context.update(page=page, state=state, states=BulkJobRow.State.choices)
    if request.htmx and request.htmx.target == "job-progress":
        response = render(request, "numbers/job.html#progress", context)
        if job.finished:
            response = trigger_client_event(response, "jobFinished", {"id": job.pk})
        return response
    if request.htmx and request.htmx.target == "job-rows":
        return render(request, "numbers/job.html#rows", context)
    return render(request, "numbers/job.html", context)


def _refused(request: HtmxHttpRequest, job: BulkJob, what: str) -> PermissionDenied:
    """A cancel or retry refused for the role: in the audit log, as every refused action is."""
    message = f"Only the job's starter, or a role that may make its changes, can {what} it."
    said = f"Refused to {what} job {job.pk}: {message}"
    audit.record(request.user, audit.Action.BULK, outcome=audit.Outcome.DENIED, message=said)
    return PermissionDenied(message)


@dashboard_view()
@require_POST
def bulk_cancel(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = _get_job(job_id)
    if not _may_change(request.user, job):
        raise _refused(request, job, "cancel")
    if not job.finished:
        bulk.cancel(job, request.user)
    return _to_job(request, job)


@dashboard_view()
@require_POST
def bulk_retry(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = _get_job(job_id)
    if not _may_change(request.user, job):
        raise _refused(request, job, "retry")
    if not job.finished:
        return _problem(request, "The job is still running: retry its failed rows once it has finished.", status=409)
    retry = bulk.retry_failed(job, request.user)
    if retry is None:
        return _problem(request, "No failed row to retry (or the numbers are gone from the account).", status=409)
    return _to_job(request, retry)


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_COLUMNS = [
    "line",
    "number id",
    "phone number",
    "action",
    "asked",
    "state",
    "reason",
    "Staffify request id",
    "calls",
    "finished (UTC)",
]


def _csv_rows(job: BulkJob):
    yield CSV_COLUMNS
    for row in job.rows.order_by("position").iterator(chunk_size=500):
        yield safe_row(
            [
                row.line or "",
                row.number_id,
                row.phone_number or row.display,
                bulk.ACTIONS[row.action].label if row.action in bulk.ACTIONS else row.action,
                bulk.describe(row.action, row.params) if row.action in bulk.ACTIONS else "",
                row.get_state_display(),
                instants.render_utc(row.reason),
                row.request_id,
                row.calls,
                iso_utc(row.finished_at) if row.finished_at else "",
            ]
        )


@dashboard_view()
@require_GET
def bulk_results_csv(request: HtmxHttpRequest, job_id: int) -> StreamingHttpResponse:
    job = _get_job(job_id)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in _csv_rows(job)), content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="staffify-job-{job.pk}-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    return response


@dashboard_view()
@require_GET
def bulk_notice(request: HtmxHttpRequest) -> HttpResponse:
    """The starter's notice: polled only while they have a job running (base.html)."""
    return render(request, "numbers/_job_notice.html", bulk.notice(request.user))


@dashboard_view()
@require_POST
def bulk_notice_seen(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    # This job and every earlier finished one of theirs: one Dismiss, not one per job (they stacked).
    bulk.unseen_finished(request.user).filter(pk__lte=job_id).update(notice_seen=True)
    if request.htmx:
        return render(request, "numbers/_job_notice.html", bulk.notice(request.user))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/jobs/") else "bulk_jobs")
