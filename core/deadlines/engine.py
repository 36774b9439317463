"""Step clocks: started, stopped and re-timed by lifecycle transitions.

Which transition starts or stops which step's clock is data (:data:`FLOW`); the limit
comes from the tenant's override in force when the step started, else from the plugin's
deadline table; due times are computed on the tenant's working-day calendar. Each clock is
charged to the department (and person) that owned the step, so an overrun is charged to the
stage that caused it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, event, func, select
from sqlalchemy.orm import Session

from core import cache
from core.db import TenantScope, utcnow
from core.deadlines.calendar import ELAPSED, CalendarOutOfRange, WorkingCalendar
from core.deadlines.models import OPEN, CalendarDay, DeadlineSetting, OfficialDay, StepClock
from core.deadlines.official import official_years
from core.deadlines.starts import flow_for
from core.people.models import Tenant, User
from core.people.roles import DESK
from core.plugins import TenantHooks
from core.rules import DeadlineTable
from core.settings import DEFAULT_TIMEZONE
from core.tickets.models import Ticket

START, MET, CANCEL = "start", "met", "cancel"
AUTO_UPGRADE = "auto_upgrade"
"""A clock that is no step: when it runs out, a still-open valid ticket is upgraded."""
EVERY, STEPS_ONLY = "*", "*steps"
RETRIAGE = "reopen_to_triage"
"""The clock flow of a reopen that returns the ticket to triage (not an action name)."""

# action → [(step, what happens to that step's clock)]  (domain §2, §6)
FLOW: dict[str, list[tuple[str, str]]] = {
    "intake": [("dispatch", START), ("invalid_notice", START)],
    "triage_valid": [("invalid_notice", CANCEL)],
    "triage_invalid": [("invalid_notice", MET), ("dispatch", CANCEL)],
    # A communicative complaint (求助/咨询/发泄) is no valid complaint: nothing to dispatch,
    # nothing to tell as invalid [000 §篇1 1(1)2)]; converted, it starts the normal path.
    "triage_communicative": [("invalid_notice", CANCEL), ("dispatch", CANCEL)],
    "convert": [("dispatch", START)],
    "settle": [("invalid_notice", CANCEL), ("dispatch", CANCEL), (AUTO_UPGRADE, CANCEL)],
    "register": [("resolution", START)],
    "dispatch": [
        ("dispatch", MET),
        ("first_contact", START),
        ("return", START),
        ("answer", START),
        ("reply", START),
    ],
    "return": [
        ("return", MET),
        ("first_contact", CANCEL),
        ("answer", CANCEL),
        ("reply", CANCEL),
        ("dispatch", START),
    ],
    "first_contact": [("first_contact", MET), ("return", CANCEL)],
    # 明确答复: what will happen and by when, before the result [000 §篇1 4(4)9].
    "answer": [("answer", MET)],
    # Grading records the handling's findings: handling is finished (处理完毕), and the
    # department hands the form back the same day [000 §篇1 4(4)5①].
    "grade": [("hand_back", START)],
    # The desk tells the complainant the result the day it gets the form [000 §篇1 4(4)6)].
    "hand_back": [("hand_back", MET), ("tell", START)],
    # Handling is finished (处理完毕) when the result is told: the reply ends "resolution".
    # The reply also answers the complainant and hands the form back when nobody did before.
    "reply": [
        ("answer", MET),
        ("hand_back", MET),
        ("tell", MET),
        ("reply", MET),
        ("resolution", MET),
        ("follow_up", START),
    ],
    # A satisfied follow-up means reasonably resolved: no upgrade for age any more.
    "follow_up": [("follow_up", MET), (AUTO_UPGRADE, CANCEL)],
    # The reply goes back to the unit for rework [002 第十六条]: the complainant is not
    # called back about a reply that did not pass; the next reply starts a new follow-up
    # (issue 23 §8).
    "rework_reply": [("follow_up", CANCEL)],
    "follow_up_unsatisfied": [("follow_up", MET), ("dispatch", START), ("resolution", START)],
    # Suspended is still unresolved: the age upgrade keeps running, the steps stop.
    "suspend": [(STEPS_ONLY, CANCEL)],
    "close": [(EVERY, CANCEL)],
    "reopen": [("dispatch", START), ("resolution", START)],
    # Reopening a ticket triaged invalid (or communicative) returns it to triage: its
    # clocks are those of a fresh intake [issue 12 §4].
    RETRIAGE: [("dispatch", START), ("invalid_notice", START)],
}

# Steps owned by the handling department (the others by the desk).
DEPARTMENT_STEPS = frozenset(
    {"first_contact", "return", "answer", "reply", "resolution", "hand_back"}
)
HANDED_BACK = frozenset({"resolution", "reply"})
"""Department clocks the desk takes over when the form is handed back (``hand_back``)."""
CAPPED_STEPS = frozenset({"resolution", "reply"})
"""Steps a per-ticket limit (``Ticket.resolve_by``) shortens: the result is due by then."""
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


async def _load_calendar(scope: TenantScope) -> WorkingCalendar:
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    cfg = tenant.config or {}
    days = list(await scope.scalars(select(CalendarDay)))
    hours = None
    if cfg.get("working_hours"):
        start, end = cfg["working_hours"]
        hours = (dt.time.fromisoformat(start), dt.time.fromisoformat(end))
    return WorkingCalendar(
        timezone=cfg.get("timezone", DEFAULT_TIMEZONE),
        closures=frozenset(d.day for d in days if d.kind == "closure"),
        extra_workdays=frozenset(d.day for d in days if d.kind == "workday"),
        hours=hours,
        fallback=cfg.get("calendar_fallback", "error"),
        official=await official_years(scope),  # loaded by the operator (issue 23 §6)
    )


CALENDAR = cache.TenantMemo(
    "calendar", _load_calendar, watch=(Tenant, CalendarDay, OfficialDay), own_id=(Tenant,)
)
"""The tenant's working calendar (zone, hours, closures, make-up days), cached per process
and dropped when this process commits a change to the tenant or its calendar days."""


async def calendar_for(scope: TenantScope) -> WorkingCalendar:
    """The tenant's working calendar (immutable; cached per process: :mod:`core.cache`)."""
    return await CALENDAR.get(scope)


