"""Deadline use cases: reading a ticket's clocks, pausing, extensions, tenant overrides and
calendar days. Each change to a clock is a ticket history event in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any, get_args

from sqlalchemy import select

from core.audit import AuditEvent
from core.db import TenantScope, utcnow
from core.deadlines import engine
from core.deadlines.models import OPEN, CalendarDay, DeadlineSetting, Extension, StepClock
from core.deadlines.notice import check_told_first
from core.decisions import already_decided, claim
from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.people.duties import refuse_own
from core.people.guards import needs_role
from core.people.roles import DESK, MANAGEMENT, Role
from core.principal import Principal
from core.rules import Step
from core.tasks import handoffs
from core.tasks.notify import notify
from core.tickets.events import append_event
from core.tickets.facts import facts_of, plugin_of
from core.tickets.models import Ticket

STEPS: tuple[str, ...] = get_args(Step)
UNITS = ("minutes", "hours", "calendar_days", "working_days", "months")
MAX_AMOUNT = {
    "minutes": 525_600,
    "hours": 8_760,
    "calendar_days": 730,
    "working_days": 500,
    "months": 24,
}
"""At most about two years, whatever the unit: a longer limit is a typo, not a deadline."""
HANDLERS = DESK | MANAGEMENT | {Role.DEPARTMENT_HEAD}


def _role(p: Principal, allowed: frozenset[str] | set[str], what: str) -> str:
    role = p.role_for(frozenset(allowed))
    if role is None:
        raise needs_role(allowed, what)
    return role


async def _lock_ticket(scope: TenantScope, ticket: Ticket) -> None:
    # A transition writes the ticket's row before its clocks; a change to a clock here
    # must lock in the same order, or the two deadlock on PostgreSQL (the flush would
    # write the clock first). The version check still answers a lost race with 409.
    await scope.execute(select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())


def _check_step(step: str) -> None:
    if step not in STEPS:
        raise Invalid(
            "unknown step {step}",
            field="step",
            rule="a lifecycle step",
            params={"step": repr(step)},
            allowed=list(STEPS),
        )


async def _clock(scope: TenantScope, ticket: Ticket, step: str) -> StepClock:
    _check_step(step)
    await _lock_ticket(scope, ticket)
    clock = await scope.scalar(
        select(StepClock)
        .where(
            StepClock.ticket_id == ticket.id,
            StepClock.step == step,
            StepClock.state.in_(OPEN),
        )
        .order_by(StepClock.id.desc())
    )
    if clock is None:
        raise Conflict(
            "step {step} has no running clock on this ticket",
            rule="running clock",
            params={"step": repr(step)},
        )
    return clock


def _own(p: Principal, role: str, clock: StepClock) -> None:
    if role == Role.DEPARTMENT_HEAD and clock.owner_department_id != p.department_id:
        raise Forbidden("only the department that owns the step may do this", rule="own department")


async def pause(
    scope: TenantScope, p: Principal, ticket: Ticket, step: str, reason: str, note: str
) -> StepClock:
    role = _role(p, HANDLERS, "暂停计时(pause)")
    clock = await _clock(scope, ticket, step)
    _own(p, role, clock)
    allowed = (await plugin_of(scope)).deadlines().pause_reasons
    if reason not in allowed:
        raise Invalid(
            "{reason} is not a reason this industry allows for pausing",
            field="reason",
            rule="one of the plugin's pause reasons",
            params={"reason": repr(reason)},
            allowed=list(allowed),
        )
    if clock.state == "paused":
        raise Conflict("the clock is already paused", rule="running clock")
    now = utcnow()
    clock.state, clock.paused_at, clock.pause_reason, clock.alarm_at = "paused", now, reason, None
    await append_event(
        scope,
        ticket,
        "deadline_paused",
        p.user_id,
        role,
        {"step": step, "reason": reason, "note": note},
    )
    return clock


async def resume(scope: TenantScope, p: Principal, ticket: Ticket, step: str) -> StepClock:
    role = _role(p, HANDLERS, "恢复计时(resume)")
    clock = await _clock(scope, ticket, step)
    _own(p, role, clock)
    if clock.state != "paused" or clock.paused_at is None:
        raise Conflict("the clock is not paused", rule="paused clock")
    now = utcnow()
    paused = engine.close_pause(clock, now)
    assert paused is not None
    clock.state = "running"
    # Due and warning times derive from the clock's inputs, this pause now among them: the
    # working time left at the pause is what is left at the resumption (not wall-clock).
    hooks = await plugin_of(scope)
    engine.set_times(await engine.calendar_for(scope), clock, hooks.deadlines(), ticket)
    await append_event(
        scope,
        ticket,
        "deadline_resumed",
        p.user_id,
        role,
        {
            "step": step,
            "paused_seconds": int(paused.total_seconds()),
            "due_at": clock.due_at.isoformat(),
        },
    )
    return clock


async def request_extension(
    scope: TenantScope,
    p: Principal,
    ticket: Ticket,
    step: str,
    amount: int,
    unit: str,
    reason: str,
    informed: bool,
    told: dict[str, Any] | None = None,
) -> Extension:
    """``told``: who told the complainant, when and how (``by``, ``at``, ``how``); required
    where the plugin's duties say the complainant is told first (422 ``complainant_told``)."""
    role = _role(p, HANDLERS, "申请延期(extension)")
    clock = await _clock(scope, ticket, step)
    _own(p, role, clock)
    told = check_told_first((await plugin_of(scope)).duties(), told, ticket.created_at)
    informed = informed or told is not None
    pending = await scope.scalar(
        select(Extension.id).where(Extension.clock_id == clock.id, Extension.status == "pending")
    )
    if pending is not None:
        raise Conflict(
            "an extension of this step is already waiting for approval",
            rule="one pending extension",
        )
    ext = Extension(
        ticket_id=ticket.id,
        clock_id=clock.id,
        amount=amount,
        unit=unit,
        reason=reason,
        complainant_informed=informed,
        requested_by=p.user_id,
    )
    scope.add(ext)
    await scope.flush()
    # those who may approve it, by the API's rule: never the asker, nor the head of the
    # department whose clock it is [000 §篇1 4(4)9]
    approvers = await handoffs.deciders(
        scope, "extension", ticket, default=MANAGEMENT,
        exclude_users=[p.user_id], exclude_head_of=clock.owner_department_id,
    )  # fmt: skip
    await notify(
        scope,
        approvers,
        kind="extension_requested",
        ticket_id=ticket.id,
        dedupe=f"extension:{ext.id}",
        params={"number": ticket.number, "step": step, "reason": reason},
    )
    await append_event(
        scope,
        ticket,
        "extension_requested",
        p.user_id,
        role,
        {
            "extension_id": ext.id,
            "step": step,
            "amount": amount,
            "unit": unit,
            "reason": reason,
            "complainant_informed": informed,
        }
        | ({"complainant_told": told} if told else {}),
    )
    return ext


