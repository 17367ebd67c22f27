"""Staffify calls and server time per dashboard page and HTMX action (`make bench`).

Starts the dashboard with its embedded sandbox in a throwaway environment (temp SQLite, free loopback
port, gunicorn with threads), logs in as ops, requests every page and action --runs times after one
warm-up, reads each response's Server-Timing header, prints a table and the issue's three checks.
Exit code 0 when every check passes, 1 otherwise. `--json` prints the figures as JSON instead.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEMO_KEY = "sfy_live_" + "0123456789abcdef" * 3
TIMING = re.compile(r'(\w+);dur=([\d.]+)(?:;desc="(\d+) calls?")?')
BUDGET_S = 100  # stop measuring (and say so) past this, so a run stays under two minutes
LIST = "owned numbers (50 rows)"
ASSIGN = "assign agent (POST)"


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def environment(tmp: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE") and k != "STAFFIFY_PROJECT_ID"}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
        PORT=str(port),
        DEBUG="false",
        STAFFIFY_SANDBOX="true",
        STAFFIFY_API_URL=f"http://127.0.0.1:{port}/sandbox/v1",
        STAFFIFY_API_KEY=DEMO_KEY,
        CACHE_URL="locmemcache://",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        STATIC_ROOT=str(tmp),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], port: int, logfile) -> subprocess.Popen:
    for command in (["migrate", "--noinput"], ["seed_sandbox"], ["seed_demo_users"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,  # noqa: S603 (fixed)
            check=True,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            timeout=120,
        )
    server = subprocess.Popen(  # noqa: S603 (a fixed command line: this Python, gunicorn)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "dashboard.wsgi:application",
            "--workers",
            "1",
            "--threads",
            "8",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "5",
            "--timeout",
            "60",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError("the server did not answer /healthz within 30 s (see the log above)")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # its own session: the master and its worker
            server.wait(timeout=5)


def login(base: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    client.get("/accounts/login/").raise_for_status()
    token = client.cookies["csrftoken"]
    form = {"username": "ops", "password": password, "csrfmiddlewaretoken": token, "next": "/"}
    response = client.post("/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"})
    if response.status_code != 302:
        raise RuntimeError(f"login as ops failed ({response.status_code}): check DEMO_PASSWORD")
    return client


def timed(client: httpx.Client, method: str, path: str, headers: dict, data: dict | None) -> dict:
    started = time.perf_counter()
    response = client.request(method, path, headers=headers, data=data)
    client_ms = (time.perf_counter() - started) * 1000
    header = response.headers.get("Server-Timing", "")
    parts = {name: (float(dur), calls) for name, dur, calls in TIMING.findall(header)}
    if not {"staffify", "app", "total"} <= parts.keys():
        raise RuntimeError(f"{method} {path}: no Server-Timing header (status {response.status_code})")
    return {
        "status": response.status_code,
        "calls": int(parts["staffify"][1] or 0),
        "staffify": parts["staffify"][0],
        "app": parts["app"][0],
        "total": parts["total"][0],
        "client": client_ms,
        "text": response.text,
    }


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def scenarios(client: httpx.Client, base: str, runs: int) -> list[tuple[int, list[tuple]]]:
    """(runs, steps): each step is (name, method, path, target, data(i) or None), run in order. The target
    is the HX-Target header htmx sends; "" an HTMX request without one; None a full page load."""

    def api(path: str) -> dict:
        return httpx.get(f"{base}/sandbox/v1/{path}", headers={"Authorization": f"Bearer {DEMO_KEY}"}).json()

    numbers = api("phone-numbers?limit=100")["phone_numbers"]
    agents = [a["id"] for a in api("agents")["agents"]]
    assigned = [n["id"] for n in numbers if n["status"] == "active" and n["agent_id"]]
    free = next(n["id"] for n in numbers if n["status"] == "active" and not n["agent_id"])
    one, other = assigned[0], assigned[1]
    page = client.get("/").text
    # The next page of the list, when the seed has more than one (its rows load as the table scrolls).
    more = re.search(r'hx-get="/\?([^"]*offset=[^"]+)"', page)
    found = client.get("/buy/", headers={"HX-Request": "true", "HX-Target": "results"}).text
    search = "country_code=NL&number_type=local&city_code=020&limit=20"
    confirm = html.unescape(re.search(r'hx-get="(/buy/confirm\?[^"]+)"', found).group(1))
    return [
        (runs, [(LIST, "GET", "/", None, None)]),
        *(
            [(runs, [("load more (HTMX)", "GET", f"/?{html.unescape(more.group(1))}", "load-more", None)])]
            if more
            else []
        ),
        (runs, [("filter tag=support (HTMX)", "GET", "/?tag=support", "numbers-table", None)]),
        (runs, [("number detail", "GET", f"/numbers/{one}/", None, None)]),
        (runs, [("buy page", "GET", "/buy/", None, None)]),
        (runs, [("billing (all numbers)", "GET", "/billing/", None, None)]),
        (runs, [("audit log", "GET", "/audit/", None, None)]),
        (runs, [("buy search NL 020 (HTMX)", "GET", f"/buy/?{search}", "results", None)]),
        (runs, [("buy confirm dialog (HTMX)", "GET", confirm, "", None)]),
        (runs, [(ASSIGN, "POST", f"/numbers/{one}/agent", f"number-{one}", lambda i: {"agent_id": agents[i % 2]})]),
        (runs, [("tag editor (HTMX)", "GET", f"/numbers/{other}/tags/edit", f"tags-{other}", None)]),
        (
            runs,
            [
                (
                    "save tags (POST)",
                    "POST",
                    f"/numbers/{other}/tags",
                    f"tags-{other}",
                    lambda i: {"tags": f"support, bench-{i % 2}", "original": "support"},
                )
            ],
        ),
        (runs, [("release dialog (HTMX)", "GET", f"/numbers/{one}/release", "", None)]),
        # Release and reclaim in pairs on one unassigned number, so it ends as it began.
        (
            max(1, runs // 3),
            [
                ("release (POST)", "POST", f"/numbers/{free}/release/confirm", f"number-{free}", lambda i: {}),
                ("reclaim (POST)", "POST", f"/numbers/{free}/reclaim", f"number-{free}", lambda i: {}),
            ],
        ),
    ]


def measure(client: httpx.Client, base: str, runs: int, started: float) -> tuple[dict, list[str]]:
    results: dict[str, list[dict]] = {}
    problems: list[str] = []
    for count, steps in scenarios(client, base, runs):
        for i in range(-1, count):  # run -1 is the warm-up: caches (agents, countries, addresses) are warm
            if time.monotonic() - started > BUDGET_S:
                problems.append(f"stopped early after {BUDGET_S} s: later pages have fewer runs")
                return results, problems
            for name, method, path, target, data in steps:
                headers = {} if target is None else {"HX-Request": "true", "HX-Current-URL": f"{base}/"}
                if target:
                    headers["HX-Target"] = target
                if method == "POST":
                    headers["X-CSRFToken"] = client.cookies["csrftoken"]
                row = timed(client, method, path, headers, data(i) if data else None)
                if row["status"] != 200 and not any(p.startswith(f"{name}:") for p in problems):
                    problems.append(
                        f"{name}: HTTP {row['status']} (first seen; figures include it) {row['text'][:200]!r}"
                    )
                if i >= 0:
                    results.setdefault(name, []).append(row)
    return results, problems


def summarise(results: dict[str, list[dict]]) -> dict:
    out = {}
    for name, rows in results.items():
        calls = [r["calls"] for r in rows]
        col = {k: [r[k] for r in rows] for k in ("total", "staffify", "app", "client")}
        out[name] = {
            "runs": len(rows),
            "calls_min": min(calls),
            "calls_max": max(calls),
            "calls_median": statistics.median(calls),
        }
        for key, values in col.items():
            median, p95 = statistics.median(values), pct(values, 95)
            out[name][f"{key}_ms"] = {"median": round(median, 1), "p95": round(p95, 1)}
    return out


def checks(pages: dict) -> list[dict]:
    def calls(name: str, what: str) -> dict:
        page = pages[name]
        return {
            "check": f"{what}: Staffify calls <= 2",
            "passed": page["calls_max"] <= 2,
            "measured": f"max {page['calls_max']}, median {page['calls_median']:g}",
        }

    found = []
    if LIST in pages:
        found.append(calls(LIST, "unfiltered list, agents cached"))
    if ASSIGN in pages:
        found.append(calls(ASSIGN, "assign round trip"))
    if LIST in pages:
        app = pages[LIST]["app_ms"]
        found.append(
            {
                "check": "50-row page: dashboard's own time p95 < 30 ms",
                "passed": app["p95"] < 30,
                "measured": f"p95 {app['p95']:.1f} ms, median {app['median']:.1f} ms",
            }
        )
    return found


def print_table(pages: dict, found: list[dict], problems: list[str]) -> None:
    print(
        f"{'page / action':<28}{'runs':>5}{'calls':>7}{'server med':>12}{'p95':>8}{'staffify med':>14}"
        f"{'app med':>9}{'p95':>8}"
    )
    for name, p in pages.items():
        low, high = p["calls_min"], p["calls_max"]
        calls = str(low) if low == high else f"{low}-{high}"
        print(
            f"{name:<28}{p['runs']:>5}{calls:>7}{p['total_ms']['median']:>12.1f}{p['total_ms']['p95']:>8.1f}"
            f"{p['staffify_ms']['median']:>14.1f}{p['app_ms']['median']:>9.1f}{p['app_ms']['p95']:>8.1f}"
        )
    print("(times in ms from Server-Timing; app = server time minus time waiting on Staffify)\n")
    for check in found:
        print(f"{'PASS' if check['passed'] else 'FAIL'}  {check['check']}: {check['measured']}")
    for problem in problems:
        print(f"FAIL  {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="requests per page or action (default 30)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="staffify-bench-") as tmp:
        port = free_port()
        env = environment(Path(tmp), port)
        base = f"http://127.0.0.1:{port}"
        with open(Path(tmp) / "server.log", "w+") as logfile:
            server = None
            try:
                log(f"Starting the dashboard and sandbox on {base} ...")
                server = start_server(env, port, logfile)
                httpx.put(
                    f"{base}/sandbox/control/rate-limit",
                    json={"per_minute": 0},
                    headers={"Authorization": f"Bearer {DEMO_KEY}"},
                    timeout=10,
                ).raise_for_status()
                client = login(base, env.get("DEMO_PASSWORD") or "staffify-demo")
                try:
                    log(f"Measuring, {args.runs} runs each ...")
                    results, problems = measure(client, base, args.runs, started)
                finally:
                    client.close()
            except Exception:
                logfile.seek(0)
                log(logfile.read()[-3000:])
                raise
            finally:
                if server is not None:
                    stop_server(server)
    pages = summarise(results)
    found = checks(pages)
    passed = all(c["passed"] for c in found) and len(found) == 3 and not problems
    load = os.getloadavg()[0]  # times on a busy machine are not the dashboard's alone
    if args.json:
        print(
            json.dumps(
                {
                    "runs": args.runs,
                    "pages": pages,
                    "checks": found,
                    "problems": problems,
                    "passed": passed,
                    "seconds": round(time.monotonic() - started, 1),
                    "load_average": round(load, 2),
                    "cpus": os.cpu_count(),
                },
                indent=2,
            )
        )
    else:
        print_table(pages, found, problems)
        print(
            f"\n{'All checks pass' if passed else 'Some checks FAIL'} ({time.monotonic() - started:.0f} s; "
            f"load average {load:.1f} on {os.cpu_count()} CPUs)."
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
