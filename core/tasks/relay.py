"""The outbox relay: fans unsent outbox events out to durable deliveries, then enqueues them.

An event is done (``sent_at``) in the same transaction that writes its webhook deliveries,
per tenant; only then are ``send_webhook`` messages enqueued. The broker holds nothing the
database does not: when the enqueue fails (Redis down) the deliveries are marked as having
no message and the reaper (:func:`core.tasks.webhooks.reap`) enqueues them once the broker
is back; when a message is lost after the enqueue (Redis killed, the embedded in-memory
broker stopped) the reaper enqueues it again a lease later. Un-fanned events need no reaper
of their own: every relay pass takes whatever is unsent, in id order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import dramatiq

from core.db import Database
from core.tasks import webhooks

log = logging.getLogger("tousu.relay")
QUEUE = "default"


@dataclass
class RelayReport:
    sent: int = 0
    """Events fanned out and stamped sent."""
    enqueued: int = 0
    """Delivery messages handed to the broker."""
    failed: int = 0
    """Delivery messages the broker refused (left to the reaper)."""
    error: str = ""


def delivery_message(delivery_id: int, tenant_id: int) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=QUEUE,
        actor_name="send_webhook",
        args=(delivery_id, tenant_id),
        kwargs={},
        options={},
    )


def enqueuer(broker: dramatiq.Broker) -> Any:
    """``enqueue(delivery_id, tenant_id)`` on ``broker``."""

    def enqueue(delivery_id: int, tenant_id: int) -> None:
        broker.enqueue(delivery_message(delivery_id, tenant_id))

    return enqueue


async def relay_once(db: Database, broker: dramatiq.Broker, batch: int = 200) -> RelayReport:
    """One pass over every tenant with unsent events. Database errors propagate (the next
    pass retries); broker errors are reported and leave the work to the reaper."""
    report = RelayReport()
    enqueue = enqueuer(broker)
    for tenant_id in await webhooks.tenants_with_unsent_events(db):
        while True:
            done, ids = await webhooks.fan_out_pending(db, tenant_id, batch)
            report.sent += done
            rest = list(ids)
            if not report.error:
                while rest:
                    try:
                        enqueue(rest[0], tenant_id)
                    except Exception as exc:  # the broker is down: the reaper takes over
                        report.error = f"{type(exc).__name__}: {exc}"[:500]
                        log.warning("relay: broker refused a delivery: %s", report.error)
                        break
                    rest.pop(0)
                    report.enqueued += 1
            report.failed += len(rest)
            await webhooks.unqueue(db, tenant_id, rest)
            if done < batch:
                break
    return report
