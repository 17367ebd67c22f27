"""A bulk job whose worker is killed (SIGKILL) half-way: a new worker takes it over and finishes it,
with no number changed twice and none skipped. Real processes: the sandbox (`run_sandbox`, its own
SQLite file), the worker (`run_worker`), and a counting proxy between them, outside the worker, so
the Staffify calls per number are counted across the kill."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sandbox.seed import DEMO_KEY
from tests.numbers.test_killed_server import free_port, stop, up, wait

from .conftest import ROOT
from .counting_proxy import CountingProxy

pytestmark = pytest.mark.standalone
HEADERS = {"Authorization": f"Bearer {DEMO_KEY}"}
TARGET_AGENT = 110
SIZE = 12

CREATE_JOB = f"""
import json
from django.contrib.auth import get_user_model
from numbers_app.bulk import jobs as bulk
from numbers_app.mirror import store as mirror
from numbers_app import staffify
assert mirror.sync(staffify.get_client()).state == "ok"
user = get_user_model().objects.get(username="support")
from numbers_app.models import MirrorAgent
agent = MirrorAgent.objects.get(staffify_id={TARGET_AGENT})
records = [r for r in mirror.owned().filter(last_status="active").exclude(agent_id={TARGET_AGENT})][:{SIZE}]
params = {{"agent_id": agent.staffify_id, "agent_name": agent.name}}
job = bulk.create_job(user, "assign", params, [bulk.Item(r, "assign", params) for r in records])
print(json.dumps({{"job": job.pk, "numbers": [r.staffify_id for r in records]}}))
"""


def rows(db: Path, job: int) -> dict[str, int]:
    with sqlite3.connect(db, timeout=30) as conn:
        found = conn.execute("SELECT state, COUNT(*) FROM numbers_bulkjobrow WHERE job_id=? GROUP BY state", (job,))
        return dict(found.fetchall())


def job_state(db: Path, job: int) -> str:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute("SELECT state FROM numbers_bulkjob WHERE id=?", (job,)).fetchone()[0]


def test_a_job_cut_off_by_a_kill_finishes_after_a_restart_with_each_number_changed_once(tmp_path, migrated_sqlite):
    sandbox_port = free_port()
    log = tmp_path / "processes.log"
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_FILE") and not k.startswith(("DATABASE_URL", "CACHE_URL"))
    }
    sandbox_env = base | {"DATABASE_URL": migrated_sqlite(tmp_path / "sandbox.sqlite3"), "STAFFIFY_SANDBOX": "true"}
    db = tmp_path / "dashboard.sqlite3"
    database_url = migrated_sqlite(db)  # migrated once per run, as `manage.py migrate` does
    processes: list[subprocess.Popen] = []
    api = httpx.Client(base_url=f"http://127.0.0.1:{sandbox_port}/sandbox", headers=HEADERS, timeout=10)
    with CountingProxy(f"http://127.0.0.1:{sandbox_port}/sandbox") as proxy:
        env = base | {
            "DATABASE_URL": database_url,
            "DEBUG": "true",
            "STAFFIFY_SANDBOX": "true",
            "STAFFIFY_API_URL": f"{proxy.url}/v1",
            "STAFFIFY_API_KEY": DEMO_KEY,
            "STAFFIFY_TIMEOUT": "30",
            "TASKS_BACKEND": "database",
            "CACHE_URL": "locmemcache://",
            "BULK_STALE_SECONDS": "3",
            "BULK_SWEEP_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        try:
            processes.append(_start(["run_sandbox", "--port", str(sandbox_port), "--reset"], sandbox_env, log))
            wait(lambda: up(f"http://127.0.0.1:{sandbox_port}/sandbox/v1/credits"), "the sandbox to start")
            _run([sys.executable, "manage.py", "seed_demo_users"], env)
            made = json.loads(_run([sys.executable, "-c", "import django; django.setup()\n" + CREATE_JOB], env))
            job, numbers = made["job"], made["numbers"]
            assert len(numbers) == SIZE
            # Staffify is slow: every assignment takes 0.6 s, so the kill lands mid-way, often mid-call.
            fault = {
                "status": None,
                "delay_ms": 600,
                "count": 1000,
                "method": "PUT",
                "path_prefix": "/v1/phone-numbers",
            }
            assert api.post("/control/faults", json=fault).status_code == 201

            first = _start(["run_worker", "--interval", "0.2", "--worker-id", "first"], env, log)
            processes.append(first)
            wait(
                lambda: rows(db, job).get("done", 0) >= SIZE // 3 and rows(db, job).get("sent", 0) == 1,
                "a third done, one in flight",
                120,
            )
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            at_kill = rows(db, job)
            assert at_kill.get("pending", 0) > 0, at_kill  # it really was cut off half-way
            assert job_state(db, job) == "running"

            processes.append(_start(["run_worker", "--interval", "0.2", "--worker-id", "second"], env, log))
            wait(lambda: job_state(db, job) == "done", "the job to be taken over and finished", 120)
            agents = {n: api.get(f"/v1/phone-numbers/{n}").json()["agent_id"] for n in numbers}
        finally:
            for process in reversed(processes):
                stop(process)
        assigns = proxy.per_number("/assign", "PUT")
        reads = proxy.per_number("", "GET")

    assert rows(db, job) == {"done": SIZE}, (at_kill, log.read_text()[-3000:])
    assert {n: assigns[n] for n in numbers} == dict.fromkeys(numbers, 1)  # each changed once: none twice, none skipped
    assert sum(reads[n] for n in numbers) == at_kill.get("sent", 0)  # only the row in flight was read back
    assert agents == dict.fromkeys(numbers, TARGET_AGENT)
    with sqlite3.connect(db, timeout=30) as conn:
        unsettled = conn.execute(
            "SELECT COUNT(*) FROM numbers_auditentry WHERE bulk_job_id=? AND outcome IN ('sent', 'unknown')", (job,)
        ).fetchone()[0]
        ok = conn.execute(
            "SELECT COUNT(DISTINCT number_id), COUNT(*) FROM numbers_auditentry "
            "WHERE bulk_job_id=? AND action='assign' AND outcome='ok'",
            (job,),
        ).fetchone()
    assert unsettled == 0 and ok == (SIZE, SIZE)
    api.close()


def _mid_way(db: Path, job: int) -> bool:
    found = rows(db, job)
    return SIZE // 3 <= found.get("done", 0) <= SIZE - 3 and found.get("sent", 0) == 1


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (fixed)
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT
    )


def _run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)  # noqa: S603
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
