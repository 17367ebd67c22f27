"""The costs page and its CSV at scale (issue 23's figures): /billing/costs grouped by agent, tag and
country over the default period (the last 84 days) and the next three cycles, at N numbers.

    .venv/bin/python bench/costs.py --sizes 100000 --db postgres [--runs 5]

For each size, in a fresh process: a scratch database (BENCH_PREFIX, default wt23_bench_costs, suffixed
with the size; POSTGRES_URL says the server), migrated, the sandbox's seed (`seed_sandbox`, as
bench/seed.py and bench/alerts.py start), and a mirror of N numbers written directly: 50 agents (two of
them gone from Staffify), up to three of 20 tags each (a tenth untagged), six countries, 1% pending
release, 5% of unknown purchase time, purchases over the last 400 days; 200 scheduled releases and
2,000 agent changes in the audit log. Then, as a team lead through Django's test client (the whole
request: middleware, view, template), the page grouped each way (the first load and the median of
RUNS more) and the CSV (time to its first piece, and to its last), with the Staffify calls made (the
client points at an address nothing answers: a call would fail).
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
PREFIX = os.environ.get("BENCH_PREFIX", "wt23_bench_costs")
TAGS = [f"team-{i:02d}" for i in range(20)]
COUNTRIES = ["NL", "DE", "US", "GB", "FR", "BE"]


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
        ALLOWED_HOSTS="testserver",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def fill(n: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone

    from numbers_app.models import AuditEntry, BalanceSeen, MirrorAgent, NumberRecord, ScheduledRelease, SyncRun

    call_command("migrate", verbosity=0)
    call_command("seed_sandbox", verbosity=0)
    rng = random.Random(23)
    now = timezone.now()
    MirrorAgent.objects.all().delete()
    MirrorAgent.objects.bulk_create(
        MirrorAgent(staffify_id=a, name=f"Agent {a}", public_id=f"ag_{a}", last_seen_at=now) for a in range(1, 49)
    )  # agents 49 and 50 are gone from Staffify but still hold numbers
    rows = []
    for i in range(n):
        pending = i % 100 == 0
        undated = not pending and i % 20 == 1
        purchased = None if undated else now - timedelta(days=rng.uniform(1, 400))
        tags = [] if i % 10 == 0 else rng.sample(TAGS, rng.randint(1, 3))
        rows.append(
            NumberRecord(
                staffify_id=10_000_000 + i,
                phone_number=f"+3120{i:07d}",
                purchased_at=purchased,
                last_status="pending_release" if pending else "active",
                last_seen_at=now,
                agent_id=rng.choice([None, *range(1, 51)]),
                tags=tags,
                country_code=rng.choice(COUNTRIES),
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
    lead = User.objects.create_user("lead", "lead@example.com", "pw")
    lead.groups.add(Group.objects.get(name="Team lead"))
    ids = list(NumberRecord.objects.filter(last_status="active").values_list("staffify_id", "next_charge_at")[:200])
    ScheduledRelease.objects.bulk_create(
        ScheduledRelease(staffify_id=sid, phone_number="+3120", charge_at=due, run_at=due - timedelta(hours=1))
        for sid, due in ids
        if due
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=now - timedelta(days=rng.uniform(0, 80)),
            username="support",
            action="assign",
            outcome="ok",
            number_id=10_000_000 + rng.randrange(n),
            before={"agent_id": rng.randint(1, 50), "agent_name": ""},
            after={"agent_id": rng.randint(1, 50), "agent_name": ""},
        )
        for _ in range(2000)
    )
    SyncRun.objects.create(state="ok", started_at=now - timedelta(days=60), finished_at=now - timedelta(days=60))
    BalanceSeen.objects.create(pk=1, balance=Decimal(n), read_at=now)


def timed(client, path: str) -> tuple[float, float, int, int]:
    """(ms to the response, or its first piece; ms to the last byte; bytes; status)."""
    started = time.perf_counter()
    response = client.get(path)
    if response.streaming:
        pieces = iter(response.streaming_content)
        first = next(pieces)
        first_ms = (time.perf_counter() - started) * 1000
        size = len(first) + sum(len(p) for p in pieces)
    else:
        first_ms = (time.perf_counter() - started) * 1000
        size = len(response.content)
    return first_ms, (time.perf_counter() - started) * 1000, size, response.status_code


def phase(db: str, n: int, runs: int) -> dict:
    fresh_database(db, n)
    setup(db, n)
    started = time.perf_counter()
    fill(n)
    filled = time.perf_counter() - started
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from numbers_app import staffify

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    client = Client()
    client.force_login(get_user_model().objects.get(username="lead"))
    result: dict = {"fill_s": round(filled, 1)}
    with staffify.track_calls() as stats:
        for group in ("agent", "tag", "country"):
            path = f"/billing/costs?group={group}"
            first = timed(client, path)
            again = [timed(client, path)[1] for _ in range(runs)]
            assert first[3] == 200, first
            result[f"page_{group}_first_ms"] = round(first[1])
            result[f"page_{group}_ms"] = round(statistics.median(again))
            csv = [timed(client, path + "&format=csv") for _ in range(max(1, runs // 2))]
            result[f"csv_{group}_first_piece_ms"] = round(statistics.median(c[0] for c in csv))
            result[f"csv_{group}_ms"] = round(statistics.median(c[1] for c in csv))
            result[f"csv_{group}_bytes"] = csv[0][2]
        agents = [timed(client, "/agents/")[1] for _ in range(runs)]
        result["agents_page_ms"] = round(statistics.median(agents))
    result["staffify_calls"] = stats.calls
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100000])
    parser.add_argument("--db", nargs="+", default=["postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.db[0], args.sizes[0], args.runs)))
        return
    for db in args.db:
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
            print(f"{db}, {n:,} numbers:", json.dumps(json.loads(result.stdout.strip().splitlines()[-1]), indent=1))
            if db == "postgres":
                import psycopg

                with psycopg.connect(POSTGRES, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{database_url(db, n).rsplit("/", 1)[1]}" WITH (FORCE)')


if __name__ == "__main__":
    main()
