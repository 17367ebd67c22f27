"""/metrics: who may read it, and what it says.

Access: a scraper whose address is in METRICS_ALLOWED_IPS, or one that sends
`Authorization: Bearer $METRICS_TOKEN`. A token configured but missing or wrong: 401 (with
WWW-Authenticate); nothing configured, or an address not listed: 403. Never a login redirect: a
scraper cannot log in. REMOTE_ADDR is the address (a proxy's address when behind one: list the
Prometheus server's own address, or use the token; X-Forwarded-For is never trusted here).

Content: the counters and histograms of every process (with PROMETHEUS_MULTIPROC_DIR, the files each
web process and the worker keep there, added up by prometheus_client), then, for the web's /metrics,
the state gauges read now (numbers_app.ops.gauges).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from dataclasses import dataclass

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from numbers_app.ops.gauges import StateCollector

# The classic text format (0.0.4), which every Prometheus reads; our names need none of 1.0.0's escaping.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    headers: dict[str, str]


def refusal(authorization: str | None, remote_addr: str | None) -> Refusal | None:
    """Why this scraper may not read /metrics, or None when it may."""
    if _listed(remote_addr):
        return None
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return Refusal(
            401,
            "Send the metrics token: Authorization: Bearer $METRICS_TOKEN.",
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if settings.METRICS_ALLOWED_IPS:
        return Refusal(403, "This address is not in METRICS_ALLOWED_IPS.", {})
    return Refusal(403, "Metrics are closed: set METRICS_TOKEN or METRICS_ALLOWED_IPS to open them.", {})


def _listed(remote_addr: str | None) -> bool:
    if not remote_addr or not settings.METRICS_ALLOWED_IPS:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_IPS)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_metrics() -> bytes:
    """The counters and histograms: every process's (multiprocess mode), else this process's own."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def state_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector())
    return generate_latest(registry)


def render(*, with_state: bool = True) -> bytes:
    """The whole text exposition: the counters, then the state gauges (their names never overlap)."""
    return process_metrics() + (state_metrics() if with_state else b"")
