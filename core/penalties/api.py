"""HTTP routes for penalties, grade appeals, tenant fine settings and the fine ledger.

Amounts travel as decimal yuan strings (``"600.00"``) and are stored as integer fen.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta
from sqlalchemy import select

from core.context import PrincipalDep, TenantScopeDep
from core.db import TenantScope, utcnow
from core.errors import Invalid, NotFound
from core.penalties import grading, service
from core.penalties.models import Appeal, FineSetting, LedgerLine, Penalty
from core.people.guards import EXEMPT, needs_role, requires
from core.people.models import Staff
from core.people.roles import MANAGEMENT, Role
from core.tasks import handoffs
from core.tickets import reading as tickets
from core.tickets import schemas as ts
from core.tickets.facts import plugin_of

TAGS = ["penalties"]
Yuan = Decimal
"""Decimal yuan (a JSON string or number); checked >= 0 and whole fen by :func:`to_fen`."""
Period = Annotated[str, Meta(pattern=r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])$")]
MAX_YUAN = Decimal(10_000_000)
"""No single fine or month's pay goes beyond ten million yuan (and int columns hold it)."""
ADMIN = frozenset({Role.TENANT_ADMIN})
LEDGER_READERS = ADMIN | MANAGEMENT
ADMIN_GUARDS = [requires(*ADMIN)]  # setFine, setPay (and the console's forms for them)
LEDGER_GUARDS = [requires(*LEDGER_READERS)]  # listFines, runLedger, the ledger's readers


def to_fen(amount: Decimal, field: str = "amount_yuan") -> int:
    if not amount.is_finite():
        raise Invalid(
            "{amount} is not an amount",
            field=field,
            rule=f"a number from 0 to {MAX_YUAN}",
            params={"amount": amount},
        )
    if amount < 0 or amount > MAX_YUAN:
        raise Invalid(
            "{amount} yuan is outside 0 to {top} yuan",
            field=field,
            rule=f"a number from 0 to {MAX_YUAN}",
            params={"amount": amount, "top": MAX_YUAN},
        )
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise Invalid(
            "{amount} has more than two decimals",
            field=field,
            rule="whole fen",
            params={"amount": amount},
        )
    return int(fen)


def yuan(fen: int | None) -> str | None:
    return None if fen is None else f"{Decimal(fen) / 100:.2f}"


class PenaltyOut(msgspec.Struct, kw_only=True):
    id: int
    ticket_id: int
    staff: str | None
    unit: str | None
    rule: str
    status: str
    proposed_yuan: str | None
    minimum_yuan: str | None
    final_yuan: str | None
    multiplier: int
    sanctions: list[str]
    appraisal_points: int
    whole_month_pay: bool
    reason: str
    decision_reason: str
    decided_at: dt.datetime | None
    source: str
    """``grading`` (derived from the grades) or ``breach`` (a step's clock ran out in its
    owner's hands, proposed by the plugin's ``tousu_breach_penalties``)."""


Reason = Annotated[str, Meta(max_length=2000)]


