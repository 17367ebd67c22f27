"""Alert deliveries counted for /metrics (prometheus_client, multiprocess-safe like the client's own):
by channel (inbox, email, webhook, slack) and outcome (sent, retry, failed, skipped)."""

from __future__ import annotations

from prometheus_client import Counter

DELIVERIES = Counter(
    "dashboard_alert_deliveries",
    "Alert messages handled, by channel (inbox, email, webhook, slack) and outcome (sent, retry, failed, skipped).",
    ["channel", "outcome"],
)
RAISED = Counter("dashboard_alerts_raised", "Alerts raised by the worker's rules, by kind.", ["kind"])


def delivered(channel: str, outcome: str) -> None:
    DELIVERIES.labels(channel, outcome).inc()
