"""Who is told when a transition hands the ticket on, or leaves a decision waiting.

Called by :func:`core.flow.service.transition` in the transition's transaction, after its
event (and the grades and penalty proposals it records) is written. Each notice is a kind
with parameters (:mod:`core.notify.kinds`), once per event (the dedupe key names it):

- ``dispatch`` → the heads of the department it is dispatched to (``ticket_dispatched``);
- ``return`` → the desk's clerks (``ticket_returned``);
- ``grade`` → each graded staff member, of their own grade (``staff_graded``);
- any transition that proposes penalties (a grading, a falsified reply found at review) →
  those who may decide each proposal (``penalty_waiting``);
- ``reply`` where replies are reviewed → those who may review it, not the replier
  (``reply_review_waiting``);
- ``suspend`` (recorded unresolvable) → those who may approve its close, not whoever
  recorded it (``close_unresolvable_waiting``).

"Who may decide" is :func:`core.tasks.handoffs.deciders` — the rule the API applies when the
decision is taken. Appeals (filed outside the lifecycle) and extension requests are told at
their own routes; the sweep's penalty proposals for breached clocks by
:func:`breach_penalties_waiting` (:mod:`core.jobs.sweep`).
"""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

from sqlalchemy import select

from core.db import TenantScope
from core.flow import approvals
from core.penalties.models import Penalty
from core.people.roles import MANAGEMENT
from core.principal import Principal
from core.tasks import handoffs
from core.tasks.notify import notify
from core.tickets.lifecycle import TRANSITIONS
from core.tickets.models import Ticket, TicketEvent, TicketGrade

PROPOSING = frozenset({"grade", "rework_reply"})
"""Transitions that may propose penalties (a grading; a falsified reply found at review)."""


async def after_transition(
    scope: TenantScope, p: Principal, ticket: Ticket, event: TicketEvent
) -> None:
    """Notify whoever the transition ``event`` hands ``ticket`` to, or asks to decide."""
    number, action = ticket.number, event.action
    key = f"{action}:{ticket.id}:{event.seq}"

    async def tell(users: list[int], kind: str, **params: Any) -> None:
        users = [u for u in users if u != p.user_id]  # nobody is told of their own act
        if users:
            await notify(
                scope, users, kind=kind, ticket_id=ticket.id, dedupe=key,
                params={"number": number, **params},
            )  # fmt: skip

    if action == "dispatch":
        dept = ticket.assigned_department_id
        await tell(await handoffs.department_heads(scope, dept), "ticket_dispatched",
                   department_id=dept)  # fmt: skip
    elif action == "return":
        dept = (event.payload or {}).get("returned_by_department_id")
        await tell(await handoffs.desk(scope), "ticket_returned",
                   **({"department_id": dept} if dept is not None else {}))  # fmt: skip
    elif action == "grade":
        await _graded(scope, ticket, event, key)
    elif action == "reply" and (await approvals.duties_of(scope)).reply_review:
        await tell(
            await handoffs.deciders(
                scope, "reply_review", ticket, default=MANAGEMENT, exclude_users=[p.user_id]
            ),
            "reply_review_waiting",
        )
    elif action == "suspend":
        roles = await approvals.step_roles(scope, ticket, TRANSITIONS["close"])
        await tell(
            await handoffs.deciders(
                scope, "close_unresolvable", ticket, default=roles, exclude_users=[p.user_id]
            ),
            "close_unresolvable_waiting",
        )
    if action in PROPOSING:
        rows = await scope.scalars(
            select(Penalty).where(
                Penalty.ticket_id == ticket.id,
                Penalty.status == "proposed",
                Penalty.created_at >= event.at,  # written by this transition
            )
        )
        await handoffs.penalties_waiting(scope, ticket, list(rows), f"penalty:{key}")


async def _graded(scope: TenantScope, ticket: Ticket, event: TicketEvent, key: str) -> None:
    """Each graded staff member hears of their own grade (and that they may appeal)."""
    grades = list(
        (
            await scope.execute(
                select(TicketGrade.staff_id, TicketGrade.grade).where(
                    TicketGrade.event_id == event.id
                )
            )
        ).all()
    )
    accounts = await handoffs.staff_users(scope, [g.staff_id for g in grades])
    for staff_id, grade in grades:
        if staff_id in accounts:
            await notify(
                scope, [accounts[staff_id]], kind="staff_graded", ticket_id=ticket.id,
                dedupe=key, params={"number": ticket.number, "grade": grade},
            )  # fmt: skip


async def breach_penalties_waiting(
    scope: TenantScope, now: dt.datetime, rows: list[Penalty]
) -> None:
    """The sweep's penalty proposals for breached clocks (:mod:`core.jobs.sweep`), told to
    those who may decide them, ticket by ticket (a batch's proposals are few: only where the
    plugin charges a handler's own delay)."""
    by_ticket: dict[int, list[Penalty]] = collections.defaultdict(list)
    for r in rows:
        by_ticket[r.ticket_id].append(r)
    for ticket_id, group in by_ticket.items():
        ticket = await scope.session.get(Ticket, ticket_id)
        if ticket is not None:
            key = f"penalty:breach:{ticket_id}:{now.isoformat()}"
            await handoffs.penalties_waiting(scope, ticket, group, key)
