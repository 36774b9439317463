"""The half-yearly appraisal of units [002 《客户投诉管理考核办法》第二十七条].

"公司市场营销部根据各单位半年内投诉统计情况,按本办法规定提出考核意见,报公司优质服务领导小组批准后
执行": a report of each unit's half-year (complaints counted against it, steps it let run
late, penalties decided on its people and on it), a proposal with an opinion per unit by the
proposer (marketing), and an approval (or rejection) by the approver (the quality-service
leading group). Who proposes and who approves is the plugin's (``tousu_approvers`` with steps
``appraisal_propose`` and ``appraisal_approve``; default: a manager proposes, the general
manager approves). Nobody approves their own proposal. Every step is audited.

Half-years are counted in the tenant's time zone: ``YYYY-H1`` is January–June, ``YYYY-H2``
July–December.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import msgspec
from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.context import PrincipalDep, TenantScopeDep
from core.db import TenantScope, utcnow
from core.deadlines.models import StepClock
from core.decisions import already_decided, claim
from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.penalties.api import yuan
from core.penalties.models import Penalty, UnitAppraisal
from core.penalties.service import DECIDED, counter_lock, period_bounds
from core.people.guards import needs_role, requires
from core.people.models import Department, Staff, User
from core.people.roles import MANAGEMENT, Role
from core.people.tenant_data import tenant_info
from core.principal import Principal
from core.rules import TicketFacts
from core.settings import DEFAULT_TIMEZONE
from core.strict import fits
from core.tickets.counting import counted
from core.tickets.facts import plugin_of
from core.tickets.models import Ticket

TAGS = ["appraisals"]
HALF = r"^(19|2[01])[0-9]{2}-H[12]$"
Half = Annotated[str, Meta(pattern=HALF)]
PROPOSERS = frozenset({Role.MANAGER, Role.GENERAL_MANAGER})
APPROVERS = frozenset({Role.GENERAL_MANAGER})
READERS = MANAGEMENT | {Role.TENANT_ADMIN, Role.INSPECTOR}


def half_bounds(half: str, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """``YYYY-H1|H2`` → [start, end) in UTC, in the tenant's zone. Bad text: :class:`Invalid`
    naming ``half``."""
    if not re.fullmatch(HALF[1:-1], half):
        raise Invalid(
            "bad half-year {half}",
            field="half",
            rule="YYYY-H1 or YYYY-H2",
            params={"half": repr(half)},
        )
    year, first = int(half[:4]), 1 if half.endswith("H1") else 7
    start, _ = period_bounds(f"{year}-{first:02d}", tz)
    _, end = period_bounds(f"{year}-{first + 5:02d}", tz)
    return start, end


class UnitFigures(msgspec.Struct, kw_only=True):
    unit: str
    name: str
    complaints: int
    """Tickets counted as complaints (domain §3) assigned to the unit, taken in the half."""
    late_steps: int
    """Step clocks the unit owned that ran past their due time in the half."""
    penalties: int
    """Penalties decided in the half on the unit's staff or charged to the unit."""
    fines_yuan: str
    """Their decided amounts, decimal yuan."""


class AppraisalReport(msgspec.Struct, kw_only=True):
    half: str
    start: dt.datetime
    end: dt.datetime
    units: list[UnitFigures]


