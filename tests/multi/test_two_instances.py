"""Several instances on one PostgreSQL and one Redis, as real processes: two gunicorn web instances
(A embeds the sandbox, and every process calls Staffify there over HTTP) and two workers
(`manage.py run_worker`). Proves the sync lock, the purchase guard across processes, the shared
mirror and the shared Staffify budget. Every process is stopped, the scratch database dropped and
the test's Redis keys deleted, whatever happens."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.conftest import sandbox_numbers
from tests.helpers import HX
from tests.worker.conftest import POSTGRES_URL, REDIS_URL, ROOT, base_env, manage, python, unavailable

pytestmark = pytest.mark.standalone

DEMO_KEY = "sfy_live_" + "0123456789abcdef" * 3
PASSWORD = "staffify-demo"
BOUGHT = "+14155551234"  # the docs' example, for sale in the sandbox (US needs the verified address 4)
AGENT = 103  # Billing Helper

# What the workers did, read from the shared database by a process of its own.
SYNCS = """
import json, time
from django_tasks_db.models import DBTaskResult
from numbers_app.models import SyncRun
from numbers_app.tasks import sync_mirror
every_task = DBTaskResult.objects.all()
tasks = every_task.filter(task_path=sync_mirror.module_path)
def busy():  # a task still queued, or a sync still running (the schedule's own may have met them)
    running = SyncRun.everywhere.filter(state=SyncRun.State.RUNNING, finished_at__isnull=True).exists()
    return running or every_task.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists()
def workers():  # who has taken a sync from the one queue so far
    return {ids[-1] for ids in tasks.values_list("worker_ids", flat=True) if ids}
deadline = time.monotonic() + 40
rounds = 0
# More syncs than the schedule asks for, in rounds of four at once: both workers reach for the lock. One
# worker may drain a round alone (a turned-away sync takes no time), so rounds go on until both have
# taken a sync from the queue, or the deadline: a worker that never takes one fails the test.
while rounds < 6 and time.monotonic() < deadline:
    for _ in range(4):
        sync_mirror.enqueue()
    rounds += 1
    while busy() and time.monotonic() < deadline:
        time.sleep(0.2)
    if workers() >= {"worker-1", "worker-2"}:
        break
print(json.dumps({
    "runs": [
        [r.started_at.timestamp(), r.finished_at.timestamp() if r.finished_at else None, r.state, r.error]
        for r in SyncRun.objects.order_by("started_at")
    ],
    "tasks": [[t.status, t.worker_ids, t.return_value] for t in tasks],
    "workers": sorted(workers()),
    "rounds": rounds,
}))
"""

AUDITED_BUYS = """
import json
from numbers_app.models import AuditEntry
print(json.dumps([[e.outcome, e.message] for e in AuditEntry.objects.filter(action="buy").order_by("at")]))
"""

BUDGET = """
import dataclasses, json, time
from numbers_app.staffify import budget
print(json.dumps({**dataclasses.asdict(budget.state()), "now": time.time(), "allow": budget.allow("background")}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Long-running processes, each in a process group of its own, with a log file each."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("w")
        self.running[name] = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self, *names: str) -> None:
        chosen = [self.running.pop(name) for name in (names or list(self.running))]
        for process in chosen:
            _signal(process, signal.SIGTERM)
        for process in chosen:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.wait(timeout=5)

    def alive(self) -> None:
        for name, process in self.running.items():
            assert process.poll() is None, f"{name} stopped:\n{self.tail()}"

    def tail(self) -> str:
        logs = sorted(self.logs.glob("*.log"))
        return "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text().splitlines()[-25:]) for log in logs)


def _signal(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)  # the group: gunicorn's workers too


@pytest.fixture
def scratch(tmp_path):
    """A fresh PostgreSQL database and a Redis database number with a key prefix of its own."""
    try:
        import psycopg
        import redis

        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except Exception:
        unavailable(f"PostgreSQL at {POSTGRES_URL}")
    try:
        store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        store.ping()
    except Exception:
        admin.close()
        unavailable(f"Redis at {REDIS_URL}")
    name = f"multi_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {
            "DATABASE_URL": POSTGRES_URL.rsplit("/", 1)[0] + "/" + name,
            "CACHE_URL": f"{REDIS_URL}?key_prefix={name}",
        }
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        for key in store.scan_iter(match=f"{name}:*"):
            store.delete(key)
        store.close()