async def _load_settings(scope: TenantScope) -> tuple[DeadlineSetting, ...]:
    rows = await scope.scalars(
        select(DeadlineSetting).order_by(DeadlineSetting.effective_from, DeadlineSetting.id)
    )
    # detached copies: the cache outlives the session that read them
    return tuple(
        DeadlineSetting(step=r.step, severity=r.severity, amount=r.amount, unit=r.unit,
                        effective_from=r.effective_from)
        for r in rows
    )  # fmt: skip


SETTINGS = cache.TenantMemo("deadline_settings", _load_settings, watch=(DeadlineSetting,))
"""Every deadline override of the tenant, oldest first (a few dozen rows at most)."""


async def limit_for(
    scope: TenantScope, table: DeadlineTable, step: str, severity: str | None, at: dt.datetime
) -> tuple[int, str, str] | None:
    """(amount, unit, source) in force at ``at``.

    A tenant overrides entries of the plugin's table, an entry being (step, severity) or
    (step, any severity). The most specific entry wins: the tenant's for this severity, the
    plugin's for this severity, the tenant's for any severity, the plugin's for any.
    """
    rows = [
        r for r in await SETTINGS.get(scope) if r.step == step and _aware(r.effective_from) <= at
    ]
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
    day = start.astimezone(zone).date() + relativedelta(months=months)  # clamps to the end
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return end.astimezone(dt.UTC)


