"""Bulk assign figures: a job of N numbers (default 1,000) on the sandbox at 300 calls a minute.

    .venv/bin/python bench/bulk.py [--numbers 1000] [--rate 300] [--already 0.1] [--redis redis://127.0.0.1:6379/3]

Real processes: the dashboard and its sandbox under gunicorn, and the worker (`manage.py run_worker`),
sharing the Staffify budget through Redis (CACHE_URL). Each process reaches Staffify through its own
counting proxy (tests/worker/counting_proxy.py), so the calls are counted outside the processes. A
share of the numbers (`--already`) is put on the target agent beforehand: they must cost 0 calls.
While the job runs, a "person" opens the owned list and a number's page (a live read) every 2 s and
assigns a number outside the job every 10 s; none of that may be refused for the rate limit.

Prints: calls the worker made (per number changed, and for the skipped ones), wall time, throughput,
and the pages and single actions made during the job with how many were rate-limited or failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from pages import environment, free_port, log, login, start_server, stop_server  # noqa: E402

from tests.worker.counting_proxy import CountingProxy  # noqa: E402

DEMO_KEY = "sfy_live_" + "0123456789abcdef" * 3
HEADERS = {"Authorization": f"Bearer {DEMO_KEY}"}
TARGET = 110

SYNC = """
import os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
import django; django.setup()
from numbers_app.mirror import store as mirror
from numbers_app import staffify
print(mirror.sync(staffify.get_client()).state)
"""


def manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600
    )  # noqa: S603


def job_row(db: Path, job: int) -> dict:
    with sqlite3.connect(db, timeout=30) as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM numbers_bulkjob WHERE id=?", (job,)).fetchone())
        row["rows"] = dict(
            conn.execute(
                "SELECT state, COUNT(*) FROM numbers_bulkjobrow WHERE job_id=? GROUP BY state", (job,)
            ).fetchall()
        )
    return row


class Person(threading.Thread):
    """Someone using the dashboard while the job runs."""

    def __init__(self, client: httpx.Client, numbers: list[int], spare: list[int]) -> None:
        super().__init__(daemon=True)
        self.client, self.numbers, self.spare = client, numbers, spare
        self.stop = threading.Event()
        self.results: list[tuple[str, int, bool]] = []  # what, status, rate-limited
        self.problems: list[str] = []  # what went wrong, for the figures
        self.reconnects = 0

    def run(self) -> None:
        page = self.client.get("/").text
        csrf = re.search(r'"x-csrftoken": "([^"]+)"', page).group(1)
        headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
        tick = 0
        while not self.stop.is_set():
            for what, method, url, data in self._requests(tick):
                try:
                    response = self._send(method, url, data, headers)
                except httpx.HTTPError as err:
                    self.results.append((what, 0, False))
                    self.problems.append(f"{what} {url}: {err!r}")
                    continue
                limited = "rate limit is reached" in response.text
                self.results.append((what, response.status_code, limited))
                if response.status_code != 200 or limited:
                    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))[:300]
                    self.problems.append(f"{what} {url}: HTTP {response.status_code} {text}")
            tick += 1
            self.stop.wait(2)

    def _send(self, method: str, url: str, data: dict | None, headers: dict) -> httpx.Response:
        try:
            return self.client.request(method, url, data=data, headers=headers if method == "POST" else None)
        except httpx.RemoteProtocolError:
            if method != "GET":
                raise
            # A kept-alive connection the server closed as it was reused (gunicorn's keep-alive is 2 s,
            # this person's pace too): a browser sends such a GET again on a new connection.
            self.reconnects += 1
            return self.client.request(method, url)

    def _requests(self, tick: int):
        number = self.numbers[tick % len(self.numbers)]
        yield "owned list", "GET", "/", None
        yield "number page (live read)", "GET", f"/numbers/{number}/", None
        if tick % 5 == 0 and self.spare:
            spare = self.spare[(tick // 5) % len(self.spare)]
            agent = "101" if tick % 10 else "102"
            yield "single assign", "POST", f"/numbers/{spare}/agent", {"agent_id": agent}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1000, help="numbers in the job (default 1000)")
    parser.add_argument("--rate", type=int, default=300, help="the sandbox's calls per minute (default 300)")
    parser.add_argument("--already", type=float, default=0.1, help="share already on the agent (default 0.1)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/3", help="the shared budget's cache")
    parser.add_argument("--timeout", type=float, default=1800, help="give up after this many seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="staffify-bench-bulk-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        upstream = f"http://127.0.0.1:{port}/sandbox"
        with CountingProxy(upstream) as worker_proxy, CountingProxy(upstream) as web_proxy:
            env = environment(tmp, port)
            env.update(CACHE_URL=f"{args.redis}?key_prefix=bench-bulk-{port}", TASKS_BACKEND="database")
            web_env = env | {"STAFFIFY_API_URL": f"{web_proxy.url}/v1"}
            worker_env = env | {"STAFFIFY_API_URL": f"{worker_proxy.url}/v1"}
            base = f"http://127.0.0.1:{port}"
            db = tmp / "bench.sqlite3"
            logfile = open(tmp / "server.log", "w+")  # noqa: SIM115 (closed below)
            server = worker = None
            person = None
            try:
                log(f"Starting the dashboard and sandbox on {base} ...")
                server = start_server(web_env, port, logfile)
                manage(env, "seed_sandbox", "--numbers", str(args.numbers + 200))
                api = httpx.Client(base_url=upstream, headers=HEADERS, timeout=30)
                api.put("/control/rate-limit", json={"per_minute": 0}).raise_for_status()
                owned, after = [], None
                while True:
                    page = api.get(
                        "/v1/phone-numbers", params={"limit": 100, **({"after": after} if after else {})}
                    ).json()
                    owned += page["phone_numbers"]
                    if not (after := page["next_cursor"]):
                        break
                active = [n for n in owned if n["status"] == "active"]
                chosen, spare = active[: args.numbers], [n["id"] for n in active[args.numbers : args.numbers + 5]]
                step = max(1, round(1 / args.already)) if args.already > 0 else 0
                skipped_ids = [n["id"] for i, n in enumerate(chosen) if step and i % step == 0]
                for n in chosen:
                    on_target = n["id"] in skipped_ids
                    if on_target and n["agent_id"] != TARGET:
                        api.put(f"/v1/phone-numbers/{n['id']}/assign", json={"agent_id": TARGET}).raise_for_status()
                    elif not on_target and n["agent_id"] == TARGET:
                        api.put(f"/v1/phone-numbers/{n['id']}/assign", json={"agent_id": 101}).raise_for_status()
                log(f"Syncing the mirror ({len(owned)} numbers) ...")
                result = subprocess.run(
                    [sys.executable, "-c", SYNC], cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=600
                )  # noqa: S603
                assert result.stdout.strip().endswith("ok"), result.stderr[-2000:]
                api.put("/control/rate-limit", json={"per_minute": args.rate}).raise_for_status()
                client = login(base, env.get("DEMO_PASSWORD") or "staffify-demo")
                page = client.get("/").text
                csrf = re.search(r'"x-csrftoken": "([^"]+)"', page).group(1)
                form = {
                    "scope": "ids",
                    "ids": ",".join(str(n["id"]) for n in chosen),
                    "quick": "assign",
                    "agent_id": str(TARGET),
                }
                response = client.post("/bulk/start", data=form, headers={"X-CSRFToken": csrf, "HX-Request": "true"})
                job = int(response.headers["HX-Redirect"].rstrip("/").rsplit("/", 1)[1])
                before = dict(worker_proxy.calls)
                web_before = sum(web_proxy.statuses.values())
                log(f"Job {job}: {len(chosen)} numbers, {len(skipped_ids)} already on the agent; worker starting")
                worker = subprocess.Popen(  # noqa: S603
                    [sys.executable, "manage.py", "run_worker", "--interval", "0.2"],
                    cwd=ROOT,
                    env=worker_env,
                    stdout=logfile,
                    stderr=subprocess.STDOUT,
                )
                person = Person(
                    login(base, env.get("DEMO_PASSWORD") or "staffify-demo"), [n["id"] for n in chosen], spare
                )
                person.start()
                started = time.monotonic()
                while job_row(db, job)["state"] != "done":
                    if time.monotonic() - started > args.timeout:
                        raise RuntimeError(f"the job did not finish in {args.timeout} s: {job_row(db, job)}")
                    time.sleep(1)
                wall = time.monotonic() - started
                person.stop.set()
                person.join(30)
                found = job_row(db, job)
            except Exception:
                logfile.seek(0)
                log(logfile.read()[-3000:])
                raise
            finally:
                if person is not None:
                    person.stop.set()
                if worker is not None:
                    worker.terminate()
                    worker.wait(30)
                if server is not None:
                    stop_server(server)
                logfile.close()
            ids = {n["id"] for n in chosen}
            assigns = worker_proxy.per_number("/assign", "PUT")
            reads = worker_proxy.per_number("", "GET")
            job_assigns = sum(assigns[i] for i in ids)
            worker_total = sum(worker_proxy.calls.values()) - sum(before.values())
            web_429 = web_proxy.statuses.get(429, 0)
    results = person.results if person else []
    figures = {
        "numbers": len(chosen),
        "rate_per_minute": args.rate,
        "already_on_agent": len(skipped_ids),
        "rows": found["rows"],
        "job_calls_recorded": found["calls"],
        "staffify_assign_calls": job_assigns,
        "assign_calls_on_skipped_numbers": sum(assigns[i] for i in skipped_ids),
        "numbers_assigned_more_than_once": sum(1 for i in ids if assigns[i] > 1),
        "single_number_reads_by_the_worker": sum(reads[i] for i in ids),
        "all_worker_calls_during_the_job": worker_total,
        "wall_seconds": round(wall, 1),
        "changes_per_minute": round(found["rows"].get("done", 0) / wall * 60, 1),
        "person_requests": len(results),
        "person_requests_by_kind": {k: sum(1 for w, _, _ in results if w == k) for k in {w for w, _, _ in results}},
        "person_not_200": sum(1 for _, status, _ in results if status != 200),
        "person_rate_limited": sum(1 for _, _, limited in results if limited),
        "web_calls_answered_429": web_429,
        "web_calls_during_the_job": sum(web_proxy.statuses.values()) - web_before,
        "person_problems": person.problems if person else [],
        "person_gets_resent_on_a_new_connection": person.reconnects if person else 0,
    }
    print(json.dumps(figures, indent=2))
    ok = (
        figures["staffify_assign_calls"] == found["rows"].get("done", 0)
        and figures["assign_calls_on_skipped_numbers"] == 0
        and figures["person_rate_limited"] == 0
        and figures["person_not_200"] == 0
    )
    print("PASS" if ok else "FAIL", f"(machine load average {os.getloadavg()[0]:.1f}: times are noisy)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
