"""The mirror at scale (issue 9's figures): pages, sync and memory at N numbers, on SQLite and PostgreSQL.

    .venv/bin/python bench/scale.py --sizes 1000 20000 100000 --db sqlite postgres

For each database and size, in fresh processes (so each memory figure is that process's own peak):
1. seed: a scratch database, migrated, the sandbox grown to N numbers (`seed_sandbox --numbers N`);
2. sync: the worker's walk of the whole account into the mirror (Staffify calls, wall time, peak RSS);
3. pages: the owned list, every filter, a sort, page 20 with a filter, billing, its CSV, the audit log
   and the Django admin changelist of the mirror table on the same 50 rows: server time (median, p95),
   Staffify calls, and the first page's bytes on the wire (gzip, as a browser asks);
4. during (sizes up to --live-max): the sandbox limited to 300 calls a minute, a second sync walks the
   account while people load pages and assign agents: how many of those were blocked or rate-limited.
The service module reaches the sandbox over WSGI in-process (no sockets): the times are the dashboard's
and the sandbox's own work, with no network. Prints one table per database.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_KEY = "sfy_live_" + "0123456789abcdef" * 3
RUNS = 15
POSTGRES = os.environ.get("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# Scratch databases are named PREFIX_N (BENCH_PREFIX, default staffify_bench): several checkouts on one
# machine can each keep their own.
PREFIX = os.environ.get("BENCH_PREFIX", "staffify_bench")


def database_url(db: str, n: int) -> str:
    if db == "sqlite":
        return f"sqlite:////tmp/{PREFIX}-{n}.sqlite3"
    return POSTGRES.rsplit("/", 1)[0] + f"/{PREFIX}_{n}"


def setup(db: str, n: int) -> None:
    os.environ.update(
        DATABASE_URL=database_url(db, n),
        DEBUG="true",
        STAFFIFY_SANDBOX="true",
        STAFFIFY_API_URL="http://testserver/sandbox/v1",
        STAFFIFY_API_KEY=DEMO_KEY,
        STAFFIFY_MAX_RETRIES="0",
        TASKS_BACKEND="dummy",
        CACHE_URL="locmemcache://",
        LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="dashboard.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import httpx
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    settings.STAFFIFY_TRANSPORT = httpx.WSGITransport(app=WSGIHandler())


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_seed(db: str, n: int) -> dict:
    if db == "postgres":
        import psycopg

        admin = POSTGRES
        name = database_url(db, n).rsplit("/", 1)[1]
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        Path(database_url(db, n).removeprefix("sqlite:///")).unlink(missing_ok=True)
    setup(db, n)
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_sandbox", verbosity=0)
    if n > 60:
        call_command("seed_sandbox", numbers=n, verbosity=0)
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pw")
    return {"seconds": round(time.perf_counter() - started, 1)}


def phase_sync(db: str, n: int) -> dict:
    setup(db, n)
    from numbers_app import staffify
    from numbers_app.mirror import store as mirror

    with staffify.track_calls() as stats:
        started = time.perf_counter()
        run = mirror.sync(staffify.get_client())
        seconds = time.perf_counter() - started
    assert run.state == "ok", run.error
    agents = run.calls - math.ceil(run.numbers_seen / 100)
    return {
        "numbers": run.numbers_seen,
        "calls": stats.calls,
        "number_pages": math.ceil(run.numbers_seen / 100),
        "agent_pages": agents,
        "seconds": round(seconds, 1),
        "minutes_at_300": round(stats.calls / (300 * 0.7), 1),  # the worker leaves 30% to people
        "rss_mb": round(peak_mb()),
    }


def _client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    return client


def pages(n: int) -> dict[str, str]:
    from numbers_app.models import MirrorAgent

    agent = MirrorAgent.objects.order_by("staffify_id").first()
    return {
        "owned list": "/",
        "filter status": "/?status=active",
        "filter agent": f"/?agent={agent.staffify_id if agent else 'none'}",
        "filter tag": "/?tag=support",
        "filter country": "/?country=NL",
        "filter digits": "/?q=415",
        "sort next charge": "/?sort=-next_charge",
        "page 20, tag filter": "/?tag=support&offset=950",
        "billing": "/billing/",
        "billing CSV": "/billing/?format=csv",
        "audit log": "/audit/",
        "admin changelist": "/admin/numbers/numberrecord/",
    }


def phase_pages(db: str, n: int) -> dict:
    setup(db, n)
    from numbers_app import staffify

    client = _client()
    client.get("/")  # warm: the header's balance is cached after the first page
    out: dict = {"rows": {}}
    for label, url in pages(n).items():
        times, calls = [], 0
        for _ in range(3 if "CSV" in label else RUNS):  # the whole account's CSV: a few runs say enough
            with staffify.track_calls() as stats:
                started = time.perf_counter()
                response = client.get(url)
                # A streamed body (the CSV) is counted as it streams, as a server sends it on: joining
                # it here made the bench itself hold the whole CSV, which the web process never does.
                size = sum(map(len, response.streaming_content)) if response.streaming else len(response.content)
                times.append((time.perf_counter() - started) * 1000)
            calls = max(calls, stats.calls)
            assert response.status_code == 200, (url, response.status_code)
        first = times[0]  # the first load: nothing of this page cached yet (the owned list counts anew)
        times.sort()
        out["rows"][label] = {
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            "first_ms": round(first, 1),
            "calls": calls,
            "bytes": size,
        }
    first = client.get("/", headers={"Accept-Encoding": "gzip"})
    out["first_page_bytes_gzip"] = len(first.content)
    out["first_page_bytes_raw"] = len(gzip.decompress(first.content)) if first.get("Content-Encoding") == "gzip" else 0
    out["rss_mb"] = round(peak_mb())
    return out


def phase_during(db: str, n: int) -> dict:
    """People at work while the worker walks the account at Staffify's PAYG limit."""
    setup(db, n)
    import httpx
    from django.conf import settings
    from django.db import connection

    from numbers_app import staffify
    from numbers_app.mirror import store as mirror

    control = httpx.Client(
        transport=settings.STAFFIFY_TRANSPORT,
        base_url="http://testserver/sandbox",
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
    )
    control.put("/control/rate-limit", json={"per_minute": 300})
    result: dict = {}

    def walk() -> None:
        try:
            run = mirror.sync(staffify.get_client())
            result.update(state=run.state, calls=run.calls)
        finally:
            connection.close()

    worker = threading.Thread(target=walk)
    started = time.perf_counter()
    worker.start()
    client = _client()
    seen = blocked = limited = actions = 0
    ids = list(mirror.owned().filter(last_status="active").values_list("staffify_id", flat=True)[:50])
    from numbers_app.models import MirrorAgent

    agent = MirrorAgent.objects.order_by("staffify_id").values_list("staffify_id", flat=True).first()
    i = 0
    while worker.is_alive():
        for url in ("/", "/?tag=support", "/billing/"):
            response = client.get(url)
            seen += 1
            blocked += response.status_code != 200
        if agent is not None and ids:
            response = client.post(
                f"/numbers/{ids[i % len(ids)]}/agent", {"agent_id": str(agent)}, HTTP_HX_REQUEST="true"
            )
            actions += 1
            text = response.content.decode()
            limited += "rate limit" in text
            blocked += response.status_code != 200 or "row-error" in text
            i += 1
        time.sleep(0.5)
    worker.join()
    connection.close()
    return {
        **result,
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "page_loads": seen,
        "actions": actions,
        "blocked": blocked,
        "rate_limited": limited,
    }


