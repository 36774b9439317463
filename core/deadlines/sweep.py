"""The deadline sweep: due-soon warnings, breaches and automatic upgrades, set-based.

It touches only clocks whose ``alarm_at`` has come (an index range on ``(tenant_id,
alarm_at)``), so its cost grows with what is due, not with the number of running clocks.
Each kind of clock is found and flagged by one ``UPDATE … WHERE id IN (the batch, locked
SKIP LOCKED) RETURNING``; the breaches' audit events, notifications and outbox rows are then
written in bulk (a few multi-row INSERTs per batch), all in the tenant's scope and one
transaction per batch. Everything is stamped with the instant the sweep evaluates (``tousu
sweep --at``), never the app clock.

Every effect is idempotent (a breach is flagged once: the UPDATE only takes clocks not yet
breached; notifications and outbox rows are unique per reason), so several sweepers running
at once, or a sweep retried after a crash, notify nobody twice. Automatic upgrades (rare, and
each one re-times the ticket's clocks) keep the per-ticket path.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    JSON,
    Row,
    Text,
    bindparam,
    case,
    cast,
    exists,
    func,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from core import metrics
from core.audit import AuditEvent
from core.db import Database, TenantScope, utcnow
from core.deadlines import engine, escalation
from core.deadlines.engine import AUTO_UPGRADE, DEPARTMENT_STEPS
from core.deadlines.models import StepClock
from core.penalties.breach import propose_for_breaches
from core.people.models import User
from core.people.roles import Role
from core.tasks.models import Notification, OutboxEvent
from core.tasks.notify import choose, emit, system_user_id
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
    """Handle every clock whose alarm has come by ``now`` (default: the app clock), tenant by
    tenant, ``batch`` clocks of each kind per transaction."""
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
            for _ in range(10_000):  # bounded: a batch always clears its alarms
                async with db.tenant(tenant_id) as scope:
                    full = await _sweep_tenant(scope, now, batch, report)
                if not full:
                    break
        except Exception:
            log.exception("sweep failed for tenant %s", tenant_id)
    return report


def _batch(
    scope: TenantScope,
    now: dt.datetime,
    batch: int,
    where: Callable[[Any], list[Any]],
    lock: bool = True,
) -> Any:
    """The ids of up to ``batch`` of the tenant's alarmed clocks matching ``where``, locked
    (another sweeper skips them)."""
    c = aliased(StepClock, name="alarmed")
    q = (
        select(c.id)
        .where(c.tenant_id == scope.tenant_id, c.alarm_at <= now, *where(c))
        .order_by(c.alarm_at)
        .limit(batch)
    )
    return q.with_for_update(skip_locked=True) if lock else q


async def _flag(
    scope: TenantScope, ids: Any, values: dict[str, Any], *returning: Any
) -> list[Row[Any]]:
    stmt = (
        update(StepClock)
        .where(StepClock.id.in_(ids), StepClock.tenant_id == scope.tenant_id)
        .values(**values)
        .returning(StepClock.id, *returning)
        .execution_options(synchronize_session=False)
    )
    return list((await scope.execute(stmt)).all())


async def _sweep_tenant(
    scope: TenantScope, now: dt.datetime, batch: int, report: SweepReport
) -> bool:
    """One batch of each kind; True when some kind filled its batch (more may wait)."""
    full = False

    def done(rows: list[Any]) -> list[Any]:
        nonlocal full
        full |= len(rows) >= batch
        report.clocks.extend(r[0] for r in rows)
        return rows

    # Clocks that stopped (met, cancelled, paused) keep no alarm.
    done(await _flag(scope, _batch(scope, now, batch, lambda c: [c.state != "running"]),
                     {"alarm_at": None}))  # fmt: skip

    breached = done(
        await _flag(
            scope,
            _batch(scope, now, batch, lambda c: [c.state == "running", c.step != AUTO_UPGRADE,
                                                 c.due_at <= now, c.breached_at.is_(None)]),
            {"breached_at": now, "alarm_at": None},
            StepClock.ticket_id, StepClock.step, StepClock.due_at, StepClock.owner_department_id,
            StepClock.source,
        )
    )  # fmt: skip

    # Already warned, not yet due: the next alarm is the due time.
    done(
        await _flag(
            scope,
            _batch(scope, now, batch, lambda c: [c.state == "running", c.step != AUTO_UPGRADE,
                                                 c.due_at > now, c.warned_at.is_not(None)]),
            {"alarm_at": StepClock.due_at},
        )
    )  # fmt: skip

    # Breached before and still alarmed (nothing left to say): no alarm.
    done(await _flag(scope, _batch(scope, now, batch, lambda c: [
        c.state == "running", c.due_at <= now, c.breached_at.is_not(None),
        c.step != AUTO_UPGRADE]), {"alarm_at": None}))  # fmt: skip

    warned, deferred = await _warnings(scope, now, batch, done)
    report.deferred += deferred
    upgrades = await _upgrades(scope, now, batch, done)

    if breached or warned:
        users = (
            await scope.execute(
                select(User.id, User.roles, User.department_id).where(User.active.is_(True))
            )
        ).all()
        tickets = {
            r.id: r
            for r in await scope.execute(
                select(Ticket.id, Ticket.number, Ticket.severity).where(
                    Ticket.id.in_({r.ticket_id for r in [*breached, *warned]})
                )
            )
        }
        if breached:
            await _breach_effects(scope, now, breached, tickets, users)
            # The handler's own delay may cost a penalty proposal (a plugin hook, issue 12 §5).
            await propose_for_breaches(scope, now, [r[0] for r in breached])
            report.breached += len(breached)
        if warned:
            await _warning_effects(scope, warned, tickets, users, now)
            report.warned += len(warned)
    report.upgraded += upgrades
    return full


async def _warnings(
    scope: TenantScope, now: dt.datetime, batch: int, done: Any
) -> tuple[list[Any], int]:
    """Due-soon warnings: sent now in working hours or for urgent tickets; otherwise the
    alarm moves to the next opening (never past the due time). Returns (warned clocks, how
    many were deferred)."""

    def pending(c: Any) -> list[Any]:
        return [c.state == "running", c.step != AUTO_UPGRADE, c.due_at > now,
                c.warned_at.is_(None)]  # fmt: skip

    if await scope.scalar(select(exists(_batch(scope, now, 1, pending, lock=False)))) is not True:
        return [], 0
    hooks = await plugin_of(scope)
    urgent = tuple(hooks.deadlines().urgent_severities)
    cal = await engine.calendar_for(scope)
    cal = replace(cal, fallback="rules") if cal.fallback == "error" else cal  # never stall
    returning = (StepClock.ticket_id, StepClock.step, StepClock.due_at,
                 StepClock.owner_department_id, StepClock.owner_user_id)  # fmt: skip
    warn = {"warned_at": now, "alarm_at": StepClock.due_at}
    if cal.in_working_hours(now):
        return done(await _flag(scope, _batch(scope, now, batch, pending), warn, *returning)), 0

    def is_urgent(c: Any) -> Any:
        return exists().where(Ticket.id == c.ticket_id, Ticket.severity.in_(urgent))

    warned = done(
        await _flag(
            scope,
            _batch(scope, now, batch, lambda c: [*pending(c), is_urgent(c)]),
            warn,
            *returning,
        )
    )
    opens = cal.next_working_time(now)
    deferred = done(
        await _flag(
            scope,
            _batch(scope, now, batch, lambda c: [*pending(c), ~is_urgent(c)]),
            {"alarm_at": case((StepClock.due_at < opens, StepClock.due_at), else_=opens)},
        )
    )
    return warned, len(deferred)


async def _upgrades(scope: TenantScope, now: dt.datetime, batch: int, done: Any) -> int:
    clocks = list(
        await scope.scalars(
            select(StepClock)
            .where(
                StepClock.alarm_at <= now,
                StepClock.state == "running",
                StepClock.step == AUTO_UPGRADE,
            )
            .order_by(StepClock.alarm_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    done([(c.id,) for c in clocks])
    if not clocks:
        return 0
    hooks = await plugin_of(scope)
    upgraded = 0
    for clock in clocks:
        if now < clock.due_at:  # the alarm came early (a moved due time): wait for it
            clock.alarm_at = clock.due_at
            continue
        ticket = await scope.session.get(Ticket, clock.ticket_id)
        assert ticket is not None
        upgraded += await _upgrade(scope, hooks, ticket, clock, now)
    await scope.flush()
    return upgraded


async def _insert(scope: TenantScope, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) skipping duplicates (notify once).

    PostgreSQL: ONE ``INSERT … SELECT … FROM unnest(array per column)``: a batch's ~1,500
    notifications are seven array parameters, not 10,000 scalars rendered into multi-row
    VALUES (that statement alone took 60–95 ms a batch to bind, parse and plan). SQLite: one
    executemany. Columns the rows leave out take their defaults, evaluated once."""
    if not rows:
        return
    if sql_dialect(scope) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        names = list(rows[0])
        columns = inspect(model).columns
        arrays = []
        for name in names:
            kind = columns[name].type
            values = [r[name] for r in rows]
            if isinstance(kind, JSON):  # sent as text, cast back per row
                values = [None if v is None else json.dumps(v) for v in values]
                kind = Text()
            arrays.append(bindparam(f"a_{name}", values, type_=ARRAY(kind)))
        src = func.unnest(*arrays).table_valued(*names).render_derived(name="r")
        picked = [
            cast(src.c[n], columns[n].type) if isinstance(columns[n].type, JSON) else src.c[n]
            for n in names
        ]
        stmt = (
            pg_insert(model)
            .from_select(["tenant_id", *names], select(literal(scope.tenant_id), *picked))
            .on_conflict_do_nothing()
        )
        await scope.session.execute(stmt, execution_options={"tenant_stamped": True})
        return
    from sqlalchemy.dialects.sqlite import insert as dialect_insert

    stmt = dialect_insert(model).on_conflict_do_nothing()
    params = [{**r, "tenant_id": scope.tenant_id} for r in rows]
    # stamped here, as TenantScope.insert_ignore stamps its rows
    await scope.session.execute(stmt, params, execution_options={"tenant_stamped": True})