class UnitOpinion(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    unit: Annotated[str, fits(Department.code, min_length=1)]  # a department's code
    opinion: Annotated[str, Meta(min_length=1, max_length=2000)]


class AppraisalProposal(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    half: Half
    opinion: Annotated[str, Meta(min_length=1, max_length=4000)]
    units: list[UnitOpinion] = []


class AppraisalDecision(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=2000)] = ""


class AppraisedUnit(msgspec.Struct, kw_only=True):
    unit: str
    complaints: int
    late_steps: int
    penalties: int
    fines_yuan: str
    opinion: str


class AppraisalOut(msgspec.Struct, kw_only=True):
    id: int
    half: str
    status: str
    opinion: str
    units: list[AppraisedUnit]
    proposed_by: str
    proposed_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str


async def unit_figures(scope: TenantScope, half: str) -> AppraisalReport:
    """Every unit's half-year figures (units with nothing to report show zeros)."""
    start, end = half_bounds(half, (await tenant_info(scope)).timezone)
    depts = list(await scope.scalars(select(Department).order_by(Department.code)))
    complaints = dict(
        (
            await scope.execute(
                select(Ticket.assigned_department_id, func.count())
                .where(counted(), Ticket.created_at >= start, Ticket.created_at < end)
                .group_by(Ticket.assigned_department_id)
            )
        ).all()
    )
    late = dict(
        (
            await scope.execute(
                select(StepClock.owner_department_id, func.count())
                .where(StepClock.breached_at >= start, StepClock.breached_at < end)
                .group_by(StepClock.owner_department_id)
            )
        ).all()
    )
    unit_of = func.coalesce(Penalty.department_id, Staff.department_id)
    fines = {
        d: (int(n), int(fen or 0))
        for d, n, fen in (
            await scope.execute(
                select(unit_of, func.count(), func.sum(Penalty.final_fen))
                .outerjoin(Staff, Staff.id == Penalty.staff_id)
                .where(
                    Penalty.status.in_(DECIDED),
                    Penalty.decided_at >= start,
                    Penalty.decided_at < end,
                )
                .group_by(unit_of)
            )
        ).all()
    }
    return AppraisalReport(
        half=half,
        start=start,
        end=end,
        units=[
            UnitFigures(
                unit=d.code,
                name=d.name,
                complaints=int(complaints.get(d.id, 0)),
                late_steps=int(late.get(d.id, 0)),
                penalties=fines.get(d.id, (0, 0))[0],
                fines_yuan=yuan(fines.get(d.id, (0, 0))[1]) or "0.00",
            )
            for d in depts
        ],
    )


_NO_TICKET = TicketFacts(
    number="", state="appraisal", channel="", category=None, severity=None, facets={},
    facts={}, created_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
)  # fmt: skip
"""What ``tousu_approvers`` receives for the appraisal steps: no ticket is concerned."""


async def _role(scope: TenantScope, p: Principal, step: str, default: frozenset[Role]) -> str:
    hooks = await plugin_of(scope)
    allowed = frozenset(hooks.approvers(step, _NO_TICKET) or default)
    role = p.role_for(allowed)
    if role is None:
        raise needs_role(
            allowed, "提出单位半年考核意见" if step.endswith("propose") else "批准单位半年考核"
        )
    return role


async def propose(scope: TenantScope, p: Principal, body: AppraisalProposal) -> UnitAppraisal:
    """Marketing's opinion on the half-year [第二十七条]; the figures are frozen with it.
    One live proposal per half-year (409 while one waits or once one is approved); a unit
    not of the tenant is a 422 naming ``units[i].unit``; a half-year not yet ended is a 422
    naming ``half``."""
    role = await _role(scope, p, "appraisal_propose", PROPOSERS)
    report = await unit_figures(scope, body.half)
    if report.end > utcnow():
        raise Invalid(
            "{half} has not ended yet",
            field="half",
            rule="a half-year that has ended",
            params={"half": body.half},
        )
    figures = {u.unit: u for u in report.units}
    opinions: dict[str, str] = {}
    for i, line in enumerate(body.units):
        if line.unit not in figures:
            raise Invalid(
                "no unit {unit}",
                field=f"units[{i}].unit",
                rule="a department code",
                params={"unit": repr(line.unit)},
            )
        if line.unit in opinions:
            raise Invalid(
                "unit {unit} twice",
                field=f"units[{i}].unit",
                rule="one line per unit",
                params={"unit": repr(line.unit)},
            )
        opinions[line.unit] = line.opinion
    await counter_lock(scope, f"appraisal-{body.half}")  # one proposal of a half at a time
    live = await scope.scalar(
        select(UnitAppraisal.id).where(
            UnitAppraisal.half == body.half, UnitAppraisal.status.in_(("proposed", "approved"))
        )
    )
    if live is not None:
        raise Conflict(
            "{half} already has an appraisal proposed or approved",
            field="half",
            rule="one live appraisal per half-year",
            params={"half": body.half},
        )
    row = UnitAppraisal(
        half=body.half,
        status="proposed",
        opinion=body.opinion,
        units=[
            msgspec.to_builtins(u) | {"opinion": opinions.get(u.unit, "")} for u in report.units
        ],
        proposed_by=p.user_id,
        proposed_at=utcnow(),
    )
    scope.add(row)
    await scope.flush()
    scope.add(
        AuditEvent(
            actor=p.username, action="appraisal_proposed", entity="unit_appraisal",
            entity_key=f"{row.id}:{body.half}",
            payload={"role": role, "opinion": body.opinion, "units": opinions},
        )
    )  # fmt: skip
    return row


async def decide(
    scope: TenantScope,
    p: Principal,
    row: UnitAppraisal,
    verdict: Literal["approved", "rejected"],
    reason: str,
) -> UnitAppraisal:
    """The leading group approves (then it is carried out) or rejects (with a reason)."""
    role = await _role(scope, p, "appraisal_approve", APPROVERS)
    if row.proposed_by == p.user_id:
        raise Forbidden("nobody approves their own proposal", rule="conflict of interest")
    if verdict == "rejected" and not reason.strip():
        raise Invalid("rejecting needs a reason", field="reason", rule="required")
    if row.status != "proposed":
        raise already_decided("该考核意见", row.status)
    await claim(
        scope, UnitAppraisal, row, "proposed", "该考核意见",
        {"status": verdict, "decided_by": p.user_id, "decided_at": utcnow(),
         "decision_reason": reason},
    )  # fmt: skip
    scope.add(
        AuditEvent(
            actor=p.username, action=f"appraisal_{verdict}", entity="unit_appraisal",
            entity_key=f"{row.id}:{row.half}", payload={"role": role, "reason": reason},
        )
    )  # fmt: skip
    await scope.flush()
    return row


async def _out(scope: TenantScope, rows: list[UnitAppraisal]) -> list[AppraisalOut]:
    """Hand-built: who proposed and who decided by username (the rows hold user ids)."""
    users = {u.id: u.username for u in await scope.scalars(select(User))}
    return [
        AppraisalOut(
            id=r.id,
            half=r.half,
            status=r.status,
            opinion=r.opinion,
            units=[msgspec.convert(u, AppraisedUnit) for u in r.units],
            proposed_by=users.get(r.proposed_by, ""),
            proposed_at=r.proposed_at,
            decided_by=users.get(r.decided_by) if r.decided_by else None,
            decided_at=r.decided_at,
            decision_reason=r.decision_reason,
        )
        for r in rows
    ]


# ---------------------------------------------------------------- routes


@get(
    "/api/reports/appraisal",
    operation_id="unitAppraisalReport",
    tags=TAGS,
    guards=[requires(*READERS)],
)
async def appraisal_report(tenant: TenantScopeDep, half: FromQuery[str]) -> AppraisalReport:
    """Each unit's half-year figures (``half=YYYY-H1|H2``) [第二十七条]: 422 naming ``half``
    on bad text."""
    return await unit_figures(tenant, half)


@post("/api/appraisals", operation_id="proposeAppraisal", tags=TAGS)
async def propose_appraisal(
    tenant: TenantScopeDep, principal: PrincipalDep, data: JSONBody[AppraisalProposal]
) -> AppraisalOut:
    """Propose the half-year's appraisal of units (marketing) [第二十七条]."""
    return (await _out(tenant, [await propose(tenant, principal, data)]))[0]


@get(
    "/api/appraisals",
    operation_id="listAppraisals",
    tags=TAGS,
    guards=[requires(*READERS)],
)
async def list_appraisals(
    tenant: TenantScopeDep, half: FromQuery[str | None] = None
) -> list[AppraisalOut]:
    """Every appraisal proposed, oldest first (``half``, ``YYYY-H1|H2``, narrows to one
    half-year; one that is none is a 422 naming ``half``, never an empty list)."""
    q = select(UnitAppraisal).order_by(UnitAppraisal.id)
    if half:
        half_bounds(half, DEFAULT_TIMEZONE)  # raises Invalid (422 half) for a half that is none
        q = q.where(UnitAppraisal.half == half)
    return await _out(tenant, list(await tenant.scalars(q)))


def _decision_route(verdict: Literal["approved", "rejected"], verb: str) -> Any:
    async def handler(
        tenant: TenantScopeDep,
        principal: PrincipalDep,
        appraisal_id: FromPath[int],
        data: JSONBody[AppraisalDecision],
    ) -> AppraisalOut:
        row = await tenant.scalar(select(UnitAppraisal).where(UnitAppraisal.id == appraisal_id))
        if row is None:
            raise NotFound(
                "appraisal {id} not found", field="appraisal_id", params={"id": appraisal_id}
            )
        await decide(tenant, principal, row, verdict, data.reason)
        return (await _out(tenant, [row]))[0]

    handler.__doc__ = {
        "approve": "The leading group approves the proposal; it is then carried out.",
        "reject": "The leading group rejects the proposal, with a reason.",
    }[verb]
    handler.__name__ = f"appraisal_{verb}"
    return post(
        f"/api/appraisals/{{appraisal_id:int}}/{verb}",
        operation_id=f"appraisal{verb.capitalize()}",
        tags=TAGS,
        status_code=200,
    )(handler)


ROUTES = [
    appraisal_report,
    propose_appraisal,
    list_appraisals,
    _decision_route("approved", "approve"),
    _decision_route("rejected", "reject"),
]
