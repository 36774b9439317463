"""HTTP routes for in-app notifications and per-tenant webhooks."""

import datetime as dt
import secrets
from typing import Annotated, Any

import msgspec
from litestar import Request, Router, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ControllerRouterHandler
from msgspec import Meta
from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from core.audit import AuditEvent
from core.context import PrincipalDep, SettingsDep, TenantScopeDep
from core.db import TenantScope, utcnow
from core.egress import EgressPolicy, EgressRefused, check_url
from core.errors import Conflict, Invalid, NotFound
from core.notify import kinds
from core.people.guards import requires
from core.people.roles import Role
from core.strict import fits
from core.tasks.models import Notification, Webhook, WebhookDelivery

ADMIN_GUARDS = [requires(Role.TENANT_ADMIN)]  # the webhook routes (and the console's admin page)


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
    out = msgspec.convert(d, DeliveryOut, from_attributes=True)
    # the next attempt only means something while the delivery is pending
    return out if d.status == "pending" else msgspec.structs.replace(out, next_attempt_at=None)


def _webhook_out(w: Webhook) -> WebhookOut:
    # never the secret: it is shown once, by create_webhook
    return WebhookOut(id=w.id, url=w.url, topics=w.topics, active=w.active)


async def _webhook(scope: TenantScope, webhook_id: int) -> Webhook:
    """The tenant's webhook or 404 (another tenant's webhook is not found either)."""
    hook = await scope.scalar(select(Webhook).where(Webhook.id == webhook_id))
    if hook is None:
        raise NotFound(
            "webhook_id: webhook {id} not found", field="webhook_id", params={"id": webhook_id}
        )
    assert isinstance(hook, Webhook)
    return hook


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
)
async def my_notifications(
    request: Request[Any, Any, Any],
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    unread: FromQuery[bool] = False,
) -> list[NotificationOut]:
    """The caller's in-app notifications, newest first, each written in the reader's
    language (``Accept-Language``: Chinese by default, ``en``; in the console its own
    language) with its parameters and its ticket's link."""
    # ``request`` stays: the reader's language is in its headers (or the console's cookie)
    q = select(Notification).where(Notification.user_id == principal.user_id)
    if unread:
        q = q.where(Notification.read_at.is_(None))
    rows = list(await tenant.scalars(q.order_by(Notification.id.desc()).limit(200)))
    ctx = await kinds.context(tenant, kinds.reader_language(request))
    # hand-built: the message is written for the reader and the link is not a column
    return [
        NotificationOut(
            id=n.id,
            kind=n.kind,
            ticket_id=n.ticket_id,
            message=kinds.render(n.kind, n.params, ctx, n.message),
            params=n.params,
            link=kinds.link(n.ticket_id),
            created_at=n.created_at,
            read_at=n.read_at,
        )
        for n in rows
    ]


@post(
    "/api/notifications/{notification_id:int}/read",
    operation_id="readNotification",
    tags=["notifications"],
    status_code=200,
)
async def read_notification(
    tenant: TenantScopeDep, principal: PrincipalDep, notification_id: FromPath[int]
) -> dict[str, Any]:
    n = await tenant.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == principal.user_id
        )
    )
    if n is None:
        raise NotFound(
            "notification {id} not found",
            field="notification_id",
            params={"id": notification_id},
        )
    n.read_at = n.read_at or utcnow()
    return {"id": n.id, "read_at": n.read_at.isoformat()}


# ---------------------------------------------------------------- webhooks
# Every route below is the tenant admin's and lives under ``/api/webhooks`` (:data:`WEBHOOKS`).


@post("/", operation_id="createWebhook", status_code=201)
async def create_webhook(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    data: JSONBody[WebhookIn],
) -> WebhookOut:
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
    policy = EgressPolicy.from_text(settings.webhook_allow_nets)
    try:
        await check_url(data.url, policy)
    except ValueError as exc:
        raise Invalid(
            "url: not a usable URL: {reason}",
            field="url",
            rule="http(s)://host/...",
            params={"reason": exc},
        ) from exc
    except EgressRefused as exc:
        raise Invalid(
            "url: {reason}; a webhook may only be sent to a public address",
            field="url",
            rule="global address",
            params={"reason": exc.reason},
        ) from exc
    hook = Webhook(url=data.url, topics=list(data.topics), secret=secrets.token_hex(24))
    tenant.add(hook)
    await tenant.flush()
    _audit(
        tenant, principal.user_id, "create", "webhook", hook.id, url=hook.url, topics=hook.topics
    )
    return msgspec.convert(hook, WebhookOut, from_attributes=True)  # the secret, this once


