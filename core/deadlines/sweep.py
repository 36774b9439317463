"""The deadline sweep: due-soon warnings, breaches and automatic upgrades, set-based.

It touches only clocks whose ``alarm_at`` has come (an index range on ``(tenant_id,
alarm_at)``), so its cost grows with what is due, not with the number of running clocks.
A batch is the tenant's earliest alarms, read and locked in one statement (``FOR UPDATE SKIP
LOCKED``: another sweeper takes the next ones), sorted by kind, and flagged by one ``UPDATE …
RETURNING`` per kind present; the breaches' audit events, notifications and outbox rows are
then written in bulk (one ``INSERT … SELECT FROM unnest`` each on PostgreSQL), all in the
tenant's scope and one transaction per batch. Everything is stamped with the instant the
sweep evaluates (``tousu sweep --at``), never the app clock.

Every effect is idempotent (a breach is flagged once: only a locked clock not yet breached
is flagged, and flagging takes it out of the alarm range; notifications and outbox rows are
unique per reason), so several sweepers running at once, or a sweep retried after a crash,
notify nobody twice. Automatic upgrades (rare, and each one re-times the ticket's clocks)
keep the per-ticket path.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    Row,
    Text,
    any_,
    bindparam,
    case,
    cast,
    func,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from core import metrics
from core.audit import AuditEvent
from core.db import Database, TenantScope, utcnow
from core.deadlines import engine, escalation
from core.deadlines.engine import AUTO_UPGRADE, DEPARTMENT_STEPS
from core.deadlines.models import StepClock
from core.notify.models import OutboundMessage
from core.people.models import User
from core.people.roles import Role
from core.plugins import TenantHooks
from core.tasks.models import Notification, OutboxEvent
from core.tasks.notify import choose, emit, staff_messages, system_user_id
from core.tickets.events import append_event
from core.tickets.facts import plugin_of
from core.tickets.lifecycle import OPEN
from core.tickets.models import Ticket

log = logging.getLogger("tousu.sweep")

OnUpgrade = Callable[[TenantScope, TenantHooks, Ticket], Awaitable[list[dict[str, Any]]]]
"""What an automatic upgrade brings besides the escalation: the entries to record on its
event (``seed_duties``)."""


@dataclass
class SweepReport:
    warned: int = 0
    breached: int = 0
    upgraded: int = 0
    deferred: int = 0
    clocks: list[int] = field(default_factory=list)


async def sweep(
    db: Database,
    now: dt.datetime | None = None,
    batch: int = 500,
    *,
    on_breach: Callable[[TenantScope, dt.datetime, list[int]], Awaitable[object]],
    on_upgrade: OnUpgrade | None = None,
) -> SweepReport:
    """Handle every clock whose alarm has come by ``now`` (default: the app clock), tenant by
    tenant, ``batch`` alarmed clocks per transaction.

    ``on_breach(scope, now, clock_ids)`` is awaited in each batch's transaction with the ids
    of the clocks that batch flagged breached: what else a breach costs belongs to the areas
    above (:mod:`core.jobs.sweep` passes the penalty proposals). ``on_upgrade(scope, hooks,
    ticket)`` is awaited when an automatic upgrade has changed a ticket's severity, before
    its event is written: the duties that hang on the new severity (issue 23 §1; the seed
    duties of :mod:`core.flow.seed_duties`, wired in :mod:`core.jobs.sweep`), whose entries
    go on that event's payload under ``seed_duties``."""
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
                    full = await _sweep_tenant(scope, now, batch, report, on_breach, on_upgrade)
                if not full:
                    break
        except Exception:
            log.exception("sweep failed for tenant %s", tenant_id)
    return report


async def _flag(
    scope: TenantScope, ids: list[int], values: dict[str, Any], *returning: Any
) -> list[Row[Any]]:
    """Set ``values`` on the clocks ``ids`` (already locked by this batch)."""
    if not ids:
        return []
    stmt = (
        update(StepClock)
        .where(_among(scope, StepClock.id, ids), StepClock.tenant_id == scope.tenant_id)
        .values(**values)
        .returning(StepClock.id, *returning)
        .execution_options(synchronize_session=False)
    )
    return list((await scope.execute(stmt)).all())


