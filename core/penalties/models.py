"""Penalty proposals and decisions, grade appeals, fine settings, pay and deductions.

Money is integer fen throughout.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantScoped, utcnow


class FineSetting(TenantScoped, Base):
    """One version of a tenant's amount for a schedule rule; never updated, only added.

    The amount in force at time T is the row with the latest ``effective_from`` <= T (ties:
    the latest ``id``). A penalty uses the amounts in force when the grade was given.
    """

    __tablename__ = "fine_settings"
    __table_args__ = (Index("ix_fine_settings_lookup", "tenant_id", "rule", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column()
    effective_from: Mapped[dt.datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    out_of_range: Mapped[bool] = mapped_column(default=False)
    set_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Penalty(TenantScoped, Base):
    """A penalty proposed by the plugin's rules and decided by a manager.

    status: proposed → confirmed | adjusted | waived; superseded when an appeal re-derives
    the ticket's penalties. Only confirmed and adjusted penalties reach the fine ledger.
    """

    __tablename__ = "penalties"
    __table_args__ = (
        Index("ix_penalties_staff_status", "tenant_id", "staff_id", "status"),
        Index("ix_penalties_tenant_decided", "tenant_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    grade_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_grades.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    rule: Mapped[str] = mapped_column(String(64))
    proposed_fen: Mapped[int | None] = mapped_column()
    minimum_fen: Mapped[int | None] = mapped_column()
    multiplier: Mapped[int] = mapped_column(default=1)
    sanctions: Mapped[list[Any]] = mapped_column(default=list)
    appraisal_points: Mapped[int] = mapped_column(default=0)
    whole_month_pay: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    amounts_at: Mapped[dt.datetime] = mapped_column()
    """The time whose fine settings priced it (the grading time)."""
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    final_fen: Mapped[int | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16), default="grading", server_default="grading")
    """``grading`` (derived from the grades, re-derived when they change) or ``breach`` (a
    step clock the handler let run out, [002 《客户投诉管理考核办法》第二十四条(一)])."""
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    """Whose act led to the proposal (the grader; the reviewer who found a falsified reply):
    they may not decide it (:mod:`core.people.duties`). None: derived by the rules alone."""


class Appeal(TenantScoped, Base):
    """A graded staff member's one appeal against their grade on a ticket."""

    __tablename__ = "appeals"
    __table_args__ = (UniqueConstraint("ticket_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    grade_id: Mapped[int] = mapped_column(ForeignKey("ticket_grades.id"))
    reason: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending → upheld | overturned."""
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    new_grade_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_grades.id"), default=None)


class PerformancePay(TenantScoped, Base):
    """A staff member's monthly performance pay, from which fines are deducted."""

    __tablename__ = "performance_pay"
    __table_args__ = (UniqueConstraint("tenant_id", "staff_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    period: Mapped[str] = mapped_column(String(7))
    """``YYYY-MM``."""
    amount_fen: Mapped[int] = mapped_column()


class DeductionRun(TenantScoped, Base):
    """One monthly deduction run; its existence makes rerunning the month a no-op."""

    __tablename__ = "deduction_runs"
    __table_args__ = (UniqueConstraint("tenant_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    run_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    run_by: Mapped[str] = mapped_column(String(128))
    carry_over: Mapped[bool] = mapped_column()


class LedgerLine(TenantScoped, Base):
    """Per staff member per run: what was owed, deducted, carried (or written off)."""

    __tablename__ = "ledger_lines"
    __table_args__ = (UniqueConstraint("run_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("deduction_runs.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    owed_fen: Mapped[int] = mapped_column()
    pay_fen: Mapped[int] = mapped_column()
    deducted_fen: Mapped[int] = mapped_column()
    carried_fen: Mapped[int] = mapped_column()
    written_off_fen: Mapped[int] = mapped_column(default=0)
    forfeited_fen: Mapped[int] = mapped_column(default=0, server_default="0")
    """The month's performance pay taken whole by a penalty that says so [000 §篇7 六4]."""
    credited_fen: Mapped[int] = mapped_column(default=0, server_default="0")
    """Given back: fines and forfeited pay of penalties superseded after they were taken."""
    appraisal_points: Mapped[int] = mapped_column(default=0, server_default="0")
    """Monthly appraisal points deducted (扣除月度绩效考评…分 [000 §篇7 六2–3]): the points of
    the person's penalties decided (confirmed or adjusted) in the month, as they stand at
    the run (issue 23 §4)."""
    appraisal_points_credited: Mapped[int] = mapped_column(default=0, server_default="0")
    """Points given back: those of penalties counted in an earlier month's line and
    superseded since (re-derived after an appeal or a late fact) — the correction is shown
    in the next run's line, the earlier line is not changed, as with money (issue 23)."""


class Deduction(TenantScoped, Base):
    """How much of one penalty a run took (oldest penalties are paid first)."""

    __tablename__ = "deductions"
    __table_args__ = (UniqueConstraint("penalty_id", "run_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    penalty_id: Mapped[int] = mapped_column(ForeignKey("penalties.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("deduction_runs.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    period: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column()
    """Taken from the month's pay."""
    written_off_fen: Mapped[int] = mapped_column(default=0)
    """Not taken and not carried (only where the tenant turned carry-over off)."""
    forfeited_fen: Mapped[int] = mapped_column(default=0, server_default="0")
    """The month's performance pay taken whole (``whole_month_pay``) [000 §篇7 六4].

    A credit — the penalty was superseded after it was taken — is a row of a later run with
    negative ``amount_fen`` and ``forfeited_fen``; nothing earlier is changed."""
    appraisal_points: Mapped[int] = mapped_column(default=0, server_default="0")
    """The penalty's monthly appraisal points counted on this run's line (the month it was
    decided in) [000 §篇7 六2–3]; negative in a later run that gives them back because the
    penalty was superseded."""


class UnitAppraisal(TenantScoped, Base):
    """The half-yearly appraisal of units: proposed by marketing from the half-year's
    complaint statistics, carried out only once the quality-service leading group approves
    it [002 《客户投诉管理考核办法》第二十七条]. status: proposed → approved | rejected."""

    __tablename__ = "unit_appraisals"
    __table_args__ = (Index("ix_unit_appraisals_half", "tenant_id", "half"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    half: Mapped[str] = mapped_column(String(7))
    """``YYYY-H1`` or ``YYYY-H2``."""
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    units: Mapped[list[Any]] = mapped_column()
    """Per unit: its half-year figures and the proposed assessment (``opinion``)."""
    opinion: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
