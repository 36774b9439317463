"""The dramatiq broker and actors.

Production workers are started with dramatiq's own command (``REDIS_URL`` set)::

    dramatiq core.tasks.worker --processes 2 --threads 4

Without ``REDIS_URL`` the broker is in-memory and ``tousu serve`` runs these same actors on
an in-process worker, so the embedded default needs no Redis. Actors are thin: they call the
service functions, which are idempotent (delivery is at least once, and a delivery is
claimed with a lease before its POST). Any exception is retried with backoff.
"""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware.asyncio import AsyncIO

from core.db import Database
from core.deadlines.sweep import sweep
from core.settings import Settings, load_settings
from core.tasks import webhooks


def make_broker(redis_url: str | None) -> dramatiq.Broker:
    """Redis when ``REDIS_URL`` is set (``TOUSU_REDIS_NAMESPACE`` keeps deployments sharing
    one Redis apart), else the in-memory broker of the embedded default."""
    broker: dramatiq.Broker
    if redis_url:
        namespace = os.environ.get("TOUSU_REDIS_NAMESPACE", "tousu")
        # A dead worker's unacked messages go back on the queue once it has missed
        # heartbeats for this long, checked on this share (per million) of broker commands;
        # dramatiq's defaults (60 s, 0.1%) can leave them stuck for minutes.
        broker = RedisBroker(
            url=redis_url,
            namespace=namespace,
            heartbeat_timeout=int(os.environ.get("TOUSU_REDIS_HEARTBEAT_MS", "30000")),
            maintenance_chance=int(os.environ.get("TOUSU_REDIS_MAINTENANCE_CHANCE", "20000")),
        )
    else:
        broker = StubBroker()
    broker.add_middleware(AsyncIO())
    return broker


settings = load_settings()
broker = make_broker(settings.redis_url)
dramatiq.set_broker(broker)

_db: Database | None = None
_config: webhooks.DeliveryConfig | None = None


def database() -> Database:
    """One engine per worker process, created on the worker's event loop."""
    global _db
    if _db is None:
        _db = Database(settings.database_url)
    return _db


def config() -> webhooks.DeliveryConfig:
    """The egress policy and lease, from this process's settings."""
    global _config
    if _config is None:
        _config = webhooks.DeliveryConfig.from_settings(settings)
    return _config


def use(app_settings: Settings) -> None:
    """Run the actors of this process with ``app_settings`` (the embedded server passes its
    own, so the in-process worker follows the app, not the environment). The engine is made
    afresh on the worker's own event loop: asyncpg connections belong to one loop."""
    global _db, _config, settings
    settings, _db = app_settings, None
    _config = webhooks.DeliveryConfig.from_settings(app_settings)


@dramatiq.actor(max_retries=5, min_backoff=1_000, max_backoff=60_000)
async def deliver_outbox(outbox_id: int, tenant_id: int) -> None:
    """An outbox event (messages queued by earlier versions): fan it out, enqueue each."""
    for delivery_id in await webhooks.fan_out(database(), tenant_id, outbox_id):
        send_webhook.send(delivery_id, tenant_id)


@dramatiq.actor(max_retries=10, min_backoff=1_000, max_backoff=60_000)
async def send_webhook(delivery_id: int, tenant_id: int) -> None:
    """Claim, POST and record one signed webhook delivery.

    A failed POST is recorded and this actor sends itself again after the delivery's
    backoff; any exception (database down) is retried by dramatiq with backoff; whatever
    still falls through (retries exhausted, message lost) the reaper enqueues again."""
    outcome = await webhooks.deliver(database(), tenant_id, delivery_id, config())
    if outcome.retry_in is not None:
        send_webhook.send_with_options(
            args=(delivery_id, tenant_id), delay=int(outcome.retry_in * 1000)
        )


@dramatiq.actor(max_retries=3, time_limit=300_000)
async def sweep_deadlines() -> None:
    """Warn of due-soon steps, flag breaches, notify the chain, auto-upgrade (idempotent)."""
    await sweep(database())