def _among(scope: TenantScope, column: Any, ids: Iterable[int]) -> Any:
    """``column IN ids``. PostgreSQL: ``= ANY(one int[] parameter)`` — one statement text
    whatever the count (an expanded IN is a new prepared statement for every batch size)
    and one parameter instead of 500."""
    if sql_dialect(scope) == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(list(ids))


@dataclass
class _Kinds:
    """A batch's alarmed clocks by what their alarm asks for (ids)."""

    quiet: list[int] = field(default_factory=list)
    """stopped (met, cancelled, paused), or breached before and still alarmed: no alarm"""
    breach: list[int] = field(default_factory=list)
    """running past due, not yet breached"""
    to_due: list[int] = field(default_factory=list)
    """warned, not yet due: the next alarm is the due time"""
    warn: list[int] = field(default_factory=list)
    """due soon, not yet warned"""
    upgrade: list[int] = field(default_factory=list)
    """a running automatic-upgrade clock"""


def _kinds(rows: list[Any], now: dt.datetime) -> _Kinds:
    """Sort the batch as the alarm conditions read in SQL (a clock without a due time fits
    none, as ``due_at <= now`` is not true of NULL there, and keeps its alarm)."""
    k = _Kinds()
    for cid, state, step, due, warned_at, breached_at in rows:
        if state != "running":
            k.quiet.append(cid)
        elif step == AUTO_UPGRADE:
            k.upgrade.append(cid)
        elif due is None:
            continue
        elif due <= now:
            (k.breach if breached_at is None else k.quiet).append(cid)
        elif warned_at is not None:
            k.to_due.append(cid)
        else:
            k.warn.append(cid)
    return k


async def _sweep_tenant(
    scope: TenantScope,
    now: dt.datetime,
    batch: int,
    report: SweepReport,
    on_breach: Callable[[TenantScope, dt.datetime, list[int]], Awaitable[object]],
    on_upgrade: OnUpgrade | None = None,
) -> bool:
    """One batch: the tenant's ``batch`` earliest alarms that have come, locked (another
    sweeper skips them) and read in ONE statement, then one UPDATE per kind present (it was
    four UPDATEs, each with its own locking subquery, and two more reads, whatever was due).
    True when the batch was full (more may wait)."""
    alarmed = (
        await scope.execute(
            select(StepClock.id, StepClock.state, StepClock.step, StepClock.due_at,
                   StepClock.warned_at, StepClock.breached_at)
            .where(StepClock.tenant_id == scope.tenant_id, StepClock.alarm_at <= now)
            .order_by(StepClock.alarm_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()  # fmt: skip
    if not alarmed:
        return False
    kinds = _kinds(list(alarmed), now)

    def done(rows: list[Any]) -> list[Any]:
        report.clocks.extend(r[0] for r in rows)
        return rows

    done(await _flag(scope, kinds.quiet, {"alarm_at": None}))
    breached = done(
        await _flag(
            scope, kinds.breach, {"breached_at": now, "alarm_at": None},
            StepClock.ticket_id, StepClock.step, StepClock.due_at, StepClock.owner_department_id,
            StepClock.source,
        )
    )  # fmt: skip
    done(await _flag(scope, kinds.to_due, {"alarm_at": StepClock.due_at}))
    warned, deferred = await _warnings(scope, now, kinds.warn, done)
    report.deferred += deferred
    upgrades = await _upgrades(scope, now, kinds.upgrade, done, on_upgrade)
    full = len(alarmed) >= batch

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
                    _among(scope, Ticket.id, {r.ticket_id for r in [*breached, *warned]})
                )
            )
        }
        if breached:
            await _breach_effects(scope, now, breached, tickets, users)
            # The handler's own delay may cost a penalty proposal (a plugin hook, issue 12 §5),
            # in this same transaction: the caller passes it (core.jobs.sweep).
            await on_breach(scope, now, [r[0] for r in breached])
            report.breached += len(breached)
        if warned:
            await _warning_effects(scope, warned, tickets, users, now)
            report.warned += len(warned)
    report.upgraded += upgrades
    return full


