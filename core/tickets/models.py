"""Tickets, their accused staff, their append-only history and responsibility grades."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, TenantScoped, utcnow
from core.logs import current_request_id
from core.people.models import Staff, User


def _search_text() -> Any:
    from core.tickets import search_text  # imports the scrubber; not needed to load models

    return search_text


class Counter(TenantScoped, Base):
    """Per-tenant sequences (ticket numbers): one row per name, bumped with UPDATE … RETURNING."""

    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(default=0)


class Ticket(TenantScoped, Base):
    """One complaint (domain §1) and where it stands in the lifecycle (domain §2)."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_tickets_tenant_state_id", "tenant_id", "state", "id"),
        Index("ix_tickets_tenant_created", "tenant_id", "created_at"),
        Index("ix_tickets_tenant_closed", "tenant_id", "closed_at"),
        # The live queue's stamp, max(updated_at) per tenant (migration 0022).
        Index("ix_tickets_tenant_updated", "tenant_id", "updated_at"),
        # A tenant's newest-first pages never walk another tenant's rows.
        Index("ix_tickets_tenant_id_desc", "tenant_id", "id"),
        # Repeat complaints: the nearest earlier ticket by contact / by subject.
        Index("ix_tickets_tenant_contact", "tenant_id", "complainant_contact", "created_at", "id"),
        Index(
            "ix_tickets_tenant_subject",
            "tenant_id",
            "category",
            "accused_department_id",
            "created_at",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    complainant_name: Mapped[str] = mapped_column(String(200))
    complainant_contact: Mapped[str] = mapped_column(String(200))
    complainant_address: Mapped[str] = mapped_column(String(500), default="")
    accused_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assigned_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id"), index=True
    )
    event_time: Mapped[dt.datetime | None] = mapped_column(default=None)
    event_place: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text)
    demands: Mapped[str] = mapped_column(Text, default="")
    temper_note: Mapped[str] = mapped_column(String(500), default="")
    category: Mapped[str | None] = mapped_column(String(64), default=None)
    severity: Mapped[str | None] = mapped_column(String(64), default=None)
    facets: Mapped[dict[str, Any]] = mapped_column(default=dict)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Measurable facts the industry's rules read (arrival minutes, notice days, ...)."""
    classification: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The plugin's latest reading of the facts (suggestions and flags)."""
    valid: Mapped[bool | None] = mapped_column(default=None)
    counts_as_complaint: Mapped[bool | None] = mapped_column(default=None)
    """The plugin's answer (e.g. only once verified [002 第九条]); None = the core's rule:
    a ticket counts once triaged valid. Kept as a column so statistics GROUP BY in SQL."""
    communicative: Mapped[str | None] = mapped_column(String(16), default=None)
    """沟通性投诉 kind (help 求助, inquiry 咨询, venting 发泄) when triaged communicative
    [000 §篇1 1(1)2)]: no valid complaint, counted apart in statistics; None otherwise."""
    resolve_by: Mapped[dt.datetime | None] = mapped_column(default=None)
    """A per-ticket limit shorter than the table's (the complainant's own deadline
    [000 §篇1 4(4)3②], the leader's [000 §篇6 4.2.3e]); the resolution and reply clocks end
    by then (core.deadlines.engine.capped)."""
    state: Mapped[str] = mapped_column(String(32))
    resolution: Mapped[str | None] = mapped_column(String(32), default=None)
    referred_to_inspection: Mapped[bool] = mapped_column(default=False)
    redispatch_count: Mapped[int] = mapped_column(default=0)
    reopen_count: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    search_full: Mapped[str] = mapped_column(
        Text,
        default=lambda ctx: _search_text().default_full(ctx),
        server_default="",
        deferred=True,  # only SQL reads it: a loaded ticket does not carry it
    )
    """Normalised description, demands and complainant: searched by readers who see the
    complainant (:mod:`core.tickets.search_text`)."""
    search_masked: Mapped[str] = mapped_column(
        Text,
        default=lambda ctx: _search_text().default_masked(ctx),
        server_default="",
        deferred=True,
    )
    """Description and demands as masked for readers who may not see the complainant,
    normalised: what they search (:mod:`core.tickets.search_text`, issue 21 item 1)."""
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    """The named person who follows the ticket from registration until it is closed
    [000 §篇1 5(5)1②c] (:mod:`core.flow.approvals`)."""

    # Every UPDATE carries WHERE version = :seen (zero rows → StaleDataError → 409); the
    # version itself moves on once per history event (core.tickets.events.append_event).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012

    accused: Mapped[list[AccusedStaff]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="AccusedStaff.staff_id"
    )
    grades: Mapped[list[TicketGrade]] = relationship(lazy="raise", viewonly=True)
    """Every grade ever recorded (masking treats anyone graded like the accused)."""
    owner: Mapped[User | None] = relationship(
        lazy="joined", foreign_keys=[owner_user_id], viewonly=True
    )
    """The owner's user row (its username is shown on the ticket)."""


class AccusedStaff(TenantScoped, Base):
    """A staff member a ticket complains about (masking and grading key off this)."""

    __tablename__ = "ticket_accused_staff"
    __table_args__ = (UniqueConstraint("ticket_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    staff: Mapped[Staff] = relationship(lazy="joined", innerjoin=True)


class TicketEvent(TenantScoped, Base):
    """One transition, append-only (the database refuses UPDATE and DELETE on this table)."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        UniqueConstraint("ticket_id", "seq"),
        # the bulletin's "graded in the window" (core/reports/bulletin.py)
        Index("ix_ticket_events_tenant_action_at", "tenant_id", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    seq: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64), default=current_request_id)
    """The API request (``X-Request-ID``) or job that made the change, for tracing."""


class TicketGrade(TenantScoped, Base):
    """A responsibility grade (full / main / secondary / none) for one staff member.

    A later grade for the same staff member (regrading, an appeal decision) supersedes the
    earlier one; superseded rows stay for the record.
    """

    __tablename__ = "ticket_grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    grade: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[str] = mapped_column(String(32), default="direct")
    offence: Mapped[str | None] = mapped_column(String(64), default=None)
    findings: Mapped[str] = mapped_column(Text)
    complainant_violation: Mapped[str] = mapped_column(Text, default="")
    graded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    graded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(default=None)


SEARCHED = ("description", "demands", "complainant_name", "complainant_contact",
            "complainant_address")  # fmt: skip
"""The fields the search columns are made of (:mod:`core.tickets.search_text`)."""


@event.listens_for(Ticket, "before_update")
def _keep_search_text(_mapper: Any, _conn: Any, ticket: Ticket) -> None:
    """A searched field changed: recompute the search columns in the same UPDATE."""
    state = inspect(ticket)
    if any(state.attrs[f].history.has_changes() for f in SEARCHED):
        _search_text().refresh(ticket)
