"""Reading tickets: who may see which (``visible``), loading one with its people, listing
pages, history and grades, and shaping a ticket for its reader (``to_out``: the
complainant's block masked for readers who may not see it).

Every function takes the tenant-bound :class:`~core.db.TenantScope` and the principal; the
scope is the only way to the data, so no function here writes a tenant filter by hand.
The areas built on tickets (attachments, deadlines, penalties, reports, the workflow in
:mod:`core.flow`) read tickets through this module.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, or_, select
from sqlalchemy.orm import joinedload

from core.db import TenantScope
from core.errors import Invalid, NotFound
from core.people import tenant_data
from core.people.models import Staff, User
from core.people.roles import READ_ALL, Role
from core.principal import Principal
from core.tickets import complainant
from core.tickets import schemas as s
from core.tickets.models import AccusedStaff, Ticket, TicketEvent, TicketGrade
from core.tickets.seen import note


def visible(principal: Principal) -> ColumnElement[bool]:
    """Which of the tenant's tickets a principal may read (others answer 404).

    Desk, management and tenant admin read all; a department head the tickets dispatched to
    or complaining about their department; discipline inspection the referred ones; a staff
    member the tickets about them or grading them (with the complainant masked).
    """
    if principal.has(*READ_ALL):
        return Ticket.id.is_not(None)
    clauses: list[ColumnElement[bool]] = []
    if principal.has(Role.DEPARTMENT_HEAD) and principal.department_id is not None:
        clauses.append(Ticket.assigned_department_id == principal.department_id)
        clauses.append(Ticket.accused_department_id == principal.department_id)
    if principal.has(Role.INSPECTOR):
        clauses.append(Ticket.referred_to_inspection.is_(True))
    if principal.has(Role.STAFF) and principal.staff_id is not None:
        clauses.append(involving(principal.staff_id))
    return or_(*clauses) if clauses else false()


def involving(staff_id: int) -> ColumnElement[bool]:
    """The tickets that name the staff member or grade them (graded without being named in
    the complaint, they must see it to appeal): :func:`involved` in SQL."""
    return or_(
        exists().where(AccusedStaff.ticket_id == Ticket.id, AccusedStaff.staff_id == staff_id),
        exists().where(TicketGrade.ticket_id == Ticket.id, TicketGrade.staff_id == staff_id),
    )


_WITH_PEOPLE = (joinedload(Ticket.accused), joinedload(Ticket.grades))
"""A ticket with its accused staff and grades in the same statement (a LEFT JOIN each; both
lists are short), not one round trip per collection."""


MAX_ID = 2**31 - 1
"""Ids are 32-bit integers on every backend; a larger one names no ticket."""


async def load(scope: TenantScope, principal: Principal, ticket_id: int) -> Ticket:
    """The ticket with its accused staff and grades, if the principal may see it; raises
    NotFound (404, field ``ticket_id``) otherwise."""
    ticket, _ = await load_with(scope, principal, ticket_id)
    return ticket


async def load_with(
    scope: TenantScope, principal: Principal, ticket_id: int, model: Any = None, on: Any = None
) -> tuple[Ticket, list[Any]]:
    """:func:`load`, and in the same statement the rows of ``model`` matching ``on`` (a LEFT
    OUTER JOIN; an area built on tickets passes its own rows — a transition, the ticket's
    open clocks). Raises NotFound as :func:`load` does."""
    if not 0 < ticket_id <= MAX_ID:  # beyond the id type: no such ticket, not a driver error
        raise NotFound("ticket {id} not found", field="ticket_id", params={"id": ticket_id})
    q = select(Ticket) if model is None else select(Ticket, model).outerjoin(model, on)
    rows = (
        (await scope.execute(q.where(Ticket.id == ticket_id, visible(principal))
                             .options(*_WITH_PEOPLE)))
        .unique()
        .all()
    )  # fmt: skip
    if not rows:
        raise NotFound("ticket {id} not found", field="ticket_id", params={"id": ticket_id})
    ticket = rows[0][0]
    note(ticket, involved(principal, ticket))  # spares the boundary a query
    extra = [] if model is None else [row[1] for row in rows if row[1] is not None]
    return ticket, extra


async def department_by_code(scope: TenantScope, code: str, field: str) -> int:
    dept_id = await tenant_data.department_id(scope, code)
    if dept_id is None:
        raise Invalid(
            "unknown department {code}",
            field=field,
            rule="must be a department code of this tenant",
            params={"code": repr(code)},
        )
    return int(dept_id)


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    category: str | None = None
    severity: str | None = None
    department: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    q: str | None = None
    """Search text (:mod:`core.tickets.search`)."""


def encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"t:{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        number = int(value)
        if kind != "t" or not 0 < number <= MAX_ID:
            raise ValueError
        return number
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(
            "malformed cursor", field="cursor", rule="pass back next_cursor unchanged"
        ) from exc


async def filtered(scope: TenantScope, principal: Principal, f: Filters) -> Select[Any]:
    """``SELECT tickets`` the principal may see, narrowed by ``f`` (no order, no limit):
    the one place the list's filters become SQL (:mod:`core.flow.listing` adds its own)."""
    q = select(Ticket).where(visible(principal))
    if f.state:
        q = q.where(Ticket.state == f.state)
    if f.category:
        q = q.where(Ticket.category == f.category)
    if f.severity:
        q = q.where(Ticket.severity == f.severity)
    if f.department:
        dept_id = await department_by_code(scope, f.department, "department")
        q = q.where(
            or_(Ticket.assigned_department_id == dept_id, Ticket.accused_department_id == dept_id)
        )
    if f.created_from:
        q = q.where(Ticket.created_at >= f.created_from)
    if f.created_to:
        q = q.where(Ticket.created_at < f.created_to)
    if f.q is not None:
        from core.tickets import search

        q = q.where(search.clause(principal, f.q, scope.session.bind.dialect.name))
    return q


