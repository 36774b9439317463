"""Outbound messages: written with the change, dispatched to workers, sent, retried.

1. **Written in the change's transaction.** :func:`for_staff` (beside every in-app
   notification; :func:`staff_rows` for the sweep's batches) writes one row per channel
   each recipient chose for that kind — its kind and parameters, the text being written
   when it is sent, in the recipient's language (:mod:`core.notify.kinds`);
   :func:`for_event` (beside every outbox event) writes the complainant's SMS for the
   events the tenant turned on. A unique ``dedupe_key`` makes each write idempotent.
2. **Dispatched** by :func:`dispatch` — a pass the scheduler (or the embedded loop) runs
   beside the outbox relay: due rows are leased (``sending``, ``next_attempt_at`` pushed
   by :data:`LEASE`) under ``SKIP LOCKED`` and handed to the ``send_outbound`` actor.
   A worker that dies mid-send leaves a lease that runs out, and the row goes out again.
3. **Sent** by :func:`send`, outside any transaction; the result is recorded after. A
   failure is retried with exponential backoff (:func:`backoff`) up to
   :data:`MAX_ATTEMPTS`, then the row is ``failed``: the tenant admin sees it
   (``GET /api/notifications/outbound?status=failed``) and may retry it. Channels get a
   stable key per message (``Idempotency-Key``, ``Message-ID``) so a retried send after a
   lost answer can be recognised by the receiver.

Recipients' addresses are stored on the row (they are needed to retry) and shown masked;
they are never logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import and_, or_, select

from core import cache
from core.db import Database, TenantScope, utcnow
from core.notify import kinds, templates
from core.notify.channels import ChannelError, Outgoing, channel_types, valid_address
from core.notify.models import NotificationPreference, NotificationSettings, OutboundMessage

log = logging.getLogger("tousu.notify")

MAX_ATTEMPTS = 6
LEASE = dt.timedelta(minutes=2)
ACTOR = "send_outbound"


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try: 10 s, 20 s, 40 s … capped at one hour."""
    return dt.timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)))


def _row(**values: Any) -> dict[str, Any]:
    from core.logs import current_request_id

    now = utcnow()
    return {
        "subject": "",
        "params": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "request_id": current_request_id(),
        "created_at": now,
        "sent_at": None,
        **values,
    }


async def _load_settings(scope: TenantScope) -> NotificationSettings | None:
    row = await scope.scalar(select(NotificationSettings))
    if row is None:
        return None
    # a detached copy: the cache outlives the session that read it
    return NotificationSettings(channels=row.channels, complainant=row.complainant)


SETTINGS = cache.TenantMemo("notification_settings", _load_settings, watch=(NotificationSettings,))
"""The tenant's channels and complainant-message settings, read on every intake: cached per
process, dropped when this process commits a change (:mod:`core.cache`)."""


async def _settings(scope: TenantScope) -> NotificationSettings | None:
    return await SETTINGS.get(scope)


async def for_staff(
    scope: TenantScope,
    user_ids: list[int],
    *,
    kind: str,
    params: dict[str, Any],
    dedupe: str,
    ticket_id: int | None = None,
) -> int:
    """Queue the notice ``kind`` with ``params`` (:mod:`core.notify.kinds`) for each user on
    the channels they chose for ``kind`` (or for ``"*"``); returns how many messages were
    new. Subject and body are written when it is sent, in the recipient's language."""
    notes = [
        {"user_id": uid, "ticket_id": ticket_id, "kind": kind, "params": params,
         "dedupe_key": dedupe}
        for uid in sorted(set(user_ids))
    ]  # fmt: skip
    return await scope.insert_ignore(OutboundMessage, await staff_rows(scope, notes))