async def _warnings(
    scope: TenantScope, now: dt.datetime, ids: list[int], done: Any
) -> tuple[list[Any], int]:
    """Due-soon warnings for the clocks ``ids``: sent now in working hours or for urgent
    tickets; otherwise the alarm moves to the next opening (never past the due time).
    Returns (warned clocks, how many were deferred)."""
    if not ids:
        return [], 0
    hooks = await plugin_of(scope)
    urgent = tuple(hooks.deadlines().urgent_severities)
    cal = await engine.calendar_for(scope)
    cal = replace(cal, fallback="rules") if cal.fallback == "error" else cal  # never stall
    returning = (StepClock.ticket_id, StepClock.step, StepClock.due_at,
                 StepClock.owner_department_id, StepClock.owner_user_id)  # fmt: skip
    warn = {"warned_at": now, "alarm_at": StepClock.due_at}
    if cal.in_working_hours(now):
        return done(await _flag(scope, ids, warn, *returning)), 0
    urgent_ids = set(
        await scope.scalars(
            select(StepClock.id)
            .join(Ticket, Ticket.id == StepClock.ticket_id)
            .where(_among(scope, StepClock.id, ids), Ticket.severity.in_(urgent))
        )
    )
    warned = done(await _flag(scope, [i for i in ids if i in urgent_ids], warn, *returning))
    opens = cal.next_working_time(now)
    deferred = done(
        await _flag(
            scope,
            [i for i in ids if i not in urgent_ids],
            {"alarm_at": case((StepClock.due_at < opens, StepClock.due_at), else_=opens)},
        )
    )
    return warned, len(deferred)


