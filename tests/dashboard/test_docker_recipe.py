"""The Dockerfile's steps, run as a script (Docker cannot run here): fresh venv, collectstatic,
check --deploy without a warning, gunicorn, GET /healthz."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.standalone
def test_the_image_recipe_builds_checks_and_serves():
    result = subprocess.run(["scripts/docker-recipe.sh"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "docker recipe: OK" in result.stdout
    assert "System check identified no issues" in result.stdout + result.stderr


def test_the_dockerfile_keeps_its_promises():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.13-slim" in text
    assert "USER app" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert "collectstatic" in text
    assert "STAFFIFY_SANDBOX=false" in text and "STAFFIFY_SANDBOX=true" not in text  # hashed files, as served
    assert "pip install --no-cache-dir -r requirements.txt" in text
    assert 'CMD ["scripts/docker-entrypoint.sh"]' in text
