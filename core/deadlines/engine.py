"""Step clocks: started, stopped and re-timed by lifecycle transitions.

Which transition starts or stops which step's clock is data (:data:`FLOW`); the limit
comes from the tenant's override in force when the step started, else from the plugin's
deadline table; due times are computed on the tenant's working-day calendar. Each clock is
charged to the department (and person) that owned the step, so an overrun is charged to the
stage that caused it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import TenantScope, utcnow
from core.deadlines.calendar import CalendarOutOfRange, WorkingCalendar
from core.deadlines.models import CalendarDay, DeadlineSetting, StepClock
from core.people.models import Tenant, User
from core.people.roles import DESK
from core.plugins import TenantHooks
from core.rules import DeadlineTable
from core.tickets.models import Ticket

START, MET, CANCEL = "start", "met", "cancel"
AUTO_UPGRADE = "auto_upgrade"
"""A clock that is no step: when it runs out, a still-open valid ticket is upgraded."""
EVERY, STEPS_ONLY = "*", "*steps"

# action → [(step, what happens to that step's clock)]  (domain §2, §6)
FLOW: dict[str, list[tuple[str, str]]] = {
    "intake": [("dispatch", START), ("invalid_notice", START)],
    "triage_valid": [("invalid_notice", CANCEL)],
    "triage_invalid": [("invalid_notice", MET), ("dispatch", CANCEL)],
    "settle": [("invalid_notice", CANCEL), ("dispatch", CANCEL), (AUTO_UPGRADE, CANCEL)],
    "register": [("resolution", START)],
    "dispatch": [("dispatch", MET), ("first_contact", START), ("return", START), ("reply", START)],
    "return": [("return", MET), ("first_contact", CANCEL), ("reply", CANCEL), ("dispatch", START)],
    "first_contact": [("first_contact", MET), ("return", CANCEL)],
    # Handling is finished (处理完毕) when the result is told: the reply ends "resolution".
    "reply": [("reply", MET), ("resolution", MET), ("follow_up", START)],
    # A satisfied follow-up means reasonably resolved: no upgrade for age any more.
    "follow_up": [("follow_up", MET), (AUTO_UPGRADE, CANCEL)],
    "follow_up_unsatisfied": [("follow_up", MET), ("dispatch", START), ("resolution", START)],
    # Suspended is still unresolved: the age upgrade keeps running, the steps stop.
    "suspend": [(STEPS_ONLY, CANCEL)],
    "close": [(EVERY, CANCEL)],
    "reopen": [("dispatch", START), ("resolution", START)],
}

# Steps owned by the handling department (the others by the desk).
DEPARTMENT_STEPS = frozenset({"first_contact", "return", "reply", "resolution"})
SILENT_STEPS = frozenset({"return"})


async def _owner(
    scope: TenantScope, ticket: Ticket, step: str, actor: Any
) -> tuple[int | None, int | None]:
    """(department, person) a step's clock is charged to.

    Department steps belong to the dispatched department. Desk steps (dispatch, follow-up,
    invalid notice) belong to the desk: the acting desk member, or — when a department head
    triggers one (a return, a reply) — the department of whoever took the complaint in.
    """
    if step in DEPARTMENT_STEPS:
        return ticket.assigned_department_id, None
    if not set(getattr(actor, "roles", ())).isdisjoint(DESK):
        return actor.department_id, actor.user_id
    dept = await scope.scalar(select(User.department_id).where(User.id == ticket.created_by))
    return dept, None


async def calendar_for(scope: TenantScope) -> WorkingCalendar:
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    cfg = tenant.config or {}
    days = list(await scope.scalars(select(CalendarDay)))
    hours = None
    if cfg.get("working_hours"):
        start, end = cfg["working_hours"]
        hours = (dt.time.fromisoformat(start), dt.time.fromisoformat(end))
    return WorkingCalendar(
        timezone=cfg.get("timezone", "Asia/Shanghai"),
        closures=frozenset(d.day for d in days if d.kind == "closure"),
        extra_workdays=frozenset(d.day for d in days if d.kind == "workday"),
        hours=hours,
        fallback=cfg.get("calendar_fallback", "error"),
    )


async def limit_for(
    scope: TenantScope, table: DeadlineTable, step: str, severity: str | None, at: dt.datetime
) -> tuple[int, str, str] | None:
    """(amount, unit, source) in force at ``at``.

    A tenant overrides entries of the plugin's table, an entry being (step, severity) or
    (step, any severity). The most specific entry wins: the tenant's for this severity, the
    plugin's for this severity, the tenant's for any severity, the plugin's for any.
    """
    rows = list(
        await scope.scalars(
            select(DeadlineSetting)
            .where(DeadlineSetting.step == step, DeadlineSetting.effective_from <= at)
            .order_by(DeadlineSetting.effective_from, DeadlineSetting.id)
        )
    )
    tenant_exact = [r for r in rows if severity is not None and r.severity == severity]
    tenant_any = [r for r in rows if r.severity is None]
    plugin_exact = next(
        (r for r in table.rules if r.step == step and severity and r.severity == severity), None
    )
    plugin_any = next((r for r in table.rules if r.step == step and r.severity is None), None)
    if tenant_exact:
        return tenant_exact[-1].amount, tenant_exact[-1].unit, "tenant"
    if plugin_exact:
        return plugin_exact.amount, plugin_exact.unit, "plugin"
    if tenant_any:
        return tenant_any[-1].amount, tenant_any[-1].unit, "tenant"
    if plugin_any:
        return plugin_any.amount, plugin_any.unit, "plugin"
    return None


def add_months(cal: WorkingCalendar, start: dt.datetime, months: int) -> dt.datetime:
    """The end (24:00) of the same day number ``months`` later, clamped to the month's end."""
    zone = ZoneInfo(cal.timezone)
    local = start.astimezone(zone).date()
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    end = dt.datetime.combine(
        dt.date(year, month, day) + dt.timedelta(days=1), dt.time(), tzinfo=zone
    )
    return end.astimezone(dt.UTC)


