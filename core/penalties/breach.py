"""Penalties proposed when a step's clock runs out in its owner's hands.

Some industries count the handler's own delay as an offence: e.g. "负责受理投诉或处理投诉的人员
发生推诿、处理不及时" is among the breaches of the 十个不准
[002 《客户投诉管理考核办法》第二十四条(一)]. The core names no industry: the deadline sweep
hands each breached clock to the plugin (``tousu_breach_penalties``), which answers with
proposals of its schedule. They are stored like any proposal (``source = "breach"``, priced
at the amounts in force now), never applied: a manager confirms (with the tenant's amount),
adjusts (setting one) or waives each, and the ticket's history records the proposal.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.db import TenantScope
from core.deadlines.models import StepClock
from core.penalties.models import Penalty
from core.penalties.service import amounts_at, proposal_row
from core.people.models import Department, Staff, User
from core.tasks.notify import system_user_id
from core.tickets.events import append_event
from core.tickets.facts import facts_of, plugin_of
from core.tickets.models import Ticket


async def propose_for_breaches(
    scope: TenantScope, now: dt.datetime, clock_ids: list[int]
) -> list[Penalty]:
    """Ask the plugin what each clock breached at ``now`` costs its owner and store the
    proposals (one ``penalty_proposed`` history event each). The sweep flags a clock
    breached once, so a clock is asked about once (again only after an extension gives it
    a new due time and that one passes too). A plugin naming a rule outside its schedule,
    or someone other than the owner, is a plugin bug: :class:`RuntimeError`."""
    if not clock_ids:
        return []
    hooks = await plugin_of(scope)
    if not hooks.implements("tousu_breach_penalties"):
        return []  # nothing to ask: spare the batch its six reads
    schedule = hooks.penalty_schedule()
    if not schedule.rules:
        return []
    clocks = list(
        await scope.scalars(
            select(StepClock).where(StepClock.id.in_(clock_ids)).order_by(StepClock.id)
        )
    )
    tickets = {
        t.id: t
        for t in await scope.scalars(
            select(Ticket).where(Ticket.id.in_({c.ticket_id for c in clocks}))
        )
    }
    owners = {
        uid: (sid, code)
        for uid, sid, code in (
            await scope.execute(
                select(User.id, Staff.id, Staff.code)
                .join(Staff, Staff.id == User.staff_id)
                .where(User.id.in_({c.owner_user_id for c in clocks if c.owner_user_id}))
            )
        ).all()
    }
    depts = {d.id: d.code for d in await scope.scalars(select(Department))}
    amounts = await amounts_at(scope, schedule, now)
    actor = await system_user_id(scope)
    rows: list[Penalty] = []
    for clock in clocks:
        ticket = tickets[clock.ticket_id]
        staff_id, staff = owners.get(clock.owner_user_id or -1, (None, None))
        unit = depts.get(clock.owner_department_id or -1)
        for prop in hooks.breach_penalties(facts_of(ticket), clock.step, staff, unit, amounts):
            if schedule.rule(prop.rule) is None:
                raise RuntimeError(f"plugin proposed unknown rule {prop.rule!r}")
            if (prop.staff, prop.unit) not in {(staff, None), (None, unit), (staff, unit)}:
                raise RuntimeError("a breach penalty goes to the clock's owner only")
            row = proposal_row(
                ticket, prop, now,
                staff_id=staff_id if prop.staff else None,
                department_id=clock.owner_department_id if prop.unit else None,
                source="breach",
            )  # fmt: skip
            scope.add(row)
            await scope.flush()
            rows.append(row)
            await append_event(
                scope,
                ticket,
                "penalty_proposed",
                actor,
                "system",
                {
                    "penalty_id": row.id,
                    "rule": row.rule,
                    "proposed_fen": row.proposed_fen,
                    "step": clock.step,
                    "due_at": clock.due_at.isoformat(),
                    "staff": prop.staff,
                    "unit": prop.unit,
                },
                at=now,
            )
    return rows
