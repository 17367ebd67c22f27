"""The worker's settings: read from the environment, a malformed value stops the start."""

import pytest

from tests.dashboard.test_settings import SANDBOX, run_settings


def test_tasks_queue_in_the_database_by_default():
    result = run_settings(SANDBOX, "TASKS['default']['BACKEND']")
    assert result.stdout.strip() == "django_tasks_db.DatabaseBackend", result.stderr


def test_the_immediate_backend_is_there_for_unit_tests():
    result = run_settings({**SANDBOX, "TASKS_BACKEND": "immediate"}, "TASKS['default']['BACKEND']")
    assert result.stdout.strip() == "django.tasks.backends.immediate.ImmediateBackend", result.stderr


def test_a_redis_cache_url_keeps_its_key_prefix():
    result = run_settings(
        {**SANDBOX, "CACHE_URL": "redis://127.0.0.1:6379/1?key_prefix=blue"}, "CACHES['default']['KEY_PREFIX']"
    )
    assert result.stdout.strip() == "blue", result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TASKS_BACKEND": "celery"}, "TASKS_BACKEND='celery' is not one of database, immediate, dummy"),
        ({"STAFFIFY_BACKGROUND_RESERVE": "lots"}, "is not a fraction such as 0.3"),
        ({"STAFFIFY_BACKGROUND_RESERVE": "1.5"}, "must lie between"),
        ({"WORKER_HEARTBEAT_SECONDS": "often"}, "is not a number of seconds"),
    ],
)
def test_it_refuses_a_malformed_value(env, message):
    result = run_settings({**SANDBOX, **env})
    assert result.returncode != 0
    assert message in result.stderr
