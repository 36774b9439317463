"""The approvals inbox: the pending decisions the reader may take — and only those.

Who may decide comes from the same place the API asks when the decision is taken: the
plugin's ``tousu_approvers`` hook per step (``penalty``, ``appeal``, ``extension``,
``close``) and the ticket's facts, with the core's defaults when the plugin has no opinion
(see :func:`core.hookspecs.tousu_approvers`); closures go through the lifecycle's own
:func:`core.flow.service.actions_for`. On top, what the API refuses anyway is left out:

- a ticket the reader cannot see (:func:`core.tickets.reading.visible`);
- a ticket that names or grades the reader (conflict of interest, domain §7);
- the reader's own penalty or appeal ("nobody decides their own" — the services' rule);
- a penalty the reader proposed by grading (or regrading on appeal) the staff member;
- an extension the reader asked for: whoever asks for more time never approves it
  [000 §篇1 4(3)1, 4(4)9] (domain §10), nor does the head of the department whose clock
  overran, whatever other role he holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import TenantScope
from core.deadlines.models import Extension, StepClock
from core.flow.service import actions_for
from core.penalties.models import Appeal, Penalty
from core.people.roles import MANAGEMENT, Role
from core.principal import Principal
from core.tickets.facts import facts_of, plugin_of
from core.tickets.models import Ticket
from core.tickets.reading import involved, visible

DEFAULTS: dict[str, frozenset[str]] = {
    "penalty": frozenset(MANAGEMENT),
    "appeal": frozenset(MANAGEMENT),
    "extension": frozenset(MANAGEMENT),
}
"""The core's approvers when the plugin answers None — the same defaults the penalty,
appeal and extension services fall back to (:func:`core.hookspecs.tousu_approvers`)."""


@dataclass
class Inbox:
    penalties: list[Penalty] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)
    appeals: list[Appeal] = field(default_factory=list)
    closable: list[Ticket] = field(default_factory=list)
    numbers: dict[int, str] = field(default_factory=dict)
    clocks: dict[int, StepClock] = field(default_factory=dict)


async def inbox(scope: TenantScope, p: Principal) -> Inbox:
    """What ``p`` may decide now, oldest first per kind."""
    hooks = await plugin_of(scope)
    pen = list(
        await scope.scalars(
            select(Penalty).where(Penalty.status == "proposed").order_by(Penalty.id)
        )
    )
    ext = list(
        await scope.scalars(
            select(Extension).where(Extension.status == "pending").order_by(Extension.id)
        )
    )
    app = list(
        await scope.scalars(select(Appeal).where(Appeal.status == "pending").order_by(Appeal.id))
    )
    ids = {x.ticket_id for x in [*pen, *ext, *app]}
    tickets: dict[int, Ticket] = {}
    if ids:
        rows = await scope.scalars(
            select(Ticket)
            .options(selectinload(Ticket.accused), selectinload(Ticket.grades))
            .where(Ticket.id.in_(ids), visible(p))
        )
        tickets = {t.id: t for t in rows}

    def may(step: str, ticket_id: int) -> bool:
        t = tickets.get(ticket_id)
        if t is None or involved(p, t):
            return False
        allowed = hooks.approvers(step, facts_of(t))
        return p.role_for(frozenset(allowed) if allowed else DEFAULTS[step]) is not None

    out = Inbox()
    out.penalties = [
        x for x in pen
        if may("penalty", x.ticket_id) and (p.staff_id is None or x.staff_id != p.staff_id)
        and x.proposed_by != p.user_id  # whoever graded (or regraded) never decides it
    ]  # fmt: skip
    out.appeals = [
        a for a in app
        if may("appeal", a.ticket_id) and (p.staff_id is None or a.staff_id != p.staff_id)
    ]  # fmt: skip
    # the head of the department whose clock overran never approves it [000 §篇1 4(4)9]
    overran = (
        {c.id: c.owner_department_id for c in await scope.scalars(
            select(StepClock).where(StepClock.id.in_([e.clock_id for e in ext])))}
        if ext and p.has(Role.DEPARTMENT_HEAD) and p.department_id is not None else {}
    )  # fmt: skip
    out.extensions = [
        e for e in ext
        if may("extension", e.ticket_id) and e.requested_by != p.user_id
        and (e.clock_id not in overran or overran[e.clock_id] != p.department_id)
    ]  # fmt: skip
    candidates = await scope.scalars(
        select(Ticket)
        .options(selectinload(Ticket.accused), selectinload(Ticket.grades))
        .where(Ticket.state.in_(["followed_up", "suspended"]), visible(p))
        .order_by(Ticket.id)
    )
    out.closable = [t for t in candidates if "close" in await actions_for(scope, p, t)]
    out.numbers = {i: t.number for i, t in tickets.items()}
    clock_ids = [e.clock_id for e in out.extensions]
    if clock_ids:
        rows: Any = await scope.scalars(select(StepClock).where(StepClock.id.in_(clock_ids)))
        out.clocks = {c.id: c for c in rows}
    return out
