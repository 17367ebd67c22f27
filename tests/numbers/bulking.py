"""Helpers for the bulk tests: the seed's "sales" numbers, a job run to its end in this process, and
the Staffify calls it made per number."""

from __future__ import annotations

from collections import Counter

from numbers_app import staffify
from numbers_app.bulk import jobs as bulk
from numbers_app.mirror import listing
from numbers_app.models import BulkJob, NumberRecord


def sales() -> list[NumberRecord]:
    return list(listing.numbers({"tag": "sales"}))


def run_job(job: BulkJob) -> tuple[BulkJob, Counter]:
    """Run JOB as the worker would (its task's function), counting Staffify calls per (method, path)."""
    with staffify.track_calls() as stats:
        bulk.run(job.pk, sleep=lambda seconds: None)
    job.refresh_from_db()
    return job, Counter((method, path) for method, path, _, _ in stats.requests)


def writes(calls: Counter) -> int:
    return sum(n for (method, _), n in calls.items() if method != "GET")


def selection(records, **action) -> dict:
    return {"scope": "ids", "ids": ",".join(str(r.staffify_id) for r in records), **action}
