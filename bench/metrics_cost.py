"""What the metrics cost the owned list: its server time with the metrics on and off, in one run.

    .venv/bin/python bench/metrics_cost.py [--numbers 1000] [--rounds 300]

In one process, as gunicorn's worker would be: a scratch SQLite database migrated, the sandbox grown to
--numbers, walked into the mirror, and the owned list (50 rows, its first page) requested through
Django's full handler, alternately by two handlers, round after round: one with the metrics as shipped
(RequestMetricsMiddleware counting into prometheus_client's multiprocess files, in a scratch
PROMETHEUS_MULTIPROC_DIR, as under gunicorn), one without them (METRICS_ENABLED=false: the middleware
gone). Server time is the handler's own (no sockets). Prints the medians, p95s and the ratio; exit 1
when the median costs more than --goal (5%) more. The owned list makes no Staffify call, so the client's
counters cost it nothing; their cost per call is printed apart (a few microseconds against milliseconds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_KEY = "sfy_live_" + "0123456789abcdef" * 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--numbers", type=int, default=1000, help="numbers in the account (default 1000)")
    parser.add_argument("--rounds", type=int, default=300, help="requests of each kind (default 300)")
    parser.add_argument("--goal", type=float, default=0.05, help="the largest acceptable cost (default 0.05)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="metrics-cost-"))
    (scratch / "prometheus").mkdir()
    # Before anything imports prometheus_client: it chooses multiprocess mode from the environment.
    os.environ.update(
        PROMETHEUS_MULTIPROC_DIR=str(scratch / "prometheus"),
        DATABASE_URL=f"sqlite:///{scratch / 'bench.sqlite3'}",
        CACHE_URL="locmemcache://",
        DEBUG="false",
        STAFFIFY_SANDBOX="true",
        STAFFIFY_API_KEY=DEMO_KEY,
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
        STATIC_ROOT=str(scratch),
        DJANGO_SETTINGS_MODULE="dashboard.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import httpx
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.test import Client, override_settings

    from numbers_app import staffify
    from numbers_app.mirror import store as mirror
    from numbers_app.staffify import metrics as client_metrics

    print(f"seeding {args.numbers} numbers in {scratch} ...", file=sys.stderr, flush=True)
    call_command("migrate", verbosity=0)
    call_command("seed_sandbox", numbers=args.numbers, verbosity=0)
    call_command("seed_demo_users", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.STAFFIFY_API_URL = "http://testserver/sandbox/v1"
    settings.STAFFIFY_TRANSPORT = httpx.WSGITransport(app=WSGIHandler())
    run = mirror.sync(staffify.get_client())
    assert run.state == "ok", run.error
    ops = get_user_model().objects.get(username="ops")

    with_metrics = Client()
    with_metrics.force_login(ops)
    without = Client()
    without.force_login(ops)
    plain = [name for name in settings.MIDDLEWARE if not name.endswith("RequestMetricsMiddleware")]
    with override_settings(MIDDLEWARE=plain, METRICS_ENABLED=False):
        without.get("/")  # the handler loads its middleware on its first request, and keeps it
    with_metrics.get("/")

    def timed(client: Client) -> float:
        started = time.perf_counter()
        response = client.get("/")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        return elapsed * 1000

    for _ in range(20):  # warm-up: caches, the balance, the template loader
        timed(with_metrics), timed(without)
    on: list[float] = []
    off: list[float] = []
    for round_ in range(args.rounds):
        # Alternate which goes first, so that neither always follows the other's garbage.
        first, second = (with_metrics, without) if round_ % 2 else (without, with_metrics)
        a, b = timed(first), timed(second)
        on.append(a if first is with_metrics else b)
        off.append(b if first is with_metrics else a)

    def p95(values: list[float]) -> float:
        return sorted(values)[int(len(values) * 0.95) - 1]

    ratio = statistics.median(on) / statistics.median(off)
    calls = 20_000
    started = time.perf_counter()
    for _ in range(calls):
        client_metrics.record_call("GET", "/phone-numbers/42", 200, 0.05)
    per_call_us = (time.perf_counter() - started) / calls * 1e6
    print(f"owned list, {args.numbers} numbers, {args.rounds} requests each, multiprocess mode:")
    print(f"  metrics on:  median {statistics.median(on):6.2f} ms   p95 {p95(on):6.2f} ms")
    print(f"  metrics off: median {statistics.median(off):6.2f} ms   p95 {p95(off):6.2f} ms")
    print(f"  ratio (median on / off): {ratio:.3f}  ({(ratio - 1) * 100:+.1f}%, goal under {args.goal * 100:.0f}%)")
    print(f"  a Staffify call's counters: {per_call_us:.1f} µs each")
    return 0 if ratio - 1 < args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
