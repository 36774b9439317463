"""The outbox, in-app notifications, webhooks and their delivery log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantScoped, utcnow
from core.logs import current_request_id


class OutboxEvent(TenantScoped, Base):
    """An event that triggers background work, written in the same transaction as the change.

    ``sent_at`` is stamped by the relay in the transaction that fans the event out to its
    webhook deliveries (durable rows): an event is done only once every delivery it needs
    exists in the database, whatever happens to the broker afterwards.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_outbox_unsent", "sent_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[str | None] = mapped_column(String(64), default=current_request_id)
    """The request (``X-Request-ID``) or job that caused the event; passed to its jobs."""


class Notification(TenantScoped, Base):
    """An in-app notification: a kind and its parameters, written in the reader's language
    when read (:mod:`core.notify.kinds`); ``dedupe_key`` makes "notify once" a database
    fact."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    """Empty for rows with ``params``; an English sentence in rows written before them."""
    params: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    """The kind's parameters (:mod:`core.notify.kinds`): rendered in the reader's language."""
    dedupe_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Webhook(TenantScoped, Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))
    topics: Mapped[list[Any]] = mapped_column(default=list)
    """Outbox topics it receives; empty = all."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebhookDelivery(TenantScoped, Base):
    """One webhook's delivery of one outbox event: the delivery log, one row per pair."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "outbox_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending | delivered | failed."""
    attempts: Mapped[int] = mapped_column(default=0)
    response_code: Mapped[int | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    """Not to be tried before this (retry backoff); None = now."""
    queued_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    """When the last broker message for it was due to run; None = no message outstanding.
    The reaper re-enqueues a pending delivery whose message is a lease overdue."""
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    """A worker's claim: nobody else POSTs it before this time."""
    lease_token: Mapped[str] = mapped_column(String(32), default="")
    """Which claim holds the lease (only its holder schedules the retry)."""
