"""/metrics as Prometheus reads it, after a scripted session on real processes: gunicorn with two
workers serving the dashboard and its sandbox, and the background worker, all writing their counters
into one PROMETHEUS_MULTIPROC_DIR. A sync (run by the worker), page loads, an assign, a 503 and a 429
from the sandbox; then the counters, parsed with prometheus_client's own parser, moved by exactly
what was done, added up across the processes. The JSON log lines (LOG_FORMAT=json) parse and carry
the request id of a failed page and Staffify's request id it showed."""

from __future__ import annotations

import json
import math
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import sandbox_numbers
from tests.helpers import HX
from tests.worker.conftest import ROOT, base_env, python

pytestmark = pytest.mark.standalone

DEMO_KEY = "sfy_live_" + "0123456789abcdef" * 3
TOKEN = secrets.token_hex(24)
CALLS = re.compile(r'staffify;dur=[\d.]+;desc="(\d+) calls?"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, keyed by name and sorted labels, parsed by Prometheus's own parser."""
    answer = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum of NAME's samples whose labels include LABELS."""
    return sum(
        value
        for (sample, found), value in samples.items()
        if sample == name and all((key, wanted) in found for key, wanted in labels.items())
    )


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    return total(after, name, **labels) - total(before, name, **labels)


class Processes:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = (self.tmp / f"{name}.log").open("w")
        self.running[name] = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def tail(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-3000:]}" for name in self.running)

    def stop(self) -> None:
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until(check, what: str, processes: Processes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        for name, process in processes.running.items():
            assert process.poll() is None, f"{name} stopped\n{processes.tail()}"
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}\n{processes.tail()}"
        time.sleep(0.2)


def calls(response: httpx.Response) -> int:
    """The Staffify calls this answer cost, as its Server-Timing header says."""
    found = CALLS.search(response.headers.get("server-timing", ""))
    return int(found.group(1)) if found else 0


