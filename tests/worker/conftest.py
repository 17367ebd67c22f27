"""Real processes for the worker's tests: scratch databases (an SQLite file, a PostgreSQL database
created and dropped here) migrated by `manage.py migrate`, and helpers to run manage.py against them."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(what: str) -> None:
    """Skip a test whose service is not running here; CI must have it, so there it fails."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not reachable: CI must run it.")
    pytest.skip(f"{what} is not reachable here")


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL", "TASKS_BACKEND"))}
    # The app is production unless told otherwise: these processes play against the sandbox.
    env.update(
        {"DJANGO_SETTINGS_MODULE": "dashboard.settings", "PYTHONUNBUFFERED": "1", "STAFFIFY_SANDBOX": "true", **extra}
    )
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def python(env: dict[str, str], code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `code` in a fresh process with Django set up against env's database."""
    script = "import django; django.setup()\n" + code
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def _postgres_database() -> tuple[str, str]:
    try:
        import psycopg

        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except Exception:
        unavailable(f"PostgreSQL at {POSTGRES_URL}")
    name = f"worker_test_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def _drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The PostgreSQL one is standalone (a database of its own on the server, whatever the pass's): under
# `make test` it runs on the PostgreSQL pass, which would otherwise end ~20 s before the SQLite pass.
@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.standalone)])
def scratch_env(request, tmp_path_factory, migrated_sqlite):
    """The environment of a process using a fresh, migrated database of either kind."""
    name = None
    if request.param == "sqlite":
        yield base_env(DATABASE_URL=migrated_sqlite(tmp_path_factory.mktemp("worker") / "db.sqlite3"))
        return
    name, url = _postgres_database()
    env = base_env(DATABASE_URL=url)
    try:
        result = manage(env, "migrate", "--noinput", "-v", "0")
        assert result.returncode == 0, result.stdout + result.stderr
        yield env
    finally:
        if name:
            _drop_postgres_database(name)
