"""Each unit's monthly 《投诉事件通报》 [002 《客户投诉管理考核办法》第二十二条].

"各基层单位对发生的投诉事件应及时组织分析.每月应按件将投诉事件产生的经过、处理过程、投诉产生
原因、责任、改进措施及人员处理考核意见形成《投诉事件通报》,在本单位组织职工学习": the duty is the
**unit's** (each base unit, i.e. each department complaints are dispatched to), **monthly**,
and covers the unit's cases of the month one by one. tousu writes the cases' text
(:mod:`core.reports.bulletin`, ``GET /api/reports/bulletin`` — a department head reads their
own unit's); what the unit owes is to form it and have its staff study it, which it
records here (``POST /api/reports/unit-bulletins``), once per month.

A unit owes the month's bulletin when it had cases in it (a ticket dispatched to it graded
in the month, or closed in it after handling — the bulletin's own cases). The seed names no
date: tousu reads "每月" as owed from the month's end and overdue once the following month
has ended. ``tousu reports remind`` (daily) tells the unit's head once when owed
(``unit_bulletin_due``) and once when overdue (``unit_bulletin_overdue``), for every month
since the tenant was created (at most a year back, :mod:`core.tasks.periodic`) — only for
plugins whose duties say so (``Duties.unit_bulletin``: the power company).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Response, get, post
from litestar.params import FromQuery, JSONBody
from msgspec import Meta
from sqlalchemy import func, select, union

from core.audit import AuditEvent
from core.context import PrincipalDep, TenantScopeDep
from core.db import Database, TenantScope, utcnow
from core.errors import Forbidden, Invalid
from core.people.guards import needs_role
from core.people.models import Department
from core.people.roles import MANAGEMENT, Role
from core.people.tenant_data import tenant_info
from core.reports.models import UnitBulletinIssue
from core.reports.period import check_month
from core.strict import fits
from core.tasks.notify import recipients
from core.tasks.periodic import (
    Owed,
    TenantPeriods,
    month_end,
    months_between,
    remind_once,
    shift,
    tenants,
)
from core.tickets.facts import plugin_of
from core.tickets.models import Ticket, TicketEvent

SEED = "002 《客户投诉管理考核办法》第二十二条"
RECORDERS = frozenset({Role.DEPARTMENT_HEAD}) | MANAGEMENT
"""Who records a unit's bulletin: its head (their own unit), or management for any unit."""
READERS = RECORDERS | {Role.SUPERVISOR, Role.TENANT_ADMIN, Role.INSPECTOR}


async def cases_per_unit(scope: TenantScope, period: str, zone: str) -> dict[int, int]:
    """Department id → its cases of the month: tickets dispatched to it graded in the month,
    or closed in it after handling (the bulletin's cases, :mod:`core.reports.bulletin`)."""
    start, end = month_end(shift(period, -1), zone), month_end(period, zone)
    graded = select(TicketEvent.ticket_id.label("id")).where(
        TicketEvent.tenant_id == scope.tenant_id,
        TicketEvent.action == "grade",
        TicketEvent.at >= start,
        TicketEvent.at < end,
    )
    closed = select(Ticket.id.label("id")).where(
        Ticket.tenant_id == scope.tenant_id,
        Ticket.state == "closed",
        Ticket.closed_at >= start,
        Ticket.closed_at < end,
        Ticket.resolution.in_(("resolved", "unresolvable")),
    )
    ids = union(graded, closed).subquery()
    rows = await scope.execute(
        select(Ticket.assigned_department_id, func.count())
        .where(Ticket.id.in_(select(ids.c.id)), Ticket.assigned_department_id.is_not(None))
        .group_by(Ticket.assigned_department_id)
    )
    return {int(d): int(n) for d, n in rows.all()}


def due_at(period: str, zone: str) -> dt.datetime:
    """When the month's bulletin is overdue: the end of the following month."""
    return month_end(shift(period, 1), zone)


async def owed(scope: TenantScope, t: TenantPeriods) -> list[tuple[int, Owed]]:
    """(department id, what it owes) for every ended month not recorded, oldest first."""
    out: list[tuple[int, Owed]] = []
    months = months_between(t.first, shift(t.current, -1))
    if not months:
        return out
    done = {
        (p, d)
        for p, d in (
            await scope.execute(
                select(UnitBulletinIssue.period, UnitBulletinIssue.department_id).where(
                    UnitBulletinIssue.period.in_(months)
                )
            )
        ).all()
    }
    for period in months:
        for dept, count in sorted((await cases_per_unit(scope, period, t.zone)).items()):
            if (period, dept) in done:
                continue
            out.append(
                (
                    dept,
                    Owed(
                        kinds=("unit_bulletin_due", "unit_bulletin_overdue"),
                        key=f"{period}:{dept}",
                        due=due_at(period, t.zone),
                        params={"period": period, "department_id": dept, "count": count,
                                "seed": SEED},
                    ),
                )
            )  # fmt: skip
    return out


async def remind(db: Database, now: dt.datetime | None = None) -> int:
    """Tell each unit's head of every month whose bulletin the unit owes (plugins whose
    duties keep it). Returns how many notifications were new."""
    now = now or utcnow()
    sent = 0
    for t in await tenants(db, now):
        async with db.tenant(t.id) as scope:
            if not (await plugin_of(scope)).duties().unit_bulletin:
                continue
            heads: dict[int, list[int]] = {}
            for dept, item in await owed(scope, t):
                if dept not in heads:
                    heads[dept] = await recipients(scope, {Role.DEPARTMENT_HEAD}, dept)
                sent += await remind_once(scope, heads[dept], item, t.zone, now)
    return sent