@get("/", operation_id="listWebhooks")
async def list_webhooks(tenant: TenantScopeDep) -> list[WebhookOut]:
    rows = await tenant.scalars(select(Webhook).order_by(Webhook.id))
    return [_webhook_out(w) for w in rows]


@get("/{webhook_id:int}/deliveries", operation_id="webhookDeliveries")
async def deliveries(tenant: TenantScopeDep, webhook_id: FromPath[int]) -> list[DeliveryOut]:
    """The delivery log: every attempt's outcome per event."""
    await _webhook(tenant, webhook_id)
    rows = await tenant.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id)
    )
    return [_delivery_out(d) for d in rows]


@post(
    "/{webhook_id:int}/deliveries/{delivery_id:int}/redeliver",
    operation_id="redeliverWebhookDelivery",
    status_code=200,
)
async def redeliver(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    webhook_id: FromPath[int],
    delivery_id: FromPath[int],
) -> DeliveryOut:
    """Send one delivery again (delivered, failed or waiting for its retry): it becomes
    ``pending``, due now, and the reaper enqueues it within ``TOUSU_REAPER_SECONDS``; the
    receiver gets the same delivery id and event id again. Audited.

    404 for an unknown (or another tenant's) webhook or delivery; 409 while a worker is
    POSTing it."""
    await _webhook(tenant, webhook_id)
    d = await tenant.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook_id)
        .with_for_update()
    )
    if d is None:
        raise NotFound(
            "delivery_id: delivery {id} not found",
            field="delivery_id",
            params={"id": delivery_id},
        )
    now = utcnow()
    if d.status == "pending" and d.lease_until is not None and d.lease_until >= now:
        raise Conflict(
            "delivery_id: delivery {id} is being sent; try again shortly",
            field="delivery_id",
            rule="not while being delivered",
            params={"id": delivery_id},
        )
    before = d.status
    d.status, d.next_attempt_at, d.queued_at = "pending", None, None
    d.lease_until, d.lease_token, d.delivered_at = None, "", None
    _audit(
        tenant,
        principal.user_id,
        "redeliver",
        "webhook_delivery",
        d.id,
        webhook_id=webhook_id,
        outbox_id=d.outbox_id,
        previous_status=before,
    )
    return _delivery_out(d)


async def _set_active(
    tenant: TenantScope, user_id: int | None, webhook_id: int, active: bool
) -> WebhookOut:
    hook = await _webhook(tenant, webhook_id)
    if hook.active != active:
        hook.active = active
        _audit(tenant, user_id, "enable" if active else "disable", "webhook", hook.id, url=hook.url)
    return _webhook_out(hook)


@post("/{webhook_id:int}/disable", operation_id="disableWebhook", status_code=200)
async def disable_webhook(
    tenant: TenantScopeDep, principal: PrincipalDep, webhook_id: FromPath[int]
) -> WebhookOut:
    """Stop sending: new events are not fanned out to it and its pending deliveries wait
    (they go out if it is enabled again). Audited; 404 for an unknown webhook."""
    return await _set_active(tenant, principal.user_id, webhook_id, False)


@post("/{webhook_id:int}/enable", operation_id="enableWebhook", status_code=200)
async def enable_webhook(
    tenant: TenantScopeDep, principal: PrincipalDep, webhook_id: FromPath[int]
) -> WebhookOut:
    """Resume sending, pending deliveries included. Audited; 404 for an unknown webhook."""
    return await _set_active(tenant, principal.user_id, webhook_id, True)


@delete("/{webhook_id:int}", operation_id="deleteWebhook", status_code=204)
async def delete_webhook(
    tenant: TenantScopeDep, principal: PrincipalDep, webhook_id: FromPath[int]
) -> None:
    """Delete the webhook and its delivery log; nothing more is sent to it (a worker that
    already claimed a delivery finishes that one POST). Audited; 404 for an unknown one."""
    hook = await _webhook(tenant, webhook_id)
    await tenant.execute(
        sql_delete(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id)
        .execution_options(synchronize_session=False)
    )
    _audit(
        tenant, principal.user_id, "delete", "webhook", hook.id, url=hook.url, topics=hook.topics
    )
    await tenant.session.delete(hook)


WEBHOOKS = Router(
    path="/api/webhooks",
    tags=["webhooks"],
    guards=ADMIN_GUARDS,
    route_handlers=[
        create_webhook,
        list_webhooks,
        deliveries,
        redeliver,
        disable_webhook,
        enable_webhook,
        delete_webhook,
    ],
)
"""The tenant admin's webhook routes (the console's admin page runs them too)."""

ROUTES: list[ControllerRouterHandler] = [my_notifications, read_notification, WEBHOOKS]
