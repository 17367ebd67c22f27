"""Configuration: read in one place, and a malformed value stops the start with a clear message.

dashboard/settings.py is run in this process with an environment of the test's making (as Django
imports it, it reads os.environ at import); two tests start a real process to prove the whole start.
"""

import os
import runpy
import subprocess
import sys
import traceback
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "dashboard" / "settings.py"
OURS = ("STAFFIFY_", "DEBUG", "SECRET_KEY", "DATABASE_URL", "CACHE_URL", "EMAIL_URL")
# The sandbox is asked for; without it the app is production (tests/dashboard/test_production_defaults.py).
SANDBOX = {"STAFFIFY_SANDBOX": "true"}


def clean_environ(**env: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(OURS)}, **env}


def load_settings(env: dict[str, str]) -> dict:
    """The settings module's names, as it computes them from exactly this environment."""
    with mock.patch.dict(os.environ, clean_environ(**env), clear=True):
        return runpy.run_path(str(SETTINGS))


def run_settings(env: dict[str, str], expr: str = "DEBUG") -> subprocess.CompletedProcess:
    """`print(settings.EXPR)` as a start with exactly this environment would print it (in this process):
    exit 0 and the value on stdout, or exit 1 and the refusal's traceback on stderr."""
    try:
        names = load_settings(env)
    except ImproperlyConfigured as err:
        return subprocess.CompletedProcess([], 1, "", "".join(traceback.format_exception(err)))
    values = eval(f"(settings.{expr},)", {"settings": SimpleNamespace(**names)})  # noqa: S307  a test's own expression
    return subprocess.CompletedProcess([], 0, " ".join(map(str, values)) + "\n", "")


def refusal(env: dict[str, str]) -> str:
    """What a start with this environment says when it stops: the whole traceback, as a log would show it."""
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(env)
    return "".join(traceback.format_exception(refused.value))


def test_it_starts_with_no_other_configuration_in_sandbox_mode():
    code = "import django; django.setup(); from django.conf import settings; print(settings.STAFFIFY_API_URL)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_environ(DJANGO_SETTINGS_MODULE="dashboard.settings", **SANDBOX),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:8000/sandbox/v1"


def test_a_malformed_value_stops_a_real_start():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean_environ(DEBUG="maybe", **SANDBOX),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: DEBUG='maybe' is not a boolean" in result.stderr, result.stderr


def test_metrics_addresses_are_networks():
    allowed = load_settings({**SANDBOX, "METRICS_ALLOWED_IPS": "10.0.0.0/8, 192.168.1.7"})["METRICS_ALLOWED_IPS"]
    assert [str(network) for network in allowed] == ["10.0.0.0/8", "192.168.1.7/32"]


def test_the_sandbox_url_follows_port():
    assert load_settings({"PORT": "8123", **SANDBOX})["STAFFIFY_API_URL"] == "http://127.0.0.1:8123/sandbox/v1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"STAFFIFY_SANDBOX": "2"}, "STAFFIFY_SANDBOX='2' is not a boolean"),
        ({**SANDBOX, "STAFFIFY_TIMEOUT": "soon"}, "STAFFIFY_TIMEOUT='soon' is not a number"),
        ({**SANDBOX, "STAFFIFY_TIMEOUT": "0"}, "must lie between"),
        ({**SANDBOX, "STAFFIFY_API_URL": "ftp://x"}, "is not an http(s) URL"),
        ({**SANDBOX, "STAFFIFY_API_KEY": "sk_nope"}, "STAFFIFY_API_KEY is malformed"),
        ({**SANDBOX, "DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL is malformed"),
        ({**SANDBOX, "PORT": "eighty"}, "PORT='eighty' is not a whole number"),
        (
            {"STAFFIFY_SANDBOX": "false", "SECRET_KEY": "k" * 50},
            "STAFFIFY_API_KEY (or STAFFIFY_API_KEY_FILE) must be set to your Staffify API key",
        ),
        (
            {"STAFFIFY_SANDBOX": "false", "STAFFIFY_API_KEY": "sfy_live_" + "a" * 48},
            "SECRET_KEY (or SECRET_KEY_FILE) must be set",
        ),
        ({**SANDBOX, "STAFFIFY_API_KEY": "sfy_org_" + "a" * 48}, "needs STAFFIFY_PROJECT_ID"),
        ({"SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE=/nonexistent/secret cannot be read"),
        ({**SANDBOX, "LOG_FORMAT": "xml"}, "LOG_FORMAT='xml' is not plain or json"),
        ({**SANDBOX, "METRICS_TOKEN": "short"}, "METRICS_TOKEN is too short"),
        ({**SANDBOX, "ALERT_MAX_ATTEMPTS": "0"}, "ALERT_MAX_ATTEMPTS=0 is not between 1 and 100"),
        ({**SANDBOX, "ALERT_RETRY_SECONDS": "soon"}, "ALERT_RETRY_SECONDS='soon' is not a number"),
        ({**SANDBOX, "DASHBOARD_URL": "numbers.example.com"}, "DASHBOARD_URL='numbers.example.com' is not an http"),
        (
            {**SANDBOX, "METRICS_ALLOWED_IPS": "10.0.0.0/8,intranet"},
            "METRICS_ALLOWED_IPS: 'intranet' is not an address",
        ),
        ({**SANDBOX, "METRICS_PORT": "70000"}, "METRICS_PORT=70000 is not a port number"),
        (
            {**SANDBOX, "PROMETHEUS_MULTIPROC_DIR": "/nonexistent/metrics"},
            "PROMETHEUS_MULTIPROC_DIR='/nonexistent/metrics' is not",
        ),
    ],
)
def test_it_refuses_a_malformed_value_with_a_clear_message(env, message):
    assert message in refusal(env)


