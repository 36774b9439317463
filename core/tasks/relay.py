"""The outbox relay: hands unsent outbox events to dramatiq, then stamps them sent.

At-least-once: an event enqueued but not stamped (a crash in between) is enqueued again, and
the actors are idempotent. When the broker is unreachable (Redis down) nothing is stamped,
the API keeps writing events, and the backlog drains on the next successful pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dramatiq
from sqlalchemy import select

from core.db import Database, utcnow
from core.tasks.models import OutboxEvent

log = logging.getLogger("tousu.relay")
QUEUE = "default"


@dataclass
class RelayReport:
    sent: int = 0
    failed: int = 0
    error: str = ""


def message_for(event: OutboxEvent) -> dramatiq.Message:  # type: ignore[type-arg]
    return dramatiq.Message(
        queue_name=QUEUE,
        actor_name="deliver_outbox",
        args=(event.id, event.tenant_id),
        kwargs={},
        # The job logs (and writes) with the request id of the change (core.logs).
        options={"request_id": event.request_id} if event.request_id else {},
    )


async def relay_once(db: Database, broker: dramatiq.Broker, batch: int = 200) -> RelayReport:
    report = RelayReport()
    async with db.cross_tenant() as session:  # platform path: the outbox of every tenant
        events = list(
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.sent_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        for event in events:
            try:
                broker.enqueue(message_for(event))
            except Exception as exc:  # the broker is down: keep the rest for later
                event.attempts += 1
                event.last_error = f"{type(exc).__name__}: {exc}"[:500]
                report.failed = len(events) - report.sent
                report.error = event.last_error
                log.warning("outbox relay paused: %s", event.last_error)
                break
            event.sent_at = utcnow()
            report.sent += 1
    return report
