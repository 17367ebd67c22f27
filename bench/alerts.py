"""The worker's alert evaluation at scale (issue 22's figures): one run of every rule at N numbers.

    .venv/bin/python bench/alerts.py --sizes 1000 20000 100000 --db postgres [--runs 5]

For each database and size, in a fresh process: a scratch database (BENCH_PREFIX, default
staffify_bench_alerts, suffixed with the size), migrated, with the sandbox's seed (`seed_sandbox`, as
bench/seed.py and bench/scale.py start) and a mirror of N numbers written directly (what the sync leaves:
1% pending release, a tenth of those closing within a day, 5% of unknown purchase date, the rest renewing
across the 28-day cycle), 200 scheduled releases, 50 finished bulk jobs of 100 rows (a tenth failed),
5,000 audit entries (changes outside the dashboard, a refused purchase), a failed sync, a stale
heartbeat, and a balance that runs out within the week, so every rule finds something. Then the
worker's evaluation (`numbers_app.alerts.engine.evaluate`): the first run (which raises every alert and
fills the inboxes) and the median of RUNS more (the steady state: nothing new, every rule still run),
with the Staffify calls made (the client points at an address nothing answers: a call would fail).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PREFIX = os.environ.get("BENCH_PREFIX", "staffify_bench_alerts")


def database_url(db: str, n: int) -> str:
    if db == "sqlite":
        return f"sqlite:////tmp/{PREFIX}-{n}.sqlite3"
    return POSTGRES.rsplit("/", 1)[0] + f"/{PREFIX}_{n}"


def fresh_database(db: str, n: int) -> None:
    if db == "postgres":
        import psycopg

        name = database_url(db, n).rsplit("/", 1)[1]
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        Path(database_url(db, n).removeprefix("sqlite:///")).unlink(missing_ok=True)


def setup(db: str, n: int) -> None:
    os.environ.update(
        DATABASE_URL=database_url(db, n),
        STAFFIFY_SANDBOX="true",
        STAFFIFY_API_URL="http://127.0.0.1:9/v1",  # nothing answers: a Staffify call would fail loudly
        STAFFIFY_MAX_RETRIES="0",
        TASKS_BACKEND="dummy",
        CACHE_URL="locmemcache://",
        LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="dashboard.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def fill(n: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone

    from numbers_app.models import (
        AlertSettings,
        AuditEntry,
        BalanceSeen,
        BulkJob,
        BulkJobRow,
        NumberRecord,
        ScheduledRelease,
        SyncRun,
        WorkerHeartbeat,
    )

    call_command("migrate", verbosity=0)
    call_command("seed_sandbox", verbosity=0)
    rng = random.Random(22)
    now = timezone.now()
    rows = []
    for i in range(n):
        pending = i % 100 == 0
        undated = not pending and i % 20 == 1
        purchased = None if undated else now - timedelta(days=rng.uniform(1, 400))
        rows.append(
            NumberRecord(
                staffify_id=10_000_000 + i,
                phone_number=f"+3120{i:07d}",
                purchased_at=purchased,
                last_status="pending_release" if pending else "active",
                last_seen_at=now,
                agent_id=rng.choice([None, 1, 2, 3]),
                country_code="NL",
                number_type="local",
                first_seen_at=now - timedelta(days=30),
                reclaim_before=now + timedelta(hours=rng.uniform(1, 168)) if pending else None,
                next_charge_at=None if pending or undated else now + timedelta(seconds=rng.uniform(60, 28 * 86400)),
            )
        )
        if len(rows) == 5000:
            NumberRecord.objects.bulk_create(rows)
            rows = []
    NumberRecord.objects.bulk_create(rows)
    User = get_user_model()
    for name, group in (("ops", "Operations"), ("lead", "Team lead"), ("support", "Support")):
        user = User.objects.create_user(name, f"{name}@example.com", "pw")
        user.groups.add(Group.objects.get(name=group))
    ops = User.objects.get(username="ops")
    ids = list(NumberRecord.objects.filter(last_status="active").values_list("staffify_id", "next_charge_at")[:200])
    ScheduledRelease.objects.bulk_create(
        ScheduledRelease(
            staffify_id=sid, phone_number="+3120", charge_at=due, run_at=due - timedelta(hours=1), created_by=ops
        )
        for sid, due in ids
        if due
    )
    for _ in range(50):
        job = BulkJob.objects.create(action="assign", created_by=ops, state="done", finished_at=now, total=100)
        BulkJobRow.objects.bulk_create(
            BulkJobRow(
                job=job,
                position=p,
                number_id=p,
                display="+31",
                action="assign",
                state="failed" if p % 10 == 0 else "done",
            )
            for p in range(100)
        )
    AuditEntry.objects.bulk_create(
        AuditEntry(at=now - timedelta(minutes=i), username="", action="outside", outcome="ok") for i in range(5000)
    )
    AuditEntry.objects.create(at=now, username="ops", action="buy", outcome="error", http_status=402)
    SyncRun.objects.create(state="failed", started_at=now - timedelta(hours=1), finished_at=now, error="bench")
    WorkerHeartbeat.objects.create(pk=1, beat_at=now - timedelta(hours=1))
    BalanceSeen.objects.create(pk=1, balance=Decimal(n // 10), read_at=now)  # runs out within the week
    AlertSettings.objects.create(pk=1, since=now - timedelta(days=1))  # alerts began before these events


def phase(db: str, n: int, runs: int) -> dict:
    fresh_database(db, n)
    setup(db, n)
    started = time.perf_counter()
    fill(n)
    filled = time.perf_counter() - started
    from django.db import connection
    from django.utils import timezone

    from numbers_app import staffify
    from numbers_app.alerts import engine
    from numbers_app.models import Alert, InboxItem

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum does after a sync's bulk writes
    with staffify.track_calls() as stats:
        first = time.perf_counter()
        summary = engine.evaluate(timezone.now())
        first_ms = (time.perf_counter() - first) * 1000
        steady = []
        for _ in range(runs):
            started = time.perf_counter()
            again = engine.evaluate(timezone.now())
            steady.append((time.perf_counter() - started) * 1000)
            assert not again.raised, again.raised
    return {
        "fill_s": round(filled, 1),
        "first_ms": round(first_ms),
        "steady_ms": round(statistics.median(steady)),
        "steady_max_ms": round(max(steady)),
        "alerts": Alert.objects.count(),
        "kinds": sorted(set(Alert.objects.values_list("kind", flat=True))),
        "inbox_items": InboxItem.objects.count(),
        "raised": len(summary.raised),
        "staffify_calls": stats.calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 20000, 100000])
    parser.add_argument("--db", nargs="+", default=["postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.db[0], args.sizes[0], args.runs)))
        return
    for db in args.db:
        print(f"{db}: one evaluation of every alert rule")
        print(f"{'numbers':>8} {'first run':>10} {'steady (median)':>16} {'max':>6} {'alerts':>7} {'calls':>6}")
        for n in args.sizes:
            result = subprocess.run(
                [sys.executable, __file__, "--phase", "--db", db, "--sizes", str(n), "--runs", str(args.runs)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=3600,
            )
            if result.returncode != 0:
                raise SystemExit(f"{n} on {db} failed:\n{result.stderr[-3000:]}")
            r = json.loads(result.stdout.strip().splitlines()[-1])
            print(
                f"{n:>8,} {r['first_ms']:>8} ms {r['steady_ms']:>13} ms {r['steady_max_ms']:>3} ms "
                f"{r['alerts']:>7} {r['staffify_calls']:>6}   ({', '.join(r['kinds'])})",
                flush=True,
            )
            if db == "postgres":
                import psycopg

                with psycopg.connect(POSTGRES, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{database_url(db, n).rsplit("/", 1)[1]}" WITH (FORCE)')


if __name__ == "__main__":
    main()
