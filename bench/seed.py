"""What a test's sandbox seed costs: `sandbox.seed.seed()` (the ORM) against tests/seeding.py's template.

    .venv/bin/python bench/seed.py [--db sqlite|postgres] [--runs 30]

A scratch database (an SQLite file, or a PostgreSQL database made and dropped here), migrated; then,
RUNS times each, the sandbox's seeded tables emptied and seeded again by each way. Prints the CPU
milliseconds of this process per seed (median) and the rows written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    scratch = f"staffify_bench_seed_{uuid.uuid4().hex[:8]}"
    if args.db == "sqlite":
        url = f"sqlite:///{tempfile.gettempdir()}/{scratch}.sqlite3"
    else:
        url = POSTGRES.rsplit("/", 1)[0] + "/" + scratch
        subprocess.run(["psql", "-q", POSTGRES, "-c", f"CREATE DATABASE {scratch}"], check=True)
    os.environ.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="dashboard.settings", LOG_LEVEL="ERROR", STAFFIFY_SANDBOX="true"
    )
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
        print(measure(args.runs, args.db))
    finally:
        if args.db == "sqlite":
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            subprocess.run(
                ["psql", "-q", POSTGRES, "-c", f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"], check=False
            )


def measure(runs: int, db: str) -> str:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from sandbox.seed import seed
    from tests.seeding import SEEDED_MODELS, seed_sandbox

    def wipe() -> None:
        for model in reversed(SEEDED_MODELS):
            model._default_manager.all().delete()

    def cost(way) -> float:
        times = []
        for _ in range(runs):
            wipe()
            started = time.process_time()
            assert way()
            times.append(time.process_time() - started)
        return statistics.median(times) * 1000

    seed_sandbox()  # captures the template from the first seed
    orm, template = cost(seed), cost(seed_sandbox)
    rows = sum(model._default_manager.count() for model in SEEDED_MODELS)
    connection.close()
    return (
        f"{db}: {rows} rows; seed() {orm:.1f} ms CPU, tests/seeding.py's template {template:.1f} ms CPU "
        f"(median of {runs})"
    )


if __name__ == "__main__":
    main()