async def _upgrades(
    scope: TenantScope,
    now: dt.datetime,
    ids: list[int],
    done: Any,
    on_upgrade: OnUpgrade | None = None,
) -> int:
    """The automatic-upgrade clocks ``ids`` (rare; each one re-times its ticket's clocks,
    so they keep the per-ticket path)."""
    if not ids:
        return 0
    clocks = list(
        await scope.scalars(
            select(StepClock).where(_among(scope, StepClock.id, ids)).order_by(StepClock.alarm_at)
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
        upgraded += await _upgrade(scope, hooks, ticket, clock, now, on_upgrade)
    await scope.flush()
    return upgraded


async def _insert(scope: TenantScope, *tables: tuple[type[Any], list[dict[str, Any]]]) -> None:
    """Insert each ``(model, rows)`` pair's rows (dicts with the same keys), skipping
    duplicates (notify once).

    PostgreSQL: every model's rows in ONE statement — an ``INSERT … SELECT … FROM
    unnest(array per column)`` each, the later ones as data-modifying CTEs: a batch's ~1,500
    notifications are seven array parameters, not 10,000 scalars rendered into multi-row
    VALUES (that alone took 60–95 ms a batch to bind, parse and plan), and the audit events,
    notifications and outbox rows one round trip. SQLite: one executemany per model. Columns
    the rows leave out take their defaults, evaluated once."""
    tables = tuple((model, rows) for model, rows in tables if rows)
    if not tables:
        return
    if sql_dialect(scope) == "postgresql":
        first, *rest = [_unnest_insert(scope, model, rows) for model, rows in tables]
        stmt = first.add_cte(*[s.cte(f"also_{i}") for i, s in enumerate(rest)])
        await scope.session.execute(stmt, execution_options={"tenant_stamped": True})
        return
    from sqlalchemy.dialects.sqlite import insert as dialect_insert

    for model, rows in tables:
        stmt = dialect_insert(model).on_conflict_do_nothing()
        params = [{**r, "tenant_id": scope.tenant_id} for r in rows]
        # stamped here, as TenantScope.insert_ignore stamps its rows
        await scope.session.execute(stmt, params, execution_options={"tenant_stamped": True})


def _unnest_insert(scope: TenantScope, model: type[Any], rows: list[dict[str, Any]]) -> Any:
    """PostgreSQL's ``INSERT INTO model … SELECT … FROM unnest(…) ON CONFLICT DO NOTHING``."""
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
        arrays.append(bindparam(None, values, type_=ARRAY(kind)))
    src = func.unnest(*arrays).table_valued(*names).render_derived(name="r")
    picked = [
        cast(src.c[n], columns[n].type) if isinstance(columns[n].type, JSON) else src.c[n]
        for n in names
    ]
    return (
        pg_insert(model)
        .from_select(["tenant_id", *names], select(literal(scope.tenant_id), *picked))
        .on_conflict_do_nothing()
    )


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
    """A batch's breaches: for each clock the audit event, the notifications of the chain
    (:data:`core.deadlines.escalation.BREACH_CHAIN`, the general manager too for an urgent
    severity), the outbox event."""
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
        params = {"number": t.number, "step": c.step, "due": due}  # core.notify.kinds
        for uid in sorted(set(choose(users, roles, c.owner_department_id))):
            notes.append({"user_id": uid, "ticket_id": t.id, "kind": "deadline_breached",
                          "message": "", "params": params, "dedupe_key": key,
                          "created_at": now, "read_at": None})  # fmt: skip
        outbox.append({"topic": "deadline.breached",
                       "payload": {"ticket": t.number, "ticket_id": t.id, "step": c.step,
                                   "due_at": due, "owner_department_id": c.owner_department_id},
                       "dedupe_key": key, "created_at": now, "sent_at": None, "attempts": 0,
                       "last_error": ""})  # fmt: skip
    mails = await staff_messages(scope, notes)  # e-mail/SMS as each recipient chose
    await _insert(
        scope, (AuditEvent, audits), (Notification, notes), (OutboxEvent, outbox),
        (OutboundMessage, mails),
    )  # fmt: skip


async def _warning_effects(
    scope: TenantScope, warned: list[Any], tickets: dict[int, Any], users: list[Any],
    now: dt.datetime,
) -> None:  # fmt: skip
    """A batch's due-soon warnings, once per clock and due time: the step's owner, else the
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
                          "message": "", "params": {"number": t.number, "step": c.step,
                                                    "due": due},
                          "dedupe_key": f"warn:{c.id}:{due}", "created_at": now,
                          "read_at": None})  # fmt: skip
    mails = await staff_messages(scope, notes)  # e-mail/SMS as each recipient chose
    await _insert(scope, (Notification, notes), (OutboundMessage, mails))


async def _upgrade(
    scope: TenantScope,
    hooks: TenantHooks,
    ticket: Ticket,
    clock: StepClock,
    now: dt.datetime,
    on_upgrade: OnUpgrade | None = None,
) -> int:
    """A valid ticket still open after the plugin's period becomes its upgrade severity
    (有效投诉在一个月内得不到合理解决的 is major [000 §篇1 4(4)2①c]). The leaders the new
    severity is reported to are told (:func:`escalation.on_severity`), and the duties that
    hang on it are applied and recorded on the upgrade's own event (``on_upgrade``)."""
    rule = hooks.deadlines().upgrade
    clock.state, clock.ended_at, clock.alarm_at = "met", now, None
    if rule is None or ticket.state not in OPEN or not ticket.valid:
        return 0
    if ticket.severity == rule.to_severity:
        return 0
    was = ticket.severity
    ticket.severity = rule.to_severity
    await engine.retime(scope, hooks, ticket)
    payload: dict[str, Any] = {"severity_was": was, "severity": rule.to_severity, "rule": rule.seed}
    if on_upgrade is not None:
        fired = await on_upgrade(scope, hooks, ticket)
        if fired:
            payload["seed_duties"] = fired
    await append_event(
        scope, ticket, AUTO_UPGRADE, await system_user_id(scope), "system", payload, at=now
    )
    await escalation.on_severity(scope, hooks, ticket)
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
