"""The dramatiq broker and actors.

Production workers are started with dramatiq's own command (``TOUSU_BROKER_URL`` — RabbitMQ
or Redis — or ``REDIS_URL`` set)::

    dramatiq core.jobs.worker --processes 2 --threads 4

Without either the broker is in-memory and ``tousu serve`` runs these same actors on
an in-process worker, so the embedded default needs no Redis. Actors are thin: they call the
service functions, which are idempotent (delivery is at least once, and a delivery is
claimed with a lease before its POST). Any exception is retried with backoff.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware.asyncio import AsyncIO

from core import logs, metrics
from core.db import Database, EngineOptions
from core.jobs.sweep import sweep
from core.settings import Settings, current, load_settings
from core.settings import use as use_settings
from core.tasks import webhooks


def make_broker(url: str | None, config: Settings | None = None) -> dramatiq.Broker:
    """The jobs broker for ``url`` (``TOUSU_BROKER_URL``, else ``REDIS_URL``):

    * ``amqp://user:password@host:5672/vhost`` — RabbitMQ (publisher confirms on: a message
      is acknowledged by the broker before ``send`` returns; the vhost keeps deployments
      apart);
    * ``redis://…`` or ``redis+sentinel://…`` (:mod:`core.redis_clients`) — Redis
      (``TOUSU_REDIS_NAMESPACE`` keeps deployments sharing one Redis apart);
    * unset — the in-memory broker of the embedded default.

    ``config``: the caller's settings (namespace, heartbeat, worker metrics); without them
    the environment's, as this module's own broker at a worker process's start."""
    broker: dramatiq.Broker
    config = config or current()
    if url and url.lower().startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    elif url:
        from core.redis_clients import sync_client

        # A dead worker's unacked messages go back on the queue once it has missed
        # heartbeats for this long, checked on this share (per million) of broker commands;
        # dramatiq's defaults (60 s, 0.1%) can leave them stuck for minutes.
        broker = RedisBroker(
            client=sync_client(url),
            namespace=config.redis_namespace,
            heartbeat_timeout=config.redis_heartbeat_ms,
            maintenance_chance=config.redis_maintenance_chance,
        )
    else:
        broker = StubBroker()
    broker.add_middleware(AsyncIO())
    # Each job logs with the request id of the change that caused it (core.logs).
    broker.add_middleware(logs.context_middleware())
    if url and config.worker_metrics_port:
        from dramatiq.middleware.prometheus import Prometheus

        broker.add_middleware(Prometheus())  # `tousu worker` set its port and folder
    return broker


def _under_dramatiq() -> bool:
    """True in processes started by dramatiq's command (``tousu worker``)."""
    import sys

    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return bool(spec and spec.name.startswith("dramatiq")) or sys.argv[0].endswith("dramatiq")


if _under_dramatiq():  # the worker process's entry point: its environment is its config
    settings = use_settings(load_settings())
    logs.configure(settings.log_format, settings.log_level)  # JSON lines, with request ids
else:  # imported by the API or the CLI: the settings their entry point read
    settings = current()
broker = make_broker(settings.broker, settings)
dramatiq.set_broker(broker)

_db: Database | None = None
_config: webhooks.DeliveryConfig | None = None


def database() -> Database:
    """One engine per worker process, created on the worker's event loop."""
    global _db
    if _db is None:
        _db = Database(settings.database_url, EngineOptions.from_settings(settings))
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
    settings, _db = use_settings(app_settings), None
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
    with metrics.SWEEP_SECONDS.time():
        await sweep(database())


@dramatiq.actor(max_retries=0, time_limit=120_000)
async def send_outbound(message_id: int, tenant_id: int) -> None:
    """Send one email/SMS (core.notify); retries are scheduled by its row, not here."""
    from core.notify.outbound import send

    await send(database(), tenant_id, message_id, settings.public_url)
