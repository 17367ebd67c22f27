"""`make run`'s last step, scripts/run-all.sh: the web server and the worker together, and a signal
to the script stops both (runserver's autoreloader child included)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, base_env

pytestmark = pytest.mark.standalone  # its own processes on SQLite files of its own


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session(sid: int) -> dict[int, str]:
    """The processes of session `sid`: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == sid:
            found[int(entry.name)] = cmdline
    return found


@pytest.fixture(scope="module")
def migrated(tmp_path_factory, migrated_sqlite):
    return base_env(DATABASE_URL=migrated_sqlite(tmp_path_factory.mktemp("run-all") / "db.sqlite3"), DEBUG="true")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_it_starts_the_web_server_and_the_worker_and_a_signal_stops_both(migrated, tmp_path, sig):
    port = free_port()
    log = tmp_path / "run-all.log"
    env = {**migrated, "PORT": str(port), "PYTHON": sys.executable}
    script = subprocess.Popen(
        ["scripts/run-all.sh"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # As from a terminal: pytest-xdist's workers ignore SIGINT, and a shell cannot trap a signal
        # that was ignored when it started.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline and script.poll() is None, log.read_text()
                time.sleep(0.3)
        while "Starting worker" not in log.read_text():
            assert time.monotonic() < deadline and script.poll() is None, log.read_text()
            time.sleep(0.3)
        running = session(script.pid).values()
        assert any("runserver" in cmd for cmd in running), running
        assert any("run_worker" in cmd for cmd in running), running

        os.kill(script.pid, sig)
        script.wait(timeout=30)
        deadline = time.monotonic() + 15
        while session(script.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert session(script.pid) == {}, log.read_text()
        assert script.returncode == 128 + sig
    finally:
        for pid in session(script.pid):
            os.kill(pid, signal.SIGKILL)
        script.wait(timeout=10)


def test_when_the_worker_cannot_start_the_web_server_is_stopped_too(tmp_path):
    # No tables: the worker's queue query fails at once, and the script must not leave runserver behind.
    env = base_env(DATABASE_URL=f"sqlite:///{tmp_path}/empty.sqlite3", DEBUG="true", PORT=str(free_port()))
    env["PYTHON"] = sys.executable
    script = subprocess.Popen(
        ["scripts/run-all.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = script.communicate(timeout=90)
        assert script.returncode != 0
        assert "stopping the other" in err
        assert session(script.pid) == {}
    finally:
        for pid in session(script.pid):
            os.kill(pid, signal.SIGKILL)
