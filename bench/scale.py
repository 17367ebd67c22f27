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
import tempfile
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


AGENTS = int(os.environ.get("BENCH_AGENTS", "0"))  # --agents, passed on to each phase's process


def database_url(db: str, n: int) -> str:
    suffix = f"_a{AGENTS}" if AGENTS else ""
    if db == "sqlite":
        return f"sqlite:////tmp/{PREFIX}-{n}{suffix}.sqlite3"
    return POSTGRES.rsplit("/", 1)[0] + f"/{PREFIX}_{n}{suffix}"


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


def sync_figures(db: str, n: int) -> Path:
    """Where the sync phase keeps its figures, for a later --reuse of the same database."""
    return Path(tempfile.gettempdir()) / (database_url(db, n).rsplit("/", 1)[1].removesuffix(".sqlite3") + "-sync.json")


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
    if AGENTS:  # before the numbers, so that the grown numbers are spread over every agent
        call_command("seed_sandbox", agents=AGENTS, verbosity=0)
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
    figures = {
        "numbers": run.numbers_seen,
        "calls": stats.calls,
        "number_pages": math.ceil(run.numbers_seen / 100),
        "agent_pages": agents,
        "seconds": round(seconds, 1),
        "minutes_at_300": round(stats.calls / (300 * 0.7), 1),  # the worker leaves 30% to people
        "rss_mb": round(peak_mb()),
    }
    sync_figures(db, n).write_text(json.dumps(figures))
    return figures


def _client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    return client


ADMIN = "/admin/numbers/numberrecord/?gone_at__isnull=True"  # the owned numbers, as the list shows them


def pages(n: int) -> dict[str, str]:
    """Every page measured; each list page's twin in the Django admin's changelist of the mirror (50 rows
    a page, the same filter) is measured in the same run under "admin: <label>"."""
    from numbers_app.mirror import listing
    from numbers_app.models import MirrorAgent

    agent = MirrorAgent.objects.order_by("staffify_id").first()
    agent_id = agent.staffify_id if agent else "none"
    tagged = listing.numbers({"tag": "support"}).count()
    page = min(20, max(1, math.ceil(tagged / 50)))  # page 20, or the last there is
    lists = {
        "owned list": ("/", ""),
        "filter status": ("/?status=active", "&last_status__exact=active"),
        "filter agent": (f"/?agent={agent_id}", f"&agent_id__exact={agent_id}"),
        "filter tag": ("/?tag=support", "&tags__icontains=support"),
        "filter country": ("/?country=NL", "&country_code__exact=NL"),
        "filter digits": ("/?q=415", "&q=415"),
        "sort next charge": ("/?sort=-next_charge", "&o=-7"),
        "page 20, tag filter": (f"/?tag=support&offset={(page - 1) * 50}", f"&tags__icontains=support&p={page}"),
    }
    found = {label: url for label, (url, _) in lists.items()}
    found.update({f"admin: {label}": ADMIN + admin for label, (_, admin) in lists.items()})
    found.update(
        {
            "billing": "/billing/",
            "billing CSV": "/billing/?format=csv",
            "audit log": "/audit/",
        }
    )
    return found


def digits_plan() -> str:
    """The plan of the digits filter's count (PostgreSQL): whether the trigram index serves it."""
    from django.db import connection

    from numbers_app.mirror import listing

    if connection.vendor != "postgresql":
        return "(SQLite: a scan)"
    plan = listing.numbers({"q": "415"}).order_by().explain()
    return "mirror_digits_trgm" if "mirror_digits_trgm" in plan else plan.splitlines()[0]


def phase_pages(db: str, n: int) -> dict:
    setup(db, n)
    from numbers_app import staffify

    client = _client()
    from numbers_app import tasks
    from numbers_app.billing import statement
    from numbers_app.mirror import store as mirror
    from numbers_app.staffify import lookups

    # What the worker does every few seconds to a minute: read the balance, roll passed charges forward.
    tasks.refresh_balance.call()
    statement.roll_forward(mirror.owned(), lookups.staffify_now())
    client.get("/")  # warm: imports, templates
    out: dict = {"rows": {}, "digits_plan": digits_plan()}
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