def end_of_day(cal: WorkingCalendar, at: dt.datetime) -> dt.datetime:
    """24:00 of the tenant's day containing ``at`` (当天: "the same day" [000 §篇1 4(4)5①])."""
    zone = ZoneInfo(cal.timezone)
    day = at.astimezone(zone).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def capped(
    cal: WorkingCalendar,
    ticket: Ticket,
    step: str,
    started: dt.datetime,
    limit: tuple[int, str, str],
) -> tuple[int, str, str]:
    """The limit, shortened to the ticket's own ``resolve_by`` when that comes earlier.

    A per-ticket limit (the complainant's own deadline [000 §篇1 4(4)3②], the leader's
    [000 §篇6 4.2.3e]) only ever shortens the table's clock; it is kept as a clock input in
    minutes from the step's start (source ``ticket``), so recomputing gives the same time.
    A step started after that moment (a reopened ticket) runs on the table's limit.
    """
    by = ticket.resolve_by
    if by is None or step not in CAPPED_STEPS or by <= started:
        return limit
    amount, unit, _ = limit
    if by >= due_or_estimate(cal, started, amount, unit):
        return limit
    minutes = int((by - started).total_seconds() // 60)
    return max(minutes, 1), "minutes", "ticket"


def due_time(cal: WorkingCalendar, started: dt.datetime, amount: int, unit: str) -> dt.datetime:
    """``amount`` ``unit`` after ``started`` with no pause (see :func:`run`)."""
    return run(cal, started, amount, unit, ())


def due_or_estimate(
    cal: WorkingCalendar, started: dt.datetime, amount: int, unit: str
) -> dt.datetime:
    """:func:`due_time`, a year outside the calendar's schedule estimated with the library's
    rule-based holidays (as a clock started there is) instead of refused."""
    try:
        return due_time(cal, started, amount, unit)
    except CalendarOutOfRange:
        return due_time(replace(cal, fallback="rules"), started, amount, unit)


Pauses = Sequence[tuple[dt.datetime, dt.datetime]]
EXTENSION_WARN_PERCENT = 25
"""An approved extension opens a fresh window: warn again when a quarter of it is left."""


def _run_elapsed(at: dt.datetime, left: dt.timedelta, pauses: Pauses) -> dt.datetime:
    for paused, resumed in pauses:
        if resumed <= at:
            continue
        if paused > at:
            if paused - at > left:
                break
            left -= paused - at
        at = max(at, resumed)
    return at + left


def _run_working(
    cal: WorkingCalendar, at: dt.datetime, left: Fraction, pauses: Pauses
) -> dt.datetime:
    """Spend ``left`` working days of working time from ``at``, not counting paused time.

    The working time left when a pause starts is what is left when it ends: paused Tue
    10:00 with a clock due Thu 10:00 and resumed Thu 10:00, the clock is due Mon 10:00.
    """
    for paused, resumed in pauses:
        if resumed <= at:
            continue
        if paused > at:
            here = cal.working_time(at, paused)
            if here > left:
                break
            left -= here
        at = max(at, resumed)
    return cal.advance(at, left)


def run(
    cal: WorkingCalendar, at: dt.datetime, amount: int, unit: str, pauses: Pauses
) -> dt.datetime:
    """The instant ``amount`` ``unit`` after ``at``, time inside ``pauses`` not counting.

    ``working_days`` spend working time (:meth:`WorkingCalendar.advance`: the result is
    always a working instant); ``minutes``, ``hours``, ``calendar_days`` spend elapsed
    time; ``months`` end at 24:00 of the same day number (:func:`add_months`), a pause
    pushing that end by its length. Raises :class:`CalendarOutOfRange` like the calendar.
    """
    if unit == "working_days":
        return _run_working(cal, at, Fraction(amount), pauses)
    if unit == "months":
        return _run_elapsed(at, add_months(cal, at, amount) - at, pauses)
    if unit == "same_day":
        return _run_elapsed(at, end_of_day(cal, at) - at, pauses)
    if unit not in ELAPSED:
        raise ValueError(f"unknown deadline unit {unit!r}")
    return _run_elapsed(at, amount * ELAPSED[unit], pauses)


def _working_left(
    cal: WorkingCalendar, start: dt.datetime, end: dt.datetime, pauses: Pauses
) -> Fraction:
    """Working time in ``[start, end)`` outside ``pauses`` (working days)."""
    total = cal.working_time(start, end)
    for paused, resumed in pauses:
        if resumed > start and paused < end:
            total -= cal.working_time(max(start, paused), min(end, resumed))
    return total


def warn_point(
    cal: WorkingCalendar,
    since: dt.datetime,
    due: dt.datetime,
    percent: int,
    pauses: Pauses = (),
    urgent: bool = False,
) -> dt.datetime:
    """When the due-soon warning of a window ``[since, due)`` falls.

    At the working instant where ``percent`` % of the window's working time (pauses not
    counted) is left — so a warning always falls inside working time, strictly before the
    due instant, whenever the window has any working time: received Mon 18:00 with hours
    08:30-17:30, a 1-working-day clock is due Wed 08:30 and warns Tue 15:15 (25 % left).
    A window without working time warns at the due instant (the breach is the signal).
    An urgent clock may warn earlier, at the wall-clock point, even out of hours.
    """
    budget = _working_left(cal, since, due, pauses)
    warn = due
    if budget > 0:
        warn = min(due, _run_working(cal, since, budget * (100 - percent) / 100, pauses))
    if urgent:
        warn = min(warn, max(since, due - (due - since) * percent / 100))
    return warn


def closed_pauses(clock: StepClock) -> list[tuple[dt.datetime, dt.datetime]]:
    return [
        (dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b)) for a, b in clock.pauses or ()
    ]


