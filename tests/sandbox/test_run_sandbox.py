"""`manage.py run_sandbox` serves the sandbox alone, on its own port, from its own process."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from sandbox.seed import DEMO_KEY

pytestmark = pytest.mark.database

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"Authorization": f"Bearer {DEMO_KEY}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_url(tmp_path):
    """A database of the suite's own kind for the server process: never the test database.

    On PostgreSQL a scratch database beside the configured one (dropped afterwards), so that the
    row locks are really exercised by a second process; otherwise an SQLite file.
    """
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'sandbox.sqlite3'}"
        return
    import psycopg

    name = f"sandbox_run_{os.getpid()}"
    url = urlsplit(configured)
    admin = psycopg.connect(urlunsplit(url._replace(path="/postgres")), autocommit=True)
    try:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(url._replace(path="/" + name))
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@pytest.fixture
def server(tmp_path, database_url):
    """A run_sandbox process on a free port, with a database of its own."""
    port = free_port()
    env = os.environ | {"DATABASE_URL": database_url, "STAFFIFY_SANDBOX": "true"}
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(  # noqa: S603 (a fixed command line: this Python, manage.py)
        [sys.executable, "manage.py", "run_sandbox", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/sandbox"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/v1/credits", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("run_sandbox did not start:\n" + (tmp_path / "server.log").read_text())
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_it_serves_the_seeded_sandbox_on_its_own_port(server):
    response = httpx.get(server + "/v1/credits", headers=HEADERS)
    assert response.status_code == 200
    assert response.json()["balance"] == 42.5
    assert response.headers["X-RateLimit-Limit"] == "300"
    assert response.headers["X-Request-Id"].startswith("req_")
    missing = httpx.get(server.removesuffix("/sandbox") + "/anything")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"


def buy_at_once(client: httpx.Client, numbers: list[str]) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(len(numbers))

    def buy(number: str) -> None:
        barrier.wait()
        statuses.append(client.post("/v1/phone-numbers", json={"phone_number": number}).status_code)

    threads = [threading.Thread(target=buy, args=(number,)) for number in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_concurrent_purchases_cannot_spend_the_same_eur_5(server):
    """Real threads in a real server process: only one of two buyers gets the last EUR 5."""
    with httpx.Client(base_url=server, headers=HEADERS, timeout=30) as client:
        numbers = [n["phone_number"] for n in client.get("/v1/phone-numbers/search?limit=6").json()["numbers"]]
        for pair in (numbers[0:2], numbers[2:4], numbers[4:6]):
            assert client.put("/control/balance", json={"balance": 5}).status_code == 200
            assert buy_at_once(client, pair) == [201, 402]
            assert client.get("/v1/credits").json()["balance"] == 0