class PenaltyDecision(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason = ""
    amount_yuan: Yuan | None = None


class AppealOut(msgspec.Struct, kw_only=True):
    id: int
    ticket_id: int
    staff: str
    status: str
    reason: str
    decision_reason: str
    filed_at: dt.datetime
    decided_at: dt.datetime | None


class FineRuleOut(msgspec.Struct, kw_only=True):
    rule: str
    label: str
    label_zh: str
    per: str
    range: str
    min_yuan: str | None
    max_yuan: str | None
    default_yuan: str | None
    current_yuan: str | None
    sanctions: list[str]
    seed: str


class FineSet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount_yuan: Yuan
    reason: Reason = ""
    effective_from: Annotated[dt.datetime, Meta(tz=True)] | None = None


class FineSettingOut(msgspec.Struct, kw_only=True):
    id: int
    rule: str
    amount_yuan: str
    effective_from: dt.datetime
    reason: str
    out_of_range: bool
    set_by: str


class PaySet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount_yuan: Yuan


class RunRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    period: Period


class StatementOut(msgspec.Struct, kw_only=True):
    period: str
    staff: str
    owed_yuan: str
    pay_yuan: str
    deducted_yuan: str
    carried_yuan: str
    written_off_yuan: str
    forfeited_yuan: str
    """The month's whole performance pay taken by a penalty that says so [000 §篇7 六4]."""
    credited_yuan: str
    """Given back for penalties superseded after they were taken (an overturned appeal)."""
    appraisal_points: int = 0
    """Monthly appraisal points deducted for the month (扣除月度绩效考评…分 [000 §篇7 六])."""
    appraisal_points_credited: int = 0
    """Points given back: penalties counted on an earlier month's line, superseded since."""


class RunOut(msgspec.Struct, kw_only=True):
    period: str
    created: bool
    carry_over: bool
    statements: list[StatementOut]


async def _penalty_out(scope: TenantScope, rows: list[Penalty]) -> list[PenaltyOut]:
    """Hand-built: staff and unit by code, amounts in yuan (the rows hold ids and fen)."""
    staff = {x.id: x.code for x in await scope.scalars(select(Staff))}
    depts = await tickets.department_refs(scope)
    return [
        PenaltyOut(
            id=x.id,
            ticket_id=x.ticket_id,
            staff=staff.get(x.staff_id or -1),
            unit=depts[x.department_id].code if x.department_id in depts else None,
            rule=x.rule,
            status=x.status,
            proposed_yuan=yuan(x.proposed_fen),
            minimum_yuan=yuan(x.minimum_fen),
            final_yuan=yuan(x.final_fen),
            multiplier=x.multiplier,
            sanctions=list(x.sanctions or []),
            appraisal_points=x.appraisal_points,
            whole_month_pay=x.whole_month_pay,
            reason=x.reason,
            decision_reason=x.decision_reason,
            decided_at=x.decided_at,
            source=x.source,
        )
        for x in rows
    ]


@get(
    "/api/tickets/{ticket_id:int}/penalties",
    operation_id="listTicketPenalties",
    tags=TAGS,
)
async def ticket_penalties(
    tenant: TenantScopeDep, principal: PrincipalDep, ticket_id: FromPath[int]
) -> list[PenaltyOut]:
    """The ticket's penalties, proposed and decided (a staff member sees only their own)."""
    await tickets.load(tenant, principal, ticket_id)
    q = select(Penalty).where(Penalty.ticket_id == ticket_id).order_by(Penalty.id)
    if not principal.has(*(tickets.READ_ALL | {Role.DEPARTMENT_HEAD, Role.INSPECTOR})):
        q = q.where(Penalty.staff_id == principal.staff_id)
    return await _penalty_out(tenant, list(await tenant.scalars(q)))


def _decision_route(action: Literal["confirm", "adjust", "waive"]) -> Any:
    async def handler(
        tenant: TenantScopeDep,
        principal: PrincipalDep,
        penalty_id: FromPath[int],
        data: JSONBody[PenaltyDecision],
    ) -> PenaltyOut:
        penalty = await tenant.scalar(select(Penalty).where(Penalty.id == penalty_id))
        if penalty is None:
            raise NotFound("penalty {id} not found", field="penalty_id", params={"id": penalty_id})
        ticket = await tickets.load(tenant, principal, penalty.ticket_id)
        fen = to_fen(data.amount_yuan) if data.amount_yuan is not None else None
        await service.decide(
            tenant, principal, penalty, ticket, service.Decision(action, fen, data.reason)
        )
        return (await _penalty_out(tenant, [penalty]))[0]

    handler.__doc__ = {
        "confirm": "Confirm a proposed penalty at its proposed amount.",
        "adjust": "Set another amount, with a reason (below a seed minimum only this way).",
        "waive": "Waive a proposed penalty, with a reason.",
    }[action]
    handler.__name__ = f"penalty_{action}"
    return post(
        f"/api/penalties/{{penalty_id:int}}/{action}",
        operation_id=f"penalty{action.capitalize()}",
        tags=TAGS,
        status_code=200,
    )(handler)


def _appeal_out(a: Appeal, staff_code: str) -> AppealOut:
    """Hand-built: ``staff`` is the staff member's code, not a column of the appeal."""
    return AppealOut(
        id=a.id,
        ticket_id=a.ticket_id,
        staff=staff_code,
        status=a.status,
        reason=a.reason,
        decision_reason=a.decision_reason,
        filed_at=a.filed_at,
        decided_at=a.decided_at,
    )


async def _staff_code(tenant: TenantScope, staff_id: int) -> str:
    code = await tenant.scalar(select(Staff.code).where(Staff.id == staff_id))
    assert code is not None  # an appeal's staff member is a row of the tenant (foreign key)
    return code


@post(
    "/api/tickets/{ticket_id:int}/appeals",
    operation_id="fileAppeal",
    tags=TAGS,
    status_code=201,
    # the graded staff member's own right on the ticket [000 §篇8 4(3)1]
    opt={EXEMPT: "appealing one's own grade"},
)
async def file_appeal(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    ticket_id: FromPath[int],
    data: JSONBody[ts.AppealFile],
) -> AppealOut:
    """A graded staff member appeals their grade (once) [000 §篇8 4(3)1]."""
    ticket = await tickets.load(tenant, principal, ticket_id)
    appeal = await grading.file_appeal(tenant, principal, ticket, data.reason)
    await handoffs.appeal_filed(tenant, ticket, appeal)  # those who may decide it are told
    return _appeal_out(appeal, await _staff_code(tenant, appeal.staff_id))


@get(
    "/api/tickets/{ticket_id:int}/appeals",
    operation_id="listAppeals",
    tags=TAGS,
)
async def list_appeals(
    tenant: TenantScopeDep, principal: PrincipalDep, ticket_id: FromPath[int]
) -> list[AppealOut]:
    await tickets.load(tenant, principal, ticket_id)
    rows = (
        await tenant.execute(
            select(Appeal, Staff.code)
            .join(Staff, Staff.id == Appeal.staff_id)
            .where(Appeal.ticket_id == ticket_id)
            .order_by(Appeal.id)
        )
    ).all()
    return [_appeal_out(a, code) for a, code in rows]


@post(
    "/api/appeals/{appeal_id:int}/decide",
    operation_id="decideAppeal",
    tags=TAGS,
    status_code=200,
)
async def decide_appeal(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    appeal_id: FromPath[int],
    data: JSONBody[ts.AppealDecision],
) -> AppealOut:
    """A manager upholds or overturns an appeal; overturning re-derives the penalties."""
    appeal = await tenant.scalar(select(Appeal).where(Appeal.id == appeal_id))
    if appeal is None:
        raise NotFound("appeal {id} not found", field="appeal_id", params={"id": appeal_id})
    ticket = await tickets.load(tenant, principal, appeal.ticket_id)
    await grading.decide_appeal(tenant, principal, ticket, appeal, data)
    if appeal.status == "overturned":  # the re-derived proposals wait for a decision
        rows = await tenant.scalars(
            select(Penalty).where(
                Penalty.ticket_id == ticket.id,
                Penalty.status == "proposed",
                Penalty.created_at >= appeal.decided_at,
            )
        )
        await handoffs.penalties_waiting(tenant, ticket, list(rows), f"penalty:appeal:{appeal.id}")
    return _appeal_out(appeal, await _staff_code(tenant, appeal.staff_id))


# ---------------------------------------------------------------- fines


@get(
    "/api/config/fines",
    operation_id="listFines",
    tags=["configuration"],
    guards=LEDGER_GUARDS,
)
async def list_fines(tenant: TenantScopeDep) -> list[FineRuleOut]:
    """The industry's penalty schedule with the tenant's amounts in force now."""
    schedule = (await plugin_of(tenant)).penalty_schedule()
    current = await service.amounts_at(tenant, schedule, utcnow())
    return [  # hand-built: the schedule's fen as yuan, its range as text
        FineRuleOut(
            rule=r.code,
            label=r.label,
            label_zh=r.label_zh,
            per=r.per,
            range=service.range_text(r),
            min_yuan=yuan(r.min_fen),
            max_yuan=yuan(r.max_fen),
            default_yuan=yuan(r.default_fen),
            current_yuan=yuan(current[r.code]),
            sanctions=list(r.sanctions),
            seed=r.seed,
        )
        for r in schedule.rules
    ]


@put(
    "/api/config/fines/{rule:str}",
    operation_id="setFine",
    tags=["configuration"],
    guards=ADMIN_GUARDS,
)
async def set_fine(
    tenant: TenantScopeDep, principal: PrincipalDep, rule: FromPath[str], data: JSONBody[FineSet]
) -> FineSettingOut:
    """Set a rule's amount from ``effective_from`` (default now). Outside the schedule's
    range only with a reason. Penalties already proposed keep their amounts."""
    when = data.effective_from or utcnow()
    if when < utcnow() - dt.timedelta(minutes=5):
        raise Invalid(
            "a fine cannot take effect in the past; penalties already proposed keep their amounts",
            field="effective_from",
            rule="now or later",
        )
    row = await service.set_fine(
        tenant,
        await plugin_of(tenant),
        rule,
        to_fen(data.amount_yuan),
        data.reason,
        when,
        f"user:{principal.user_id}",
    )
    return _setting_out(row)


def _setting_out(x: FineSetting) -> FineSettingOut:
    """Hand-built: the amount is shown in yuan, the row holds fen."""
    return FineSettingOut(
        id=x.id,
        rule=x.rule,
        amount_yuan=yuan(x.amount_fen) or "0.00",
        effective_from=x.effective_from,
        reason=x.reason,
        out_of_range=x.out_of_range,
        set_by=x.set_by,
    )


@get(
    "/api/config/fines/history",
    operation_id="fineHistory",
    tags=["configuration"],
    guards=LEDGER_GUARDS,
)
async def fine_history(tenant: TenantScopeDep) -> list[FineSettingOut]:
    """Every version of every amount the tenant set, oldest first."""
    rows = await tenant.scalars(select(FineSetting).order_by(FineSetting.id))
    return [_setting_out(x) for x in rows]


# ---------------------------------------------------------------- ledger


@put(
    "/api/staff/{staff_code:str}/pay/{period:str}",
    operation_id="setPay",
    tags=["ledger"],
    guards=ADMIN_GUARDS,
)
async def set_pay(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    staff_code: FromPath[str],
    period: FromPath[str],
    data: JSONBody[PaySet],
) -> dict[str, str]:
    """A staff member's performance pay for a month (the budget fines are deducted from)."""
    row = await service.set_pay(
        tenant, staff_code, period, to_fen(data.amount_yuan), f"user:{principal.user_id}"
    )
    return {
        "staff": staff_code,
        "period": row.period,
        "amount_yuan": yuan(row.amount_fen) or "0.00",
    }


async def _statements(scope: TenantScope, q: Any) -> list[StatementOut]:
    """Hand-built: amounts in yuan, the staff member by code."""
    staff = {x.id: x.code for x in await scope.scalars(select(Staff))}
    return [
        StatementOut(
            period=x.period,
            staff=staff[x.staff_id],
            owed_yuan=yuan(x.owed_fen),
            pay_yuan=yuan(x.pay_fen),
            deducted_yuan=yuan(x.deducted_fen),
            carried_yuan=yuan(x.carried_fen),
            written_off_yuan=yuan(x.written_off_fen),
            forfeited_yuan=yuan(x.forfeited_fen),
            credited_yuan=yuan(x.credited_fen),
            appraisal_points=x.appraisal_points,
            appraisal_points_credited=x.appraisal_points_credited,
        )
        for x in await scope.scalars(q)
    ]


@post(
    "/api/ledger/runs",
    operation_id="runLedger",
    tags=["ledger"],
    guards=LEDGER_GUARDS,
)
async def run_ledger(
    tenant: TenantScopeDep, principal: PrincipalDep, data: JSONBody[RunRequest]
) -> Response[RunOut]:
    """Run the month's deductions; running a month again changes nothing (200)."""
    run, created = await service.run_month(tenant, data.period, f"user:{principal.user_id}")
    lines = await _statements(
        tenant,
        select(LedgerLine).where(LedgerLine.run_id == run.id).order_by(LedgerLine.staff_id),
    )
    out = RunOut(period=run.period, created=created, carry_over=run.carry_over, statements=lines)
    return Response(out, status_code=201 if created else 200)


@get(
    "/api/ledger/statements",
    operation_id="ledgerStatements",
    tags=["ledger"],
)
async def statements(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    period: FromQuery[str | None] = None,
    staff: FromQuery[str | None] = None,
) -> list[StatementOut]:
    """Statements per staff member per month: owed, deducted, carried (staff: their own).
    ``period``: ``YYYY-MM``; a month that is none (``2026-13``) is a 422 naming it, never an
    empty list."""
    q = select(LedgerLine).order_by(LedgerLine.period, LedgerLine.staff_id)
    if period:
        service.period_bounds(period)  # raises Invalid (422 period) for a month that is none
        q = q.where(LedgerLine.period == period)
    if not principal.has(*LEDGER_READERS):
        if principal.staff_id is None:
            raise needs_role(LEDGER_READERS | {Role.STAFF}, "查看扣款明细")
        q = q.where(LedgerLine.staff_id == principal.staff_id)
    if staff:
        sid = await tenant.scalar(select(Staff.id).where(Staff.code == staff))
        if sid is None:
            raise NotFound("no staff member {code}", field="staff", params={"code": repr(staff)})
        q = q.where(LedgerLine.staff_id == sid)
    return await _statements(tenant, q)


ROUTES = [
    ticket_penalties,
    *[_decision_route(a) for a in ("confirm", "adjust", "waive")],
    file_appeal,
    list_appeals,
    decide_appeal,
    list_fines,
    set_fine,
    fine_history,
    set_pay,
    run_ledger,
    statements,
]
