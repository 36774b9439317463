"""Escalation: who hears of a ticket at once by severity, and of a step that overran.

Domain §2: a major complaint reaches the general manager the same day, an important one the
responsible manager within 1 hour [000 §篇1 4(4)3②, 4(4)4] — the plugin's table says which
severities and roles. A breached step notifies the chain: the owning department's head, the
desk supervisor, then management.
"""

from __future__ import annotations

from core.db import TenantScope
from core.deadlines.engine import DEPARTMENT_STEPS
from core.deadlines.models import StepClock
from core.people.roles import Role
from core.plugins import TenantHooks
from core.tasks.notify import emit, notify, recipients
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


async def on_breach(
    scope: TenantScope, hooks: TenantHooks, ticket: Ticket, clock: StepClock
) -> int:
    """Notify the escalation chain of a step that overran its due time (once per clock)."""
    roles = set(BREACH_CHAIN)
    if ticket.severity in hooks.deadlines().urgent_severities:
        roles.add(Role.GENERAL_MANAGER)
    users = await recipients(scope, roles, clock.owner_department_id)
    sent = await notify(
        scope,
        users,
        kind="deadline_breached",
        ticket_id=ticket.id,
        dedupe=_breach_key(clock),
        params={"number": ticket.number, "step": clock.step, "due": clock.due_at.isoformat()},
    )
    await emit(
        scope,
        "deadline.breached",
        {
            "ticket": ticket.number,
            "ticket_id": ticket.id,
            "step": clock.step,
            "due_at": clock.due_at.isoformat(),
            "owner_department_id": clock.owner_department_id,
        },
        dedupe=_breach_key(clock),
    )
    return sent


async def on_due_soon(scope: TenantScope, ticket: Ticket, clock: StepClock) -> int:
    """Warn the step's owner that its due time is near (once per clock)."""
    if clock.owner_user_id is not None:
        users = [clock.owner_user_id]
    elif clock.step in DEPARTMENT_STEPS:
        users = await recipients(scope, {Role.DEPARTMENT_HEAD}, clock.owner_department_id)
    else:  # a desk step nobody at the desk has taken yet: the desk supervisors
        users = await recipients(scope, {Role.SUPERVISOR})
    return await notify(
        scope,
        users,
        kind="deadline_due_soon",
        ticket_id=ticket.id,
        dedupe=f"warn:{clock.id}:{clock.due_at.isoformat()}",
        params={"number": ticket.number, "step": clock.step, "due": clock.due_at.isoformat()},
    )
