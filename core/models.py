"""Imports every model so ``Base.metadata`` is complete (alembic and tests use it)."""

from core.attachments.models import Attachment
from core.audit import AuditEvent
from core.deadlines.models import CalendarDay, DeadlineSetting, Extension, StepClock
from core.flow.views import SavedView
from core.notify.models import NotificationPreference, NotificationSettings, OutboundMessage
from core.penalties.models import (
    Appeal,
    Deduction,
    DeductionRun,
    FineSetting,
    LedgerLine,
    Penalty,
    PerformancePay,
    UnitAppraisal,
)
from core.people.models import ApiKey, Department, Staff, Tenant, User
from core.people.sessions import AuthEvent, WebSession
from core.reports.models import ReportIssue, UnitBulletinIssue
from core.tasks.models import Notification, OutboxEvent, Webhook, WebhookDelivery
from core.tickets.models import AccusedStaff, Counter, Ticket, TicketEvent, TicketGrade

__all__ = [
    "AccusedStaff",
    "ApiKey",
    "Appeal",
    "Attachment",
    "AuditEvent",
    "AuthEvent",
    "CalendarDay",
    "Counter",
    "DeadlineSetting",
    "Deduction",
    "DeductionRun",
    "Department",
    "Extension",
    "FineSetting",
    "LedgerLine",
    "Notification",
    "NotificationPreference",
    "NotificationSettings",
    "OutboundMessage",
    "OutboxEvent",
    "Penalty",
    "PerformancePay",
    "ReportIssue",
    "SavedView",
    "Staff",
    "StepClock",
    "Tenant",
    "Ticket",
    "TicketEvent",
    "TicketGrade",
    "UnitAppraisal",
    "UnitBulletinIssue",
    "User",
    "WebSession",
    "Webhook",
    "WebhookDelivery",
]
