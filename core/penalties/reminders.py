"""Reminders of the penalties area's recurring duties, for every period (issue 23 §2).

- **The month's ledger run** [002 《客户投诉管理考核办法》第二十八条]: "由人力资源部按照处理结果对
  责任人的经济处罚在当月绩效中扣除,当月绩效不够扣除时,移至下月": HR sets the month's performance
  pay and the month is run (:func:`core.penalties.service.run_month`) once it has ended. A
  month is owed a run when a penalty on a staff member was decided in it, or when fines
  decided by its end are still not paid in full (what is carried needs every later month's
  run). The seed names no date: tousu reads the deduction from "the month's pay" as owed
  from the month's end and overdue once the following month has ended too (its pay is
  then settled without it). Told: the tenant admin (who keeps the pay, HR's figures) and
  the manager (who runs it) — ``ledger_run_due`` / ``ledger_run_overdue``.
- **The half-yearly appraisal of units** [第二十七条]: "公司市场营销部根据各单位半年内投诉统计
  情况…提出考核意见,报公司优质服务领导小组批准后执行". For a plugin whose duties say so
  (``Duties.half_year_appraisal``), every ended half-year without a proposal waiting or
  approved (:mod:`core.penalties.appraisal`) is owed — afresh after a rejection. The seed
  names no date: tousu reads it as owed from the half's end and overdue at the end of the
  month after it (31 July, 31 January), the time to gather the half's figures. Told:
  whoever proposes it (the plugin's ``appraisal_propose`` approvers; marketing, i.e. the
  manager, for the power company) —
  ``appraisal_due`` / ``appraisal_overdue``.

Each is reminded once when owed and once when overdue, for every period since the tenant
was created (:mod:`core.tasks.periodic`); ``tousu reports remind`` (daily) runs them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core.db import Database, TenantScope, utcnow
from core.penalties.appraisal import _NO_TICKET, PROPOSERS
from core.penalties.models import DeductionRun, Penalty, UnitAppraisal
from core.penalties.service import paid_per_penalty, staff_decided
from core.people.roles import Role
from core.tasks.notify import recipients
from core.tasks.periodic import (
    Owed,
    TenantPeriods,
    half_last_month,
    half_of,
    month_end,
    month_of,
    months_between,
    remind_once,
    shift,
    tenants,
)
from core.tickets.facts import plugin_of

LEDGER_SEED = "002 《客户投诉管理考核办法》第二十八条"
APPRAISAL_SEED = "002 《客户投诉管理考核办法》第二十七条"
LEDGER_REMINDED = frozenset({Role.TENANT_ADMIN, Role.MANAGER})
"""Who keeps the month's pay (HR's figures: the tenant admin) and who runs the month."""


async def ledger_owed(scope: TenantScope, t: TenantPeriods) -> list[Owed]:
    """The ended months not run that owe a run (oldest first)."""
    months = months_between(t.first, shift(t.current, -1))
    if not months:
        return []
    ran = set(
        await scope.scalars(select(DeductionRun.period).where(DeductionRun.period.in_(months)))
    )
    months = [m for m in months if m not in ran]
    if not months:
        return []
    start, end = month_end(shift(months[0], -1), t.zone), month_end(months[-1], t.zone)
    decided = await scope.scalars(select(Penalty.decided_at).where(*staff_decided(start, end)))
    with_decisions = {month_of(at, t.zone) for at in decided if at is not None}
    paid = paid_per_penalty()
    first_open = await scope.scalar(
        select(func.min(Penalty.decided_at))
        .outerjoin(paid, paid.c.penalty_id == Penalty.id)
        .where(*staff_decided(), Penalty.final_fen > func.coalesce(paid.c.paid, 0))
    )
    if first_open is not None and first_open.tzinfo is None:
        first_open = first_open.replace(tzinfo=dt.UTC)
    return [
        Owed(
            kinds=("ledger_run_due", "ledger_run_overdue"),
            key=m,
            due=month_end(shift(m, 1), t.zone),
            params={"period": m, "seed": LEDGER_SEED},
        )
        for m in months
        if m in with_decisions or (first_open is not None and first_open < month_end(m, t.zone))
    ]


async def appraisal_owed(scope: TenantScope, t: TenantPeriods, now: dt.datetime) -> list[Owed]:
    """The ended half-years with no appraisal proposed or approved (oldest first); one
    whose proposal was rejected is owed afresh."""
    halves = sorted({half_of(m) for m in months_between(t.first, t.current)})
    halves = [h for h in halves if month_end(half_last_month(h), t.zone) <= now]
    if not halves:
        return []
    status = (
        await scope.execute(
            select(UnitAppraisal.half, UnitAppraisal.status).where(UnitAppraisal.half.in_(halves))
        )
    ).all()
    live = {h for h, st in status if st in ("proposed", "approved")}
    # a rejected proposal leaves the half owed: reminded afresh after each rejection
    rejected = {h: sum(1 for x, st in status if x == h and st == "rejected") for h in halves}
    return [
        Owed(
            kinds=("appraisal_due", "appraisal_overdue"),
            key=f"{h}:{rejected[h]}" if rejected[h] else h,
            due=month_end(shift(half_last_month(h), 1), t.zone),
            params={"half": h, "seed": APPRAISAL_SEED},
        )
        for h in halves
        if h not in live
    ]


async def remind(db: Database, now: dt.datetime | None = None) -> int:
    """Remind every tenant's ledger runs and (where its plugin keeps it) half-year
    appraisals left undone, every period since the tenant's creation (at most a year back).
    Returns how many notifications were new."""
    now = now or utcnow()
    sent = 0
    for t in await tenants(db, now):
        async with db.tenant(t.id) as scope:
            owed = await ledger_owed(scope, t)
            if owed:
                users = await recipients(scope, set(LEDGER_REMINDED))
                for item in owed:
                    sent += await remind_once(scope, users, item, t.zone, now)
            hooks = await plugin_of(scope)
            if not hooks.duties().half_year_appraisal:
                continue
            owed = await appraisal_owed(scope, t, now)
            if owed:
                roles = hooks.approvers("appraisal_propose", _NO_TICKET) or PROPOSERS
                users = await recipients(scope, set(roles))
                for item in owed:
                    sent += await remind_once(scope, users, item, t.zone, now)
    return sent
