"""Production (neither DEBUG nor the sandbox) is secure by default: `check --deploy` finds nothing with
only the README's production variables, and each setting can still be chosen explicitly."""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.dashboard.test_settings import run_settings

ROOT = Path(__file__).resolve().parents[2]
KEY = "sfy_live_" + "a" * 48
PRODUCTION = {"STAFFIFY_SANDBOX": "false", "SECRET_KEY": "k" * 50, "STAFFIFY_API_KEY": KEY}
HTTPS = "SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS"


def readme_production_env(tmp_path: Path) -> dict[str, str]:
    """The variables README.md's "Pointing at the real Staffify API" sets, with real secret files."""
    (tmp_path / "secret_key").write_text(secrets.token_urlsafe(50))
    (tmp_path / "api_key").write_text("sfy_live_" + secrets.token_hex(24))
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "STAFFIFY_SANDBOX": "false",
        "STAFFIFY_API_URL": "https://api.staffifyai.com/v1",
        "STAFFIFY_API_KEY_FILE": str(tmp_path / "api_key"),
        "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "numbers.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://numbers.example.com",
    }


def test_the_readme_names_those_variables():
    section = (ROOT / "README.md").read_text().split("## Pointing at the real Staffify API")[1].split("\n## ")[0]
    for name in ("STAFFIFY_SANDBOX=false", "STAFFIFY_API_URL", "STAFFIFY_API_KEY_FILE", "SECRET_KEY_FILE"):
        assert name in section
    for name in ("DATABASE_URL", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"):
        assert name in section


def test_check_deploy_is_clean_with_only_the_readme_variables(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=readme_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr


def test_check_deploy_would_warn_without_the_defaults(tmp_path):
    # The check above can fail: turning one default off makes it complain.
    env = {**readme_production_env(tmp_path), "SECURE_HSTS_SECONDS": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "security.W004" in result.stdout + result.stderr


def test_production_turns_https_on_without_variables():
    result = run_settings(PRODUCTION, HTTPS + ", settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True True True 31536000 True True"


@pytest.mark.parametrize(
    "env",
    [{"STAFFIFY_SANDBOX": "true"}, {"DEBUG": "true", "STAFFIFY_SANDBOX": "true"}, {**PRODUCTION, "DEBUG": "true"}],
)
def test_sandbox_and_debug_modes_keep_plain_http(env):
    result = run_settings(env, HTTPS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False False False 0"


def test_each_default_can_be_turned_off():
    env = {**PRODUCTION, "SECURE_SSL_REDIRECT": "false", "SECURE_HSTS_PRELOAD": "false"}
    result = run_settings(env, "SECURE_SSL_REDIRECT, settings.SECURE_HSTS_PRELOAD, settings.SESSION_COOKIE_SECURE")
    assert result.stdout.strip() == "False False True", result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "None"),
        ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"}, "('HTTP_X_FORWARDED_PROTO', 'https')"),
        ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Ssl:on"}, "('HTTP_X_FORWARDED_SSL', 'on')"),
        ({"SECURE_PROXY_SSL_HEADER_ENABLED": "true"}, "('HTTP_X_FORWARDED_PROTO', 'https')"),
    ],
)
def test_the_proxy_header_comes_from_the_environment(env, expected):
    result = run_settings(
        {**PRODUCTION, **env}, "SECURE_PROXY_SSL_HEADER if hasattr(settings, 'SECURE_PROXY_SSL_HEADER') else None"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize("value", ["X-Forwarded-Proto", "X Forwarded: https", "X-Forwarded-Proto:"])
def test_a_malformed_proxy_header_stops_the_start(value):
    result = run_settings({**PRODUCTION, "SECURE_PROXY_SSL_HEADER": value})
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER=" in result.stderr and "is malformed" in result.stderr


@pytest.mark.django_db
def test_production_redirects_to_https_but_not_the_health_checks_nor_the_metrics(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/accounts/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/accounts/login/"
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200  # load balancers and Prometheus reach the container
    assert client.get("/metrics").status_code in (401, 403)  # refused as such, not redirected
    secure = client.get("/accounts/login/", secure=True)
    assert secure.status_code == 200 and secure["Strict-Transport-Security"].startswith("max-age=31536000")


# --- Production unless told otherwise ---------------------------------------------------------------
# Each refusal's sentence, as the settings say it: one sentence naming what to set.
NO_SECRET = "SECRET_KEY (or SECRET_KEY_FILE) must be set"
NO_API_KEY = "STAFFIFY_API_KEY (or STAFFIFY_API_KEY_FILE) must be set to your Staffify API key"
DEMO_API_KEY = "STAFFIFY_API_KEY is the sandbox's public demo key: set it to your own Staffify API key"
SEEDED = [
    "sfy_live_" + "0123456789abcdef" * 3,
    "sfy_live_" + "feedface" * 6,
    "sfy_org_" + "0123456789abcdef" * 3,
    "sfy_live_" + "abcdef0123456789" * 3,
    "sfy_live_" + "deadbeef" * 6,
]


def start(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("left_out", "sentence"), [("SECRET_KEY_FILE", NO_SECRET), ("STAFFIFY_API_KEY_FILE", NO_API_KEY)]
)
def test_without_a_secret_the_app_refuses_to_start(tmp_path, left_out, sentence):
    env = readme_production_env(tmp_path)
    del env[left_out]
    result = start(env, "check", "--deploy")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {sentence}" in result.stderr, result.stderr


@pytest.mark.parametrize("key", SEEDED)
def test_a_key_the_sandbox_seeds_is_refused_outside_it(tmp_path, key):
    # In this process (the sentence is the same as a start's, proved once above): every seeded key.
    env = {**PRODUCTION, "STAFFIFY_API_KEY": key, "STAFFIFY_PROJECT_ID": "proj_demo"}
    result = run_settings(env)
    assert result.returncode == 1 and DEMO_API_KEY in result.stderr
    assert key not in result.stderr  # said without echoing it


def test_the_demo_key_stops_a_real_start(tmp_path):
    env = readme_production_env(tmp_path)
    (tmp_path / "api_key").write_text(SEEDED[0])
    result = start(env, "check")
    assert result.returncode != 0 and f"ImproperlyConfigured: {DEMO_API_KEY}" in result.stderr, result.stderr


def test_nothing_set_is_production_not_the_sandbox():
    result = run_settings({"SECRET_KEY": "k" * 50, "STAFFIFY_API_KEY": KEY}, "STAFFIFY_SANDBOX, settings.DEBUG")
    assert result.stdout.strip() == "False False", result.stderr
    assert NO_SECRET in run_settings({}).stderr


def test_check_deploy_says_the_sandbox_is_on_in_a_non_debug_process(tmp_path):
    env = {**readme_production_env(tmp_path), "STAFFIFY_SANDBOX": "true"}
    del env["STAFFIFY_API_KEY_FILE"]
    result = start(env, "check", "--deploy")
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "numbers.E001" in said and "numbers.E002" in said, said
    # Not under DEBUG (make run), and not without --deploy (the tests run the sandbox without DEBUG).
    debug = start({**env, "DEBUG": "true"}, "check", "--deploy")
    assert "numbers.E00" not in debug.stdout + debug.stderr
    assert start(env, "check").returncode == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_left_out_sandbox_serves_no_sandbox(tmp_path):
    """The README's production variables minus STAFFIFY_SANDBOX: a real server (gunicorn, as the image
    runs it) starts as production, and nothing answers under /sandbox/: not the API, not its controls."""
    env = readme_production_env(tmp_path)
    del env["STAFFIFY_SANDBOX"]
    env.update(ALLOWED_HOSTS="127.0.0.1", SECURE_PROXY_SSL_HEADER_ENABLED="true")  # behind a TLS proxy
    env["STATIC_ROOT"] = str(tmp_path / "static")
    assert start(env, "collectstatic", "--noinput", "-v", "0").returncode == 0  # no migration: no page here reads it
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dashboard.wsgi:application", "--bind", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        https = {"X-Forwarded-Proto": "https"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=https, timeout=5) as http:
            for _ in range(300):
                try:
                    http.get("/accounts/login/")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert http.get("/accounts/login/").status_code == 200
            # Plain HTTP is sent to HTTPS: production's default, no variable set.
            assert http.get("/accounts/login/", headers={"X-Forwarded-Proto": "http"}).status_code == 301
            demo = {"Authorization": "Bearer " + SEEDED[0]}
            for path in ("/sandbox/", "/sandbox/v1/credits", "/sandbox/v1/phone-numbers"):
                assert http.get(path, headers=demo).status_code == 404, path
            for path in ("/sandbox/control/reset", "/sandbox/control/clock", "/sandbox/control/balance"):
                assert http.post(path, headers=demo).status_code == 404, path
    finally:
        server.terminate()
        server.wait(10)