async def history(
    scope: TenantScope, principal: Principal, ticket_id: int
) -> list[tuple[TicketEvent, str]]:
    """Events, oldest first, with the actor's username. Free text in payloads is redacted
    for readers who may not see the complainant at the output boundary
    (:mod:`core.confidential`), not here."""
    await load(scope, principal, ticket_id)
    rows = await scope.execute(
        select(TicketEvent, User.username)
        .join(User, User.id == TicketEvent.actor_user_id)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.seq)
    )
    return [(e, name) for e, name in rows.all()]


async def grades(
    scope: TenantScope, principal: Principal, ticket_id: int
) -> list[tuple[TicketGrade, Staff]]:
    """The grades with their staff member (free text redacted at the output boundary)."""
    await load(scope, principal, ticket_id)
    rows = await scope.execute(
        select(TicketGrade, Staff)
        .join(Staff, Staff.id == TicketGrade.staff_id)
        .where(TicketGrade.ticket_id == ticket_id)
        .order_by(TicketGrade.id)
    )
    return [(g, st) for g, st in rows.all()]


def involved(principal: Principal, ticket: Ticket) -> bool:
    """Whether the principal is a staff member the ticket names or grades."""
    sid = principal.staff_id
    return sid is not None and (
        any(a.staff_id == sid for a in ticket.accused)
        or any(g.staff_id == sid for g in ticket.grades)
    )


def sees_complainant(principal: Principal, ticket: Ticket) -> bool:
    """Staff named or graded never see who complained; other roles by need (domain §7)."""
    return complainant_level(principal, ticket) == complainant.FULL


def complainant_level(principal: Principal, ticket: Ticket) -> complainant.Level:
    """How much of the complainant the reader sees (:func:`core.tickets.complainant.level`)."""
    return complainant.level(principal, involved(principal, ticket))


def complainant_of(principal: Principal, ticket: Ticket) -> complainant.Shown:
    """The ticket's complainant as the reader sees them (the one rule, domain §7)."""
    return complainant.shown(
        ticket.complainant_name,
        ticket.complainant_contact,
        ticket.complainant_address,
        complainant_level(principal, ticket),
    )


async def department_refs(scope: TenantScope) -> dict[int, s.Ref]:
    """id → code and name of the tenant's departments (cached per process: core.cache)."""
    found = await tenant_data.departments(scope)
    return {i: s.Ref(code=code, name=name) for i, (code, name) in found.items()}


def to_out(
    ticket: Ticket, principal: Principal, depts: dict[int, s.Ref], actions: list[str]
) -> s.TicketOut:
    who = complainant_of(principal, ticket)
    return s.TicketOut(
        id=ticket.id,
        number=ticket.number,
        state=ticket.state,
        version=ticket.version,
        channel=ticket.channel,
        complainant=s.ComplainantOut(
            name=who.name, contact=who.contact, address=who.address, masked=who.masked
        ),
        description=ticket.description,
        demands=ticket.demands,
        event_time=ticket.event_time,
        event_place=ticket.event_place,
        temper_note=ticket.temper_note,
        accused_department=depts.get(ticket.accused_department_id or -1),
        accused_staff=[s.Ref(code=a.staff.code, name=a.staff.name) for a in ticket.accused],
        assigned_department=depts.get(ticket.assigned_department_id or -1),
        category=ticket.category,
        severity=ticket.severity,
        facets=dict(ticket.facets or {}),
        facts=dict(ticket.facts or {}),
        classification=dict(ticket.classification or {}),
        valid=ticket.valid,
        communicative=ticket.communicative,
        resolve_by=ticket.resolve_by,
        resolution=ticket.resolution,
        referred_to_inspection=ticket.referred_to_inspection,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        closed_at=ticket.closed_at,
        allowed_actions=actions,
        owner=ticket.owner.username if ticket.owner is not None else None,
    )
