"""docs/ops/: the alert rules, Prometheus's configuration and the Grafana dashboard name only metrics
that /metrics exposes; promtool (Debian's `prometheus` package) checks the rules, their unit tests and
the configuration where it is installed; the compose profile `metrics` runs Prometheus with them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from numbers_app.models import SyncRun
from numbers_app.ops import exposition
from numbers_app.ops import worker as worker_metrics
from numbers_app.staffify import budget
from numbers_app.web import middleware as request_metrics

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "docs" / "ops"
METRIC = re.compile(r"\b(?:staffify|dashboard)_[a-z_]+\b")
ALERTS = {"DashboardWorkerDown", "DashboardMirrorStale", "StaffifyBudgetExhausted", "DashboardUnsettledWrites"}


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load((OPS / "alerts.yml").read_text())["groups"] for rule in group["rules"]]


def grafana_exprs() -> list[str]:
    dashboard = json.loads((OPS / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


@pytest.fixture
def exposed(db) -> set[str]:
    """Every metric name /metrics exposes, with its samples' suffixes (_total, _bucket, _count…): the
    web's request metrics and the worker's task metrics included (each process registers its own)."""
    assert request_metrics.REQUESTS and worker_metrics.TASKS
    now = timezone.now()
    budget.record({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "200", "X-RateLimit-Reset": "9999999999"})
    SyncRun.objects.create(state=SyncRun.State.OK, started_at=now - timedelta(seconds=3), finished_at=now, calls=2)
    names = set()
    for family in text_string_to_metric_families(exposition.render().decode()):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_count", "_sum"))
    return names


def test_the_alert_rules_cover_what_the_operator_must_hear_of():
    assert {rule["alert"] for rule in rules()} >= ALERTS
    for rule in rules():
        assert rule["expr"] and rule["labels"]["severity"] in {"critical", "warning"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_every_metric_the_rules_and_the_dashboard_name_is_exposed(exposed):
    named = {name for text in [rule["expr"] for rule in rules()] + grafana_exprs() for name in METRIC.findall(text)}
    assert named, "no metric found in docs/ops"
    assert named <= exposed, f"named in docs/ops but not exposed: {sorted(named - exposed)}"


def test_the_grafana_dashboard_imports_with_its_datasource():
    dashboard = json.loads((OPS / "grafana-dashboard.json").read_text())
    assert dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"]) >= 12
    assert all(panel["datasource"]["uid"] == "${DS_PROMETHEUS}" for panel in dashboard["panels"])


def test_the_compose_profile_runs_prometheus_over_the_web_and_the_worker():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    prometheus = compose["services"]["prometheus"]
    assert prometheus["profiles"] == ["metrics"]
    for volume in prometheus["volumes"][:2]:
        assert (ROOT / volume.split(":")[0]).is_file(), volume
    assert compose["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}
    assert compose["services"]["worker"]["environment"]["METRICS_PORT"] == "9100"
    assert "/readyz" in " ".join(compose["services"]["web"]["healthcheck"]["test"])
    config = yaml.safe_load((OPS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["web"]["dns_sd_configs"][0]["names"] == ["web"]
    assert jobs["worker"]["static_configs"][0]["targets"] == ["worker:9100"]
    for job in jobs.values():
        assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert config["rule_files"] == ["alerts.yml"]


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool is not installed (apt-get install prometheus)")
def test_promtool_accepts_the_rules_their_tests_and_the_configuration(tmp_path):
    def promtool(*args: str, cwd: Path = OPS) -> None:
        result = subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr

    promtool("check", "rules", "alerts.yml")
    promtool("test", "rules", "alerts.test.yml")
    # The configuration names the compose secret's path: checked with a token file of its own here.
    token = tmp_path / "token"
    token.write_text("a-token-for-promtool-0123456789")
    config = (OPS / "prometheus.yml").read_text().replace("/run/secrets/metrics_token", str(token))
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(OPS / "alerts.yml", tmp_path / "alerts.yml")
    promtool("check", "config", "prometheus.yml", cwd=tmp_path)
