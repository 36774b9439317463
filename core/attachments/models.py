"""Attachment metadata: one row per stored file (the bytes live in the object store)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantScoped, utcnow


class Attachment(TenantScoped, Base):
    """A file on a ticket. Never changed or removed by the app (evidence): the database
    refuses UPDATE and DELETE to the app role (:mod:`core.db_security`)."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (
        # a ticket's files, listed in order, never walking another tenant's rows
        Index("ix_ticket_attachments_tenant_ticket", "tenant_id", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    """The name the uploader gave (shown in Content-Disposition; never a storage path)."""
    content_type: Mapped[str] = mapped_column(String(100))
    """Sniffed from the bytes."""
    size: Mapped[int] = mapped_column(BigInteger)
    """Bytes."""
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
