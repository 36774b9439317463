"""Penalty proposals and decisions, tenant fine settings, and the monthly fine ledger.

Nothing is applied silently: the plugin proposes (``tousu_propose_penalties``) from the
grades, the severity, the facts and the tenant's amounts **in force at grading time**; a
manager confirms, adjusts (with a reason) or waives (with a reason); only decided penalties
reach the ledger, and every decision is an event in the ticket's history.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError

from core.audit import AuditEvent
from core.db import TenantScope, utcnow
from core.decisions import already_decided, claim
from core.errors import Conflict, Forbidden, Invalid, NotFound, Phrase
from core.penalties.models import (
    Deduction,
    DeductionRun,
    FineSetting,
    LedgerLine,
    Penalty,
    PerformancePay,
)
from core.people.duties import refuse_own
from core.people.guards import needs_role
from core.people.models import Department, Staff, Tenant
from core.people.roles import MANAGEMENT
from core.plugins import TenantHooks
from core.principal import Principal
from core.rules import GradeFacts, PenaltyRule, PenaltySchedule
from core.settings import DEFAULT_TIMEZONE
from core.tickets.events import append_event
from core.tickets.facts import facts_of, plugin_of
from core.tickets.models import Counter, Ticket, TicketGrade

LIVE = ("proposed", "confirmed", "adjusted", "waived")
DECIDED = ("confirmed", "adjusted")


def staff_decided(
    start: dt.datetime | None = None, end: dt.datetime | None = None
) -> list[ColumnElement[bool]]:
    """WHERE terms: a penalty on a staff member, decided (confirmed or adjusted) — in
    ``[start, end)`` (UTC) where given. What the fine ledger and its reminders count."""
    terms: list[ColumnElement[bool]] = [Penalty.status.in_(DECIDED), Penalty.staff_id.is_not(None)]
    if start is not None:
        terms.append(Penalty.decided_at >= start)
    if end is not None:
        terms.append(Penalty.decided_at < end)
    return terms


# ---------------------------------------------------------------- fine settings


async def amounts_at(
    scope: TenantScope, schedule: PenaltySchedule, at: dt.datetime
) -> dict[str, int | None]:
    """Each rule's amount in force at ``at``: the tenant's latest setting, else the default."""
    rows = await scope.execute(
        select(FineSetting.rule, FineSetting.amount_fen)
        .where(FineSetting.effective_from <= at)
        .order_by(FineSetting.effective_from, FineSetting.id)
    )
    configured = {rule: fen for rule, fen in rows.all()}
    return {r.code: configured.get(r.code, r.default_fen) for r in schedule.rules}


def range_message(rule: PenaltyRule) -> Phrase:
    """The rule's amount range as a message (English ``30.00–100.00 yuan``, Chinese
    ``30.00–100.00 元``)."""

    def y(fen: int) -> str:
        return f"{fen / 100:.2f}"

    if rule.min_fen is not None and rule.max_fen is not None:
        return Phrase("{low}–{high} yuan", {"low": y(rule.min_fen), "high": y(rule.max_fen)})
    if rule.min_fen is not None:
        return Phrase("at least {low} yuan", {"low": y(rule.min_fen)})
    if rule.max_fen is not None:
        return Phrase("at most {high} yuan", {"high": y(rule.max_fen)})
    return Phrase("any amount (the seed gives none)")


def range_text(rule: PenaltyRule) -> str:
    """The rule's amount range in English (the wire's ``range``)."""
    return str(range_message(rule))


def check_amount(rule: PenaltyRule, fen: int, reason: str, field: str) -> bool:
    """Raise unless ``fen`` is inside the rule's range or a reason is recorded.

    Returns whether the amount is out of range (recorded on the setting).
    """
    if fen < 0:
        raise Invalid("an amount cannot be negative", field=field, rule=">= 0")
    if rule.in_range(fen):
        return False
    if not reason.strip():
        raise Invalid(
            "{amount} yuan is outside {rule}'s range ({range}); give a reason to set it anyway",
            field=field,
            rule=f"within {range_text(rule)}, or with a recorded reason",
            params={"amount": f"{fen / 100:.2f}", "rule": rule.code, "range": range_message(rule)},
        )
    return True


async def set_fine(
    scope: TenantScope,
    hooks: TenantHooks,
    rule_code: str,
    fen: int,
    reason: str,
    effective_from: dt.datetime,
    set_by: str,
) -> FineSetting:
    rule = hooks.penalty_schedule().rule(rule_code)
    if rule is None:
        raise NotFound(
            "no rule {rule} in the penalty schedule",
            field="rule",
            params={"rule": repr(rule_code)},
        )
    out = check_amount(rule, fen, reason, "amount_yuan")
    setting = FineSetting(
        rule=rule_code,
        amount_fen=fen,
        effective_from=effective_from,
        reason=reason,
        out_of_range=out,
        set_by=set_by,
    )
    scope.add(setting)
    scope.add(
        AuditEvent(
            actor=set_by,
            action="set",
            entity="fine",
            entity_key=rule_code,
            payload={
                "amount_fen": fen,
                "reason": reason,
                "out_of_range": out,
                "effective_from": effective_from.isoformat(),
            },
        )
    )
    await scope.flush()
    return setting


# ---------------------------------------------------------------- proposals


async def _grades(scope: TenantScope, ticket: Ticket) -> list[tuple[TicketGrade, GradeFacts]]:
    rows = await scope.execute(
        select(TicketGrade, Staff.code, Department.code)
        .join(Staff, Staff.id == TicketGrade.staff_id)
        .outerjoin(Department, Department.id == Staff.department_id)
        .where(TicketGrade.ticket_id == ticket.id, TicketGrade.superseded_at.is_(None))
        .order_by(TicketGrade.id)
    )
    return [
        (
            g,
            GradeFacts(
                staff=code,
                department=dept,
                # the column is a str; grading stored one of GradeFacts' Literal codes
                grade=g.grade,  # type: ignore[arg-type]
                capacity=g.capacity,
                offence=g.offence,
                findings=g.findings,
                complainant_violation=g.complainant_violation,
            ),
        )
        for g, code, dept in rows.all()
    ]


async def _asked(
    scope: TenantScope,
    ticket: Ticket,
    grades: list[tuple[TicketGrade, GradeFacts]],
    at: dt.datetime,
) -> tuple[PenaltySchedule, list[Any], dict[str, int]]:
    """The plugin's proposals for ``ticket`` from its current ``grades``, priced at the
    tenant's amounts in force at ``at``; with the schedule and the department ids by code."""
    hooks = await plugin_of(scope)
    schedule = hooks.penalty_schedule()
    amounts = await amounts_at(scope, schedule, at)
    proposals = hooks.propose_penalties(facts_of(ticket), [g for _, g in grades], amounts)
    depts = {d.code: d.id for d in await scope.scalars(select(Department))}
    return schedule, list(proposals), depts