async def staff_rows(scope: TenantScope, notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The outbound rows for in-app notices ``notes`` (dicts with ``user_id``,
    ``ticket_id``, ``kind``, ``params``, ``dedupe_key``): one per channel each recipient
    chose for the note's kind — read in two statements for the whole list (the sweep's
    batches call this with hundreds of notes). Every row has the same keys, so a caller
    may insert them in bulk."""
    if not notes:
        return []
    config = await _settings(scope)
    if config is None or not config.channels:
        return []
    prefs = {
        p.user_id: p
        for p in await scope.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id.in_(sorted({n["user_id"] for n in notes}))
            )
        )
    }
    if not prefs:
        return []
    types = channel_types()
    rows = []
    for note in notes:
        pref = prefs.get(note["user_id"])
        if pref is None:
            continue
        kind = note["kind"]
        for name in pref.kinds.get(kind, pref.kinds.get("*", [])):
            channel = config.channels.get(name)
            kind_of = types.get(str((channel or {}).get("type")))
            if kind_of is None:
                continue
            address = pref.email if kind_of.address == "email" else pref.phone
            if not address:
                continue
            rows.append(
                _row(
                    channel=name,
                    audience="staff",
                    user_id=pref.user_id,
                    ticket_id=note["ticket_id"],
                    kind=kind,
                    recipient=address,
                    body="",
                    params=note["params"],
                    dedupe_key=f"staff:{pref.user_id}:{name}:{kind}:{note['dedupe_key']}"[:300],
                )
            )
    return rows


async def for_event(scope: TenantScope, topic: str, payload: dict[str, Any], dedupe: str) -> int:
    """Queue the complainant's message for an outbox event, when the tenant turned that
    event on and the complainant left an address the channel can use (a mobile number for
    SMS). Returns 1 when a message was queued."""
    event = templates.TOPIC_EVENT.get(topic)
    if event is None or "ticket_id" not in payload:
        return 0
    config = await _settings(scope)
    if config is None:
        return 0
    wanted = config.complainant or {}
    if event not in (wanted.get("events") or []):
        return 0
    name = str(wanted.get("channel", ""))
    kind_of = channel_types().get(str(config.channels.get(name, {}).get("type")))
    if kind_of is None:
        return 0
    from core.people.models import Tenant
    from core.tickets.models import Ticket

    ticket = await scope.scalar(select(Ticket).where(Ticket.id == payload["ticket_id"]))
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    if ticket is None or tenant is None:
        return 0
    address = "".join(ticket.complainant_contact.split()).replace("-", "")
    if not valid_address(kind_of.address, address):
        return 0
    zone = tenant.timezone
    text = (wanted.get("templates") or {}).get(event) or templates.DEFAULTS[event]
    body = templates.render(text, templates.values_for(ticket.number, tenant.name, utcnow(), zone))
    row = _row(
        channel=name,
        audience="complainant",
        user_id=None,
        ticket_id=ticket.id,
        kind=f"complainant.{event}",
        recipient=address,
        body=body,
        dedupe_key=f"complainant:{name}:{event}:{dedupe}"[:300],
    )
    return await scope.insert_ignore(OutboundMessage, [row])


async def dispatch(db: Database, broker: Any, batch: int = 100) -> int:
    """Lease due messages and hand them to the ``send_outbound`` actor; returns how many.
    When the broker is down nothing is leased and the next pass tries again."""
    import dramatiq

    now = utcnow()
    sent = 0
    async with db.cross_tenant() as session:  # platform path: every tenant's due messages
        rows = list(
            await session.scalars(
                select(OutboundMessage)
                .where(
                    or_(
                        and_(
                            OutboundMessage.status == "pending",
                            OutboundMessage.next_attempt_at <= now,
                        ),
                        and_(  # a lease that ran out: the worker died mid-send
                            OutboundMessage.status == "sending",
                            OutboundMessage.next_attempt_at <= now,
                        ),
                    )
                )
                .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            options = {"request_id": row.request_id} if row.request_id else {}
            message = dramatiq.Message(
                queue_name="default",
                actor_name=ACTOR,
                args=(row.id, row.tenant_id),
                kwargs={},
                options=options,
            )
            try:
                broker.enqueue(message)
            except Exception as exc:  # the broker is down: keep the rest for later
                log.warning("outbound dispatch paused: %s", type(exc).__name__)
                break
            row.status = "sending"
            row.next_attempt_at = now + LEASE
            sent += 1
    return sent


async def send(db: Database, tenant_id: int, message_id: int, public_url: str) -> str:
    """Send one message and record the outcome; returns the new status. Idempotent: a
    message already sent or given up on is left alone. ``public_url``: the deployment's
    address (``TOUSU_PUBLIC_URL``, from the caller's settings) before a notice's ticket link."""
    from core import metrics

    async with db.tenant(tenant_id) as scope:
        row = await scope.scalar(select(OutboundMessage).where(OutboundMessage.id == message_id))
        if row is None or row.status in ("sent", "failed"):
            return row.status if row is not None else "missing"
        config = await _settings(scope)
        channel = dict((config.channels if config else {}).get(row.channel) or {})
        subject, body = row.subject, row.body
        if row.params is not None:  # a staff notice: written now, in the recipient's language
            subject, body = await _staff_text(scope, row, public_url)
        outgoing = Outgoing(
            key=f"tousu-{tenant_id}-{row.id}", to=row.recipient, subject=subject, body=body
        )
        channel_name, kind = row.channel, row.kind
    kind_of = channel_types().get(str(channel.get("type")))
    error = ""
    try:
        if kind_of is None:
            raise ChannelError(f"channel {channel_name!r} is not configured any more")
        await kind_of.send(channel, outgoing)
    except ChannelError as exc:
        error = str(exc)[:500]
    except Exception as exc:  # a plugin's channel may fail in any way: record, retry
        error = f"{type(exc).__name__}"[:500]
    now = utcnow()
    async with db.tenant(tenant_id) as scope:
        row = await scope.scalar(select(OutboundMessage).where(OutboundMessage.id == message_id))
        assert row is not None
        if row.status in ("sent", "failed"):
            return row.status
        row.attempts += 1
        if not error:
            row.status, row.sent_at, row.last_error = "sent", now, ""
            metrics.notifications_sent(tenant_id, channel_name)
        else:
            row.last_error = error
            metrics.notification_failed(tenant_id, channel_name)
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            else:
                row.status, row.next_attempt_at = "pending", now + backoff(row.attempts)
            log.warning(
                "notification not sent",
                extra={
                    "outbound_id": message_id,
                    "kind": kind,
                    "attempts": row.attempts,
                    "error": error,
                    "status": row.status,
                },
            )
        return row.status


async def _staff_text(scope: TenantScope, row: OutboundMessage, public_url: str) -> tuple[str, str]:
    """(subject, body) of a staff notice in the recipient's chosen language."""
    lang = await scope.scalar(
        select(NotificationPreference.language).where(NotificationPreference.user_id == row.user_id)
    )
    ctx = await kinds.context(scope, lang or kinds.ZH)
    text = kinds.render(row.kind, row.params, ctx)
    body = kinds.mail_body(text, row.ticket_id, ctx.lang, public_url)
    return kinds.subject(row.kind, ctx.lang), body


async def retry(scope: TenantScope, message_id: int) -> OutboundMessage | None:
    """Put a failed (or pending) message back in line now, with a fresh set of attempts."""
    row: OutboundMessage | None = await scope.scalar(
        select(OutboundMessage).where(OutboundMessage.id == message_id)
    )
    if row is None:
        return None
    if row.status != "sent":
        row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
    return row
