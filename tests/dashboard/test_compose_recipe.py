"""docker-compose.yml's services, run as a script (Docker cannot run here): migrate once, two web
instances and a worker against PostgreSQL and Redis, /healthz and /readyz on both, the worker's
heartbeat, and /metrics on a web instance and the worker with the token (and not without)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.standalone
def test_the_compose_recipe_migrates_serves_twice_and_runs_the_worker():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CACHE_URL", "TASKS_BACKEND"))}
    env["PYTHON"] = sys.executable
    result = subprocess.run(
        ["scripts/compose-recipe.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compose recipe: OK" in result.stdout
    assert result.stdout.count('"status": "ok"') == 2
    assert "max-age=315360000, public, immutable" in result.stdout
    assert "The worker's last heartbeat was" in result.stdout
    assert result.stdout.count('"status": "ready"') == 2
    assert "== web /metrics:" in result.stdout
    assert '== worker /metrics: dashboard_tasks_total{outcome="successful",task="heartbeat"}' in result.stdout


def test_the_compose_file_keeps_its_promises():
    text = (ROOT / "docker-compose.yml").read_text()
    for service in ("postgres:", "redis:", "migrate:", "web:", "worker:"):
        assert f"\n  {service}\n" in text, service
    assert "replicas: 2" in text
    assert 'command: ["scripts/docker-entrypoint.sh", "worker"]' in text
    assert 'command: ["scripts/docker-entrypoint.sh", "migrate"]' in text
    assert 'MIGRATE: "false"' in text  # the replicas leave migrating to the migrate service
    assert "CACHE_URL: redis://redis:6379/1" in text
    assert "condition: service_completed_successfully" in text
    assert "worker_status" in text
    assert "PROMETHEUS_MULTIPROC_DIR: /run/metrics" in text
    assert 'METRICS_PORT: "9100"' in text


def test_the_entrypoint_refuses_an_unknown_role():
    result = subprocess.run(["scripts/docker-entrypoint.sh", "nonsense"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "usage" in result.stderr
