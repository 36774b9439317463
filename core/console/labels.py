"""Display names for the core's codes (states, actions, channels, roles, ...).

The words for a ticket's state, channel, resolution, deadline step and lifecycle action
have one home, :mod:`core.tickets.labels` (also read by notifications and report files);
this module takes their English and adds what only the console shows (history events,
roles, statuses, form choices). ``tests/test_console_labels.py`` checks the console's
catalogue gives the same Chinese as core.tickets.labels.

Values are English message ids, translated through the catalogue (:mod:`core.console.i18n`);
the industry's own codes (categories, severities, facets, offences) take the plugin's
``label_zh`` / ``label`` instead. No screen shows a raw code: :func:`label` falls back to
"—" plus a log line rather than printing one.
"""

from __future__ import annotations

import logging

from core.taxonomy import GENERAL_CHANNELS as _GENERAL_CHANNELS
from core.tickets import labels as words

log = logging.getLogger("tousu.console")

STATES = {code: en for code, (_, en) in words.STATES.items()}

ACTIONS = {
    **{code: en for code, (_, en) in words.ACTIONS.items()},  # the lifecycle
    "intake": "Complaint received",
    "deadline_breached": "Deadline breached",
    "deadline_paused": "Clock paused",
    "deadline_resumed": "Clock resumed",
    "extension_requested": "Extension requested",
    "extension_approved": "Extension approved",
    "extension_rejected": "Extension rejected",
    "penalty_confirmed": "Penalty confirmed",
    "penalty_adjusted": "Penalty adjusted",
    "penalty_waived": "Penalty waived",
    "appeal_filed": "Appeal filed",
    "appeal_decided": "Appeal decided",
    "penalty_proposed": "Penalty proposed",
    "penalties_superseded": "Penalties superseded",
    "escalated": "Escalated",
    "calendar_retimed": "Deadlines re-timed",
    # side events written beside the lifecycle (attachments, penalties, clocks, sweeps)
    "attach": "Attachment uploaded",
    "download_attachment": "Attachment downloaded",
    "penalty_confirm": "Penalty confirmed",
    "penalty_adjust": "Penalty adjusted",
    "penalty_waive": "Penalty waived",
    "auto_upgrade": "Severity raised automatically",
    "deadline_due_soon": "Deadline near",
    "reply_reviewed": "Reply reviewed",
}
"""Every action and event kind a ticket's history can hold (tests/test_console_labels.py
collects them from the code that writes events and checks each has a label)."""

CHANNELS = {code: en for code, (_, en) in words.CHANNELS.items()}

GENERAL_CHANNELS = _GENERAL_CHANNELS
"""Intake channels every industry has (:data:`core.taxonomy.GENERAL_CHANNELS`); an industry's
own (its hotline, a voice mailbox) come from its plugin's taxonomy ``channels``."""

COMMUNICATIVE = {"help": "Help request", "inquiry": "Inquiry", "venting": "Venting"}
"""沟通性投诉 kinds [000 §篇1 1(1)2)]."""

HISTORY_WORDS = {
    "appeal": "Appeal",
    "overturned": "Overturned",
    "upheld": "Upheld",
    "complainant_unreachable": "Complainant unreachable",
}

ROLES = {
    "clerk": "Desk clerk",
    "supervisor": "Supervisor",
    "department_head": "Department head",
    "manager": "Manager",
    "general_manager": "General manager",
    "inspector": "Discipline inspector",
    "staff": "Staff member",
    "tenant_admin": "Tenant administrator",
    "platform_operator": "Platform operator",
    "system": "System",
    "unknown": "Unknown role",
}

REGISTER_REASONS = {
    "on_site": "On-site work needed",
    "found_by_management": "Found by management",
    "needs_follow_up": "Needs follow-up",
    "emergency": "Emergency",
    "outside_scope_help": "Outside scope, help requested",
}

VERIFICATIONS = {
    "service_slip_signed": "Service slip signed",
    "result_confirmed": "Result confirmed with complainant",
    "unresolvable_approved": "Unresolvable, approved",
}