def proposal_row(
    ticket: Ticket,
    prop: Any,
    at: dt.datetime,
    *,
    grade_id: int | None = None,
    staff_id: int | None = None,
    department_id: int | None = None,
    proposed_by: int | None = None,
    source: str = "grading",
) -> Penalty:
    """A proposed :class:`Penalty` from a plugin's proposal (``core.rules`` value: rule,
    amount in fen, minimum, multiplier, sanctions, points, whole-month pay, reason), priced
    at ``at``; the caller names whom it charges and adds it to the session."""
    return Penalty(
        ticket_id=ticket.id,
        grade_id=grade_id,
        staff_id=staff_id,
        department_id=department_id,
        rule=prop.rule,
        proposed_fen=prop.amount_fen,
        minimum_fen=prop.minimum_fen,
        multiplier=prop.multiplier,
        sanctions=list(prop.sanctions),
        appraisal_points=prop.appraisal_points,
        whole_month_pay=prop.whole_month_pay,
        reason=prop.reason,
        amounts_at=at,
        proposed_by=proposed_by,
        source=source,
    )


async def propose(
    scope: TenantScope,
    ticket: Ticket,
    graded_at: dt.datetime,
    redo_staff_ids: frozenset[int] | None = None,
    because: tuple[int, str, str] | None = None,
    by: int | None = None,
) -> list[Penalty]:
    """Ask the plugin for the ticket's penalties and store them as proposals.

    When some staff are (re)graded — a later grading, an overturned appeal — only their
    penalties are re-derived (``redo_staff_ids``): their earlier ones are superseded (kept for
    the record) and only their new proposals are stored; everyone else's penalties stand.
    Unit penalties are keyed to the grades (the plugin names the responsible unit from them,
    e.g. [002 《客户投诉管理考核办法》第二十六条]), so they are re-derived too: a unit penalty the
    new grades no longer give is superseded, one they newly give is proposed, one they give
    unchanged stands (issue 12 §5). ``because`` — (user id, role, reason) — writes the
    ``penalties_superseded`` event that says why rows were superseded (a decided penalty
    itself is append-only, migration 0007). ``by``: the user whose act led to the proposals
    (the grader), who may not decide them (:mod:`core.people.duties`); later found facts add
    their unit charges through :func:`propose_units`.
    """
    grades = await _grades(scope, ticket)
    schedule, proposals, depts = await _asked(scope, ticket, grades, graded_at)
    superseded: list[int] = []
    if redo_staff_ids is not None:
        superseded += await _supersede(
            scope,
            Penalty.ticket_id == ticket.id,
            Penalty.status.in_(LIVE),
            Penalty.staff_id.in_(list(redo_staff_ids)),
        )
    by_staff = {gf.staff: g for g, gf in grades}
    units_live = (
        list(
            await scope.scalars(
                select(Penalty).where(
                    Penalty.ticket_id == ticket.id,
                    Penalty.status.in_(LIVE),
                    Penalty.staff_id.is_(None),
                    Penalty.source == "grading",
                )
            )
        )
        if redo_staff_ids is not None
        else []
    )
    kept: set[int] = set()
    rows = []
    for prop in proposals:
        rule = schedule.rule(prop.rule)
        if rule is None:
            raise RuntimeError(f"plugin proposed unknown rule {prop.rule!r}")
        grade = by_staff.get(prop.staff) if prop.staff else None
        if prop.staff and grade is None:
            raise RuntimeError(f"plugin proposed a penalty for ungraded staff {prop.staff!r}")
        dept_id = depts.get(prop.unit) if prop.unit else None
        if redo_staff_ids is not None:
            if grade is None:  # a unit penalty: stands if the new grades give it unchanged
                same = next(
                    (
                        u
                        for u in units_live
                        if u.id not in kept
                        and (u.rule, u.department_id, u.proposed_fen)
                        == (prop.rule, dept_id, prop.amount_fen)
                    ),
                    None,
                )
                if same is not None:
                    kept.add(same.id)
                    continue
            elif grade.staff_id not in redo_staff_ids:
                continue
        row = proposal_row(
            ticket, prop, graded_at,
            grade_id=grade.id if grade else None,
            staff_id=grade.staff_id if grade else None,
            department_id=dept_id,
            proposed_by=by,
        )  # fmt: skip
        scope.add(row)
        rows.append(row)
    gone = [u.id for u in units_live if u.id not in kept]
    if gone:
        superseded += await _supersede(scope, Penalty.id.in_(gone))
    await scope.flush()
    if superseded and because is not None:
        user_id, role, reason = because
        await append_event(
            scope,
            ticket,
            "penalties_superseded",
            user_id,
            role,
            {
                "penalty_ids": sorted(superseded),
                "proposed_ids": [r.id for r in rows],
                "reason": reason,
            },
        )
    return rows


