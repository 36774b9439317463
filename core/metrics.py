"""Prometheus metrics: what the service does, labelled by tenant where cardinality allows.

The API serves them at ``GET /metrics`` (with Litestar's request metrics: latency by route
template, method and status); workers started with ``tousu worker`` serve theirs on
``TOUSU_WORKER_METRICS_PORT`` through dramatiq's Prometheus middleware (messages, retries,
durations by actor, plus the counters below that workers move). Tenants are labelled by
id (a bounded set: one per company on the deployment); nothing is labelled by ticket,
user or anything else unbounded.

| metric | type | labels |
|---|---|---|
| ``tousu_tickets_created_total`` | counter | tenant |
| ``tousu_transitions_total`` | counter | tenant, action |
| ``tousu_clocks_breached_total`` | counter | tenant |
| ``tousu_sweep_duration_seconds`` | histogram | |
| ``tousu_outbox_depth`` / ``tousu_outbox_lag_seconds`` | gauge (read at scrape) | |
| ``tousu_outbound_depth`` | gauge (read at scrape) | |
| ``tousu_webhook_failures_total`` | counter | tenant |
| ``tousu_notifications_sent_total`` | counter | tenant, channel |
| ``tousu_notification_failures_total`` | counter | tenant, channel |

The gauges read at scrape time are set by :func:`core.health.read_queues` (it reads the
outbox's and the outbound messages' tables: this kernel module imports no area).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

TICKETS_CREATED = Counter("tousu_tickets_created", "Complaints recorded", ["tenant"])
TRANSITIONS = Counter("tousu_transitions", "Lifecycle transitions done", ["tenant", "action"])
CLOCKS_BREACHED = Counter(
    "tousu_clocks_breached", "Step clocks found past their deadline", ["tenant"]
)
SWEEP_SECONDS = Histogram(
    "tousu_sweep_duration_seconds",
    "Time one deadline sweep took",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
OUTBOX_DEPTH = Gauge("tousu_outbox_depth", "Outbox events not yet relayed", multiprocess_mode="max")
OUTBOX_LAG = Gauge(
    "tousu_outbox_lag_seconds",
    "Age of the oldest outbox event not yet relayed (0 when none)",
    multiprocess_mode="max",
)
OUTBOUND_DEPTH = Gauge(
    "tousu_outbound_depth",
    "Email/SMS messages waiting to be sent (pending or sending)",
    multiprocess_mode="max",
)
WEBHOOK_FAILURES = Counter(
    "tousu_webhook_failures", "Webhook delivery attempts that failed", ["tenant"]
)
NOTIFICATIONS_SENT = Counter(
    "tousu_notifications_sent",
    "Email/SMS messages accepted by their channel",
    ["tenant", "channel"],
)
NOTIFICATION_FAILURES = Counter(
    "tousu_notification_failures",
    "Email/SMS send attempts that failed",
    ["tenant", "channel"],
)


def ticket_created(tenant_id: int | None) -> None:
    TICKETS_CREATED.labels(tenant=str(tenant_id)).inc()


def transition(tenant_id: int | None, action: str) -> None:
    TRANSITIONS.labels(tenant=str(tenant_id), action=action).inc()


def clock_breached(tenant_id: int) -> None:
    CLOCKS_BREACHED.labels(tenant=str(tenant_id)).inc()


def webhook_failed(tenant_id: int) -> None:
    WEBHOOK_FAILURES.labels(tenant=str(tenant_id)).inc()


def notifications_sent(tenant_id: int, channel: str) -> None:
    NOTIFICATIONS_SENT.labels(tenant=str(tenant_id), channel=channel).inc()


def notification_failed(tenant_id: int, channel: str) -> None:
    NOTIFICATION_FAILURES.labels(tenant=str(tenant_id), channel=channel).inc()


def http_middleware() -> Any:
    """Litestar's Prometheus middleware: request count and latency by route template,
    method and status (``tousu_http_request_duration_seconds`` and friends)."""
    from litestar.plugins.prometheus import PrometheusConfig

    return PrometheusConfig(
        app_name="tousu",
        prefix="tousu_http",
        group_path=True,  # /api/tickets/{ticket_id:int}, not one series per ticket
        exclude=["^/metrics", "^/health", "^/ready"],
    ).middleware
