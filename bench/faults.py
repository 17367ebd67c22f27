"""The fault matrix as a table (`.venv/bin/python bench/faults.py`): every write × every fault.

Runs tests/numbers/test_fault_matrix.py (the in-process sandbox for statuses and a refused connection,
the live test server with a real socket timeout for the two timeouts) with FAULT_MATRIX_REPORT set,
then prints one row per case: the dashboard's HTTP status, whether Staffify made the change (read
back from the sandbox), the audit outcome (after the sweeper), whether the request id was shown, and
what the user read. `--from FILE` prints a report written earlier instead of running the tests.
Exit code: the tests' (0 when every case held).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["500", "503", "429", "402", "409", "refused", "timeout before the write", "timeout after the write"]


def run(report: Path) -> int:
    env = {**os.environ, "FAULT_MATRIX_REPORT": str(report)}
    command = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "tests/numbers/test_fault_matrix.py"]
    return subprocess.run(command, cwd=ROOT, env=env, stdout=sys.stderr).returncode


def table(rows: list[dict]) -> str:
    rows = sorted(rows, key=lambda r: (r["action"], ORDER.index(r["fault"]) if r["fault"] in ORDER else 99))
    lines = [
        "| action | fault | HTTP | Staffify changed | audit | request id | the user reads |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        said = r["said"].replace("|", "\\|")
        lines.append(
            f"| {r['action']} | {r['fault']} | {r['http']} | {'yes' if r['staffify_changed'] else 'no'} "
            f"| {r['audit']} | {'yes' if r['request_id'] else '-'} | {said} |"
        )
    ok = sum(1 for r in rows if (r["audit"] == "ok") == r["staffify_changed"] and r["http"] != 500)
    lines.append("")
    lines.append(f"{len(rows)} cases; {ok} with no 500 page and an audit outcome matching Staffify's final state.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", type=Path, help="a FAULT_MATRIX_REPORT file written earlier")
    args = parser.parse_args()
    code = 0
    if args.source:
        report = args.source
    else:
        report = Path(tempfile.mkdtemp(prefix="faults-")) / "matrix.jsonl"
        code = run(report)
    if not report.exists():
        print("No case was recorded.", file=sys.stderr)
        return code or 1
    rows = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    print(table(rows))
    return code


if __name__ == "__main__":
    sys.exit(main())