async def propose_units(
    scope: TenantScope, ticket: Ticket, at: dt.datetime, by: int | None
) -> list[Penalty]:
    """Derive the unit charges a fact found late gives, at the time it is found.

    A falsified reply is found when the reply is reviewed, after the first grading
    [002 《客户投诉管理考核办法》第二十六条: 500 yuan per case to the unit, plus a notice]: the
    plugin's proposals are asked again and only unit charges whose rule the ticket does not
    already carry (live) are stored, priced at ``at``, proposed by ``by``. Staff penalties
    are left as they stand.
    """
    schedule, proposals, depts = await _asked(scope, ticket, await _grades(scope, ticket), at)
    held = set(
        await scope.scalars(
            select(Penalty.rule).where(
                Penalty.ticket_id == ticket.id,
                Penalty.staff_id.is_(None),
                Penalty.status.in_(LIVE),
            )
        )
    )
    rows = []
    for prop in proposals:
        if prop.staff or prop.rule in held or schedule.rule(prop.rule) is None:
            continue
        row = proposal_row(
            ticket, prop, at,
            department_id=depts.get(prop.unit) if prop.unit else None,
            proposed_by=by,
        )  # fmt: skip
        scope.add(row)
        rows.append(row)
    await scope.flush()
    return rows


UNDECIDED = ("proposed",)