@pytest.fixture(scope="module")
def session(tmp_path_factory, migrated_sqlite):
    """The processes, and a logged-in person's httpx client on gunicorn."""
    tmp = tmp_path_factory.mktemp("metrics")
    metrics_dir = tmp / "prometheus"
    metrics_dir.mkdir()
    (tmp / "static").mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = base_env(
        DATABASE_URL=migrated_sqlite(tmp / "db.sqlite3"),
        DEBUG="false",
        STAFFIFY_SANDBOX="true",
        STAFFIFY_API_URL=f"{url}/sandbox/v1",
        STAFFIFY_API_KEY=DEMO_KEY,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        CACHE_URL="locmemcache://",
        STATIC_ROOT=str(tmp / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        METRICS_TOKEN=TOKEN,
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        PYTHON=sys.executable,
    )
    seeded = python(
        env,
        "from django.core.management import call_command\n"
        "call_command('seed_demo_users')\n"
        "call_command('seed_sandbox')",
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    processes = Processes(tmp)
    try:
        web_env = {**env, "MIGRATE": "false", "PORT": str(port), "WEB_CONCURRENCY": "2"}
        processes.start("web", ["scripts/docker-entrypoint.sh", "web"], web_env)
        # No periodic schedule: the worker runs only what the session enqueues, so every call is known.
        worker = [sys.executable, "manage.py", "run_worker", "--no-schedule", "--interval", "0.2"]
        processes.start("worker", worker, env)
        wait_until(lambda: httpx.get(f"{url}/healthz", timeout=5).status_code == 200, "gunicorn", processes)
        client = httpx.Client(base_url=url, timeout=30)
        page = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = client.post(
            "/accounts/login/", data={"csrfmiddlewaretoken": token, "username": "ops", "password": "staffify-demo"}
        )
        assert answer.status_code == 302, answer.text
        client.headers.update({**HX, "X-CSRFToken": client.cookies["csrftoken"]})
        sandbox = httpx.Client(base_url=f"{url}/sandbox", headers={"Authorization": f"Bearer {DEMO_KEY}"}, timeout=30)
        yield url, client, sandbox, processes, metrics_dir
    finally:
        processes.stop()


def test_metrics_need_the_token_and_never_send_to_the_login_page(session):
    url, *_ = session
    assert httpx.get(f"{url}/metrics").status_code == 401
    assert httpx.get(f"{url}/metrics").headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    assert httpx.get(f"{url}/metrics", headers={"Authorization": TOKEN}).status_code == 401  # no scheme


def test_the_counters_move_by_exactly_what_the_session_did_across_the_processes(session):
    url, client, sandbox, processes, metrics_dir = session
    before = scrape(url)
    spent = 0  # Staffify calls the web processes made, by their Server-Timing headers

    # A sync, run by the worker process ("Refresh now").
    refresh = client.post("/p/main/sync/")
    assert refresh.status_code == 200, refresh.text
    spent += calls(refresh)
    wait_until(
        lambda: moved(before, scrape(url), "dashboard_tasks_total", task="sync_mirror", outcome="successful") == 1,
        "the worker to run the sync",
        processes,
    )
    # Page loads: the owned list reads the mirror.
    for _ in range(3):
        page = client.get("/p/main/")
        assert page.status_code == 200
        spent += calls(page)
    # An assign.
    numbers = sandbox_numbers(sandbox)
    number = next(n for n in numbers if n["status"] == "active" and n["agent_id"] is None)
    agent = sandbox.get("/v1/agents").json()["agents"][0]["id"]
    assigned = client.post(f"/p/main/numbers/{number['id']}/agent", data={"agent_id": str(agent)})
    assert assigned.status_code == 200, assigned.text
    assert sandbox.get(f"/v1/phone-numbers/{number['id']}").json()["agent_id"] == agent
    spent += calls(assigned)
    # A number's page while Staffify answers 503 three times: the read is tried three times and the
    # page says so, with Staffify's request id.
    other = next(n for n in numbers if n["id"] != number["id"])
    fault = {"status": 503, "count": 3, "path_prefix": f"/v1/phone-numbers/{other['id']}", "method": "GET"}
    assert sandbox.post("/control/faults", json=fault).status_code == 201
    failed = client.get(f"/p/main/numbers/{other['id']}/")
    spent += calls(failed)
    shown = re.search(r"Staffify request id ([\w-]+)", failed.text)
    assert shown, failed.text
    # The same page when Staffify answers 429 once (retry after 1 s): one retry, then the number.
    fault = {"status": 429, "count": 1, "retry_after": 1, "path_prefix": f"/v1/phone-numbers/{number['id']}"}
    assert sandbox.post("/control/faults", json=fault).status_code == 201
    limited = client.get(f"/p/main/numbers/{number['id']}/")
    assert limited.status_code == 200
    spent += calls(limited)

    after = scrape(url)
    sync_calls = total(after, "dashboard_mirror_last_sync_calls")
    assert sync_calls >= 1
    # Every call, by whichever process made it: the gunicorn workers' pages and the worker's sync.
    assert moved(before, after, "staffify_requests_total") == spent + sync_calls
    assert moved(before, after, "staffify_request_duration_seconds_count") == spent + sync_calls
    assign = {"endpoint": "/phone-numbers/{id}/assign", "method": "PUT"}
    assert moved(before, after, "staffify_requests_total", **assign, status="200") == 1
    one = {"endpoint": "/phone-numbers/{id}", "method": "GET"}
    assert moved(before, after, "staffify_requests_total", **one, status="503") == 3
    assert moved(before, after, "staffify_requests_total", **one, status="429") == 1
    assert moved(before, after, "staffify_rate_limited_total") == 1
    assert moved(before, after, "staffify_retries_total", reason="rate_limited") == 1
    assert moved(before, after, "staffify_retries_total", reason="server_error") == 2
    assert moved(before, after, "staffify_retries_total") == 3
    assert moved(before, after, "staffify_retry_wait_seconds_total") >= 1  # the 429's Retry-After
    assert moved(before, after, "dashboard_requests_total", route="/p/<slug:project>/", method="GET", status="200") == 3
    assert moved(before, after, "dashboard_tasks_total", task="sync_mirror") == 1
    # No id in any label: the endpoints are route templates.
    assert not any(re.search(r"/\d", value) for _, labels in after for _, value in labels)
    # Added up from several processes' files: two gunicorn workers at least and the worker.
    assert len({path.name.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}) >= 2
    # The state, read at the scrape: the mirror just synced, the numbers it holds.
    assert total(after, "dashboard_mirror_age_seconds") < 120
    assert total(after, "dashboard_mirror_numbers") == len(numbers)
    assert total(after, "dashboard_mirror_last_sync_ok") == 1
    assert total(after, "dashboard_task_queue_depth") == 0
    assert math.isinf(total(after, "dashboard_worker_heartbeat_age_seconds"))  # no schedule: no heartbeat
    # (The rate budget's gauges need the shared cache, Redis, to say the same in every process: they
    # are checked in tests/dashboard/test_metrics.py.)

    # The failed page's lines, as JSON: its request id, its user, and Staffify's request id it showed.
    request_id = failed.headers["x-request-id"]
    # Every line is one JSON object, gunicorn's own included; its access line ends with the request id.
    lines = [json.loads(line) for line in processes.log("web").splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "gunicorn.access" and "/numbers/" in line["message"]]
    assert any(line["message"].endswith(request_id) for line in access), access
    mine = [line for line in lines if line.get("request_id") == request_id]
    assert mine, processes.log("web")[-3000:]
    assert all(line["user"] == "ops" for line in mine)
    assert any(line.get("staffify_request_id") == shown.group(1) for line in mine), mine
    # The worker names the task on its lines.
    worker_lines = [json.loads(line) for line in processes.log("worker").splitlines() if line.strip()]
    assert any(line.get("task") == "sync_mirror" for line in worker_lines), processes.log("worker")[-3000:]
