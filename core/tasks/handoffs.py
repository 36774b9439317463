"""Who hears of a hand-off: the people a ticket moves to, and those who may decide what waits.

Issue 19 item 3: at every hand-off somebody is told, in-app and on the channels they chose
(:func:`core.tasks.notify.notify`; the text is written in the reader's language from the
kind and its parameters, :mod:`core.notify.kinds`). This module answers *who*:

- :func:`department_heads` — a department's heads (a dispatch);
- :func:`desk` — the desk's clerks (a return);
- :func:`staff_users` — the accounts of graded staff members (a grading);
- :func:`deciders` — those who may decide a waiting approval (an appeal, a penalty
  proposal, an extension, a reply review, an unresolvable close), by **the rule the API
  applies when the decision is taken** and the approvals inbox shows
  (``core/console/inbox.py``): the plugin's ``tousu_approvers`` answer for the step and the
  ticket's facts, else the core's default roles; among them only those who may read the
  ticket (:func:`core.tickets.reading.visible`), never a staff member the ticket names or
  grades (conflict of interest, domain §7), never whoever asked or is the subject
  (``exclude_users`` / ``exclude_staff``: nobody decides their own), and for an extension
  never the head of the department whose clock overran [000 §篇1 4(4)9].

Recipients are active users of the ticket's tenant only: every read goes through the
tenant's scope.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from core.db import TenantScope
from core.people.models import User
from core.people.roles import MANAGEMENT, READ_ALL, Role
from core.tasks.notify import notify
from core.tickets.facts import facts_of, plugin_of
from core.tickets.models import AccusedStaff, Ticket, TicketGrade


async def _users(scope: TenantScope) -> list[Any]:
    return list(
        (
            await scope.execute(
                select(User.id, User.roles, User.department_id, User.staff_id).where(
                    User.active.is_(True)
                )
            )
        ).all()
    )


async def department_heads(scope: TenantScope, department_id: int | None) -> list[int]:
    """The active heads of ``department_id`` (none when it is None)."""
    if department_id is None:
        return []
    return [
        u.id
        for u in await _users(scope)
        if Role.DEPARTMENT_HEAD in (u.roles or []) and u.department_id == department_id
    ]


async def desk(scope: TenantScope) -> list[int]:
    """The desk's active clerks."""
    return [u.id for u in await _users(scope) if Role.CLERK in (u.roles or [])]


async def staff_users(scope: TenantScope, staff_ids: Iterable[int]) -> dict[int, int]:
    """staff id → the active user account of that staff member (those that have one)."""
    wanted = set(staff_ids)
    return {u.staff_id: u.id for u in await _users(scope) if u.staff_id in wanted}


def _sees(user: Any, ticket: Ticket, named: set[int]) -> bool:
    """:func:`core.tickets.reading.visible` for one user row and one ticket."""
    roles = set(user.roles or [])
    if roles & READ_ALL:
        return True
    if Role.DEPARTMENT_HEAD in roles and user.department_id is not None:
        if user.department_id in (ticket.assigned_department_id, ticket.accused_department_id):
            return True
    if Role.INSPECTOR in roles and ticket.referred_to_inspection:
        return True
    return Role.STAFF in roles and user.staff_id is not None and user.staff_id in named


async def deciders(
    scope: TenantScope,
    step: str,
    ticket: Ticket,
    *,
    default: Iterable[str],
    exclude_users: Iterable[int | None] = (),
    exclude_staff: Iterable[int | None] = (),
    exclude_head_of: int | None = None,
) -> list[int]:
    """The active users who may decide ``step`` (``penalty``, ``appeal``, ``extension``,
    ``reply_review``, ``close_unresolvable``…) on ``ticket``: holders of a role the plugin
    names for the step (``default`` when it has no opinion) who may read the ticket, minus
    the staff it names or grades, ``exclude_users``, the users of ``exclude_staff`` and
    the heads of department ``exclude_head_of``. Sorted ids."""
    hooks = await plugin_of(scope)
    allowed = set(hooks.approvers(step, facts_of(ticket)) or default)
    accused = set(
        await scope.scalars(
            select(AccusedStaff.staff_id).where(AccusedStaff.ticket_id == ticket.id)
        )
    )
    graded = set(
        await scope.scalars(select(TicketGrade.staff_id).where(TicketGrade.ticket_id == ticket.id))
    )
    named = accused | graded
    no_users = {u for u in exclude_users if u is not None}
    no_staff = {s for s in exclude_staff if s is not None} | named
    out = []
    for u in await _users(scope):
        roles = set(u.roles or [])
        if not roles & allowed or u.id in no_users or not _sees(u, ticket, named):
            continue
        if u.staff_id is not None and u.staff_id in no_staff:
            continue
        if (
            exclude_head_of is not None
            and Role.DEPARTMENT_HEAD in roles
            and u.department_id == exclude_head_of
        ):
            continue
        out.append(int(u.id))
    return sorted(out)


async def appeal_filed(scope: TenantScope, ticket: Ticket, appeal: Any) -> int:
    """An appeal waits: tell those who may decide it (``appeal`` approvers; never the
    appellant, who is also graded on the ticket). Returns how many were told."""
    users = await deciders(
        scope, "appeal", ticket, default=MANAGEMENT,
        exclude_users=[appeal.filed_by], exclude_staff=[appeal.staff_id],
    )  # fmt: skip
    return await notify(
        scope,
        users,
        kind="appeal_waiting",
        ticket_id=ticket.id,
        dedupe=f"appeal:{appeal.id}",
        params={"number": ticket.number, "appeal_id": appeal.id},
    )


async def penalties_waiting(scope: TenantScope, ticket: Ticket, rows: list[Any], key: str) -> None:
    """The penalty proposals ``rows`` of ``ticket`` (objects with ``staff_id`` and
    ``proposed_by``) wait for a decision: each user who may decide some of them (never
    their subject, never whoever proposed them) is told how many, once per ``key``."""
    if not rows:
        return
    counts: collections.Counter[int] = collections.Counter()
    for (staff_id, by), group in _grouped(rows).items():
        for uid in await deciders(
            scope, "penalty", ticket, default=MANAGEMENT,
            exclude_users=[by], exclude_staff=[staff_id],
        ):  # fmt: skip
            counts[uid] += len(group)
    by_count: dict[int, list[int]] = collections.defaultdict(list)
    for uid, n in counts.items():
        by_count[n].append(uid)
    for n, users in by_count.items():
        await notify(
            scope, users, kind="penalty_waiting", ticket_id=ticket.id, dedupe=key,
            params={"number": ticket.number, "count": n},
        )  # fmt: skip


def _grouped(rows: list[Any]) -> dict[tuple[int | None, int | None], list[Any]]:
    out: dict[tuple[int | None, int | None], list[Any]] = collections.defaultdict(list)
    for r in rows:
        out[(r.staff_id, r.proposed_by)].append(r)
    return out
