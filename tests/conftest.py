"""Shared fixtures: personas for the three roles, and the dashboard wired to the embedded sandbox.

`staffify_sandbox` points the service module at the sandbox through httpx.WSGITransport: every call
is real HTTP handled by Django's own WSGI handler (no sockets), in the test's transaction.
Browser tests use the live server over real sockets instead (tests/browser/conftest.py).
"""

from __future__ import annotations

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


def _each(module: str, *tests: str) -> tuple[str, ...]:
    """POSTGRES_TESTS entries for some of one module's tests."""
    return tuple(f"{module}::{test}" for test in tests)


# The PostgreSQL pass runs these tests (node-id prefixes: a module, or a module's test) and any test
# marked @pytest.mark.postgres or @pytest.mark.database: where the engine changes the outcome. Locking
# and races (select_for_update, IntegrityError inside atomic blocks, conditional UPDATE claims), bulk
# writes, the mirror's and the billing's queries (LIKE, NULLS LAST, Case/When date arithmetic, aggregates,
# Decimal sums), raw SQL and sequence resets. Everything else (views, forms, templates, permissions, the
# sandbox's validation rules) goes through the same ORM calls on both engines and runs on SQLite only.
# POSTGRES_ALL=1 runs every database test on PostgreSQL as before (`make test-postgres-all`).
POSTGRES_TESTS = (
    *_each(
        "tests/billing/test_billing_page.py",
        "test_every_number_appears_with_its_cycle",
        "test_the_table_puts_the_soonest_charge_first_and_pending_numbers_last",
        "test_totals_equal_what_the_sandbox_numbers_say",
        "test_filters_narrow_the_table_totals_and_chart_but_not_the_balance",
        "test_the_7_and_28_day_figures_are_what_the_sandbox_then_charges",
        "test_the_page_follows_the_sandbox_clock_across_several_cycles",
        "test_the_runway_is_when_the_sandbox_balance_first_goes_below_zero",
    ),
    "tests/billing/test_billing_scale.py",
    "tests/billing/test_release_bound.py",
    "tests/billing/test_roll_forward.py",
    "tests/billing/test_table_segments.py",
    *_each(
        "tests/billing/test_undated_numbers.py",
        "test_a_csv_import_previews_then_applies",
        "test_a_mixed_account_counts_undated_numbers_first_in_the_runway",
        "test_a_purchase_instant_after_the_first_sighting_is_refused",
        "test_an_undated_account_has_exact_28_day_totals_and_a_7_day_bound",
        "test_an_undated_account_runs_out_at_the_earliest_now_and_is_warned",
        "test_operations_set_a_purchase_instant_on_the_number_page",
        "test_the_earliest_runout_wraps_into_later_cycles",
    ),
    "tests/dashboard/test_healthz.py",
    *_each(
        "tests/numbers/test_buy.py",
        "test_buying_a_us_number",
        "test_a_resubmitted_confirmation_buys_once",
        "test_a_confirmation_still_in_flight_is_not_sent_again",
        "test_a_timeout_that_bought_anyway_is_settled_by_the_sweeper",
        "test_pages_do_not_settle_an_unknown_purchase_the_sweeper_does",
    ),
    # Bulk jobs: rows claimed by conditional updates, the runner taken over, bulk writes.
    *_each(
        "tests/numbers/test_bulk_jobs.py",
        "test_it_assigns_every_number_with_one_call_each_and_none_for_the_skipped",
        "test_release_unassigns_first_only_when_asked",
        "test_tags_are_added_and_removed_without_touching_the_others",
        "test_adding_tags_keeps_a_tag_set_outside_the_dashboard_since_the_last_sync",
        "test_a_write_whose_answer_was_lost_is_read_back_and_counted_done_not_resent",
        "test_a_row_left_sent_by_a_dead_worker_is_read_back_not_resent",
        "test_a_running_job_is_not_taken_over_while_its_worker_beats",
        "test_cancel_a_running_job_stops_before_the_rows_not_yet_sent",
        "test_failed_rows_say_why_and_are_retried_in_a_new_job",
        "test_a_long_job_runs_in_slices_so_the_worker_runs_its_other_tasks_between",
        "test_a_sent_row_that_cannot_be_read_back_waits_for_the_next_slice",
    ),
    "tests/numbers/test_mirror_sync.py",
    "tests/numbers/test_mirror_tags.py",
    # The owned list's queries: filters (LIKE, case-folded tags), sorts (NULLS LAST), paging, the count.
    *_each(
        "tests/numbers/test_number_list.py",
        "test_it_shows_the_first_50_numbers_with_a_load_more_row",
        "test_load_more_returns_only_the_next_rows",
        "test_filters_cover_the_whole_account",
        "test_filters_combine",
        "test_a_filter_with_more_than_50_matches_pages_by_offset",
        "test_columns_sort_the_whole_account",
    ),
    # Release and reclaim: the conditional updates of the row (the dialogs' words and the roles run on SQLite).
    *_each(
        "tests/numbers/test_release_reclaim.py",
        "test_release_makes_the_row_pending_and_remembers_the_deadline",
        "test_reclaim_brings_the_number_back",
        "test_reclaim_after_the_window_says_the_number_is_gone",
        "test_unassign_and_release",
    ),
    # Scheduled releases: due ones claimed under a lock, the list filter and billing's sums.
    *_each(
        "tests/numbers/test_scheduled_release.py",
        "test_it_shows_in_the_list_in_the_filter_and_on_billing",
        "test_two_scheduled_releases_save_twice_the_price",
        "test_a_number_cannot_be_scheduled_twice",
        "test_it_schedules_the_release_an_hour_before_the_next_charge",
        "test_it_can_be_cancelled_until_it_runs",
        "test_a_running_release_cannot_be_cancelled",
        "test_it_is_due_on_the_sandbox_clock_and_the_worker_releases_it",
        "test_a_missed_window_is_not_released_silently",
        "test_a_release_left_running_by_a_dead_worker_is_made_once",
        "test_an_unknown_outcome_is_settled_by_the_sweeper_and_then_shown",
        "test_a_corrected_purchase_time_moves_the_release_with_the_charge",
    ),
    "tests/numbers/test_settle_task.py",
    "tests/sandbox/test_grow.py",
    *_each(
        "tests/sandbox/test_purchase.py",
        "test_it_buys_a_us_number_and_charges_eur_5",
        "test_an_owned_number_cannot_be_bought_again",
        "test_buying_the_same_number_twice_fails_the_second_time",
        "test_a_balance_under_eur_5_is_402",
        "test_exactly_eur_5_is_enough",
    ),
    # The sandbox's rate limit: its counter, updated in place (its validation and headers run on SQLite).
    *_each(
        "tests/sandbox/test_rate_limit.py",
        "test_past_the_limit_it_answers_the_documented_429",
        "test_each_project_has_its_own_count",
        "test_the_next_window_is_open_again",
        "test_reset_epoch_is_in_the_sandbox_clocks_time",
    ),
    # The seed: explicit ids, sequences, racing seeders (its contents are checked on SQLite).
    *_each(
        "tests/sandbox/test_seed.py",
        "test_an_empty_sandbox_seeds_itself_on_its_first_call",
        "test_seeding_twice_changes_nothing",
        "test_the_command_seeds_only_an_empty_sandbox_unless_told_to_reset",
        "test_the_seed_is_the_same_every_time",
        "test_billing_state_is_consistent_with_the_purchase_dates",
    ),
    "tests/test_seeding.py",
    "tests/worker/test_schedule.py",
)
DATABASE_FIXTURES = {"db", "transactional_db", "live_server"}

