"""Escalation: who hears of a ticket at once by severity, and of a step that overran.

Domain §2: a major complaint reaches the general manager the same day, an important one the
responsible manager within 1 hour [000 §篇1 4(4)3②, 4(4)4] — the plugin's table says which
severities and roles. A breached step notifies the chain: the owning department's head, the
desk supervisor, then management.
"""

from __future__ import annotations

from core.db import TenantScope
from core.deadlines.models import StepClock
from core.people.roles import Role
from core.plugins import TenantHooks
from core.tasks.notify import notify, recipients
from core.tickets.models import Ticket

BREACH_CHAIN = frozenset({Role.DEPARTMENT_HEAD, Role.SUPERVISOR, Role.MANAGER})


async def on_severity(scope: TenantScope, hooks: TenantHooks, ticket: Ticket) -> int:
    """Notify the roles the plugin names for the ticket's severity (once per severity)."""
    if ticket.severity is None:
        return 0
    sent = 0
    for rule in hooks.deadlines().escalations:
        if rule.severity != ticket.severity:
            continue
        users = await recipients(scope, set(rule.notify_roles), ticket.assigned_department_id)
        sent += await notify(
            scope,
            users,
            kind="escalation",
            ticket_id=ticket.id,
            dedupe=f"escalation:{ticket.id}:{ticket.severity}",
            params={"number": ticket.number, "severity": ticket.severity, "seed": rule.seed}
            | ({"minutes": rule.within_minutes} if rule.within_minutes else {}),
        )
    return sent


def _breach_key(clock: StepClock) -> str:
    """Once per clock — and once more per approved extension (a new due time)."""
    # an extended clock may also be shown as an estimate (issue 23 §6); the sweep passes
    # rows that carry only the source
    if clock.source == "extension" or getattr(clock, "extensions", None):
        return f"breach:{clock.id}:{clock.due_at.isoformat()}"
    return f"breach:{clock.id}"