def sql_dialect(scope: TenantScope) -> str:
    bind = scope.session.bind
    return bind.dialect.name if bind is not None else "sqlite"


async def _breach_effects(
    scope: TenantScope,
    now: dt.datetime,
    breached: list[Any],
    tickets: dict[int, Any],
    users: list[Any],
) -> None:
    """What :func:`core.deadlines.escalation.on_breach` does for one clock, for a batch: the
    audit event, the chain's notifications, the outbox event."""
    hooks = await plugin_of(scope)
    urgent = set(hooks.deadlines().urgent_severities)
    audits, notes, outbox = [], [], []
    for c in breached:
        metrics.clock_breached(scope.tenant_id)
        t = tickets[c.ticket_id]
        due = c.due_at.isoformat()
        key = escalation._breach_key(c)
        audits.append({"at": now, "actor": "system:sweep", "action": "deadline_breached",
                       "entity": "ticket", "entity_key": t.number,
                       "payload": {"step": c.step, "due_at": due,
                                   "owner_department_id": c.owner_department_id}})  # fmt: skip
        roles = set(escalation.BREACH_CHAIN)
        if t.severity in urgent:
            roles.add(Role.GENERAL_MANAGER)
        message = f"{t.number}: step {c.step} overdue since {due}"
        for uid in sorted(set(choose(users, roles, c.owner_department_id))):
            notes.append({"user_id": uid, "ticket_id": t.id, "kind": "deadline_breached",
                          "message": message, "dedupe_key": key, "created_at": now,
                          "read_at": None})  # fmt: skip
        outbox.append({"topic": "deadline.breached",
                       "payload": {"ticket": t.number, "ticket_id": t.id, "step": c.step,
                                   "due_at": due, "owner_department_id": c.owner_department_id},
                       "dedupe_key": key, "created_at": now, "sent_at": None, "attempts": 0,
                       "last_error": ""})  # fmt: skip
    await _insert(scope, AuditEvent, audits)
    await _insert(scope, Notification, notes)
    await _insert(scope, OutboxEvent, outbox)


async def _warning_effects(
    scope: TenantScope, warned: list[Any], tickets: dict[int, Any], users: list[Any],
    now: dt.datetime,
) -> None:  # fmt: skip
    """:func:`core.deadlines.escalation.on_due_soon` for a batch: the step's owner, else the
    owning department's head, else (a desk step nobody took yet) the desk supervisors."""
    notes = []
    for c in warned:
        t = tickets[c.ticket_id]
        if c.owner_user_id is not None:
            uids = [c.owner_user_id]
        elif c.step in DEPARTMENT_STEPS:
            uids = choose(users, {Role.DEPARTMENT_HEAD}, c.owner_department_id)
        else:
            uids = choose(users, {Role.SUPERVISOR})
        due = c.due_at.isoformat()
        for uid in sorted(set(uids)):
            notes.append({"user_id": uid, "ticket_id": t.id, "kind": "deadline_due_soon",
                          "message": f"{t.number}: step {c.step} is due at {due}",
                          "dedupe_key": f"warn:{c.id}:{due}", "created_at": now,
                          "read_at": None})  # fmt: skip
    await _insert(scope, Notification, notes)


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
        at=now,
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
        at=now,
    )
    return 1
