"""Where the test suite's CPU goes: each test run alone (no xdist), with the whole machine's busy CPU
time and the wall time it took, summed per module and printed longest first.

    .venv/bin/python bench/suite_cpu.py [PYTEST ARGS...]     e.g. tests/browser tests/multi

The machine's CPU, not the pytest process's: a browser test's Chromium, a real-process test's servers
and workers and PostgreSQL's backends count too. Run it on an otherwise idle machine; a second job
beside it is counted as the tests'. On this 2-core machine `make test` is bound by CPU (its three
passes keep both cores about 95% busy), so the CPU seconds, not the wall seconds, say what a change
saves. Without arguments it runs the whole suite on SQLite (about 7 minutes in one process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def busy_jiffies() -> int:
    """The machine's busy CPU time so far, in clock ticks (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in stat.readline().split()[1:8])
    return user + nice + system + irq + softirq


class Recorder:
    """A pytest plugin: one JSON line per test, [node id, wall seconds, busy CPU seconds]."""

    def __init__(self, out) -> None:
        self.out = out
        self.started: dict[str, tuple[float, int]] = {}
        self.tick = os.sysconf("SC_CLK_TCK")

    def pytest_runtest_logstart(self, nodeid, location) -> None:
        self.started[nodeid] = (time.monotonic(), busy_jiffies())

    def pytest_runtest_logfinish(self, nodeid, location) -> None:
        at, jiffies = self.started.pop(nodeid)
        self.out.write(json.dumps([nodeid, time.monotonic() - at, (busy_jiffies() - jiffies) / self.tick]) + "\n")
        self.out.flush()


def report(lines: list[list]) -> str:
    per_module: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for nodeid, wall, cpu in lines:
        module = per_module[nodeid.split("::", 1)[0]]
        module[0] += 1
        module[1] += wall
        module[2] += cpu
    rows = [f"{'CPU s':>8} {'wall s':>8} {'tests':>6}  module"]
    for name, (count, wall, cpu) in sorted(per_module.items(), key=lambda item: -item[1][2]):
        rows.append(f"{cpu:8.1f} {wall:8.1f} {count:6d}  {name}")
    rows.append(f"{sum(c for *_, c in lines):8.1f} {sum(w for _, w, _ in lines):8.1f} {len(lines):6d}  in all")
    rows.append("\nThe 15 most expensive tests:")
    for nodeid, wall, cpu in sorted(lines, key=lambda line: -line[2])[:15]:
        rows.append(f"{cpu:8.1f} {wall:8.1f}  {nodeid}")
    return "\n".join(rows)


def main(args: list[str]) -> int:
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as out:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["SUITE_CPU_OUT"] = out.name
        code = subprocess.call(  # noqa: S603 (this Python, pytest, the caller's arguments)
            [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "bench.suite_cpu", "-q", *args],
            cwd=ROOT,
            env=env,
        )
        lines = [json.loads(line) for line in out.read().splitlines() if line]
    print(report(lines))
    return code


def pytest_configure(config) -> None:
    """Loaded by pytest (`-p bench.suite_cpu`) in the process main() starts."""
    path = os.environ.get("SUITE_CPU_OUT")
    if path:
        config.pluginmanager.register(Recorder(open(path, "a")), "suite-cpu-recorder")  # noqa: SIM115 (open for the session)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
