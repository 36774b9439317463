"""Imports every model so ``Base.metadata`` is complete (alembic and tests use it)."""

from core.audit import AuditEvent
from core.penalties.models import (
    Appeal,
    Deduction,
    DeductionRun,
    FineSetting,
    LedgerLine,
    Penalty,
    PerformancePay,
)
from core.people.models import ApiKey, Department, Staff, Tenant, User
from core.tickets.models import AccusedStaff, Counter, Ticket, TicketEvent, TicketGrade

__all__ = [
    "AccusedStaff",
    "ApiKey",
    "Appeal",
    "AuditEvent",
    "Counter",
    "Deduction",
    "DeductionRun",
    "Department",
    "FineSetting",
    "LedgerLine",
    "Penalty",
    "PerformancePay",
    "Staff",
    "Tenant",
    "Ticket",
    "TicketEvent",
    "TicketGrade",
    "User",
]