# Started first, longest first, so that the two xdist workers share them and no long test is left for
# the end of the run with one worker idle. That needs `--maxschedchunk=1` (the Makefile passes it):
# by default xdist hands each worker a quarter of the suite at once, and one worker got every slow test.
# Whole modules, so that a module-scoped fixture is set up next to its tests. Rough seconds on an
# idle 2-core machine in the comments; a new test that takes more than ~5 s belongs here.
SLOW_FIRST = (
    "tests/worker/test_bulk_resume.py",  # ~17: a worker killed mid-job and restarted
    "tests/numbers/test_killed_server.py",  # ~17
    "tests/multi/test_two_instances.py",  # ~17: two gunicorns, two workers, PostgreSQL, Redis
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
    "tests/dashboard/test_production_defaults.py",
    "tests/dashboard/test_settings.py",
)


def is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def standalone_on_postgres() -> bool:
    """Standalone tests (@pytest.mark.standalone: their own processes on databases of their own, so
    the pass's database does not matter) run once. `make test` sets STANDALONE_PASS=postgres when it
    runs the PostgreSQL pass beside the SQLite pass: that pass has one worker and fewer tests, and
    would otherwise end two minutes before the SQLite pass while those tests kept a SQLite worker busy."""
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
    """Marks the POSTGRES_TESTS; on the PostgreSQL pass (DATABASE_URL=postgres://…) keeps only the
    tests marked postgres or database; sends the standalone tests to one pass; then puts the
    SLOW_FIRST modules first (a stable sort: every module keeps its own order)."""
    for item in items:
        if any(item.nodeid == t or item.nodeid.startswith((t + "::", t + "[")) for t in POSTGRES_TESTS):
            item.add_marker(pytest.mark.postgres)
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
    test process (a subprocess, as in production); each caller gets a copy of its file."""
    template: list[Path] = []

    def make(path: Path) -> str:
        if not template:
            made = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
            env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL"))}
            env.update(DATABASE_URL=f"sqlite:///{made}", DJANGO_SETTINGS_MODULE="dashboard.settings")
            result = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=Path(__file__).resolve().parents[1],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            template.append(made)
        shutil.copyfile(template[0], path)
        return f"sqlite:///{path}"

    return make


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
    from numbers_app import mirror, staffify

    assert mirror.sync(staffify.get_client()).state == "ok"  # what the worker does when it starts
    yield client
    client.close()
    wait_until_live_server_idle()


@pytest.fixture
def mirrored(staffify_sandbox):
    """The seeded sandbox, walked once into the mirror (what the worker's first sync does)."""
    from numbers_app import mirror, staffify

    run = mirror.sync(staffify.get_client())
    assert run.state == "ok", run.error
    return staffify_sandbox
