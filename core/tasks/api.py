"""HTTP routes for in-app notifications and per-tenant webhooks."""

import datetime as dt
import secrets
from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta
from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import TenantScope, utcnow
from core.egress import EgressPolicy, EgressRefused, check_url
from core.errors import Conflict, Invalid, NotFound
from core.notify import kinds
from core.people.guards import requires, tenant_member
from core.people.roles import Role
from core.people.web import database, principal
from core.strict import fits
from core.tasks.models import Notification, Webhook, WebhookDelivery


class NotificationOut(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    """One of the kinds of :mod:`core.notify.kinds` (``ticket_dispatched``, ...)."""
    ticket_id: int | None
    message: str
    """The notice in the reader's language (``Accept-Language``; Chinese by default)."""
    params: dict[str, Any] | None
    """What the notice says, as codes, ids and ISO instants (None: a row stored before)."""
    link: str | None
    """The console page of its ticket (``/tickets/{id}``), or None."""
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
    """Also sent as ``X-Tousu-Delivery``: a receiver drops a second POST with the same id."""
    outbox_id: int
    """The event's id: ``id`` in the body and ``X-Tousu-Event-Id``."""
    status: str
    """pending | delivered | failed."""
    attempts: int
    """POSTs begun (a retry after a failure, or after a worker died mid-POST, adds one)."""
    response_code: int | None
    error: str
    """A generic reason for the last failure (``HTTP 503``, ``连接失败…``), never raw errors."""
    delivered_at: dt.datetime | None
    next_attempt_at: dt.datetime | None = None
    """When a pending delivery is tried again (UTC)."""


def _delivery_out(d: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        outbox_id=d.outbox_id,
        status=d.status,
        attempts=d.attempts,
        response_code=d.response_code,
        error=d.error,
        delivered_at=d.delivered_at,
        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
    )


def _webhook_out(w: Webhook) -> WebhookOut:
    return WebhookOut(id=w.id, url=w.url, topics=w.topics, active=w.active)


async def _webhook(scope: TenantScope, webhook_id: int) -> Webhook:
    """The tenant's webhook or 404 (another tenant's webhook is not found either)."""
    hook = await scope.scalar(select(Webhook).where(Webhook.id == webhook_id))
    if hook is None:
        raise NotFound(f"webhook_id: 找不到 webhook {webhook_id}", field="webhook_id")
    return hook  # type: ignore[no-any-return]


def _audit(
    scope: TenantScope, user_id: int | None, action: str, entity: str, key: int, **payload: Any
) -> None:
    scope.add(
        AuditEvent(
            actor=f"user:{user_id}",
            action=action,
            entity=entity,
            entity_key=str(key),
            payload=payload,
        )
    )


@get(
    "/api/notifications",
    operation_id="myNotifications",
    tags=["notifications"],
    guards=[tenant_member],
)
async def my_notifications(
    request: Request[Any, Any, Any], unread: FromQuery[bool] = False
) -> list[NotificationOut]:
    """The caller's in-app notifications, newest first, each written in the reader's
    language (``Accept-Language``: Chinese by default, ``en``; in the console its own
    language) with its parameters and its ticket's link."""
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        q = select(Notification).where(Notification.user_id == p.user_id)
        if unread:
            q = q.where(Notification.read_at.is_(None))
        rows = list(await scope.scalars(q.order_by(Notification.id.desc()).limit(200)))
        ctx = await kinds.context(scope, kinds.reader_language(request))
        return [
            NotificationOut(
                id=n.id,
                kind=n.kind,
                ticket_id=n.ticket_id,
                message=kinds.render(n.kind, n.params, ctx, n.message),
                params=n.params,
                link=kinds.link(n.ticket_id, absolute=False),
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

    Deliveries are signed the Standard Webhooks way (``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``; docs/webhooks.md) with the secret, returned once, here; the legacy
    ``X-Tousu-Signature: sha256=HMAC(secret, body)`` is sent too during the transition. Each
    POST carries ``X-Tousu-Delivery`` (delivery id) and
    ``X-Tousu-Event-Id`` (event id) for the receiver to drop duplicates.

    422 when the URL is not http(s) with a host, or its host is — or resolves to — an address
    that is not global (loopback, private, link-local, CGNAT, multicast, reserved, IPv6
    ULA/link-local, IPv4-mapped; in any numeric spelling) unless the operator admits its
    network (``TOUSU_WEBHOOK_ALLOW_NETS``); the same check runs again at every delivery."""
    policy = EgressPolicy.from_text(request.app.state.settings.webhook_allow_nets)
    try:
        await check_url(data.url, policy)
    except ValueError as exc:
        raise Invalid(
            f"url: 不是可用的 URL：{exc}", field="url", rule="http(s)://host/..."
        ) from exc
    except EgressRefused as exc:
        raise Invalid(
            f"url: {exc.reason}；webhook 只能发往公网地址", field="url", rule="global address"
        ) from exc
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
        return [_webhook_out(w) for w in rows]


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
        await _webhook(scope, webhook_id)
        rows = await scope.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.id)
        )
        return [_delivery_out(d) for d in rows]


@post(
    "/api/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/redeliver",
    operation_id="redeliverWebhookDelivery",
    tags=["webhooks"],
    guards=[tenant_member, requires(Role.TENANT_ADMIN)],
    status_code=200,
)
async def redeliver(
    request: Request[Any, Any, Any], webhook_id: FromPath[int], delivery_id: FromPath[int]
) -> DeliveryOut:
    """Send one delivery again (delivered, failed or waiting for its retry): it becomes
    ``pending``, due now, and the reaper enqueues it within ``TOUSU_REAPER_SECONDS``; the
    receiver gets the same delivery id and event id again. Audited.

    404 for an unknown (or another tenant's) webhook or delivery; 409 while a worker is
    POSTing it."""
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        await _webhook(scope, webhook_id)
        d = await scope.scalar(
            select(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook_id)
            .with_for_update()
        )
        if d is None:
            raise NotFound(f"delivery_id: 找不到投递记录 {delivery_id}", field="delivery_id")
        now = utcnow()
        if d.status == "pending" and d.lease_until is not None and d.lease_until >= now:
            raise Conflict(
                f"delivery_id: 投递 {delivery_id} 正在发送中，请稍后再试",
                field="delivery_id",
                rule="not while being delivered",
            )
        before = d.status
        d.status, d.next_attempt_at, d.queued_at = "pending", None, None
        d.lease_until, d.lease_token, d.delivered_at = None, "", None
        _audit(
            scope,
            p.user_id,
            "redeliver",
            "webhook_delivery",
            d.id,
            webhook_id=webhook_id,
            outbox_id=d.outbox_id,
            previous_status=before,
        )
        return _delivery_out(d)


async def _set_active(request: Request[Any, Any, Any], webhook_id: int, active: bool) -> WebhookOut:
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        hook = await _webhook(scope, webhook_id)
        if hook.active != active:
            hook.active = active
            _audit(
                scope,
                p.user_id,
                "enable" if active else "disable",
                "webhook",
                hook.id,
                url=hook.url,
            )
        return _webhook_out(hook)


@post(
    "/api/webhooks/{webhook_id:int}/disable",
    operation_id="disableWebhook",
    tags=["webhooks"],
    guards=[tenant_member, requires(Role.TENANT_ADMIN)],
    status_code=200,
)
async def disable_webhook(request: Request[Any, Any, Any], webhook_id: FromPath[int]) -> WebhookOut:
    """Stop sending: new events are not fanned out to it and its pending deliveries wait
    (they go out if it is enabled again). Audited; 404 for an unknown webhook."""
    return await _set_active(request, webhook_id, False)


@post(
    "/api/webhooks/{webhook_id:int}/enable",
    operation_id="enableWebhook",
    tags=["webhooks"],
    guards=[tenant_member, requires(Role.TENANT_ADMIN)],
    status_code=200,
)
async def enable_webhook(request: Request[Any, Any, Any], webhook_id: FromPath[int]) -> WebhookOut:
    """Resume sending, pending deliveries included. Audited; 404 for an unknown webhook."""
    return await _set_active(request, webhook_id, True)


@delete(
    "/api/webhooks/{webhook_id:int}",
    operation_id="deleteWebhook",
    tags=["webhooks"],
    guards=[tenant_member, requires(Role.TENANT_ADMIN)],
    status_code=204,
)
async def delete_webhook(request: Request[Any, Any, Any], webhook_id: FromPath[int]) -> None:
    """Delete the webhook and its delivery log; nothing more is sent to it (a worker that
    already claimed a delivery finishes that one POST). Audited; 404 for an unknown one."""
    p = principal(request)
    async with database(request).tenant(p.tenant_id) as scope:  # type: ignore[arg-type]
        hook = await _webhook(scope, webhook_id)
        await scope.execute(
            sql_delete(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == hook.id)
            .execution_options(synchronize_session=False)
        )
        _audit(scope, p.user_id, "delete", "webhook", hook.id, url=hook.url, topics=hook.topics)
        await scope.session.delete(hook)


ROUTES = [
    my_notifications,
    read_notification,
    create_webhook,
    list_webhooks,
    deliveries,
    redeliver,
    disable_webhook,
    enable_webhook,
    delete_webhook,
]
