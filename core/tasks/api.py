"""HTTP routes for in-app notifications and per-tenant webhooks."""

import datetime as dt
import secrets
from typing import Annotated, Any

import httpx
import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import utcnow
from core.errors import Invalid, NotFound
from core.people.guards import requires, tenant_member
from core.people.roles import Role
from core.strict import fits
from core.tasks.models import Notification, Webhook, WebhookDelivery
from core.web import database, principal


class NotificationOut(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    ticket_id: int | None
    message: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class WebhookIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, fits(Webhook.url, pattern=r"^https?://")]
    topics: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=50)] = []


class WebhookOut(msgspec.Struct, kw_only=True):
    id: int
    url: str
    topics: list[str]
    active: bool
    secret: str | None = None
    """Shown once, when the webhook is created."""


class DeliveryOut(msgspec.Struct, kw_only=True):
    id: int
    outbox_id: int
    status: str
    attempts: int
    response_code: int | None
    error: str
    delivered_at: dt.datetime | None


@get(
    "/api/notifications",
    operation_id="myNotifications",
    tags=["notifications"],
    guards=[tenant_member],
)
async def my_notifications(
    request: Request[Any, Any, Any], unread: FromQuery[bool] = False
) -> list[NotificationOut]:
    """The caller's in-app notifications, newest first."""
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        q = select(Notification).where(Notification.user_id == p.user_id)
        if unread:
            q = q.where(Notification.read_at.is_(None))
        rows = await scope.scalars(q.order_by(Notification.id.desc()).limit(200))
        return [
            NotificationOut(
                id=n.id,
                kind=n.kind,
                ticket_id=n.ticket_id,
                message=n.message,
                created_at=n.created_at,
                read_at=n.read_at,
            )
            for n in rows
        ]


@post(
    "/api/notifications/{notification_id:int}/read",
    operation_id="readNotification",
    tags=["notifications"],
    guards=[tenant_member],
    status_code=200,
)
async def read_notification(
    request: Request[Any, Any, Any], notification_id: FromPath[int]
) -> dict[str, Any]:
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        n = await scope.scalar(
            select(Notification).where(
                Notification.id == notification_id, Notification.user_id == p.user_id
            )
        )
        if n is None:
            raise NotFound(f"notification {notification_id} not found", field="notification_id")
        n.read_at = n.read_at or utcnow()
        return {"id": n.id, "read_at": n.read_at.isoformat()}


@post(
    "/api/webhooks",
    operation_id="createWebhook",
    tags=["webhooks"],
    guards=[tenant_member, requires(Role.TENANT_ADMIN)],
    status_code=201,
)
async def create_webhook(request: Request[Any, Any, Any], data: JSONBody[WebhookIn]) -> WebhookOut:
    """Register a URL for the tenant's events (all topics when ``topics`` is empty).

    Deliveries are signed: ``X-Tousu-Signature: sha256=HMAC(secret, body)``; the secret is
    returned once, here."""
    try:
        url = httpx.URL(data.url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("needs http(s) and a host")
    except (httpx.InvalidURL, ValueError) as exc:
        raise Invalid(f"not a usable URL: {exc}", field="url", rule="http(s)://host/...") from exc
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        hook = Webhook(url=data.url, topics=list(data.topics), secret=secrets.token_hex(24))
        scope.add(hook)
        await scope.flush()
        scope.add(
            AuditEvent(
                actor=f"user:{p.user_id}",
                action="create",
                entity="webhook",
                entity_key=str(hook.id),
                payload={"url": hook.url, "topics": hook.topics},
            )
        )
        return WebhookOut(
            id=hook.id, url=hook.url, topics=hook.topics, active=hook.active, secret=hook.secret
        )


@get(
    "/api/webhooks",
    operation_id="listWebhooks",
    tags=["webhooks"],
    guards=[tenant_member, requires(Role.TENANT_ADMIN)],
)
async def list_webhooks(request: Request[Any, Any, Any]) -> list[WebhookOut]:
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        rows = await scope.scalars(select(Webhook).order_by(Webhook.id))
        return [WebhookOut(id=w.id, url=w.url, topics=w.topics, active=w.active) for w in rows]


@get(
    "/api/webhooks/{webhook_id:int}/deliveries",
    operation_id="webhookDeliveries",
    tags=["webhooks"],
    guards=[tenant_member, requires(Role.TENANT_ADMIN)],
)
async def deliveries(
    request: Request[Any, Any, Any], webhook_id: FromPath[int]
) -> list[DeliveryOut]:
    """The delivery log: every attempt's outcome per event."""
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        if await scope.scalar(select(Webhook.id).where(Webhook.id == webhook_id)) is None:
            raise NotFound(f"webhook {webhook_id} not found", field="webhook_id")
        rows = await scope.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.id)
        )
        return [
            DeliveryOut(
                id=d.id,
                outbox_id=d.outbox_id,
                status=d.status,
                attempts=d.attempts,
                response_code=d.response_code,
                error=d.error,
                delivered_at=d.delivered_at,
            )
            for d in rows
        ]


ROUTES = [my_notifications, read_notification, create_webhook, list_webhooks, deliveries]
