"""Per-tenant webhooks: fan events out to durable deliveries, claim one, POST it signed.

The life of a delivery (one row per webhook and event — the tenant's delivery log):

1. **Fan-out** (:func:`fan_out_pending`, run by the relay): in one transaction per tenant,
   the unsent outbox events get one ``pending`` delivery row per matching active webhook and
   are stamped ``sent_at``. An event is done only when its deliveries exist in the database;
   losing the broker afterwards (Redis killed, the embedded in-memory broker stopped) loses
   no event. The relay then enqueues one ``send_webhook`` message per new delivery.
2. **Claim** (:func:`deliver`): a conditional ``UPDATE … SET lease_until = now + lease …
   WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < now) AND due …
   RETURNING``. Exactly one worker wins; a redelivered message that arrives while the first
   POST is in flight finds the lease held and does nothing.
3. **POST** through the pinned egress client (:mod:`core.egress`): global addresses
   only, checked after DNS, connected to the checked address. The POST gets a third of the
   lease (at most 10 s), so it has ended before anyone else may claim the delivery.
4. **Record**: delivered; or, on failure, the next attempt after a backoff
   (2 s·2ⁿ⁻¹ up to 10 min, with jitter) — after :data:`MAX_ATTEMPTS` it is ``failed``. The
   tenant's log shows a generic reason, never the raw connection error.
5. **Reaper** (:func:`reap`, in the scheduler and in the embedded background): a pending,
   unleased, due delivery whose message should have run a lease ago (or has none) is
   enqueued again — lost messages, dead workers and exhausted actor retries all end here.

Duplicates: a receiver can see one delivery twice only when a worker POSTed it and then
could not record the outcome before its lease ran out (it was killed, or the database was
down for longer than the lease). Every POST carries ``X-Tousu-Delivery`` (the delivery id)
and ``X-Tousu-Event-Id`` (the event id, also ``id`` in the body) so the receiver can drop
the second copy; ``attempts`` in the log counts every POST begun.

Signatures follow Standard Webhooks (https://www.standardwebhooks.com, signed with the
``standardwebhooks`` library): ``webhook-id`` (``delivery-<delivery id>``, the same on every
retry of a delivery), ``webhook-timestamp`` (Unix seconds of this attempt) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, keyed with the
webhook's secret as UTF-8 bytes — ``whsec_`` + base64 of them for libraries that take that
form). A receiver verifying them with a replay window (the libraries' default: 5 minutes)
drops a captured delivery replayed later. During the transition (docs/webhooks.md) each
POST also carries the old ``X-Tousu-Signature: sha256=<hex>`` — an HMAC of the body alone,
which a replay passes: receivers should move to the new headers.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
from sqlalchemy import or_, select, update
from standardwebhooks import Webhook as StandardWebhook

from core import metrics
from core.db import Database, TenantScope, utcnow
from core.egress import EgressPolicy, client, public_error
from core.tasks.models import OutboxEvent, Webhook, WebhookDelivery

log = logging.getLogger("tousu.webhooks")

MAX_ATTEMPTS = 8
"""POSTs made before a delivery is given up as ``failed`` (a tenant admin may redeliver)."""
RETRY_BASE_SECONDS = 2.0
RETRY_CAP_SECONDS = 600.0


@dataclass(frozen=True)
class DeliveryConfig:
    """What a worker needs besides the database: the egress policy and the lease."""

    policy: EgressPolicy = field(default_factory=EgressPolicy)
    lease_seconds: float = 60.0

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lease_seconds)

    @property
    def timeout(self) -> float:
        """Seconds one POST may take, resolution included: well inside the lease."""
        return min(10.0, self.lease_seconds / 3)

    @classmethod
    def from_settings(cls, settings: Any) -> DeliveryConfig:
        return cls(
            policy=EgressPolicy.from_text(settings.webhook_allow_nets),
            lease_seconds=settings.webhook_lease_seconds,
        )


def sign(secret: str, body: bytes) -> str:
    """The legacy ``X-Tousu-Signature`` (kept during the transition; covers no timestamp)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_secret(secret: str) -> str:
    """A webhook's secret in the Standard Webhooks form (``whsec_`` + base64 of its UTF-8
    bytes), the form verifier libraries in other languages take."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def standard_headers(secret: str, delivery_id: int, body: bytes) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` for one attempt."""
    message_id = f"delivery-{delivery_id}"
    now = dt.datetime.now(dt.UTC)  # the real time: receivers compare it with their clock
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": StandardWebhook(secret.encode()).sign(message_id, now, body),
    }


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: exponential, capped, with 0–25 % jitter."""
    base = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return base * (1 + random.random() / 4)


# --------------------------------------------------------------------------- fan-out


def _matches(hook: Webhook, topic: str) -> bool:
    return not hook.topics or topic in hook.topics


async def _fan_out_events(scope: TenantScope, events: list[OutboxEvent]) -> list[int]:
    """Delivery rows for ``events`` (idempotent); returns the ids of their pending ones."""
    if not events:
        return []
    now = utcnow()
    hooks = list(await scope.scalars(select(Webhook).where(Webhook.active.is_(True))))
    rows = [
        {
            "webhook_id": w.id,
            "outbox_id": e.id,
            "status": "pending",
            "attempts": 0,
            "error": "",
            "created_at": now,
            "next_attempt_at": None,
            "queued_at": now,  # optimistic: the relay enqueues right after the commit
            "lease_until": None,
            "lease_token": "",
        }
        for e in events
        for w in hooks
        if _matches(w, e.topic)
    ]
    for start in range(0, len(rows), 500):
        await scope.insert_ignore(WebhookDelivery, rows[start : start + 500])
    ids = await scope.scalars(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.outbox_id.in_([e.id for e in events]),
            WebhookDelivery.status == "pending",
        )
        .order_by(WebhookDelivery.id)
    )
    return list(ids)


async def tenants_with_unsent_events(db: Database) -> list[int]:
    """Which tenants have outbox events not yet fanned out (the one cross-tenant read)."""
    async with db.cross_tenant() as session:
        rows = await session.scalars(
            select(OutboxEvent.tenant_id).where(OutboxEvent.sent_at.is_(None)).distinct()
        )
        return sorted(int(t) for t in rows)


async def fan_out_pending(db: Database, tenant_id: int, batch: int = 200) -> tuple[int, list[int]]:
    """Fan out up to ``batch`` of the tenant's unsent events and stamp them sent, in one
    transaction. Rows are locked ``SKIP LOCKED`` so several relays share the work.
    Returns (events done, pending delivery ids to enqueue)."""
    async with db.tenant(tenant_id) as scope:
        events = list(
            await scope.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.sent_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        ids = await _fan_out_events(scope, events)
        now = utcnow()
        for event in events:
            event.sent_at = now
            event.attempts += 1
            event.last_error = ""
        return len(events), ids


async def fan_out(db: Database, tenant_id: int, outbox_id: int) -> list[int]:
    """Fan out one event (idempotent) and stamp it sent; its pending delivery ids."""
    async with db.tenant(tenant_id) as scope:
        event = await scope.session.get(OutboxEvent, outbox_id)
        if event is None:
            return []
        ids = await _fan_out_events(scope, [event])
        if event.sent_at is None:
            event.sent_at = utcnow()
        return ids


async def unqueue(db: Database, tenant_id: int, delivery_ids: list[int]) -> None:
    """Mark deliveries as having no message outstanding (their enqueue failed), so the
    reaper takes them on its next pass instead of a lease later. Best effort."""
    if not delivery_ids:
        return
    try:
        async with db.tenant(tenant_id) as scope:
            await scope.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(delivery_ids))
                .values(queued_at=None)
            )
    except Exception:  # the reaper still finds them once their queued_at is a lease old
        log.warning("could not unqueue %d deliveries", len(delivery_ids), exc_info=True)


# --------------------------------------------------------------------------- the reaper


def _reapable(now: dt.datetime, stale_before: dt.datetime | None) -> list[Any]:
    conditions = [
        WebhookDelivery.status == "pending",
        or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
    ]
    if stale_before is not None:
        conditions.append(
            or_(WebhookDelivery.queued_at.is_(None), WebhookDelivery.queued_at < stale_before)
        )
    return conditions


@dataclass
class ReapReport:
    enqueued: int = 0
    failed: int = 0
    error: str = ""
    tenants: list[int] = field(default_factory=list)


async def reap(
    db: Database,
    enqueue: Callable[[int, int], None],
    config: DeliveryConfig,
    *,
    batch: int = 500,
    everything: bool = False,
) -> ReapReport:
    """Enqueue again every pending, unleased, due delivery of an active webhook whose
    message is overdue by a lease (``everything``: whatever its message — at the start of
    the embedded server, whose in-memory queue died with the last process).

    ``enqueue(delivery_id, tenant_id)`` sends the message; when it raises (the broker is
    down) the pass stops and the rest wait for the next one."""
    now = utcnow()
    stale_before = None if everything else now - config.lease
    report = ReapReport()
    async with db.cross_tenant() as session:
        tenants = await session.scalars(
            select(WebhookDelivery.tenant_id).where(*_reapable(now, stale_before)).distinct()
        )
        report.tenants = sorted(int(t) for t in tenants)
    for tenant_id in report.tenants:
        async with db.tenant(tenant_id) as scope:
            ids = list(
                await scope.scalars(
                    select(WebhookDelivery.id)
                    .where(
                        *_reapable(now, stale_before),
                        WebhookDelivery.webhook_id.in_(
                            select(Webhook.id).where(Webhook.active.is_(True))
                        ),
                    )
                    .order_by(WebhookDelivery.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            sent: list[int] = []
            for delivery_id in ids:
                try:
                    enqueue(delivery_id, tenant_id)
                except Exception as exc:
                    report.failed += len(ids) - len(sent)
                    report.error = f"{type(exc).__name__}: {exc}"[:500]
                    break
                sent.append(delivery_id)
            if sent:
                await scope.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_(sent))
                    .values(queued_at=utcnow())
                )
            report.enqueued += len(sent)
        if report.error:
            log.warning("reaper paused: %s", report.error)
            break
    return report


# --------------------------------------------------------------------------- delivery


@dataclass
class Outcome:
    """What one :func:`deliver` call did.

    ``status``: ``delivered`` | ``retry`` (failed, tried again in ``retry_in`` seconds) |
    ``failed`` (given up) | ``leased`` (another worker holds it) | ``not_due`` |
    ``disabled`` (its webhook is off) | ``done`` (already delivered or failed) | ``missing``.
    """

    status: str
    retry_in: float | None = None
    error: str = ""


async def _claim(
    db: Database, tenant_id: int, delivery_id: int, config: DeliveryConfig, token: str
) -> tuple[Any, Outcome | None]:
    now = utcnow()
    async with db.tenant(tenant_id) as scope:
        claimed = (
            await scope.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    *_reapable(now, None),
                    WebhookDelivery.webhook_id.in_(
                        select(Webhook.id).where(Webhook.active.is_(True))
                    ),
                )
                .values(
                    lease_until=now + config.lease,
                    lease_token=token,
                    attempts=WebhookDelivery.attempts + 1,
                    queued_at=None,
                )
                .returning(
                    WebhookDelivery.webhook_id, WebhookDelivery.outbox_id, WebhookDelivery.attempts
                )
                .execution_options(synchronize_session=False)
            )
        ).first()
        if claimed is None:
            d = await scope.session.get(WebhookDelivery, delivery_id)
            if d is None:
                return None, Outcome("missing")
            if d.status != "pending":
                return None, Outcome("done")
            if d.lease_until is not None and d.lease_until >= now:
                return None, Outcome("leased")
            if d.next_attempt_at is not None and d.next_attempt_at > now:
                return None, Outcome("not_due")
            return None, Outcome("disabled")
        hook = await scope.session.get(Webhook, claimed.webhook_id)
        event = await scope.session.get(OutboxEvent, claimed.outbox_id)
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
            "X-Tousu-Event-Id": str(event.id),
            "X-Tousu-Delivery": str(delivery_id),
            "X-Tousu-Attempt": str(claimed.attempts),
            "X-Tousu-Signature": sign(hook.secret, body),  # legacy, during the transition
            **standard_headers(hook.secret, delivery_id, body),
        }
        return (hook.url, body, headers, claimed.attempts), None


async def _record(
    db: Database,
    tenant_id: int,
    delivery_id: int,
    token: str,
    attempts: int,
    code: int | None,
    error: str,
) -> Outcome:
    now = utcnow()
    async with db.tenant(tenant_id) as scope:
        if not error:
            # A success is recorded even if the lease ran out meanwhile: it is true.
            await scope.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending")
                .values(
                    status="delivered",
                    delivered_at=now,
                    response_code=code,
                    error="",
                    lease_until=None,
                    lease_token="",
                    next_attempt_at=None,
                )
                .execution_options(synchronize_session=False)
            )
            return Outcome("delivered")
        metrics.webhook_failed(tenant_id)
        give_up = attempts >= MAX_ATTEMPTS
        wait = None if give_up else backoff(attempts)
        due = None if wait is None else now + dt.timedelta(seconds=wait)
        # Only the lease's holder schedules the next attempt.
        await scope.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.lease_token == token,
            )
            .values(
                status="failed" if give_up else "pending",
                response_code=code,
                error=error[:500],
                lease_until=None,
                lease_token="",
                next_attempt_at=due,
                queued_at=due,
            )
            .execution_options(synchronize_session=False)
        )
        return Outcome("failed" if give_up else "retry", retry_in=wait, error=error)


async def deliver(
    db: Database,
    tenant_id: int,
    delivery_id: int,
    config: DeliveryConfig | None = None,
    http: httpx.AsyncClient | None = None,
) -> Outcome:
    """Claim, POST and record one delivery. Database errors propagate (the actor retries
    them with backoff; the reaper is the backstop); the POST's own failures are recorded
    on the delivery with a generic reason and scheduled for a retry."""
    config = config or DeliveryConfig()
    token = secrets.token_hex(8)
    claim, outcome = await _claim(db, tenant_id, delivery_id, config, token)
    if outcome is not None:
        return outcome
    url, body, headers, attempts = claim
    error, code = "", None
    try:
        async with asyncio.timeout(config.timeout):
            if http is None:
                async with client(config.policy, config.timeout) as own:
                    resp = await own.post(url, content=body, headers=headers)
            else:
                resp = await http.post(url, content=body, headers=headers)
        code = resp.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except Exception as exc:  # any failure is recorded, generically, and retried
        log.info("delivery %s to %s failed: %r", delivery_id, url, exc)
        error = public_error(exc)
    return await _record_while_leased(
        db, tenant_id, delivery_id, token, attempts, code, error, config
    )


async def _record_while_leased(
    db: Database,
    tenant_id: int,
    delivery_id: int,
    token: str,
    attempts: int,
    code: int | None,
    error: str,
    config: DeliveryConfig,
) -> Outcome:
    """Record the outcome, retrying a failing database until shortly before the lease ends:
    an outcome recorded in time is never POSTed again (a brief database outage causes no
    duplicate). Past that, the error propagates and the delivery will be POSTed again."""
    deadline = asyncio.get_running_loop().time() + config.lease_seconds - config.timeout - 1
    pause = 0.25
    while True:
        try:
            return await _record(db, tenant_id, delivery_id, token, attempts, code, error)
        except Exception:
            if asyncio.get_running_loop().time() + pause > deadline:
                raise
            log.warning("recording delivery %s failed; retrying", delivery_id, exc_info=True)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 4.0)