def due_time(cal: WorkingCalendar, started: dt.datetime, amount: int, unit: str) -> dt.datetime:
    if unit == "months":
        return add_months(cal, started, amount)
    return cal.add(started, amount, unit)  # type: ignore[arg-type]


def _times(
    cal: WorkingCalendar, started: dt.datetime, amount: int, unit: str, paused: int, pct: int
) -> tuple[dt.datetime, dt.datetime]:
    due = due_time(cal, started, amount, unit) + dt.timedelta(seconds=paused)
    warn = due - (due - started) * pct / 100
    return due, warn


async def _running(scope: TenantScope, ticket_id: int, step: str | None = None) -> list[StepClock]:
    q = select(StepClock).where(
        StepClock.ticket_id == ticket_id, StepClock.state.in_(("running", "paused"))
    )
    if step is not None:
        q = q.where(StepClock.step == step)
    return list(await scope.scalars(q))


async def on_transition(
    scope: TenantScope,
    hooks: TenantHooks,
    ticket: Ticket,
    action: str,
    actor: Any,
    at: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Apply :data:`FLOW` for ``action``; returns a summary for the event payload."""
    at = at or utcnow()
    table = hooks.deadlines()
    out: list[dict[str, Any]] = []
    cal: WorkingCalendar | None = None
    for step, what in FLOW.get(action, []):
        if what == START:
            for old in await _running(scope, ticket.id, step):
                _end(old, "cancelled", at)
            limit = await limit_for(scope, table, step, ticket.severity, at)
            if limit is None:
                continue
            cal = cal or await calendar_for(scope)
            amount, unit, source = limit
            try:
                due, warn = _times(cal, at, amount, unit, 0, table.warn_before_percent)
            except CalendarOutOfRange as exc:
                # Never refuse a complaint over the calendar: estimate with the library's
                # rule-based holidays, mark the clock, and say why in the history.
                cal = replace(cal, fallback="rules")
                due, warn = _times(cal, at, amount, unit, 0, table.warn_before_percent)
                source = "estimate"
                out.append({"step": step, "calendar": str(exc)})
            dept, owner = await _owner(scope, ticket, step, actor)
            clock = StepClock(
                ticket_id=ticket.id,
                step=step,
                owner_department_id=dept,
                owner_user_id=owner,
                started_at=at,
                amount=amount,
                unit=unit,
                source=source,
                due_at=due,
                warn_at=warn,
                # The return window only judges a return when it happens: no alarms.
                alarm_at=None if step in SILENT_STEPS else warn,
            )
            scope.add(clock)
            out.append({"step": step, "started": True, "due_at": due.isoformat()})
        else:
            clocks = await _running(scope, ticket.id, None if step.startswith("*") else step)
            if step == STEPS_ONLY:
                clocks = [c for c in clocks if c.step != AUTO_UPGRADE]
            for clock in clocks:
                if what == MET:
                    _settle_pause(clock, at)
                    _end(
                        clock,
                        "met" if at <= clock.due_at and clock.breached_at is None else "missed",
                        at,
                    )
                else:
                    _end(clock, "cancelled", at)
                out.append({"step": clock.step, "ended": clock.state})
    if action in ("triage_valid", "reopen") and ticket.valid and table.upgrade is not None:
        for old in await _running(scope, ticket.id, AUTO_UPGRADE):
            _end(old, "cancelled", at)
        cal = cal or await calendar_for(scope)
        rule = table.upgrade
        due = due_time(cal, ticket.created_at, rule.amount, rule.unit)
        scope.add(
            StepClock(
                ticket_id=ticket.id,
                step=AUTO_UPGRADE,
                owner_department_id=None,
                owner_user_id=None,
                started_at=ticket.created_at,
                amount=rule.amount,
                unit=rule.unit,
                source="plugin",
                due_at=due,
                warn_at=due,
                alarm_at=due,
            )
        )
        out.append({"step": AUTO_UPGRADE, "started": True, "due_at": due.isoformat()})
    if action == "dispatch":
        for clock in await _running(scope, ticket.id, "resolution"):
            clock.owner_department_id = ticket.assigned_department_id
    await scope.flush()
    return out


def _settle_pause(clock: StepClock, at: dt.datetime) -> None:
    """A step finished while paused: the paused time does not count against it."""
    if clock.state == "paused" and clock.paused_at is not None:
        paused = at - clock.paused_at
        clock.paused_seconds += int(paused.total_seconds())
        clock.due_at += paused
        clock.paused_at = None


def _end(clock: StepClock, state: str, at: dt.datetime) -> None:
    _settle_pause(clock, at)
    clock.state = state
    clock.ended_at = at
    clock.alarm_at = None


async def retime(scope: TenantScope, hooks: TenantHooks, ticket: Ticket) -> list[dict[str, Any]]:
    """Recompute due times of the ticket's open clocks (severity or calendar changed).

    Limits stay those in force when each step started; only the severity and the calendar
    are re-read.
    """
    table = hooks.deadlines()
    cal = await calendar_for(scope)
    changes = []
    for clock in await _running(scope, ticket.id):
        if clock.source == "extension" or clock.step == AUTO_UPGRADE:
            continue
        limit = await limit_for(scope, table, clock.step, ticket.severity, clock.started_at)
        if limit is None:
            continue
        amount, unit, source = limit
        try:
            due, warn = _times(
                cal, clock.started_at, amount, unit, clock.paused_seconds, table.warn_before_percent
            )
        except CalendarOutOfRange:  # estimate, as when the clock started
            due, warn = _times(
                replace(cal, fallback="rules"),
                clock.started_at,
                amount,
                unit,
                clock.paused_seconds,
                table.warn_before_percent,
            )
            source = "estimate"
        if due != clock.due_at:
            changes.append(
                {"step": clock.step, "due_was": clock.due_at.isoformat(), "due_at": due.isoformat()}
            )
            clock.amount, clock.unit, clock.source = amount, unit, source
            clock.due_at, clock.warn_at = due, warn
            if (
                clock.state == "running"
                and clock.breached_at is None
                and (clock.step not in SILENT_STEPS)
            ):
                clock.alarm_at = warn if clock.warned_at is None else due
    await scope.flush()
    return changes