def clock_times(
    cal: WorkingCalendar, clock: StepClock, percent: int, urgent: bool = False
) -> tuple[dt.datetime, dt.datetime]:
    """(due, warn) of a clock, derived from its inputs alone (a pure function).

    Inputs: ``started_at``, the limit ``amount``/``unit``, finished ``pauses`` and approved
    ``extensions``. The limit is spent from the start, then each extension from where the
    previous leg ended; an open pause is not counted yet (the due time shown while paused
    is the one before the pause). The warning window is the last leg's: from the start, or
    from the latest extension's approval (a fresh window, :data:`EXTENSION_WARN_PERCENT`).
    """
    pauses = closed_pauses(clock)
    due = run(cal, clock.started_at, clock.amount, clock.unit, pauses)
    since = clock.started_at
    for amount, unit, approved in clock.extensions or ():
        due = run(cal, due, amount, unit, pauses)
        since, percent = dt.datetime.fromisoformat(approved), EXTENSION_WARN_PERCENT
    return due, warn_point(cal, since, due, percent, pauses, urgent)


def set_times(
    cal: WorkingCalendar, clock: StepClock, table: DeadlineTable, ticket: Ticket
) -> str | None:
    """Recompute a clock's due and warning times and its next alarm from its inputs.

    A year outside the calendar's schedule is estimated with rule-based holidays, as when
    the clock started (never refuse a complaint over the calendar); returns the reason
    then, else ``None``. A clock that already breached keeps no alarm.
    """
    urgent = ticket.severity in table.urgent_severities
    note = None
    try:
        due, warn = clock_times(cal, clock, table.warn_before_percent, urgent)
    except CalendarOutOfRange as exc:
        due, warn = clock_times(
            replace(cal, fallback="rules"), clock, table.warn_before_percent, urgent
        )
        note = str(exc)
    clock.due_at, clock.warn_at = due, warn
    if clock.state == "running" and clock.breached_at is None and clock.step not in SILENT_STEPS:
        clock.alarm_at = warn if clock.warned_at is None else due
    return note


def close_pause(clock: StepClock, at: dt.datetime) -> dt.timedelta | None:
    """End an open pause at ``at`` (recorded as an input); returns its length."""
    if clock.state != "paused" or clock.paused_at is None:
        return None
    paused = max(at - clock.paused_at, dt.timedelta(0))
    clock.pauses = [*(clock.pauses or ()), [clock.paused_at.isoformat(), at.isoformat()]]
    clock.paused_seconds += int(paused.total_seconds())
    clock.paused_at = None
    return paused


_HELD = "tousu_open_clocks"
_ADDED = "tousu_added_clocks"


