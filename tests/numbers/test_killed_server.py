"""A dashboard process killed (-9) while Staffify is processing a purchase and an assignment: after a
restart, the worker's sweeper finds both and settles them in the audit log within a minute.

Real processes throughout: the sandbox (`manage.py run_sandbox`, its own SQLite file), the dashboard
(`runserver --noreload`, another SQLite file) and the worker (`manage.py run_worker`).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from sandbox.seed import DEMO_KEY
from tests.helpers import HX

pytestmark = pytest.mark.standalone

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"Authorization": f"Bearer {DEMO_KEY}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}")
        time.sleep(0.1)


def up(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
        return True
    except httpx.TransportError:
        return False


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (a fixed command line: this Python, manage.py)
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT
    )


def audit(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT action, outcome, message FROM numbers_auditentry WHERE action IN ('buy', 'assign') ORDER BY id"
        ).fetchall()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_purchase_and_an_assignment_cut_off_by_a_kill_are_settled_after_a_restart(tmp_path, migrated_sqlite):
    sandbox_port, port = free_port(), free_port()
    log = tmp_path / "processes.log"
    base_env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE")}
    # Both databases start migrated (one `manage.py migrate` per run, copied): the restart
    # and the sweep are what is proved here.
    sandbox_env = base_env | {"DATABASE_URL": migrated_sqlite(tmp_path / "sandbox.sqlite3"), "STAFFIFY_SANDBOX": "true"}
    db = tmp_path / "dashboard.sqlite3"
    env = base_env | {
        "DATABASE_URL": migrated_sqlite(db),
        "DEBUG": "true",
        "STAFFIFY_SANDBOX": "true",
        "STAFFIFY_API_URL": f"http://127.0.0.1:{sandbox_port}/sandbox/v1",
        "STAFFIFY_API_KEY": DEMO_KEY,
        "TASKS_BACKEND": "database",
        "CACHE_URL": "locmemcache://",
        "PYTHONUNBUFFERED": "1",
    }
    seeded = [sys.executable, "manage.py", "seed_demo_users"]
    subprocess.run(seeded, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)  # noqa: S603 (fixed)
    api = httpx.Client(base_url=f"http://127.0.0.1:{sandbox_port}/sandbox", headers=HEADERS, timeout=10)
    processes: list[subprocess.Popen] = []
    try:
        processes.append(start(["run_sandbox", "--port", str(sandbox_port), "--reset"], sandbox_env, log))
        wait(lambda: up(f"http://127.0.0.1:{sandbox_port}/sandbox/v1/credits"), "the sandbox to start")
        dashboard = start(["runserver", "--noreload", f"127.0.0.1:{port}"], env, log)
        processes.append(dashboard)
        wait(lambda: up(f"http://127.0.0.1:{port}/healthz"), "the dashboard to start")

        web = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        login = web.get("/accounts/login/").text
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
        web.post("/accounts/login/", data={"username": "ops", "password": "staffify-demo", "csrfmiddlewaretoken": csrf})
        page = web.get("/p/main/").text
        headers = {**HX, "X-CSRFToken": re.search(r'"x-csrftoken": "([^"]+)"', page).group(1)}

        number = next(n for n in api.get("/v1/phone-numbers?limit=100").json()["phone_numbers"] if n["agent_id"])
        agent = next(a["id"] for a in api.get("/v1/agents").json()["agents"] if a["id"] != number["agent_id"])
        found = api.get("/v1/phone-numbers/search", params={"country_code": "US", "limit": 1}).json()["numbers"][0]
        confirm = web.get(
            "/p/main/buy/confirm",
            params={"phone_number": found["phone_number"], "country_code": "US", "number_type": "local"},
            headers=headers,
        ).text
        token = re.search(r'name="token" value="([0-9a-f-]+)"', confirm).group(1)

        # Staffify is slow: it acts after 4 s. The dashboard is killed while both requests wait on it.
        for method, path in (("PUT", f"/v1/phone-numbers/{number['id']}/assign"), ("POST", "/v1/phone-numbers")):
            api.post("/control/faults", json={"delay_ms": 4000, "count": 1, "method": method, "path_prefix": path})
        posts = [
            (f"/p/main/numbers/{number['id']}/agent", {"agent_id": str(agent)}),
            (
                "/p/main/buy/purchase",
                {"token": token, "phone_number": found["phone_number"], "country_code": "US", "number_type": "local"},
            ),
        ]
        for url, data in posts:
            threading.Thread(
                target=lambda u=url, d=data: _post_ignoring_the_kill(web, u, d, headers), daemon=True
            ).start()
        wait(lambda: [o for _, o, _ in audit(db)] == ["sent", "sent"], "both writes to be sent", 60)
        dashboard.send_signal(signal.SIGKILL)
        dashboard.wait(10)

        def staffify_did_both() -> bool:
            numbers = api.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
            assigned = next(n for n in numbers if n["id"] == number["id"])["agent_id"] == agent
            return assigned and any(n["phone_number"] == found["phone_number"] for n in numbers)

        wait(staffify_did_both, "Staffify to finish both writes", 60)
        assert [o for _, o, _ in audit(db)] == ["sent", "sent"]  # the dashboard died before any answer

        processes.append(start(["runserver", "--noreload", f"127.0.0.1:{port}"], env, log))
        wait(lambda: up(f"http://127.0.0.1:{port}/healthz"), "the dashboard to restart")
        started = time.monotonic()
        processes.append(start(["run_worker", "--interval", "0.2"], env, log))
        wait(lambda: {o for _, o, _ in audit(db)} == {"ok"}, "the sweeper to settle both", 60)
        assert time.monotonic() - started < 60
        entries = {action: message for action, _, message in audit(db)}
        assert "stopped while sending" in entries["buy"]
        assert "The dashboard stopped before Staffify answered" in entries["assign"]
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT state FROM numbers_purchaseattempt").fetchall() == [("succeeded",)]
    finally:
        for process in reversed(processes):
            stop(process)
        api.close()


def _post_ignoring_the_kill(web: httpx.Client, url: str, data: dict, headers: dict) -> None:
    with contextlib.suppress(httpx.TransportError):  # the server was killed under it: that is the point
        web.post(url, data=data, headers=headers)