async def rederive_for_facts(
    scope: TenantScope, ticket: Ticket, changed: dict[str, Any], by: int | None
) -> dict[str, Any] | None:
    """Re-derive the grading's penalties when a fact that prices them changed after grading
    (issue 23 §3): the complaint was taken to a supervisor outside and confirmed — assessed
    double [002 《客户投诉管理考核办法》第二十五条]; a falsified reply found by reclassification
    rather than at review — 500 yuan to the unit [第二十六条]; a severity that changes the tier
    [第二十四条(四)].

    Rules, as for an overturned appeal (:func:`propose`): an **undecided** proposal that the
    new facts price differently (or no longer give) is superseded and the new one proposed;
    one they price the same stands. A **decided** one (confirmed, adjusted) stays as it was;
    when the new facts price it higher, the **difference** is proposed as its own row
    (reason names the decided penalty); priced lower, it stays and the summary says so — the
    manager may waive or adjust what was not yet taken. A waived one stays waived. Amounts:
    the tenant's settings at the time of the grading (hookspec ``tousu_propose_penalties``).

    ``changed``: what the reclassification changed (``facts_was``, ``severity_was``, …).
    Returns the summary for the reclassification's own event (``penalties_rederived``), or
    None when the ticket carries no grading penalties or nothing changes."""
    live = list(
        await scope.scalars(
            select(Penalty).where(
                Penalty.ticket_id == ticket.id,
                Penalty.status.in_(LIVE),
                Penalty.source == "grading",
            )
        )
    )
    grades = await _grades(scope, ticket)
    if not grades:
        return None
    graded_at = max(g.graded_at for g, _ in grades)
    schedule, proposals, depts = await _asked(scope, ticket, grades, graded_at)
    by_staff = {gf.staff: g for g, gf in grades}

    def key(staff_id: int | None, dept: int | None, rule: str) -> tuple[Any, ...]:
        return (staff_id, None if staff_id else dept, rule)

    held: dict[tuple[Any, ...], list[Penalty]] = {}
    for row in live:
        held.setdefault(key(row.staff_id, row.department_id, row.rule), []).append(row)
    superseded: list[int] = []
    proposed: list[Penalty] = []
    differences: list[dict[str, Any]] = []
    kept_lower: list[int] = []
    wanted: set[tuple[Any, ...]] = set()
    for prop in proposals:
        if schedule.rule(prop.rule) is None:
            continue
        grade = by_staff.get(prop.staff) if prop.staff else None
        staff_id = grade.staff_id if grade else None
        dept_id = depts.get(prop.unit) if prop.unit else None
        k = key(staff_id, dept_id, prop.rule)
        wanted.add(k)
        rows = held.get(k, [])
        decided = [r for r in rows if r.status in DECIDED]
        waived = [r for r in rows if r.status == "waived"]
        open_ = [r for r in rows if r.status in UNDECIDED]
        if waived and not decided and not open_:
            continue  # a manager waived it: a late fact does not revive it by itself
        if decided:
            base = max((r.proposed_fen or 0) for r in decided)
            new = prop.amount_fen or 0
            if new > base:
                row = proposal_row(
                    ticket, prop, graded_at, grade_id=grade.id if grade else None,
                    staff_id=staff_id, department_id=dept_id, proposed_by=by,
                )  # fmt: skip
                row.proposed_fen = new - base
                row.minimum_fen = None
                row.reason = (  # stored in Chinese, as the desk reads it
                    f"事实补录后的差额：{prop.reason}。处罚 "
                    f"{', '.join(str(r.id) for r in decided)} 已按 {base / 100:.2f} 元决定，"
                    "维持不变；本条提出其余部分"
                )
                scope.add(row)
                proposed.append(row)
                differences.append({"decided_ids": [r.id for r in decided],
                                    "difference_fen": new - base})  # fmt: skip
            elif new < base:
                kept_lower += [r.id for r in decided]
            continue
        same = [
            r for r in open_
            if (r.proposed_fen, r.multiplier) == (prop.amount_fen, prop.multiplier)
        ]  # fmt: skip
        if same:
            continue
        superseded += await _supersede(scope, Penalty.id.in_([r.id for r in open_]))
        row = proposal_row(
            ticket, prop, graded_at, grade_id=grade.id if grade else None,
            staff_id=staff_id, department_id=dept_id, proposed_by=by,
        )  # fmt: skip
        scope.add(row)
        proposed.append(row)
    for k, rows in held.items():  # undecided ones the new facts no longer give
        if k not in wanted:
            gone = [r.id for r in rows if r.status in UNDECIDED]
            if gone:
                superseded += await _supersede(scope, Penalty.id.in_(gone))
    if not (superseded or proposed or kept_lower):
        return None
    await scope.flush()
    return {
        "because": sorted(k for k in changed if k.endswith("_was")),
        "superseded_ids": sorted(superseded),
        "proposed_ids": [r.id for r in proposed],
        "differences": differences,
        "decided_kept_though_lower": sorted(kept_lower),
        "seed": "002 《客户投诉管理考核办法》第二十四条–第二十六条; issue 23 §3",
    }


