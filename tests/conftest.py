"""Shared fixtures: personas for the three roles, and the dashboard wired to the embedded sandbox.

`staffify_sandbox` points the service module at the sandbox through httpx.WSGITransport: every call
is real HTTP handled by Django's own WSGI handler (no sockets), in the test's transaction.
Browser tests use the live server over real sockets instead (tests/browser/conftest.py).
"""

from __future__ import annotations

import fcntl
import gc
import os
import shutil
import subprocess
import sys
import threading
import time
import wsgiref.handlers
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import httpx
import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.db.backends.signals import connection_created

DEMO_KEY = "sfy_live_" + "0123456789abcdef" * 3
SANDBOX_URL = "http://testserver/sandbox/v1"
FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def pytest_configure(config):
    """Test users get a fast password hasher: the default costs about 0.4 s a user. Set here, in
    every xdist worker, for the test process and its live server thread; production keeps the default."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    settings.PASSWORD_HASHERS = [FAST_HASHER]
    get_hashers.cache_clear()  # type: ignore[attr-defined]  # functools.cache, unknown to the stubs
    get_hashers_by_algorithm.cache_clear()  # type: ignore[attr-defined]
    # Whitenoise finds a static file when it is asked for (as under `make run`, DEBUG=true) instead of
    # scanning every app's static files each time a handler starts: the test client and the sandbox
    # transport start several a test. The production storage is proved by the Docker recipe.
    settings.WHITENOISE_AUTOREFRESH = True
    # A page rendered without a sandbox (the audit log reads the balance) finds Staffify unreachable
    # at once instead of sleeping through the back-off; the tests of retrying set their own.
    settings.STAFFIFY_MAX_RETRIES = 0
    connection_created.connect(_sqlite_without_fsync)
    # Python's cycle collector ran every 700 allocations over the whole heap: Django, the app and the
    # test modules, loaded by now, are frozen out of it, and it runs a seventieth as often (about 5%
    # less CPU for the in-process tests, measured; memory is not short in a test process).
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _sqlite_without_fsync(sender, connection, **kwargs) -> None:
    """The test database is a throwaway file: no fsync on each commit (the live server's tests and the
    flushes between them commit hundreds of times)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")


# The PostgreSQL pass runs the tests marked @pytest.mark.postgres (a module's `pytestmark`, or one
# test's decorator) or @pytest.mark.database: where the engine changes the outcome. Locking and races
# (select_for_update, IntegrityError inside atomic blocks, conditional UPDATE claims), bulk writes, the
# mirror's and the billing's queries (LIKE, NULLS LAST, Case/When date arithmetic, aggregates, Decimal
# sums), raw SQL and sequence resets. Everything else (views, forms, templates, permissions, the
# sandbox's validation rules) goes through the same ORM calls on both engines and runs on SQLite only.
# POSTGRES_ALL=1 runs every database test on PostgreSQL as before (`make test-postgres-all`).
DATABASE_FIXTURES = {"db", "transactional_db", "live_server"}

# Started first, longest first, so that the two xdist workers share them and no long test is left for
# the end of the run with one worker idle. That needs `--maxschedchunk=1` (the Makefile passes it):
# by default xdist hands each worker a quarter of the suite at once, and one worker got every slow test.
# Whole modules, so that a module-scoped fixture is set up next to its tests. Rough seconds on an
# idle 2-core machine in the comments; a new test that takes more than ~5 s belongs here.
SLOW_FIRST = (
    "tests/numbers/test_killed_server.py",  # ~55 wall, mostly asleep: a cut-off write lives up to 46 s
    "tests/worker/test_bulk_resume.py",  # ~17: a worker killed mid-job and restarted
    "tests/multi/test_two_instances.py",  # ~17: two gunicorns, two workers, PostgreSQL, Redis
    "tests/multi/test_metrics_processes.py",  # ~10 wall (5 CPU): gunicorn with two workers, the worker
    "tests/dashboard/test_docker_recipe.py",  # ~15 with uv's cache (minutes with pip)
    "tests/worker/test_run_worker.py",  # ~25 for its four
    "tests/worker/test_run_all.py",  # ~12
    "tests/dashboard/test_compose_recipe.py",  # ~10
    "tests/dashboard/test_import_paths.py",  # ~15: subprocesses, mypy, ruff
    "tests/sandbox/test_run_sandbox.py",
    "tests/sandbox/test_grow.py",
    # Mostly waiting (slow answers, timeouts on the live server): started early, their waits overlap
    # the other pass's work instead of leaving a core idle at the end of the run.
    "tests/numbers/test_fault_matrix.py",  # ~19 wall for 7 of CPU
    "tests/numbers/test_buy.py",  # ~8 wall for 3 of CPU
    "tests/browser/",  # Playwright: a browser per worker
    "tests/people/test_sso.py",  # ~4: a real OpenID Connect provider process, migrated at start
    "tests/numbers/test_projects_migration.py",  # ~3-7: the test database migrated back and forth (it ended a pass)
    "tests/dashboard/test_production_defaults.py",
    "tests/dashboard/test_settings.py",
)