def _aware(at: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes (stored UTC); compare them as UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


@event.listens_for(Session, "after_attach")
def _hold_added(session: Session, instance: object) -> None:
    # The session's identity map holds clean objects weakly: keep every clock this
    # transaction adds alive, so the next _running finds it without a query.
    if isinstance(instance, StepClock):
        session.info.setdefault(_ADDED, []).append(instance)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_held(session: Session) -> None:
    session.info.pop(_HELD, None)  # another transaction may change them
    session.info.pop(_ADDED, None)


OPEN_OF_TICKET = and_(StepClock.ticket_id == Ticket.id, StepClock.state.in_(OPEN))
"""Join condition of a ticket's open clocks: read them with the ticket, then :func:`hold`."""


def hold(scope: TenantScope, ticket_id: int, clocks: list[StepClock]) -> None:
    """The ticket's open clocks, read by the caller with the ticket itself (one statement):
    :func:`_running` uses them instead of reading them again."""
    scope.session.info.setdefault(_HELD, {})[ticket_id] = list(clocks)


def no_clocks_yet(scope: TenantScope, ticket_id: int) -> None:
    """A ticket created in this transaction has no clocks in the database: its open clocks
    are exactly those this transaction adds, so :func:`_running` need not read any."""
    scope.session.info.setdefault(_HELD, {})[ticket_id] = []


async def _running(scope: TenantScope, ticket_id: int, step: str | None = None) -> list[StepClock]:
    """The ticket's running or paused clocks (of ``step``). They are read from the database
    once per transaction and held; after that they come from what is held plus the clocks
    this transaction added, whose states every change here updates in place (an ended
    clock's state is no longer open)."""
    info = scope.session.info
    held: dict[int, list[StepClock]] = info.setdefault(_HELD, {})
    if ticket_id not in held:
        held[ticket_id] = list(
            await scope.scalars(
                select(StepClock).where(StepClock.ticket_id == ticket_id, StepClock.state.in_(OPEN))
            )
        )
    gone = set(scope.session.sync_session.deleted)
    found: dict[int, StepClock] = {}
    for c in (*held[ticket_id], *info.get(_ADDED, ())):
        if (
            c.ticket_id == ticket_id
            and c not in gone
            and (c.state or "running") in OPEN  # unflushed: the column default, running
            and (step is None or c.step == step)
        ):
            found[id(c)] = c
    return sorted(found.values(), key=lambda c: (c.id is None, c.id or 0))


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
    for step, what in flow_for(FLOW, table, action, START):
        if what == START:
            for old in await _running(scope, ticket.id, step):
                _end(old, "cancelled", at)
            limit = await limit_for(scope, table, step, ticket.severity, at)
            if limit is None:
                continue
            cal = cal or await calendar_for(scope)
            dept, owner = await _owner(scope, ticket, step, actor)
            clock, note = _new_clock(cal, table, ticket, step, at, limit, dept, owner)
            if note:
                out.append({"step": step, "calendar": note})
            scope.add(clock)
            out.append({"step": step, "started": True, "due_at": clock.due_at.isoformat()})
        else:
            clocks = await _running(scope, ticket.id, None if step.startswith("*") else step)
            if step == STEPS_ONLY:
                clocks = [c for c in clocks if c.step != AUTO_UPGRADE]
            for clock in clocks:
                if what == MET:
                    if close_pause(clock, at) is not None:
                        # finished while paused: the paused time does not count against it
                        cal = cal or await calendar_for(scope)
                        clock.state = "running"
                        set_times(cal, clock, table, ticket)
                    _end(
                        clock,
                        "met" if at <= clock.due_at and clock.breached_at is None else "missed",
                        at,
                    )
                else:
                    _end(clock, "cancelled", at)
                out.append({"step": clock.step, "ended": clock.state})
    if (
        action in ("triage_valid", "convert", "reopen")
        and ticket.valid
        and table.upgrade is not None
    ):
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
    elif action == "hand_back":
        # The department handed the form back [000 §篇1 4(4)5①]: from now the desk holds the
        # ticket and tells the complainant the same day [4(4)6)]. A reply or resolution
        # clock still in time is charged to the desk from here, so a late telling is the
        # desk's overrun, not the department's (issue 23 §5); one already overdue stays the
        # department's, which held it when it ran out.
        desk, _ = await _owner(scope, ticket, "dispatch", actor)
        for clock in await _running(scope, ticket.id):
            if clock.step in HANDED_BACK and clock.breached_at is None and at <= clock.due_at:
                clock.owner_department_id = desk
                clock.owner_user_id = ticket.owner_user_id
    elif action == "return":
        # The returning department is no longer responsible: until the redispatch the
        # resolution clock is the desk's, which holds the ticket (退单 [002 第十七条]).
        desk, _ = await _owner(scope, ticket, "dispatch", actor)
        for clock in await _running(scope, ticket.id, "resolution"):
            clock.owner_department_id = desk
    await scope.flush()
    return out


def _new_clock(
    cal: WorkingCalendar,
    table: DeadlineTable,
    ticket: Ticket,
    step: str,
    at: dt.datetime,
    limit: tuple[int, str, str],
    dept: int | None,
    owner: int | None,
) -> tuple[StepClock, str | None]:
    """A running clock of ``step`` from ``at`` on ``limit`` (:func:`capped`), charged to
    ``dept`` and ``owner``, its times set; with the calendar's note when they are estimates."""
    amount, unit, source = capped(cal, ticket, step, at, limit)
    clock = StepClock(
        ticket_id=ticket.id,
        step=step,
        state="running",
        owner_department_id=dept,
        owner_user_id=owner,
        started_at=at,
        amount=amount,
        unit=unit,
        source=source,
        warned_at=None,
        breached_at=None,
    )
    if note := set_times(cal, clock, table, ticket):
        # Never refuse a complaint over the calendar: the clock was estimated with the
        # library's rule-based holidays; mark it (the caller says why in the history).
        clock.source = "estimate"
    if step in SILENT_STEPS:  # the return window only judges a return: no alarms
        clock.alarm_at = None
    return clock, note


def _end(clock: StepClock, state: str, at: dt.datetime) -> None:
    close_pause(clock, at)
    clock.state = state
    clock.ended_at = at
    clock.alarm_at = None


LATE_STEPS = ("answer",)
"""Steps whose limit depends on the severity and whose clock starts at dispatch: a ticket
that reaches such a severity after the dispatch (a minor complaint found major) starts the
clock then (issue 23 §8: 重大投诉应当在2日内给投诉的客户明确答复 [000 §篇1 4(4)9])."""
LATE_STATES = frozenset({"dispatched", "in_progress", "graded"})
"""Where the department still owes the answer (the lifecycle's ``ANSWERABLE``)."""


async def _start_late(
    scope: TenantScope, table: DeadlineTable, cal: WorkingCalendar, ticket: Ticket
) -> list[dict[str, Any]]:
    """Start each :data:`LATE_STEPS` clock the ticket's severity now has a limit for, when
    none ran since the ticket was dispatched and the step was not taken already; charged to
    the department holding the ticket, counted from now."""
    if ticket.state not in LATE_STATES:
        return []
    from core.tickets.models import TicketEvent  # the history: was the step taken?

    out: list[dict[str, Any]] = []
    at = utcnow()
    for step in LATE_STEPS:
        limit = await limit_for(scope, table, step, ticket.severity, at)
        if limit is None or await _running(scope, ticket.id, step):
            continue
        dispatched = await scope.scalar(
            select(func.max(TicketEvent.at)).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.action == "dispatch"
            )
        )
        since = [StepClock.ticket_id == ticket.id, StepClock.step == step,
                 StepClock.state != "cancelled"]  # fmt: skip
        taken = [TicketEvent.ticket_id == ticket.id, TicketEvent.action == step]
        if dispatched is not None:
            since.append(StepClock.started_at >= dispatched)
            taken.append(TicketEvent.at >= dispatched)
        if await scope.scalar(select(StepClock.id).where(*since).limit(1)) is not None:
            continue
        if await scope.scalar(select(TicketEvent.id).where(*taken).limit(1)) is not None:
            continue
        clock, _ = _new_clock(
            cal, table, ticket, step, at, limit, ticket.assigned_department_id, None
        )
        scope.add(clock)
        out.append({"step": step, "started": True, "due_at": clock.due_at.isoformat()})
    return out