async def _supersede(scope: TenantScope, *where: Any) -> list[int]:
    """Mark the live penalties matching ``where`` superseded; their ids. A decided one keeps
    every other column (append-only, migration 0007); money already taken on it is credited
    back by the next ledger run."""
    stmt = (
        update(Penalty)
        .where(*where, Penalty.status.in_(LIVE))
        .values(status="superseded")
        .returning(Penalty.id)
        .execution_options(synchronize_session=False)
    )
    return [int(i) for i in (await scope.execute(stmt)).scalars()]


@dataclass(frozen=True)
class Decision:
    action: str  # confirm | adjust | waive
    amount_fen: int | None
    reason: str


async def decide(
    scope: TenantScope, p: Principal, penalty: Penalty, ticket: Ticket, d: Decision
) -> Penalty:
    """A manager confirms, adjusts (new amount, reason) or waives (reason) a proposal."""
    hooks = await plugin_of(scope)
    allowed = frozenset(hooks.approvers("penalty", facts_of(ticket)) or MANAGEMENT)
    role = p.role_for(allowed)
    if role is None:
        raise needs_role(allowed, "决定处罚")
    if penalty.status != "proposed":
        raise already_decided("该处罚", penalty.status)
    if p.staff_id is not None and p.staff_id == penalty.staff_id:
        raise Forbidden("nobody decides their own penalty", rule="conflict of interest")
    refuse_own(p, "penalty", penalty.proposed_by)  # whoever proposed it does not decide it
    if d.action == "confirm":
        if penalty.proposed_fen is None:
            raise Invalid(
                "this penalty has no amount yet: adjust it with an amount and a reason",
                field="amount_yuan",
                rule="required when the tenant has set no amount",
            )
        final, status = penalty.proposed_fen, "confirmed"
    elif d.action == "adjust":
        if d.amount_fen is None:
            raise Invalid("adjusting needs the amount", field="amount_yuan", rule="required")
        if not d.reason.strip():
            raise Invalid("adjusting needs a reason", field="reason", rule="required")
        if d.amount_fen < 0:
            raise Invalid("an amount cannot be negative", field="amount_yuan", rule=">= 0")
        final, status = d.amount_fen, "adjusted"
    else:
        if not d.reason.strip():
            raise Invalid("waiving needs a reason", field="reason", rule="required")
        final, status = 0, "waived"
    # Only one decision wins, even when several arrive at once (issue 9 item 4).
    await claim(
        scope,
        Penalty,
        penalty,
        "proposed",
        "该处罚",
        {
            "status": status,
            "final_fen": final,
            "decided_by": p.user_id,
            "decided_at": utcnow(),
            "decision_reason": d.reason,
        },
    )
    await append_event(
        scope,
        ticket,
        f"penalty_{d.action}",
        p.user_id,
        role,
        {
            "penalty_id": penalty.id,
            "rule": penalty.rule,
            "proposed_fen": penalty.proposed_fen,
            "final_fen": final,
            "reason": d.reason,
        },
    )
    return penalty


# ---------------------------------------------------------------- ledger

PERIOD = re.compile(r"(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])")
"""A month as ``YYYY-MM`` in ASCII digits (no fullwidth or other scripts' digits)."""


def period_bounds(period: str, tz: str = DEFAULT_TIMEZONE) -> tuple[dt.datetime, dt.datetime]:
    """``YYYY-MM`` → [start, end) in UTC, months counted in the tenant's time zone."""
    if not PERIOD.fullmatch(period):
        raise Invalid(
            "bad period {period}",
            field="period",
            rule="YYYY-MM, years 1900-2199",
            params={"period": repr(period)},
        )
    year, month = int(period[:4]), int(period[5:])
    zone = ZoneInfo(tz)
    start = dt.datetime(year, month, 1, tzinfo=zone)
    end = start + relativedelta(months=1)  # local midnight of the next month's 1st
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


FIRST_LEDGER_YEAR = 2000
"""No tenant ran a fine ledger before this; earlier months are typos, not history."""


