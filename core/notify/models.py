"""Tables of outbound notifications: settings, choices, and the delivery log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantScoped, utcnow


class NotificationSettings(TenantScoped, Base):
    """One row per tenant: its channels (with their secrets), and what the complainant is
    told (events and templates). Set by the tenant admin (``PUT /api/config/notifications``)."""

    __tablename__ = "notification_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """name → {"type": channel type, ...its settings}."""
    complainant: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """{"channel": name, "events": [...], "templates": {event: text}}."""
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class NotificationPreference(TenantScoped, Base):
    """A staff user's addresses and, per kind of notification, the channels to use."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    kinds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """kind of notification → list of channel names."""
    language: Mapped[str] = mapped_column(String(8), default="zh_CN", server_default="zh_CN")
    """The language e-mail and SMS are written in for this user: ``zh_CN`` or ``en``."""


class OutboundMessage(TenantScoped, Base):
    """One message to one recipient through one channel: written in the transaction of the
    change that causes it, sent by a worker, retried with backoff until ``MAX_ATTEMPTS``,
    then ``failed`` (visible to the tenant admin, who may retry it). ``dedupe_key`` makes
    "sent once" a database fact."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_outbound_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(16))
    """staff | complainant."""
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    """The text as sent to a complainant; empty for a staff notice with ``params``."""
    params: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    """A staff notice's parameters (:mod:`core.notify.kinds`): subject and body are written
    when it is sent, in the recipient's language."""
    dedupe_key: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending | sending | sent | failed."""
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