async def extension(scope: TenantScope, extension_id: int) -> Extension:
    """The extension by id; 404 naming ``extension_id`` when the tenant has none such."""
    ext = await scope.scalar(select(Extension).where(Extension.id == extension_id))
    if ext is None:
        raise NotFound(
            "extension {id} not found", field="extension_id", params={"id": extension_id}
        )
    return ext


async def decide_extension(
    scope: TenantScope, p: Principal, ticket: Ticket, ext: Extension, approve: bool, reason: str
) -> Extension:
    """The plugin names the approvers (e.g. minor → department manager, important →
    general manager [000 §篇1 4(4)9]; or the company [002 第十五条])."""
    hooks = await plugin_of(scope)
    allowed = hooks.approvers("extension", facts_of(ticket)) or sorted(MANAGEMENT)
    role = _role(p, set(allowed), "审批延期(extension decision)")
    if ext.status != "pending":
        raise already_decided("该延期申请", ext.status)
    await _lock_ticket(scope, ticket)
    clock = await scope.session.get(StepClock, ext.clock_id)
    assert clock is not None
    # 超时需经…批准 [000 §篇1 4(4)9]: neither the requester nor the head of the
    # department whose clock overran approves it (domain §10).
    refuse_own(p, "extension", ext.requested_by, overran_department_id=clock.owner_department_id)
    now = utcnow()
    # Only one decision wins, even when several arrive at once (issue 9 item 4).
    await claim(
        scope,
        Extension,
        ext,
        "pending",
        "该延期申请",
        {
            "status": "approved" if approve else "rejected",
            "decided_by": p.user_id,
            "decided_at": now,
            "decision_reason": reason,
        },
    )
    payload: dict[str, Any] = {"extension_id": ext.id, "step": clock.step, "reason": reason}
    if approve:
        if clock.state not in OPEN:
            raise Conflict("the step is no longer running", rule="running clock")
        cal = await engine.calendar_for(scope)
        due_was = clock.due_at
        # An estimate never blocks a decision (issue 23 §6): an extension into a year
        # without an official schedule is computed with rule-based holidays, shown as an
        # estimate (``source``) and recomputed when the year is loaded (core.deadlines.official).
        # The extension becomes one of the clock's inputs, so a later calendar or severity
        # change recomputes the extended clock too; a fresh window: warn again near the new
        # due time, judge the step against it.
        clock.extensions = [*(clock.extensions or ()), [ext.amount, ext.unit, now.isoformat()]]
        clock.source = "extension"
        clock.warned_at = None
        clock.breached_at = None
        note = engine.set_times(cal, clock, hooks.deadlines(), ticket)
        payload |= {"due_was": due_was.isoformat(), "due_at": clock.due_at.isoformat()}
        if note:
            clock.source = "estimate"
            payload["calendar"] = note
        ext.new_due_at = clock.due_at
    await append_event(scope, ticket, f"extension_{ext.status}", p.user_id, role, payload)
    return ext