def ended_month(period: str, tz: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """A ledger run's month: ``YYYY-MM`` from :data:`FIRST_LEDGER_YEAR`, already ended in the
    tenant's time zone (a month still running has fines yet to come, and a far-future month
    would deduct — or, without carry-over, write off — everything owed so far).
    Raises :class:`Invalid` naming ``period``. Returns its ``[start, end)`` in UTC."""
    start, end = period_bounds(period, tz)
    if int(period[:4]) < FIRST_LEDGER_YEAR:
        raise Invalid(
            "period: {period} is before {year}", field="period",
            rule=f"a month from {FIRST_LEDGER_YEAR}-01",
            params={"period": period, "year": FIRST_LEDGER_YEAR},
        )  # fmt: skip
    if end > now:
        raise Invalid(
            "period: {period} has not ended yet",
            field="period",
            rule="a month that has ended",
            params={"period": period},
        )
    return start, end


async def set_pay(
    scope: TenantScope, staff_code: str, period: str, fen: int, set_by: str = "unknown"
) -> PerformancePay:
    period_bounds(period)
    if fen < 0:
        raise Invalid("pay cannot be negative", field="amount_yuan", rule=">= 0")
    staff = await scope.scalar(select(Staff).where(Staff.code == staff_code))
    if staff is None:
        raise NotFound("no staff member {code}", field="staff", params={"code": repr(staff_code)})
    # Serialised with the deduction runs: a pay change that passed the check below while a
    # run of its month was reading the old pay would be accepted and then ignored.
    await counter_lock(scope, "ledger")
    if await scope.scalar(select(DeductionRun.id).where(DeductionRun.period == period)):
        raise Conflict(
            "the deduction run for {period} is done; its pay can no longer change",
            field="period",
            rule="pay is fixed once the month is run",
            params={"period": period},
        )
    row = await scope.scalar(
        select(PerformancePay).where(
            PerformancePay.staff_id == staff.id, PerformancePay.period == period
        )
    )
    was = row.amount_fen if row is not None else None
    if row is None:
        row = PerformancePay(staff_id=staff.id, period=period, amount_fen=fen)
        scope.add(row)
    else:
        row.amount_fen = fen
    scope.add(
        AuditEvent(
            actor=set_by,
            action="set",
            entity="performance_pay",
            entity_key=f"{staff_code}:{period}",
            payload={"amount_fen": fen, "was_fen": was},
        )
    )
    await scope.flush()
    return row


async def counter_lock(scope: TenantScope, name: str) -> None:
    """Serialise one kind of write per tenant: the lock is the tenant's ``name`` counter row,
    bumped in this transaction (row lock on PostgreSQL, the write lock on SQLite) and
    created by the first writer (a concurrent first writer then takes the lock).

    ``ledger``: two deduction runs at once (even of different months) would each see the
    same outstanding fines; ``appraisal-<half>``: two proposals at once would each find no
    live one (:mod:`core.penalties.appraisal`)."""
    bump = update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
    if (await scope.execute(bump.returning(Counter.value))).scalar_one_or_none() is None:
        try:
            async with scope.session.begin_nested():
                scope.add(Counter(name=name, value=1))
        except IntegrityError:  # created by a concurrent writer: take the lock now
            await scope.execute(bump)


async def _in_month_order(scope: TenantScope, period: str, tz: str) -> None:
    """Without carry-over, what a month's pay cannot cover is written off. Running a month
    while an earlier month is unrun that has pay set and fines already decided by its end
    would charge those fines to this month's pay and write off the rest, leaving the earlier
    pay unused; refused with :class:`Conflict` naming the earliest such month (issue 9)."""
    first_fine = await scope.scalar(
        select(func.min(Penalty.decided_at)).where(*staff_decided(), Penalty.final_fen > 0)
    )
    if first_fine is None:
        return
    ran = set(await scope.scalars(select(DeductionRun.period)))
    paid = set(
        await scope.scalars(select(PerformancePay.period).where(PerformancePay.period < period))
    )
    unrun = sorted(m for m in paid - ran if first_fine < period_bounds(m, tz)[1])
    if unrun:
        raise Conflict(
            "period: run {period} first; without carry-over a later month's run would "
            "write off fines that month's pay could cover",
            field="period",
            rule="months with pay are run in order",
            params={"period": unrun[0]},
            unrun=unrun[:12],
        )


async def run_month(scope: TenantScope, period: str, run_by: str) -> tuple[DeductionRun, bool]:
    """Deduct decided fines from the month's performance pay, oldest penalty first.

    What does not fit carries over to the following months until paid in full
    [002 《客户投诉管理考核办法》第二十八条] — or, where the tenant turned carry-over off, is
    written off. A penalty that takes the month's whole performance pay
    (``whole_month_pay``, e.g. [000 §篇7 六4] 扣除当月绩效工资) forfeits the pay of the month it was
    decided in, and its own fine is taken beside it. A penalty superseded after money was
    taken on it (an overturned appeal) is credited back here: a negative row, nothing earlier
    changed; so are the appraisal points of such a penalty (``appraisal_points_credited``
    on the line, issue 23). Idempotent: a month already run returns the same run (created
    False). A month not yet ended in the tenant's zone: :class:`Invalid` naming ``period``.
    """
    period_bounds(period)  # validate before taking the lock
    await counter_lock(scope, "ledger")
    existing = await scope.scalar(select(DeductionRun).where(DeductionRun.period == period))
    if existing is not None:
        return existing, False
    hooks = await plugin_of(scope)
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    # The month ends at midnight in the tenant's zone, not Shanghai's (issue 11 §4), and
    # only a month that has ended may be run (issue 9 item 13).
    start, end = ended_month(period, tenant.timezone, utcnow())
    carry = bool((tenant.config or {}).get("carry_over", hooks.penalty_schedule().carry_over))
    if not carry:
        await _in_month_order(scope, period, tenant.timezone)
    run = DeductionRun(period=period, run_by=run_by, carry_over=carry)
    scope.add(run)
    await scope.flush()

    outstanding = await _outstanding(scope, end)
    forfeits = await _forfeits(scope, start, end)
    credits, points_back = await _credits(scope)
    pay = {
        sid: fen
        for sid, fen in (
            await scope.execute(
                select(PerformancePay.staff_id, PerformancePay.amount_fen).where(
                    PerformancePay.period == period
                )
            )
        ).all()
    }
    points = await month_point_rows(scope, start, end)
    every = set(outstanding) | set(forfeits) | set(credits) | set(points) | set(points_back)
    for staff_id in sorted(every):
        items = outstanding.get(staff_id, [])
        wmp = forfeits.get(staff_id, [])
        owed = sum(left for _, left in items)
        budget = int(pay.get(staff_id, 0))
        # [000 §篇7 六4] "1000元/次 + 扣除当月度绩效工资": the month's whole performance pay is
        # taken — once, however many such penalties the month has — and the tier's own fine
        # is a second consequence, taken in full beside it (it would otherwise vanish into
        # the forfeited pay). So such a month costs at most pay + those fines; every other
        # fine has only what is left of the pay (nothing) and carries or is written off.
        forfeited = budget if wmp else 0
        whole = set(wmp)
        # penalty id → [taken, written off, forfeited, appraisal points]
        rows: dict[int, list[int]] = {}
        if wmp:
            rows[wmp[0]] = [0, 0, forfeited, 0]
        deducted = written_off = 0
        left_budget = budget - forfeited
        ordered = [x for x in items if x[0].id in whole] + [
            x for x in items if x[0].id not in whole
        ]
        for penalty, left in ordered:
            if penalty.id in whole:
                take = left
            else:
                take = max(min(left, left_budget), 0)
                left_budget -= take
            rest = left - take if not carry else 0
            row = rows.setdefault(penalty.id, [0, 0, 0, 0])
            row[0] += take
            row[1] += rest
            deducted += take
            written_off += rest
        credited = 0
        for pid, (taken, forfeit) in credits.get(staff_id, {}).items():
            # A fine taken and then superseded (an overturned appeal re-derived it) is given
            # back in the next run as a negative row; the earlier rows stay as they were.
            rows[pid] = [-taken, 0, -forfeit, 0]
            credited += taken + forfeit
        # Each penalty's points are counted on the line of the month it was decided in
        # [000 §篇7 六2–3], recorded per penalty so that a penalty superseded afterwards (an
        # appeal or a late fact re-derived it) gives them back on the next line, as money is.
        for pid, pts in points.get(staff_id, {}).items():
            rows.setdefault(pid, [0, 0, 0, 0])[3] += pts
        points_credited = 0
        for pid, pts in points_back.get(staff_id, {}).items():
            rows.setdefault(pid, [0, 0, 0, 0])[3] -= pts
            points_credited += pts
        for pid, (taken, off, forfeit, pts) in rows.items():
            if taken or off or forfeit or pts:  # one row per penalty per run
                scope.add(
                    Deduction(
                        penalty_id=pid,
                        run_id=run.id,
                        staff_id=staff_id,
                        period=period,
                        amount_fen=taken,
                        written_off_fen=off,
                        forfeited_fen=forfeit,
                        appraisal_points=pts,
                    )
                )
        scope.add(
            LedgerLine(
                run_id=run.id,
                staff_id=staff_id,
                period=period,
                owed_fen=owed,
                pay_fen=budget,
                deducted_fen=deducted,
                carried_fen=owed - deducted - written_off,
                written_off_fen=written_off,
                forfeited_fen=forfeited,
                credited_fen=credited,
                appraisal_points=sum(points.get(staff_id, {}).values()),
                appraisal_points_credited=points_credited,
            )
        )
    await scope.flush()
    return run, True


async def month_point_rows(
    scope: TenantScope, start: dt.datetime, end: dt.datetime
) -> dict[int, dict[int, int]]:
    """Monthly appraisal points (扣除月度绩效考评5分 / 10分 [000 §篇7 六2–3]): per staff member,
    each penalty decided — confirmed or adjusted, not waived or superseded — in ``[start,
    end)`` (UTC) that carries points, with its points; the month the decision falls in is
    the month appraised. Staff with none are left out (issue 23 §4)."""
    rows = await scope.execute(
        select(Penalty.staff_id, Penalty.id, Penalty.appraisal_points).where(
            *staff_decided(start, end), Penalty.appraisal_points > 0
        )
    )
    out: dict[int, dict[int, int]] = {}
    for sid, pid, pts in rows.all():
        out.setdefault(int(sid), {})[int(pid)] = int(pts)
    return out


def paid_per_penalty() -> Any:
    """A subquery ``(penalty_id, paid)``: fen taken or written off on each penalty so far,
    over every run (a credited penalty's rows sum back down)."""
    return (
        select(
            Deduction.penalty_id,
            func.sum(Deduction.amount_fen + Deduction.written_off_fen).label("paid"),
        )
        .group_by(Deduction.penalty_id)
        .subquery()
    )


async def _outstanding(
    scope: TenantScope, end: dt.datetime
) -> dict[int, list[tuple[Penalty, int]]]:
    """Per staff member, each decided fine (decided before ``end``) with what is still owed,
    oldest first."""
    paid = paid_per_penalty()
    rows = (
        await scope.execute(
            select(Penalty, func.coalesce(paid.c.paid, 0))
            .outerjoin(paid, paid.c.penalty_id == Penalty.id)
            .where(*staff_decided(end=end), Penalty.final_fen > 0)
            .order_by(Penalty.staff_id, Penalty.decided_at, Penalty.id)
        )
    ).all()
    out: dict[int, list[tuple[Penalty, int]]] = {}
    for penalty, already in rows:
        left = int(penalty.final_fen or 0) - int(already)
        if left > 0 and penalty.staff_id is not None:  # never None: the query's condition
            out.setdefault(penalty.staff_id, []).append((penalty, left))
    return out


async def _forfeits(
    scope: TenantScope, start: dt.datetime, end: dt.datetime
) -> dict[int, list[int]]:
    """Per staff member, the decided penalties of the month that take its whole performance
    pay (``whole_month_pay``), oldest first. "当月" is the month the penalty is decided in —
    the handling result is announced then [002 《客户投诉管理考核办法》第二十八条 reads the
    same way: deducted from the month's performance pay once the result is announced]."""
    rows = await scope.execute(
        select(Penalty.staff_id, Penalty.id)
        .where(*staff_decided(start, end), Penalty.whole_month_pay.is_(True))
        .order_by(Penalty.decided_at, Penalty.id)
    )
    out: dict[int, list[int]] = {}
    for staff_id, pid in rows.all():
        out.setdefault(int(staff_id), []).append(int(pid))
    return out


async def _credits(
    scope: TenantScope,
) -> tuple[dict[int, dict[int, tuple[int, int]]], dict[int, dict[int, int]]]:
    """Per staff member, each superseded penalty still counted on an earlier line: (fine
    taken, pay forfeited) to give back where its rows still hold money, and its appraisal
    points where its rows' points sum above zero. Once given back its rows sum to zero, so
    a later run finds nothing (idempotent)."""
    rows = await scope.execute(
        select(
            Deduction.staff_id,
            Deduction.penalty_id,
            func.sum(Deduction.amount_fen),
            func.sum(Deduction.forfeited_fen),
            func.sum(Deduction.appraisal_points),
        )
        .join(Penalty, Penalty.id == Deduction.penalty_id)
        .where(Penalty.status == "superseded")
        .group_by(Deduction.staff_id, Deduction.penalty_id)
    )
    money: dict[int, dict[int, tuple[int, int]]] = {}
    points: dict[int, dict[int, int]] = {}
    for staff_id, pid, taken, forfeit, pts in rows.all():
        taken, forfeit, pts = int(taken or 0), int(forfeit or 0), int(pts or 0)
        if taken > 0 or forfeit > 0:
            money.setdefault(int(staff_id), {})[int(pid)] = (taken, forfeit)
        if pts > 0:
            points.setdefault(int(staff_id), {})[int(pid)] = pts
    return money, points
