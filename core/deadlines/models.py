"""Per-step clocks, tenant deadline overrides and calendar days, extension requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantScoped, utcnow

OPEN = ("running", "paused")
"""The states of a clock that has not ended (:attr:`StepClock.state`)."""


class StepClock(TenantScoped, Base):
    """The clock of one lifecycle step of one ticket, charged to the step's owner.

    ``alarm_at`` is the next moment the sweep must look at the clock (its due-soon warning
    or its due time); it is NULL when nothing is pending, so the sweep reads only
    ``alarm_at <= now`` through its index — O(due clocks), never a scan of open tickets.
    """

    __tablename__ = "step_clocks"
    __table_args__ = (
        Index("ix_step_clocks_alarm", "alarm_at"),
        Index("ix_step_clocks_tenant_alarm", "tenant_id", "alarm_at"),
        Index("ix_step_clocks_tenant_ticket", "tenant_id", "ticket_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="running")
    """running | paused | met | missed | cancelled."""
    owner_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[dt.datetime] = mapped_column()
    amount: Mapped[int] = mapped_column()
    unit: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    """plugin | tenant | extension: where the limit came from."""
    due_at: Mapped[dt.datetime] = mapped_column()
    warn_at: Mapped[dt.datetime] = mapped_column()
    alarm_at: Mapped[dt.datetime | None] = mapped_column()
    warned_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    breached_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    paused_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    paused_seconds: Mapped[int] = mapped_column(default=0)
    pause_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    pauses: Mapped[list[Any] | None] = mapped_column(default=None)
    """Finished pauses, ``[[paused_at, resumed_at], ...]`` (ISO, UTC), oldest first.

    With ``started_at``, ``amount``/``unit`` and ``extensions`` these are the clock's
    inputs: ``due_at`` and ``warn_at`` are always derived from them (engine.clock_times),
    so a calendar or severity change recomputes a clock exactly as if computed afresh."""
    extensions: Mapped[list[Any] | None] = mapped_column(default=None)
    """Approved extensions, ``[[amount, unit, approved_at], ...]``, in approval order."""
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class DeadlineSetting(TenantScoped, Base):
    """A tenant's override of a plugin's limit; versions apply to steps started after."""

    __tablename__ = "deadline_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    step: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column()
    unit: Mapped[str] = mapped_column(String(16))
    effective_from: Mapped[dt.datetime] = mapped_column()
    set_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CalendarDay(TenantScoped, Base):
    """A tenant's own closure (non-working day) or extra working day."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    """closure | workday."""
    note: Mapped[str] = mapped_column(String(200), default="")


class Extension(TenantScoped, Base):
    """A handler's request for more time on a step, approved per the plugin's rules."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("step_clocks.id"))
    amount: Mapped[int] = mapped_column()
    unit: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    complainant_informed: Mapped[bool] = mapped_column(default=False)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    new_due_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class OfficialDay(Base):
    """One day of an official national working-day schedule loaded by the operator
    (``tousu calendar load``): a day off (``off``) or a make-up working day (``workday``)
    of a year the ``holidays`` package does not carry yet (issue 23 §6). Platform data, no
    tenant: every tenant's calendar reads it (:mod:`core.deadlines.official`)."""

    __tablename__ = "official_calendar_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """off | workday."""
    source: Mapped[str] = mapped_column(String(200), default="")
    """What the schedule was taken from (the State Council notice), as the file says."""
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