# ---------------------------------------------------------------- tenant configuration


async def set_deadline(
    scope: TenantScope,
    step: str,
    severity: str | None,
    amount: int,
    unit: str,
    effective_from: dt.datetime,
    set_by: str,
) -> DeadlineSetting:
    _check_step(step)
    if unit not in UNITS:
        raise Invalid(
            "unknown unit {unit}",
            field="unit",
            rule="a time unit",
            params={"unit": repr(unit)},
            allowed=list(UNITS),
        )
    if amount <= 0 or amount > MAX_AMOUNT[unit]:
        raise Invalid(
            "a limit in {unit} must be from 1 to {n}",
            field="amount",
            rule=f"1..{MAX_AMOUNT[unit]}",
            params={"unit": unit, "n": MAX_AMOUNT[unit]},
        )
    if effective_from < utcnow() - dt.timedelta(minutes=5):
        raise Invalid(
            "a limit cannot take effect in the past (running steps keep theirs)",
            field="effective_from",
            rule="now or later",
        )
    if severity is not None:
        tax = (await plugin_of(scope)).taxonomy()
        if tax.severity(severity) is None:
            raise Invalid(
                "unknown severity {severity}",
                field="severity",
                params={"severity": repr(severity)},
                rule="a severity of the tenant's taxonomy",
                allowed=[x.code for x in tax.severities],
            )
    row = DeadlineSetting(
        step=step,
        severity=severity,
        amount=amount,
        unit=unit,
        effective_from=effective_from,
        set_by=set_by,
    )
    scope.add(row)
    scope.add(
        AuditEvent(
            actor=set_by,
            action="set",
            entity="deadline",
            entity_key=f"{step}:{severity or '*'}",
            payload={"amount": amount, "unit": unit, "effective_from": effective_from.isoformat()},
        )
    )
    await scope.flush()
    return row


async def set_calendar_day(
    scope: TenantScope, day: dt.date, kind: str | None, note: str, set_by: str
) -> int:
    """Add, change or (kind None) remove a tenant calendar day, then re-time open clocks.

    Returns how many clocks got a new due time; every change is audited.
    """
    row = await scope.scalar(select(CalendarDay).where(CalendarDay.day == day))
    if kind is None:
        if row is None:
            raise NotFound("no calendar entry on {day}", field="day", params={"day": day})
        await scope.session.delete(row)
    elif row is None:
        scope.add(CalendarDay(day=day, kind=kind, note=note))
    else:
        row.kind, row.note = kind, note
    await scope.flush()
    hooks = await plugin_of(scope)
    changed = 0
    ticket_ids = list(
        await scope.scalars(select(StepClock.ticket_id).where(StepClock.state.in_(OPEN)).distinct())
    )
    for tid in ticket_ids:
        ticket = await scope.session.get(Ticket, tid)
        assert ticket is not None
        changes = await engine.retime(scope, hooks, ticket)
        if changes:
            changed += len(changes)
            scope.add(
                AuditEvent(
                    actor=set_by,
                    action="deadline_recomputed",
                    entity="ticket",
                    entity_key=ticket.number,
                    payload={"calendar_day": day.isoformat(), "changes": changes},
                )
            )
    scope.add(
        AuditEvent(
            actor=set_by,
            action="remove" if kind is None else "set",
            entity="calendar_day",
            entity_key=day.isoformat(),
            payload={"kind": kind, "note": note, "clocks_retimed": changed},
        )
    )
    await scope.flush()
    return changed
