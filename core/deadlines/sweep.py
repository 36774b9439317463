"""The deadline sweep: due-soon warnings, breaches and automatic upgrades.

It reads only clocks whose ``alarm_at`` has come (an index range scan), so its cost grows
with what is due, not with the number of open tickets. Every effect is idempotent (a clock's
breach is stamped once; notifications are unique per reason), so several sweepers running
at once, or a sweep retried after a crash, notify nobody twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace

from sqlalchemy import select

from core import metrics
from core.audit import AuditEvent
from core.db import Database, TenantScope, utcnow
from core.deadlines import engine, escalation
from core.deadlines.engine import AUTO_UPGRADE
from core.deadlines.models import StepClock
from core.tasks.notify import emit, system_user_id
from core.tickets.events import append_event
from core.tickets.facts import plugin_of
from core.tickets.lifecycle import OPEN
from core.tickets.models import Ticket

log = logging.getLogger("tousu.sweep")


@dataclass
class SweepReport:
    warned: int = 0
    breached: int = 0
    upgraded: int = 0
    deferred: int = 0
    clocks: list[int] = field(default_factory=list)


async def sweep(db: Database, now: dt.datetime | None = None, batch: int = 500) -> SweepReport:
    now = now or utcnow()
    report = SweepReport()
    async with db.cross_tenant() as session:  # platform path: which tenants have alarms
        tenant_ids = list(
            await session.scalars(
                select(StepClock.tenant_id).where(StepClock.alarm_at <= now).distinct()
            )
        )
    for tenant_id in tenant_ids:
        try:  # one tenant's trouble must not stop the others' breaches
            async with db.tenant(tenant_id) as scope:
                await _sweep_tenant(scope, now, batch, report)
        except Exception:
            log.exception("sweep failed for tenant %s", tenant_id)
    return report


async def _sweep_tenant(
    scope: TenantScope, now: dt.datetime, batch: int, report: SweepReport
) -> None:
    clocks = list(
        await scope.scalars(
            select(StepClock)
            .where(StepClock.alarm_at <= now)
            .order_by(StepClock.alarm_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    if not clocks:
        return
    hooks = await plugin_of(scope)
    table = hooks.deadlines()
    cal = await engine.calendar_for(scope)
    cal = replace(cal, fallback="rules") if cal.fallback == "error" else cal  # never stall
    for clock in clocks:
        report.clocks.append(clock.id)
        ticket = await scope.session.get(Ticket, clock.ticket_id)
        assert ticket is not None
        if clock.state != "running":
            clock.alarm_at = None
            continue
        if clock.step == AUTO_UPGRADE:
            if now >= clock.due_at:
                report.upgraded += await _upgrade(scope, hooks, ticket, clock, now)
            continue
        if now >= clock.due_at:
            clock.breached_at = now
            clock.alarm_at = None
            scope.add(
                AuditEvent(
                    actor="system:sweep",
                    action="deadline_breached",
                    entity="ticket",
                    entity_key=ticket.number,
                    payload={
                        "step": clock.step,
                        "due_at": clock.due_at.isoformat(),
                        "owner_department_id": clock.owner_department_id,
                    },
                )
            )
            await escalation.on_breach(scope, hooks, ticket, clock)
            report.breached += 1
            metrics.clock_breached(scope.tenant_id)
        elif clock.warned_at is None:
            urgent = ticket.severity in table.urgent_severities
            if urgent or cal.in_working_hours(now):
                clock.warned_at = now
                clock.alarm_at = clock.due_at
                await escalation.on_due_soon(scope, ticket, clock)
                report.warned += 1
            else:  # warnings wait for working hours unless the ticket is urgent
                clock.alarm_at = min(cal.next_working_time(now), clock.due_at)
                report.deferred += 1
        else:
            clock.alarm_at = clock.due_at
    await scope.flush()


async def _upgrade(
    scope: TenantScope, hooks: object, ticket: Ticket, clock: StepClock, now: dt.datetime
) -> int:
    """A valid ticket still open after the plugin's period becomes its upgrade severity."""
    rule = hooks.deadlines().upgrade  # type: ignore[attr-defined]
    clock.state, clock.ended_at, clock.alarm_at = "met", now, None
    if rule is None or ticket.state not in OPEN or not ticket.valid:
        return 0
    if ticket.severity == rule.to_severity:
        return 0
    was = ticket.severity
    ticket.severity = rule.to_severity
    await engine.retime(scope, hooks, ticket)  # type: ignore[arg-type]
    await append_event(
        scope,
        ticket,
        AUTO_UPGRADE,
        await system_user_id(scope),
        "system",
        {"severity_was": was, "severity": rule.to_severity, "rule": rule.seed},
    )
    await escalation.on_severity(scope, hooks, ticket)  # type: ignore[arg-type]
    await emit(
        scope,
        "ticket.auto_upgrade",
        {
            "ticket_id": ticket.id,
            "number": ticket.number,
            "action": AUTO_UPGRADE,
            "severity_was": was,
            "severity": ticket.severity,
            "at": now.isoformat(),
        },
        dedupe=f"ticket:{ticket.id}:{ticket.version}",
    )
    return 1
