"""The dramatiq broker and actors.

Production workers are started with dramatiq's own command (``REDIS_URL`` set)::

    dramatiq core.tasks.worker --processes 2 --threads 4

Without ``REDIS_URL`` the broker is in-memory and ``tousu serve`` runs these same actors on
an in-process worker, so the embedded default needs no Redis. Actors are thin: they call the
service functions, which are idempotent (delivery is at least once).
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware.asyncio import AsyncIO

from core import logs, metrics
from core.db import Database
from core.deadlines.sweep import sweep
from core.settings import load_settings
from core.tasks import webhooks


def make_broker(redis_url: str | None) -> dramatiq.Broker:
    """Redis when ``REDIS_URL`` is set (``TOUSU_REDIS_NAMESPACE`` keeps deployments sharing
    one Redis apart), else the in-memory broker of the embedded default."""
    broker: dramatiq.Broker
    config = load_settings()
    if redis_url:
        # A dead worker's unacked messages go back on the queue once it has missed
        # heartbeats for this long, checked on this share (per million) of broker commands;
        # dramatiq's defaults (60 s, 0.1%) can leave them stuck for minutes.
        broker = RedisBroker(
            url=redis_url,
            namespace=config.redis_namespace,
            heartbeat_timeout=config.redis_heartbeat_ms,
            maintenance_chance=config.redis_maintenance_chance,
        )
    else:
        broker = StubBroker()
    broker.add_middleware(AsyncIO())
    # Each job logs with the request id of the change that caused it (core.logs).
    broker.add_middleware(logs.context_middleware())
    if redis_url and config.worker_metrics_port:
        from dramatiq.middleware.prometheus import Prometheus

        broker.add_middleware(Prometheus())  # `tousu worker` set its port and folder
    return broker


def _under_dramatiq() -> bool:
    """True in processes started by dramatiq's command (``tousu worker``)."""
    import sys

    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return bool(spec and spec.name.startswith("dramatiq")) or sys.argv[0].endswith("dramatiq")


settings = load_settings()
if _under_dramatiq():
    logs.configure()  # JSON lines with the job's request id, like the API's
broker = make_broker(settings.redis_url)
dramatiq.set_broker(broker)

_db: Database | None = None


def database() -> Database:
    """One engine per worker process, created on the worker's event loop."""
    global _db
    if _db is None:
        _db = Database(settings.database_url)
    return _db


@dramatiq.actor(max_retries=5, min_backoff=1_000, max_backoff=60_000)
async def deliver_outbox(outbox_id: int, tenant_id: int) -> None:
    """An outbox event: fan it out to the tenant's webhooks."""
    for delivery_id in await webhooks.fan_out(database(), tenant_id, outbox_id):
        send_webhook.send(delivery_id, tenant_id)


@dramatiq.actor(
    max_retries=webhooks.MAX_ATTEMPTS,
    min_backoff=2_000,
    max_backoff=600_000,
    retry_when=lambda retries, exc: isinstance(exc, webhooks.DeliveryFailed),
)
async def send_webhook(delivery_id: int, tenant_id: int) -> None:
    """POST one signed webhook delivery; failures retry with exponential backoff."""
    await webhooks.deliver(database(), tenant_id, delivery_id)


@dramatiq.actor(max_retries=3, time_limit=300_000)
async def sweep_deadlines() -> None:
    """Warn of due-soon steps, flag breaches, notify the chain, auto-upgrade (idempotent)."""
    with metrics.SWEEP_SECONDS.time():
        await sweep(database())


@dramatiq.actor(max_retries=0, time_limit=120_000)
async def send_outbound(message_id: int, tenant_id: int) -> None:
    """Send one email/SMS (core.notify); retries are scheduled by its row, not here."""
    from core.notify.outbound import send

    await send(database(), tenant_id, message_id)