async def retime(scope: TenantScope, hooks: TenantHooks, ticket: Ticket) -> list[dict[str, Any]]:
    """Recompute the ticket's open clocks (severity or calendar changed) from their inputs.

    The same computation as when each clock started, paused, resumed or was extended, with
    the calendar and severity as they are now: a recomputed clock equals one computed afresh
    (extended clocks included). Limits stay those in force when each step started; only
    the severity and the calendar are re-read.
    """
    table = hooks.deadlines()
    cal = await calendar_for(scope)
    changes: list[dict[str, Any]] = []
    for clock in await _running(scope, ticket.id):
        if clock.step == AUTO_UPGRADE:
            continue  # months from intake: no working time, nothing to re-read
        limit = await limit_for(scope, table, clock.step, ticket.severity, clock.started_at)
        if limit is None:
            continue
        was = clock.due_at
        clock.amount, clock.unit, source = capped(cal, ticket, clock.step, clock.started_at, limit)
        note = set_times(cal, clock, table, ticket)
        estimated = clock.source == "estimate"
        # an extended clock is still shown as an estimate while its calendar is one
        # (issue 23 §6); it is the extension's again once the official days are known
        clock.source = "estimate" if note else ("extension" if clock.extensions else source)
        if clock.due_at != was:
            changes.append(
                {"step": clock.step, "due_was": was.isoformat(), "due_at": clock.due_at.isoformat()}
            )
        elif estimated and not note:
            changes.append({"step": clock.step, "due_at": clock.due_at.isoformat(),
                            "estimate": False})  # fmt: skip
    changes += await _start_late(scope, table, cal, ticket)
    await scope.flush()
    return changes
