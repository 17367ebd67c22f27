"""Two projects at scale (issue 21's figures): the owned list of one project with N numbers, first while
the other project has a handful, then while it has N too; and a full sync of both (the worker's task).

    .venv/bin/python bench/projects.py --size 100000 --db postgres

Steps, each in a fresh process (bench/scale.py's set-up: the sandbox over WSGI in-process, no sockets):
1. seed: a scratch database, migrated, proj_demo grown to N numbers;
2. sync both projects (the org key, STAFFIFY_PROJECTS=proj_demo,proj_eu), then the owned list of
   /p/demo/ and a few filters: server time median and p95 of 15 loads (the one-project figure: the
   other project has 6 numbers);
3. proj_eu grown to N numbers too, both projects synced again (wall time and calls, one sync after the
   other as the worker runs them), then the same pages of /p/demo/ and of /p/eu/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # noqa: E402  (bench/scale.py: the scratch databases and the in-process set-up)

ORG_KEY = "sfy_org_" + "0123456789abcdef" * 3
PROJECTS = "proj_demo=Demo,proj_eu=Europe"
RUNS = 15
PREFIX = "staffify_bench_projects"


def configure() -> None:
    """bench/scale.py's set-up with the org key and both projects."""
    os.environ["STAFFIFY_PROJECTS"] = PROJECTS
    scale.PREFIX = PREFIX
    scale.DEMO_KEY = ORG_KEY


def setup(db: str, n: int) -> None:
    configure()
    scale.setup(db, n)


def phase_seed(db: str, n: int) -> dict:
    configure()
    return scale.phase_seed(db, n)


def phase_grow_eu(db: str, n: int) -> dict:
    setup(db, n)
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("seed_sandbox", numbers=n, project="proj_eu", verbosity=0)
    return {"seconds": round(time.perf_counter() - started, 1)}


def phase_sync(db: str, n: int) -> dict:
    setup(db, n)
    from numbers_app import staffify, tasks
    from numbers_app.models import SyncRun

    started = time.perf_counter()
    with staffify.track_calls() as stats:
        said = tasks.sync_mirror.call()
    seconds = time.perf_counter() - started
    runs = {run.project.slug: run for run in SyncRun.everywhere.select_related("project").order_by("-id")[:2]}
    assert all(run.state == "ok" for run in runs.values()), said
    return {
        "seconds": round(seconds, 1),
        "calls": stats.calls,
        "numbers": {slug: run.numbers_seen for slug, run in runs.items()},
        "per_project_seconds": {
            slug: round((run.finished_at - run.started_at).total_seconds(), 1) for slug, run in runs.items()
        },
    }


def phase_pages(db: str, n: int) -> dict:
    setup(db, n)
    from numbers_app import staffify

    client = scale._client()
    out: dict = {}
    for slug in ("demo", "eu"):
        client.get(f"/p/{slug}/")  # warm: the header's balance is cached after the first page
        for label, query in [("owned list", ""), ("filter status", "?status=active"), ("filter tag", "?tag=support")]:
            times, calls = [], 0
            for _ in range(RUNS):
                with staffify.track_calls() as stats:
                    started = time.perf_counter()
                    response = client.get(f"/p/{slug}/{query}")
                    times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (slug, query, response.status_code)
                calls = max(calls, stats.calls)
            times.sort()
            out[f"{slug}: {label}"] = {
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                "calls": calls,
            }
    return out


PHASES = {"seed": phase_seed, "grow_eu": phase_grow_eu, "sync": phase_sync, "pages": phase_pages}


def run_phase(phase: str, db: str, n: int) -> dict:
    result = subprocess.run(  # noqa: S603 (this script, fixed arguments)
        [sys.executable, __file__, "--phase", phase, "--db", db, "--size", str(n)],
        capture_output=True,
        text=True,
        cwd=scale.ROOT,
        timeout=7200,
    )
    if result.returncode != 0:
        raise SystemExit(f"{phase} at {n} on {db} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--db", default="postgres", choices=["sqlite", "postgres"])
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.db, args.size)))
        return
    n, db = args.size, args.db
    report = {"seed": run_phase("seed", db, n), "sync_one_big": run_phase("sync", db, n)}
    report["pages_one_big"] = run_phase("pages", db, n)
    report["grow_eu"] = run_phase("grow_eu", db, n)
    report["sync_both_big"] = run_phase("sync", db, n)
    report["pages_both_big"] = run_phase("pages", db, n)
    print(json.dumps(report, indent=1))
    print(f"\n## {db}: owned list server time, median / p95 ms (Staffify calls), {n:,} numbers in Demo\n")
    print(f"| page | Europe has 6 numbers | Europe has {n:,} too |")
    print("| --- | --- | --- |")
    for label, row in report["pages_both_big"].items():
        before = report["pages_one_big"].get(label, {})
        cell = f"{before['median_ms']} / {before['p95_ms']} ({before['calls']})" if before else "—"
        print(f"| {label} | {cell} | {row['median_ms']} / {row['p95_ms']} ({row['calls']}) |")
    both = report["sync_both_big"]
    print(
        f"\nFull sync of both projects ({both['numbers']}): {both['calls']} Staffify calls, {both['seconds']} s "
        f"unthrottled, one after the other ({both['per_project_seconds']} s), on one rate budget."
    )


if __name__ == "__main__":
    main()