PHASES = {"seed": phase_seed, "sync": phase_sync, "pages": phase_pages, "during": phase_during}


def run_phase(phase: str, db: str, n: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--db", db, "--sizes", str(n)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=3600,
    )
    if result.returncode != 0:
        raise SystemExit(f"{phase} at {n} on {db} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 20000, 100000])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--live-max", type=int, default=20000, help="largest size for the live 300/min run")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.db[0], args.sizes[0])))
        return
    for db in args.db:
        report: dict[int, dict] = {}
        for n in args.sizes:
            print(f"-- {db}, {n:,} numbers", file=sys.stderr, flush=True)
            report[n] = {"seed": run_phase("seed", db, n), "sync": run_phase("sync", db, n)}
            report[n]["pages"] = run_phase("pages", db, n)
            if n <= args.live_max:
                report[n]["during"] = run_phase("during", db, n)
        print_report(db, report)


def print_report(db: str, report: dict[int, dict]) -> None:
    sizes = list(report)
    print(f"\n## {db}: server time median / p95 ms (Staffify calls)\n")
    print("| page | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("| --- |" + " --- |" * len(sizes))
    for label in report[sizes[0]]["pages"]["rows"]:
        cells = []
        for n in sizes:
            row = report[n]["pages"]["rows"][label]
            cells.append(f"{row['median_ms']} / {row['p95_ms']} ({row['calls']})")
        print(f"| {label} | " + " | ".join(cells) + " |")
    ratio = []
    for n in sizes:
        rows = report[n]["pages"]["rows"]
        ratio.append(f"{rows['owned list']['median_ms'] / rows['admin changelist']['median_ms']:.2f}")
    print("| owned list ÷ admin changelist | " + " | ".join(ratio) + " |")
    print(
        "| first page on the wire (gzip bytes) | "
        + " | ".join(f"{report[n]['pages']['first_page_bytes_gzip']:,}" for n in sizes)
        + " |"
    )
    print("| web process peak RSS (MB) | " + " | ".join(str(report[n]["pages"]["rss_mb"]) for n in sizes) + " |")
    print(
        "| sync: calls (number pages + agent pages) | "
        + " | ".join(
            f"{report[n]['sync']['calls']} ({report[n]['sync']['number_pages']} + {report[n]['sync']['agent_pages']})"
            for n in sizes
        )
        + " |"
    )
    print("| sync: wall time unthrottled (s) | " + " | ".join(str(report[n]["sync"]["seconds"]) for n in sizes) + " |")
    print(
        "| sync: minutes at 300 calls/min, 30% left to people | "
        + " | ".join(str(report[n]["sync"]["minutes_at_300"]) for n in sizes)
        + " |"
    )
    print("| worker process peak RSS (MB) | " + " | ".join(str(report[n]["sync"]["rss_mb"]) for n in sizes) + " |")
    print(f"\n{db}: the first load of each list page, ms (its count not cached yet: what a new filter costs)\n")
    print("| page | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("| --- |" + " --- |" * len(sizes))
    for label in report[sizes[0]]["pages"]["rows"]:
        if label.startswith(("owned", "filter", "sort", "page 20", "admin")):
            cells = [str(report[n]["pages"]["rows"][label].get("first_ms", "")) for n in sizes]
            print(f"| {label} | " + " | ".join(cells) + " |")
    during = [n for n in sizes if "during" in report[n]]
    for n in during:
        d = report[n]["during"]
        print(
            f"\nDuring a sync at {n:,} numbers and 300 calls/min ({d.get('calls')} calls, {d['minutes']} min): "
            f"{d['page_loads']} page loads and {d['actions']} assigns, "
            f"{d['blocked']} blocked, {d['rate_limited']} rate-limited."
        )


if __name__ == "__main__":
    main()
