"""Per-tenant webhooks: fan an outbox event out to deliveries, and deliver one, signed.

The body is the event's JSON; ``X-Tousu-Signature: sha256=<hex>`` is the HMAC-SHA256 of the
body with the webhook's secret. Each (webhook, event) pair has one delivery row — the log —
so a retried or duplicated message never delivers twice.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx
import msgspec
from sqlalchemy import select

from core import metrics
from core.db import Database, utcnow
from core.tasks.models import OutboxEvent, Webhook, WebhookDelivery

MAX_ATTEMPTS = 8


class DeliveryFailed(RuntimeError):
    """Raised so dramatiq retries the delivery with backoff."""


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def fan_out(db: Database, tenant_id: int, outbox_id: int) -> list[int]:
    """Create the deliveries of one event (idempotent); return those still pending."""
    async with db.tenant(tenant_id) as scope:
        event = await scope.session.get(OutboxEvent, outbox_id)
        if event is None:
            return []
        hooks = [
            w
            for w in await scope.scalars(select(Webhook).where(Webhook.active.is_(True)))
            if not w.topics or event.topic in w.topics
        ]
        await scope.insert_ignore(
            WebhookDelivery,
            [
                {
                    "webhook_id": w.id,
                    "outbox_id": event.id,
                    "status": "pending",
                    "attempts": 0,
                    "error": "",
                    "created_at": utcnow(),
                }
                for w in hooks
            ],
        )
        pending = await scope.scalars(
            select(WebhookDelivery.id).where(
                WebhookDelivery.outbox_id == event.id, WebhookDelivery.status == "pending"
            )
        )
        return list(pending)


async def deliver(
    db: Database, tenant_id: int, delivery_id: int, client: httpx.AsyncClient | None = None
) -> str:
    """POST one delivery; raise :class:`DeliveryFailed` on failure so the actor retries."""
    async with db.tenant(tenant_id) as scope:
        delivery = await scope.session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return delivery.status if delivery else "missing"
        hook = await scope.session.get(Webhook, delivery.webhook_id)
        event = await scope.session.get(OutboxEvent, delivery.outbox_id)
        assert hook is not None and event is not None
        body = msgspec.json.encode(
            {
                "id": event.id,
                "topic": event.topic,
                "created_at": event.created_at,
                "data": event.payload,
            }
        )
        headers = {
            "Content-Type": "application/json",
            "X-Tousu-Event": event.topic,
            "X-Tousu-Delivery": str(delivery.id),
            "X-Tousu-Signature": sign(hook.secret, body),
        }
        url = hook.url
    error, code = "", None
    try:
        if client is None:
            async with httpx.AsyncClient(timeout=10) as own:
                resp = await own.post(url, content=body, headers=headers)
        else:
            resp = await client.post(url, content=body, headers=headers)
        code = resp.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except Exception as exc:  # any failure is logged on the delivery and retried
        error = f"{type(exc).__name__}: {exc}"
    async with db.tenant(tenant_id) as scope:
        delivery = await scope.session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        delivery.attempts, delivery.response_code = delivery.attempts + 1, code
        if not error:
            delivery.status, delivery.delivered_at, delivery.error = "delivered", utcnow(), ""
        else:
            delivery.error = error[:500]
            metrics.webhook_failed(tenant_id)
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = "failed"
        status = delivery.status
    if error and status == "pending":
        raise DeliveryFailed(error)
    return status