def phase_kept(db: str, n: int) -> dict | None:
    """An earlier run's seeded and synced database, migrated to this commit; None when there is none."""
    if db == "postgres":
        import psycopg

        name = database_url(db, n).rsplit("/", 1)[1]
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return None
    elif not Path(database_url(db, n).removeprefix("sqlite:///")).exists():
        return None
    setup(db, n)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if db == "postgres":  # the planner's statistics, as autovacuum would keep them (it may be off)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    from numbers_app.models import SyncRun

    if not SyncRun.objects.filter(state="ok").exists():
        return None
    figures = sync_figures(db, n)
    if not figures.exists():
        return None
    return {"seed": {"seconds": 0, "kept": True}, "sync": json.loads(figures.read_text())}


PHASES = {"kept": phase_kept, "seed": phase_seed, "sync": phase_sync, "pages": phase_pages, "during": phase_during}


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
    parser.add_argument("--agents", type=int, default=AGENTS, help="grow the account to this many agents too")
    parser.add_argument(
        "--reuse", action="store_true", help="keep a scratch database seeded and synced by an earlier run (migrated)"
    )
    parser.add_argument(
        "--out",
        default=str(ROOT / "docs/bench/scale-{date}-{commit}.md"),
        help="where the results go, with the commit measured ({date}, {commit}); '' for none",
    )
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["BENCH_AGENTS"] = str(args.agents or 0)
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.db[0], args.sizes[0])))
        return
    sections: list[str] = []
    for db in args.db:
        report: dict[int, dict] = {}
        for n in args.sizes:
            print(f"-- {db}, {n:,} numbers", file=sys.stderr, flush=True)
            kept = run_phase("kept", db, n) if args.reuse else None
            if kept:
                report[n] = kept
            else:
                report[n] = {"seed": run_phase("seed", db, n), "sync": run_phase("sync", db, n)}
            report[n]["pages"] = run_phase("pages", db, n)
            if n <= args.live_max:
                report[n]["during"] = run_phase("during", db, n)
        text = report_text(db, report, args.agents)
        print(text)
        sections.append(text)
    if args.out:
        load = os.getloadavg()
        head = (
            f"# bench/scale.py on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit()}\n\n"
            f"`bench/scale.py {' '.join(sys.argv[1:])}`; load average at the end {load[0]:.1f} / {load[1]:.1f} / "
            f"{load[2]:.1f} (a shared machine: compare figures within one run).\n"
        )
        path = Path(args.out.format(date=time.strftime("%Y-%m-%d"), commit=commit().replace("+changes", "-dirty")))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(head + "\n".join(sections) + "\n")
        print(f"\nwritten to {path}", file=sys.stderr)


LISTS = (
    "owned list",
    "filter status",
    "filter agent",
    "filter tag",
    "filter country",
    "filter digits",
    "sort next charge",
    "page 20, tag filter",
)