def wait_until(check, what: str, processes: Processes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        processes.alive()
        assert time.monotonic() < deadline, f"{what}\n{processes.tail()}"
        time.sleep(0.2)


def log_in(base_url: str) -> httpx.Client:
    """A person's session on one instance: the login page's CSRF cookie and token, then the POST."""
    client = httpx.Client(base_url=base_url, timeout=30)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    form = {"csrfmiddlewaretoken": token, "username": "ops", "password": PASSWORD}
    answer = client.post("/accounts/login/", data=form)
    assert answer.status_code == 302, answer.text
    client.headers.update({**HX, "X-CSRFToken": client.cookies["csrftoken"]})
    return client


def balance(sandbox: httpx.Client) -> Decimal:
    return Decimal(str(sandbox.get("/v1/credits").json()["balance"]))


def row(html: str, number_id: int) -> str:
    found = re.search(rf'<tr id="number-{number_id}".*?</tr>', html, re.S)
    assert found, f"number {number_id} is not in the list"
    return found.group(0)


def test_two_web_instances_and_two_workers_share_one_database_and_one_redis(scratch, tmp_path):
    started = time.monotonic()
    port_a, port_b = free_port(), free_port()
    a_url, b_url = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    env = base_env(
        **scratch,
        DEBUG="true",
        STAFFIFY_SANDBOX="true",
        STAFFIFY_API_URL=f"{a_url}/sandbox/v1",
        STAFFIFY_API_KEY=DEMO_KEY,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        MIRROR_SYNC_SECONDS="5",  # the shortest the settings allow
        PYTHON=sys.executable,
    )
    prepared = manage(env, "migrate", "--noinput", "-v", "0")
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    seeded = python(
        env,
        "from django.core.management import call_command\n"
        "call_command('seed_demo_users')\n"
        "call_command('seed_sandbox', numbers=400)",  # a sync of several pages: long enough to overlap
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr

    processes = Processes(tmp_path)
    sandbox = httpx.Client(base_url=f"{a_url}/sandbox", headers={"Authorization": f"Bearer {DEMO_KEY}"}, timeout=30)
    try:
        for name, port in (("web-a", port_a), ("web-b", port_b)):
            web_env = {**env, "MIGRATE": "false", "PORT": str(port), "WEB_CONCURRENCY": "1"}
            processes.start(name, ["scripts/docker-entrypoint.sh", "web"], web_env)
        for name in ("worker-1", "worker-2"):
            args = [sys.executable, "manage.py", "run_worker", "--interval", "0.2", "--worker-id", name]
            processes.start(name, args, env)
        for url in (a_url, b_url):
            wait_until(lambda url=url: httpx.get(f"{url}/healthz", timeout=5).status_code == 200, url, processes)

        # 2. The purchase guard across processes: one confirmation, sent to A and B at once, by the session
        # that opened it (a confirmation is bound to its session; the session is in the shared database).
        a = log_in(a_url)
        b = httpx.Client(base_url=b_url, timeout=30, cookies=a.cookies, headers=a.headers)
        before = balance(sandbox)
        query = {"phone_number": BOUGHT, "country_code": "US", "number_type": "local", "city_code": ""}
        dialog = a.get("/p/main/buy/confirm", params=query).text
        token = re.search(r'name="token" value="([0-9a-f-]+)"', dialog).group(1)
        form = {"token": token, "phone_number": BOUGHT, "country_code": "US", "number_type": "local"}
        together = threading.Barrier(2)
        answers: dict[str, httpx.Response] = {}

        def send(name: str, client: httpx.Client) -> None:
            together.wait()
            answers[name] = client.post("/p/main/buy/purchase", data=form)

        threads = [threading.Thread(target=send, args=item) for item in (("a", a), ("b", b))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(answers) == ["a", "b"], processes.tail()
        assert all(answer.status_code < 500 for answer in answers.values()), answers
        owned = [n for n in sandbox_numbers(sandbox) if n["phone_number"] == BOUGHT]
        assert len(owned) == 1, owned
        assert before - balance(sandbox) == Decimal("5.00")
        audited = json.loads(python(env, AUDITED_BUYS).stdout)
        assert sorted(outcome for outcome, _ in audited) == ["invalid", "ok"], audited
        assert any("The same confirmation arrived again" in message for _, message in audited), audited
        b_alone = log_in(b_url)  # another session of the same person: the confirmation is not its own
        assert "not opened in this session" in b_alone.post("/p/main/buy/purchase", data=form).headers["HX-Trigger"]

        # 3. The shared mirror: bought through A, listed by B; assigned through B, shown by A.
        number_id = owned[0]["id"]
        digits = BOUGHT.removeprefix("+")
        assert BOUGHT.removeprefix("+1")[-4:] in row(b.get("/p/main/", params={"q": digits}).text, number_id)
        assigned = b.post(f"/p/main/numbers/{number_id}/agent", data={"agent_id": str(AGENT)})
        assert assigned.status_code == 200, assigned.text
        assert re.search(rf'value="{AGENT}"\s+selected', row(a.get("/p/main/", params={"q": digits}).text, number_id))

        # 1. The lock: by now both workers have synced on the schedule; four more syncs at once.
        syncs = python(env, SYNCS)
        assert syncs.returncode == 0, syncs.stderr
        found = json.loads(syncs.stdout)
        runs, tasks = found["runs"], found["tasks"]
        assert len(runs) >= 2, found
        assert all(state == "ok" for _, _, state, _ in runs), found
        for (_, finished, _, _), (next_started, _, _, _) in zip(runs, runs[1:], strict=False):
            assert next_started >= finished, f"two syncs overlapped: {runs}"
        assert found["workers"] == ["worker-1", "worker-2"], found  # both took syncs from the one queue
        assert all(status == "SUCCESSFUL" for status, _, _ in tasks), tasks
        # The four at once met a sync under way: the lock turned them away rather than run two.
        assert any("busy:" in str(said) for _, _, said in tasks), tasks
        processes.stop("worker-1", "worker-2")  # the rest needs only the web instances

        # 4. The shared budget: B meets a 429; another process reads background work paused in Redis.
        assert sandbox.put("/control/rate-limit", json={"per_minute": 1}).status_code == 200
        for _ in range(3):
            assert b.get(f"/p/main/numbers/{number_id}/").status_code < 500
        read = manage(env, "shell", "-c", BUDGET)
        assert read.returncode == 0, read.stderr
        state = json.loads(read.stdout.strip().splitlines()[-1])  # after the shell's own banner
        assert state["remaining"] == 0 and state["background_paused_until"] > state["now"], state
        assert state["allow"] is False, state
    finally:
        sandbox.close()
        processes.stop()
    assert time.monotonic() - started < 120