def is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def standalone_on_postgres() -> bool:
    """Standalone tests (@pytest.mark.standalone: their own processes on databases of their own, so
    the pass's database does not matter) run once. `make test` sets STANDALONE_PASS=postgres when it
    runs the PostgreSQL pass beside the SQLite pass: that pass has fewer tests, and would otherwise
    end two minutes before the SQLite pass while those tests kept a SQLite worker busy."""
    return os.environ.get("STANDALONE_PASS") == "postgres"


def _on_postgres_pass(item) -> bool:
    if item.get_closest_marker("standalone"):
        return standalone_on_postgres()
    if os.environ.get("POSTGRES_ALL"):
        return bool(
            item.get_closest_marker("django_db")
            or item.get_closest_marker("database")
            or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
    return bool(item.get_closest_marker("postgres") or item.get_closest_marker("database"))


def _slowness(item) -> int:
    path = item.nodeid.split("::", 1)[0]
    for rank, prefix in enumerate(SLOW_FIRST):
        if path.startswith(prefix):
            return rank
    return len(SLOW_FIRST)


@pytest.hookimpl(trylast=True)  # after pytest has grouped tests by their module-scoped parameters
def pytest_collection_modifyitems(config, items):
    """On the PostgreSQL pass (DATABASE_URL=postgres://…) keeps only the tests marked postgres or
    database; sends the standalone tests to one pass; then puts the SLOW_FIRST modules first (a stable
    sort: every module keeps its own order)."""
    on_this_pass = _on_postgres_pass if is_postgres() else _on_sqlite_pass
    kept = [item for item in items if on_this_pass(item)]
    deselected = [item for item in items if not on_this_pass(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    items.sort(key=_slowness)


def _on_sqlite_pass(item) -> bool:
    return not (item.get_closest_marker("standalone") and standalone_on_postgres())


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Callable[[Path], str]:
    """For tests that start real processes on an SQLite file: `migrated_sqlite(path)` puts a database
    migrated by `manage.py migrate` at PATH and returns its DATABASE_URL. The migration runs once per
    run (a subprocess, as in production), under a file lock in a folder that the xdist workers share
    (MIGRATED_SQLITE_DIR, which `make test` gives both passes, else the session's temporary root):
    each caller gets a copy of its file."""
    folder = Path(os.environ.get("MIGRATED_SQLITE_DIR") or _session_temp_root(tmp_path_factory))
    folder.mkdir(parents=True, exist_ok=True)
    template = folder / "migrated.sqlite3"

    def make(path: Path) -> str:
        with (folder / "migrated.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the other processes wait for the one migrating
            if not template.exists():
                _migrate_sqlite(template)
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    return make


def _session_temp_root(tmp_path_factory) -> Path:
    """The temporary folder of this pytest run: under xdist, the parent of the workers' own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _migrate_sqlite(target: Path) -> None:
    made = target.with_suffix(".partial")  # renamed when complete: a failed migrate leaves no template
    made.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{made}", DJANGO_SETTINGS_MODULE="dashboard.settings", STAFFIFY_SANDBOX="true")
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    made.rename(target)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


class InTransactionWSGI:
    """Django's WSGI handler for requests made inside a test's transaction: like Django's own test
    client, it keeps the request signals from closing the test's database connection."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = self.handler(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                result.close()
            return [body]
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@pytest.fixture
def sandbox(db):
    """The sandbox's deterministic seed, and an httpx client speaking to it as the dashboard does."""
    from sandbox.seed import seed
    from tests.seeding import seed_sandbox

    seed_sandbox() or seed(reset=True)  # the test's database is empty: no need to wipe it first
    client = httpx.Client(
        transport=httpx.WSGITransport(app=InTransactionWSGI()),
        base_url="http://testserver/sandbox",
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
    )
    yield client
    client.close()


def sandbox_numbers(sandbox) -> list[dict]:
    """Every number the sandbox has in the account, read page by page through its cursor."""
    found: list[dict] = []
    after = None
    while True:
        page = sandbox.get("/v1/phone-numbers", params={"limit": 100, **({"after": after} if after else {})}).json()
        found += page["phone_numbers"]
        after = page["next_cursor"]
        if after is None:
            return found


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Polls `condition` until it holds: for an outcome that comes in its own time (a delayed answer
    completing on the live server), where a fixed sleep is either too long or, under load, too short."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def wait_until_live_server_idle(timeout: float = 30) -> None:
    """Waits until no thread of the live server is handling a request (a keep-alive connection waiting
    for its next request is idle). A request still running after its test, e.g. one the sandbox
    delays past the dashboard's timeout, would otherwise touch the database of the next test."""
    handling = wsgiref.handlers.BaseHandler.run.__code__

    def busy() -> bool:
        for ident, current in sys._current_frames().items():
            frame: FrameType | None = current
            if ident == threading.get_ident():
                continue
            while frame is not None:
                if frame.f_code is handling:
                    return True
                frame = frame.f_back
        return False

    wait_for(lambda: not busy(), "the live server to finish the requests of the test", timeout)


@pytest.fixture
def staffify_sandbox(sandbox, settings):
    """The dashboard's service module pointed at the seeded sandbox."""
    settings.STAFFIFY_API_URL = SANDBOX_URL
    settings.STAFFIFY_API_KEY = DEMO_KEY
    settings.STAFFIFY_TRANSPORT = httpx.WSGITransport(app=InTransactionWSGI())
    settings.STAFFIFY_MAX_RETRIES = 0
    return sandbox


def _user(django_user_model, username: str, group: str | None):
    from numbers_app.roles import ensure_roles

    ensure_roles()  # a transactional test before this one may have flushed them
    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def ops_user(db, django_user_model):
    return _user(django_user_model, "ops", "Operations")


@pytest.fixture
def support_user(db, django_user_model):
    return _user(django_user_model, "support", "Support")


@pytest.fixture
def lead_user(db, django_user_model):
    return _user(django_user_model, "lead", "Team lead")


@pytest.fixture
def outsider(db, django_user_model):
    return _user(django_user_model, "outsider", None)


@pytest.fixture
def ops(client, ops_user):
    client.force_login(ops_user)
    return client


@pytest.fixture
def support(client, support_user):
    client.force_login(support_user)
    return client


@pytest.fixture
def lead(client, lead_user):
    client.force_login(lead_user)
    return client


@pytest.fixture
def live_sandbox(transactional_db, live_server, settings):
    """The dashboard and the sandbox on a live server, speaking real HTTP over a socket (timeouts
    and slow answers behave as in production). Yields an httpx client for the sandbox's API."""
    from sandbox.seed import seed
    from tests.seeding import seed_sandbox

    seed_sandbox() or seed(reset=True)
    settings.STAFFIFY_API_URL = f"{live_server.url}/sandbox/v1"
    settings.STAFFIFY_API_KEY = DEMO_KEY
    settings.STAFFIFY_TRANSPORT = None
    settings.STAFFIFY_MAX_RETRIES = 0
    client = httpx.Client(
        base_url=f"{live_server.url}/sandbox", headers={"Authorization": f"Bearer {DEMO_KEY}"}, timeout=30
    )
    from numbers_app import staffify
    from numbers_app.mirror import store as mirror

    assert mirror.sync(staffify.get_client()).state == "ok"  # what the worker does when it starts
    yield client
    client.close()
    wait_until_live_server_idle()


@pytest.fixture
def mirrored(staffify_sandbox):
    """The seeded sandbox, walked once into the mirror (what the worker's first sync does)."""
    from numbers_app import staffify
    from numbers_app.mirror import store as mirror

    run = mirror.sync(staffify.get_client())
    assert run.state == "ok", run.error
    worker_reads_balance()  # the worker's first round reads the balance too: pages only show it
    return staffify_sandbox


def worker_reads_balance() -> None:
    """What the worker does on its schedule and after every write (numbers_app.tasks.refresh_balance):
    here at once, whatever the age of the reading it has (as when its BALANCE_REFRESH_SECONDS are up)."""
    from numbers_app import tasks
    from numbers_app.staffify import lookups

    lookups.forget_balance()
    tasks.refresh_balance.call()