# ---------------------------------------------------------------- routes

Month = Annotated[str, Meta(min_length=1, max_length=20)]


class RecordIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    period: Annotated[str, fits(UnitBulletinIssue.period, min_length=1)]
    """``YYYY-MM``: a month that has ended."""
    department: Annotated[str, fits(Department.code, min_length=1)] | None = None
    """The unit's code; a department head's own unit when left out."""


class UnitBulletinOut(msgspec.Struct, kw_only=True):
    period: str
    department: str
    department_name: str
    cases: int
    """The unit's cases of the month (now; when recorded: as they were then)."""
    due_at: dt.datetime
    issued_at: dt.datetime | None
    issued_by: str | None
    on_time: bool | None
    """None while not recorded and not yet due."""


def _ended(period: str, zone: str) -> None:
    check_month(period)
    if month_end(period, zone) > utcnow():
        raise Invalid(
            "period: {period} has not ended yet",
            field="period",
            rule="a month that has ended",
            params={"period": period},
        )


@post("/api/reports/unit-bulletins", operation_id="recordUnitBulletin", tags=["reports"])
async def record_unit_bulletin(
    tenant: TenantScopeDep, principal: PrincipalDep, data: JSONBody[RecordIn]
) -> Response[UnitBulletinOut]:
    """The unit formed its month's 《投诉事件通报》 and had its staff study it [002 第二十二条]:
    recorded once (201; again: 200 with the first record). A department head records their
    own unit's (``department`` may be left out), management any unit's."""
    role = principal.role_for(RECORDERS)
    if role is None:
        raise needs_role(RECORDERS, "登记本单位《投诉事件通报》")
    zone = (await tenant_info(tenant)).timezone
    _ended(data.period, zone)
    if data.department is None:
        if principal.department_id is None or not principal.has(Role.DEPARTMENT_HEAD):
            raise Invalid(
                "department: name the unit (only a department head's own unit is implied)",
                field="department",
                rule="required",
            )
        dept = await tenant.session.get(Department, principal.department_id)
    else:
        dept = await tenant.scalar(select(Department).where(Department.code == data.department))
        if dept is None:
            raise Invalid(
                "no unit {unit}",
                field="department",
                rule="a department code",
                params={"unit": data.department},
            )
    assert dept is not None
    if not principal.has(*MANAGEMENT) and dept.id != principal.department_id:
        raise Forbidden(
            "a department head records only their own unit's bulletin",
            field="department",
            rule="own unit",
        )
    row = await tenant.scalar(
        select(UnitBulletinIssue).where(
            UnitBulletinIssue.period == data.period, UnitBulletinIssue.department_id == dept.id
        )
    )
    created = row is None
    if row is None:
        now = utcnow()
        due = due_at(data.period, zone)
        cases = (await cases_per_unit(tenant, data.period, zone)).get(dept.id, 0)
        row = UnitBulletinIssue(period=data.period, department_id=dept.id, cases=cases,
                                due_at=due, issued_at=now, issued_by=principal.username,
                                on_time=now < due)  # fmt: skip
        tenant.add(row)
        tenant.add(
            AuditEvent(
                actor=principal.username, action="unit_bulletin_recorded", entity="unit_bulletin",
                entity_key=f"{data.period}:{dept.code}",
                payload={"role": role, "cases": cases, "on_time": row.on_time},
            )
        )  # fmt: skip
        await tenant.flush()
    out = UnitBulletinOut(
        period=row.period, department=dept.code, department_name=dept.name, cases=row.cases,
        due_at=row.due_at, issued_at=row.issued_at, issued_by=row.issued_by,
        on_time=row.on_time,
    )  # fmt: skip
    return Response(out, status_code=201 if created else 200)


@get("/api/reports/unit-bulletins", operation_id="unitBulletins", tags=["reports"])
async def unit_bulletins(
    tenant: TenantScopeDep, principal: PrincipalDep, period: FromQuery[Month]
) -> list[UnitBulletinOut]:
    """The month's units with cases, or with their bulletin recorded: cases, due date, when
    it was recorded and whether on time [002 第二十二条]. A department head sees their own
    unit only."""
    if principal.role_for(READERS) is None:
        raise needs_role(READERS, "查看各单位《投诉事件通报》")
    zone = (await tenant_info(tenant)).timezone
    check_month(period)
    cases = await cases_per_unit(tenant, period, zone)
    rows = {
        r.department_id: r
        for r in await tenant.scalars(
            select(UnitBulletinIssue).where(UnitBulletinIssue.period == period)
        )
    }
    depts = {d.id: d for d in await tenant.scalars(select(Department))}
    only_own = not principal.has(*(READERS - {Role.DEPARTMENT_HEAD}))
    due = due_at(period, zone)
    late = utcnow() >= due
    out = []
    for dept_id in sorted(set(cases) | set(rows), key=lambda i: depts[i].code):
        if only_own and dept_id != principal.department_id:
            continue
        row = rows.get(dept_id)
        out.append(
            UnitBulletinOut(
                period=period, department=depts[dept_id].code,
                department_name=depts[dept_id].name,
                cases=row.cases if row else cases.get(dept_id, 0),
                due_at=row.due_at if row else due,
                issued_at=row.issued_at if row else None,
                issued_by=row.issued_by if row else None,
                on_time=row.on_time if row else (False if late else None),
            )
        )  # fmt: skip
    return out


ROUTES = [record_unit_bulletin, unit_bulletins]