GRADE_LEVELS = {
    "full": "Full responsibility",
    "main": "Main responsibility",
    "secondary": "Secondary responsibility",
    "none": "No responsibility",
}

CAPACITIES = {"direct": "Directly responsible"}

CLOCK_STATES = {
    "running": "Running",
    "paused": "Paused",
    "met": "Met",
    "missed": "Missed",
    "cancelled": "Cancelled",
    "stopped": "Stopped",
}

STEPS = {code: en for code, (_, en) in words.STEPS.items()}

UNITS = {
    "minutes": "minutes",
    "hours": "hours",
    "calendar_days": "calendar days",
    "working_days": "working days",
    "months": "months",
    "same_day": "the same day",
}

PENALTY_STATUS = {
    "proposed": "Proposed",
    "confirmed": "Confirmed",
    "adjusted": "Adjusted",
    "waived": "Waived",
    "superseded": "Superseded",
}

APPEAL_STATUS = {
    "pending": "Pending",
    "filed": "Pending",
    "upheld": "Upheld",
    "overturned": "Overturned",
}

EXTENSION_STATUS = {
    "pending": "Pending",
    "approved": "Approved",
    "rejected": "Rejected",
}

RESOLUTIONS = {code: en for code, (_, en) in words.RESOLUTIONS.items()}

PAYLOAD_TEXT = {
    "note": "Note",
    "reason": "Reason",
    "explanation": "Explanation",
    "reply": "Reply",
    "findings": "Findings",
    "policy_explained": "Policy explained",
}

PAUSE_REASONS = {
    "complainant_unreachable": "Complainant unreachable",
    "waiting_third_party": "Waiting for a third party",
    "waiting_video_footage": "Waiting for video footage",
}

SOURCES = {"plugin": "Industry default", "tenant": "Set by the tenant", "extension": "Extension"}

DAY_KINDS = {"closure": "Closed (non-working day)", "workday": "Extra working day"}

ATTACHMENT_KINDS = {
    "call_recording": "Call recording",
    "service_slip": "Signed service slip",
    "letter": "Complainant's letter",
    "photo": "Photo",
    "other": "Other evidence",
}

TOLD_HOW = {
    "phone": "Phone",
    "sms": "Text message",
    "visit": "Visit",
    "letter": "Letter",
    "in_person": "In person",
    "other": "Other",
}

DELIVERY_STATUS = {"pending": "Waiting to be sent", "delivered": "Delivered", "failed": "Failed"}

GROUPS = {
    "state": STATES,
    "action": ACTIONS,
    "channel": CHANNELS,
    "role": ROLES,
    "register_reason": REGISTER_REASONS,
    "verification": VERIFICATIONS,
    "grade": GRADE_LEVELS,
    "capacity": CAPACITIES,
    "clock_state": CLOCK_STATES,
    "step": STEPS,
    "unit": UNITS,
    "penalty_status": PENALTY_STATUS,
    "appeal_status": APPEAL_STATUS,
    "extension_status": EXTENSION_STATUS,
    "resolution": RESOLUTIONS,
    "payload": PAYLOAD_TEXT,
    "source": SOURCES,
    "pause_reason": PAUSE_REASONS,
    "day_kind": DAY_KINDS,
    "delivery_status": DELIVERY_STATUS,
    "communicative": COMMUNICATIVE,
    "attachment_kind": ATTACHMENT_KINDS,
    "told_how": TOLD_HOW,
}

OPTION_GROUP = {
    "verification": "verification",
    "kind": "communicative",
    "decision": "appeal_status",
    "unit": "unit",
    "grade": "grade",
    "channel": "channel",
    "reason": "register_reason",
}
"""A body field's ``Literal`` values → the group above that labels them."""


def label(group: str, code: str | None) -> str:
    """The English message id for ``code`` in ``group`` (translate it with ``_``)."""
    if code is None or code == "":
        return "—"
    found = GROUPS.get(group, {}).get(code)
    if found is None:
        log.warning("no console label for %s %r", group, code)
        return "—"
    return found