def test_a_malformed_key_is_not_echoed():
    said = refusal({"STAFFIFY_API_KEY": "sfy_live_SECRETSECRET", **SANDBOX})
    assert "STAFFIFY_API_KEY is malformed" in said
    assert "SECRETSECRET" not in said


def test_secrets_can_come_from_files(tmp_path):
    key = "sfy_live_" + "b" * 48
    (tmp_path / "key").write_text(key + "\n")
    assert load_settings({"STAFFIFY_API_KEY_FILE": str(tmp_path / "key"), **SANDBOX})["STAFFIFY_API_KEY"] == key


def test_with_the_sandbox_off_nothing_is_routed_under_sandbox():
    env = {"STAFFIFY_SANDBOX": "false", "SECRET_KEY": "k" * 50, "STAFFIFY_API_KEY": "sfy_live_" + "c" * 48}
    code = (
        "import django; django.setup(); from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/sandbox/v1/credits'); print('routed')\nexcept Resolver404:\n    print('absent')"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("STAFFIFY_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env, "DJANGO_SETTINGS_MODULE": "dashboard.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "absent"


ORG = "sfy_org_" + "a" * 48
LIVE = "sfy_live_" + "b" * 48


def test_one_key_and_no_projects_serve_one_project_as_before():
    assert load_settings({"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": LIVE})["STAFFIFY_PROJECTS"] == [
        {"slug": "main", "name": "Main", "id": None, "key": None}
    ]
    only = load_settings({"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": ORG, "STAFFIFY_PROJECT_ID": "proj_acme"})[
        "STAFFIFY_PROJECTS"
    ]
    assert only == [{"slug": "acme", "name": "proj_acme", "id": "proj_acme", "key": None}]


def test_an_org_key_serves_the_listed_projects_in_order():
    found = load_settings(
        {"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": ORG, "STAFFIFY_PROJECTS": "proj_acme=Acme Inc, proj_Bolt_2"}
    )
    assert found["STAFFIFY_PROJECTS"] == [
        {"slug": "acme", "name": "Acme Inc", "id": "proj_acme", "key": None},
        {"slug": "bolt-2", "name": "proj_Bolt_2", "id": "proj_Bolt_2", "key": None},
    ]


def test_project_keys_serve_their_projects(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"proj_acme={LIVE},proj_bolt={LIVE.replace('b', 'c')}\n")
    found = load_settings(
        {"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": LIVE, "STAFFIFY_PROJECT_KEYS_FILE": str(keys)}
    )["STAFFIFY_PROJECTS"]
    assert [(p["slug"], p["key"]) for p in found] == [("acme", LIVE), ("bolt", LIVE.replace("b", "c"))]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": ORG, "STAFFIFY_PROJECTS": "acme=Acme"},
            "'acme' is not a Staffify project id",
        ),
        (
            {"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": ORG, "STAFFIFY_PROJECTS": "proj_a=A,proj_a=B"},
            "names proj_a twice",
        ),
        (
            {"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": ORG, "STAFFIFY_PROJECTS": "proj_a-b=A,proj_a_b=B"},
            "not a Staffify project id",
        ),
        (
            {"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": LIVE, "STAFFIFY_PROJECTS": "proj_a=A,proj_b=B"},
            "with no key of its own",
        ),
        (
            {"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": ORG, "STAFFIFY_PROJECT_KEYS": "proj_a"},
            "STAFFIFY_PROJECT_KEYS is malformed",
        ),
        (
            {"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": ORG, "STAFFIFY_PROJECT_KEYS": "proj_a=sfy_live_x"},
            "the key for proj_a is malformed",
        ),
        (
            {"STAFFIFY_SANDBOX": "true", "STAFFIFY_API_KEY": ORG, "STAFFIFY_PROJECT_ID": "acme"},
            "is not a Staffify project id",
        ),
    ],
)
def test_a_malformed_project_list_stops_the_start_with_a_sentence(env, message):
    said = refusal(env)
    assert message in said
    assert "sfy_live_x" not in said  # a malformed key is named by its project, never echoed