def commit() -> str:
    """The commit measured, "+changes" when the work tree differs from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, cwd=ROOT
    )
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def report_text(db: str, report: dict[int, dict], agents: int) -> str:
    """The run as Markdown: every page, each list page beside its admin twin, and the issue's goals."""
    sizes = list(report)
    out: list[str] = []
    say = out.append
    cols = " | ".join(f"{n:,}" for n in sizes)
    say(f"\n## {db}, {agents or 'the seed'}'s agents: server time median / p95 ms (Staffify calls)\n")
    say(f"| page | {cols} |")
    say("| --- |" + " --- |" * len(sizes))
    for label in report[sizes[0]]["pages"]["rows"]:
        cells = []
        for n in sizes:
            row = report[n]["pages"]["rows"][label]
            cells.append(f"{row['median_ms']} / {row['p95_ms']} ({row['calls']})")
        say(f"| {label} | " + " | ".join(cells) + " |")
    say(f"\n{db}: each list page ÷ the admin changelist with the same filter, 50 rows a page (median ms)\n")
    say(f"| page | {cols} |")
    say("| --- |" + " --- |" * len(sizes))
    for label in LISTS:
        cells = []
        for n in sizes:
            rows = report[n]["pages"]["rows"]
            mine, theirs = rows[label]["median_ms"], rows[f"admin: {label}"]["median_ms"]
            cells.append(f"{mine} ÷ {theirs} = {mine / theirs:.2f}")
        say(f"| {label} | " + " | ".join(cells) + " |")
    say(f"\n{db}: the first load of each list page, ms (its count not cached yet: what a new filter costs)\n")
    say(f"| page | {cols} |")
    say("| --- |" + " --- |" * len(sizes))
    for label in LISTS:
        say(f"| {label} | " + " | ".join(str(report[n]["pages"]["rows"][label]["first_ms"]) for n in sizes) + " |")
    say("\n| figure | " + cols + " |")
    say("| --- |" + " --- |" * len(sizes))

    def line(name: str, value) -> None:
        say(f"| {name} | " + " | ".join(str(value(n)) for n in sizes) + " |")

    pages_of = {n: report[n]["pages"] for n in sizes}
    line("first page HTML (bytes)", lambda n: f"{pages_of[n]['first_page_bytes_raw']:,}")
    line("first page on the wire (gzip bytes)", lambda n: f"{pages_of[n]['first_page_bytes_gzip']:,}")
    line(
        "digits filter ÷ unfiltered list",
        lambda n: (
            f"{pages_of[n]['rows']['filter digits']['median_ms'] / pages_of[n]['rows']['owned list']['median_ms']:.2f}"
        ),
    )
    line("digits filter's count: plan", lambda n: pages_of[n].get("digits_plan", ""))
    line("most Staffify calls of any page load", lambda n: max(r["calls"] for r in pages_of[n]["rows"].values()))
    line("web process peak RSS (MB)", lambda n: pages_of[n]["rss_mb"])
    line("worker (sync) process peak RSS (MB)", lambda n: report[n]["sync"].get("rss_mb", "kept"))
    line(
        "sync: calls (number pages + agent pages)",
        lambda n: "{calls} ({number_pages} + {agent_pages})".format_map(
            {"calls": None, "number_pages": None, "agent_pages": None, **report[n]["sync"]}
        ),
    )
    line("sync: wall time unthrottled (s)", lambda n: report[n]["sync"].get("seconds"))
    line("sync: minutes at 300 calls/min, 30% left to people", lambda n: report[n]["sync"].get("minutes_at_300"))
    for n in [n for n in sizes if "during" in report[n]]:
        d = report[n]["during"]
        say(
            f"\nDuring a sync at {n:,} numbers and 300 calls/min ({d.get('calls')} calls, {d['minutes']} min): "
            f"{d['page_loads']} page loads and {d['actions']} assigns, "
            f"{d['blocked']} blocked, {d['rate_limited']} rate-limited."
        )
    say(f"\n{db}: the goals (issue 19) at each size\n")
    for n in sizes:
        rows = pages_of[n]["rows"]
        worst = max(rows[label]["median_ms"] for label in LISTS)
        ratio = max(rows[label]["median_ms"] / rows[f"admin: {label}"]["median_ms"] for label in LISTS)
        digits = rows["filter digits"]["median_ms"] / rows["owned list"]["median_ms"]
        calls = max(r["calls"] for r in rows.values())
        checks = [
            (f"list and every filter under 40 ms (worst {worst} ms)", worst < 40),
            (f"at most 0.5x the admin, same filter (worst {ratio:.2f})", ratio <= 0.5),
            (
                f"first page under 6 KB gzip ({pages_of[n]['first_page_bytes_gzip']:,} B)",
                pages_of[n]["first_page_bytes_gzip"] < 6000,
            ),
            (
                f"first page under 60 KB HTML ({pages_of[n]['first_page_bytes_raw']:,} B)",
                pages_of[n]["first_page_bytes_raw"] < 60000,
            ),
            (f"billing under 100 ms ({rows['billing']['median_ms']} ms)", rows["billing"]["median_ms"] < 100),
            (f"digits filter within 1.5x unfiltered ({digits:.2f})", digits <= 1.5),
            (f"0 Staffify calls per page load ({calls})", calls == 0),
            (f"web peak memory under 120 MB ({pages_of[n]['rss_mb']})", pages_of[n]["rss_mb"] < 120),
        ]
        if isinstance(report[n]["sync"].get("rss_mb"), int):
            checks.append(
                (f"worker peak memory under 120 MB ({report[n]['sync']['rss_mb']})", report[n]["sync"]["rss_mb"] < 120)
            )
        say(f"- {n:,} numbers: " + "; ".join(f"{'PASS' if ok else 'FAIL'} {what}" for what, ok in checks))
    return "\n".join(out)


if __name__ == "__main__":
    main()
