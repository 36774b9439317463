"""The KPIs of domain §8, each computed exactly as ``docs/reports.md`` defines it.

The population of every ticket KPI is the same: complaints that **count** (see
:func:`core.reports.sql.counted`), **received** in the window, that the reader may see —
judged **as of** the moment the report is made (a step still running past its due time is
already late). Penalties by department are the exception: they are counted by the time of
the decision, as the fine ledger counts them. Each figure is one aggregate query.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from core.db import TenantScope, utcnow
from core.deadlines.models import StepClock
from core.penalties.models import Penalty
from core.penalties.service import DECIDED
from core.people.models import Staff, Tenant
from core.reports import sql
from core.reports.access import Access
from core.reports.period import Period, customers
from core.reports.stats import Labels, Window, window_out
from core.tickets.models import Ticket, TicketEvent

FOLLOW_UPS = ("follow_up", "follow_up_unsatisfied")
ONE_TIME = ("resolved", "explained")
DEFAULT_WINDOW_DAYS = 30


class Rate(msgspec.Struct, kw_only=True):
    code: str
    label: str
    numerator: int
    denominator: int
    percent: float | None
    """``round(100 × numerator ÷ denominator, 2)``; None when the denominator is 0."""


class Missing(msgspec.Struct, kw_only=True):
    number: str
    state: str
    department: str | None
    last_reply_at: dt.datetime | None


class PerTenThousand(msgspec.Struct, kw_only=True):
    complaints: int
    customers: int | None
    value: float | None
    """``round(complaints ÷ customers × 10,000, 2)``; None without a customer count."""


class Repeat(msgspec.Struct, kw_only=True):
    number: str
    earlier: list[str]
    same_complainant: bool
    same_subject: bool


class Repeats(msgspec.Struct, kw_only=True):
    window_days: int
    count: int
    same_complainant: int
    same_subject: int
    tickets: list[Repeat]


class DepartmentPenalties(msgspec.Struct, kw_only=True):
    key: str | None
    label: str
    decided: int
    amount_fen: int
    waived: int
    pending: int
    appraisal_points: int = 0
    """Monthly appraisal points of the penalties decided in the window (扣除月度绩效考评…分
    [000 §篇7 六2–3]; issue 23 §4)."""


class Kpis(msgspec.Struct, kw_only=True):
    tenant: str
    window: Window
    scope: str
    as_of: dt.datetime
    rates: list[Rate]
    follow_up_missing: list[Missing]
    complaints_per_10k: PerTenThousand
    repeat_complaints: Repeats
    penalties_by_department: list[DepartmentPenalties]


def percent(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 2) if denominator else None


def _rate(code: str, label: str, numerator: Any, denominator: Any) -> Rate:
    n, d = int(numerator or 0), int(denominator or 0)
    return Rate(code=code, label=label, numerator=n, denominator=d, percent=percent(n, d))


def cohort(access: Access, window: Period) -> list[ColumnElement[bool]]:
    """Counted complaints received in the window that the reader may see."""
    return [sql.received_in(window), sql.counted(), access.tickets()]


async def _on_time(
    scope: TenantScope, where: list[ColumnElement[bool]], now: dt.datetime
) -> dict[str, tuple[int, int]]:
    """Per step: (clocks met, clocks judged). Judged = met, missed, or running past due."""
    late = or_(
        StepClock.state == "missed", and_(StepClock.state == "running", StepClock.due_at <= now)
    )
    rows = await scope.execute(
        select(StepClock.step, sql.ones(StepClock.state == "met"), sql.ones(late))
        .join(Ticket, Ticket.id == StepClock.ticket_id)
        .where(*where, StepClock.step.in_(("first_contact", "reply", "resolution")))
        .group_by(StepClock.step)
    )
    return {step: (int(met), int(met) + int(missed)) for step, met, missed in rows.all()}


async def _cohort_counts(scope: TenantScope, where: list[ColumnElement[bool]]) -> tuple[int, Rate]:
    """The cohort's size and the one-time resolution rate (closed complaints resolved or
    explained without redispatch or reopening), in one pass over the cohort's rows."""
    closed = Ticket.state == "closed"
    once = and_(
        closed,
        Ticket.resolution.in_(ONE_TIME),
        Ticket.redispatch_count == 0,
        Ticket.reopen_count == 0,
    )
    total, n, d = (
        await scope.execute(
            select(func.count(Ticket.id), sql.ones(once), sql.ones(closed)).where(*where)
        )
    ).one()
    return int(total), _rate("one_time_resolution", "一次解决率 one-time resolution", n, d)


async def _follow_ups(
    scope: TenantScope, where: list[ColumnElement[bool]], labels: Labels
) -> tuple[Rate, Rate, list[Missing]]:
    """Follow-up rate, satisfaction and the replied complaints still missing a follow-up,
    from ONE pass over the cohort's reply and follow-up events (it was three).

    A replied complaint is followed up when a follow-up call came after its last reply;
    satisfaction is the share of follow-up calls that found the complainant satisfied. The
    per-ticket figures are a CTE read twice: once for the totals, once for the missing rows
    (each totals column rides on every missing row; one row of NULLs when none is missing)."""
    e = TicketEvent
    is_follow = e.action.in_(FOLLOW_UPS)
    per_ticket = (
        select(
            e.ticket_id.label("ticket_id"),
            func.max(sql.case_value(e.action == "reply", e.seq)).label("last_reply"),
            func.max(sql.case_value(is_follow, e.seq)).label("last_follow"),
            func.max(sql.case_value(e.action == "reply", e.at)).label("last_reply_at"),
            sql.ones(e.action == "follow_up").label("satisfied"),
            sql.ones(is_follow).label("calls"),
        )
        .join(Ticket, Ticket.id == e.ticket_id)
        .where(*where, e.action.in_(("reply", *FOLLOW_UPS)))
        .group_by(e.ticket_id)
        .cte("per_ticket")
    )
    done = per_ticket.c.last_follow > per_ticket.c.last_reply
    replied = per_ticket.c.last_reply.is_not(None)
    totals = select(
        sql.ones(and_(replied, done)).label("followed"),
        sql.ones(replied).label("replied"),
        func.coalesce(func.sum(per_ticket.c.satisfied), 0).label("satisfied"),
        func.coalesce(func.sum(per_ticket.c.calls), 0).label("calls"),
    ).subquery("totals")
    m = aliased(Ticket, name="missing_ticket")
    missing = (
        select(
            m.number.label("number"),
            m.state.label("state"),
            m.assigned_department_id.label("dept"),
            per_ticket.c.last_reply_at.label("last_reply_at"),
        )
        .join(per_ticket, per_ticket.c.ticket_id == m.id)
        .where(
            m.tenant_id == scope.tenant_id, replied, or_(per_ticket.c.last_follow.is_(None), ~done)
        )
        .subquery("missing")
    )
    rows = (
        await scope.execute(
            select(totals, missing)
            .select_from(totals.outerjoin(missing, literal(True)))
            .order_by(missing.c.number)
        )
    ).all()
    first = rows[0]
    missing_rows = [
        Missing(number=r.number, state=r.state, department=labels.department(r.dept)[0],
                last_reply_at=sql.aware(r.last_reply_at))
        for r in rows if r.number is not None
    ]  # fmt: skip
    return (
        _rate(
            "follow_up_rate", "回访率 follow-up rate (target 100%)", first.followed, first.replied
        ),
        _rate("satisfaction", "满意率 satisfaction", first.satisfied, first.calls),
        missing_rows,
    )


def _not_before(scope: TenantScope, earlier: Any, later: Any, days: int) -> ColumnElement[bool]:
    """``earlier >= later - days`` written so an index on ``earlier`` can use it.

    PostgreSQL's bound is exact. SQLite stores times as text, so its bound is one second
    looser (text compare against ``strftime``); :func:`core.reports.sql.within` beside it
    keeps the exact rule."""
    bound: ColumnElement[bool]
    if sql.dialect(scope) == "postgresql":
        bound = earlier >= later - literal(dt.timedelta(days=days))
    else:
        bound = earlier >= func.strftime("%Y-%m-%d %H:%M:%f", later, f"-{days} days", "-1 seconds")
    return bound


def _earlier(scope: TenantScope, u: Any, days: int) -> ColumnElement[bool]:
    """U is a counted complaint received before T (ties: smaller id) at most ``days`` before.

    The first two terms are the index's range (``created_at`` between T − days and T); the
    exact rule follows."""
    return and_(
        # Said outright, not left to the scope's loader criteria: with one alias in two
        # EXISTS, the criteria reached only the first (the second walked every tenant).
        u.tenant_id == scope.tenant_id,
        _not_before(scope, u.created_at, Ticket.created_at, days),
        u.created_at <= Ticket.created_at,
        sql.earlier_than(u.created_at, u.id, Ticket.created_at, Ticket.id),
        sql.within(scope, Ticket.created_at, u.created_at, days),
        sql.counted_of(u),
    )


def _same_person(u: Any) -> ColumnElement[bool]:
    same: ColumnElement[bool] = u.complainant_contact == Ticket.complainant_contact
    return same


def _same_subject(u: Any) -> ColumnElement[bool]:
    return and_(
        Ticket.category.is_not(None),
        Ticket.accused_department_id.is_not(None),
        u.category == Ticket.category,
        u.accused_department_id == Ticket.accused_department_id,
    )


REPEATS_LISTED = 1000
"""At most this many repeat tickets are listed (by number); the counts are always whole."""


async def _repeats(
    scope: TenantScope,
    where: list[ColumnElement[bool]],
    days: int,
    access: Access,
    window: Period,
) -> Repeats:
    """Same complainant contact, or same subject (category and accused department), on an
    earlier counted complaint within ``days``. Ticket numbers only, never contacts.

    One pass: over the tenant's counted tickets from ``days`` before the window to its end,
    ``LAG`` by contact and by subject (ordered by creation time, then id) gives each ticket
    its nearest earlier counted ticket of the same kind; the ticket is a repeat when that one
    is at most ``days`` before it (the nearest is the best candidate). The cost grows with
    the window's tickets, not with the pairs. Listed with the **nearest** earlier ticket per
    reason that the reader may open — at most two numbers per ticket, at most
    :data:`REPEATS_LISTED` tickets; the counts cover the whole cohort."""
    t = aliased(Ticket, name="counted")
    order = (t.created_at, t.id)
    contact, category = t.complainant_contact, t.category
    if sql.dialect(scope) == "postgresql":
        # Partitions are found by equality, which is byte equality under any deterministic
        # collation: "C" only spares the sort locale-aware comparisons (a quarter of it).
        contact, category = contact.collate("C"), category.collate("C")
    by_person = {"partition_by": contact, "order_by": order}
    by_subject = {"partition_by": (category, t.accused_department_id), "order_by": order}
    lagged = (
        select(
            t.id.label("id"),
            t.number.label("number"),
            t.created_at.label("created_at"),
            t.category.label("category"),
            t.accused_department_id.label("department"),
            func.lag(t.created_at).over(**by_person).label("p_at"),
            func.lag(t.number).over(**by_person).label("p_no"),
            func.lag(t.created_at).over(**by_subject).label("s_at"),
            func.lag(t.number).over(**by_subject).label("s_no"),
        )
        .where(
            t.tenant_id == scope.tenant_id,
            sql.counted_of(t),
            t.created_at >= window.start - dt.timedelta(days=days),
            t.created_at < window.end,
        )
        .subquery("lagged")
    )
    person = and_(
        lagged.c.p_at.is_not(None),
        sql.within(scope, lagged.c.created_at, lagged.c.p_at, days),
    )
    subject = and_(
        lagged.c.category.is_not(None),
        lagged.c.department.is_not(None),
        lagged.c.s_at.is_not(None),
        sql.within(scope, lagged.c.created_at, lagged.c.s_at, days),
    )
    flags = select(
        lagged.c.number.label("number"),
        case((person, lagged.c.p_no)).label("p_no"),
        case((subject, lagged.c.s_no)).label("s_no"),
    )
    if access.reads_all:
        # The lagged rows are already counted and before the window's end: the cohort is
        # those received since its start (every ticket is visible), no second read of it.
        flags = flags.where(lagged.c.created_at >= window.start, or_(person, subject))
    else:
        flags = flags.join(Ticket, Ticket.id == lagged.c.id).where(*where, or_(person, subject))
    flags = flags.subquery("repeat")
    # The totals ride on the listed rows (window aggregates are computed before the LIMIT).
    rows = (
        await scope.execute(
            select(
                flags.c.number,
                flags.c.p_no,
                flags.c.s_no,
                func.count().over().label("n"),
                func.count(flags.c.p_no).over().label("n_p"),
                func.count(flags.c.s_no).over().label("n_s"),
            )
            .order_by(flags.c.number)
            .limit(REPEATS_LISTED)
        )
    ).all()
    count, n_person, n_subject = (rows[0].n, rows[0].n_p, rows[0].n_s) if rows else (0, 0, 0)
    # Earlier tickets are named only where the reader may open them, and a reader limited
    # to their own record never learns that the same person complained before (domain §7).
    if access.reads_all:
        listed = [(r.number, r.p_no, r.s_no) for r in rows]
    else:
        listed = await _nearest_openable(scope, where, days, access)
    found = []
    for number, by_p, by_s in listed:
        if access.own_only:
            by_p = None
        if by_p is None and by_s is None:
            continue
        found.append(
            Repeat(number=number, earlier=sorted({n for n in (by_p, by_s) if n is not None}),
                   same_complainant=by_p is not None, same_subject=by_s is not None)
        )  # fmt: skip
    return Repeats(
        window_days=days,
        count=int(count),
        same_complainant=0 if access.own_only else int(n_person),
        same_subject=int(n_subject),
        tickets=found,
    )


async def _nearest_openable(
    scope: TenantScope, where: list[ColumnElement[bool]], days: int, access: Access
) -> list[tuple[str, str | None, str | None]]:
    """For a reader who may not open every ticket: per cohort ticket, the nearest earlier
    ticket per reason among those the reader may open (two index probes per ticket on
    ``(tenant_id, complainant_contact, created_at, id)`` and ``(tenant_id, category,
    accused_department_id, created_at, id)``; such readers' cohorts are small)."""
    u = aliased(Ticket, name="earlier")
    openable = u.id.in_(
        select(Ticket.id).where(Ticket.tenant_id == scope.tenant_id, access.tickets())
    )

    def nearest(reason: ColumnElement[bool]) -> Any:
        return (
            select(u.number)
            .where(_earlier(scope, u, days), reason, openable)
            .order_by(u.created_at.desc(), u.id.desc())
            .limit(1)
            .correlate(Ticket)
            .scalar_subquery()
        )

    near = (
        select(
            Ticket.number.label("number"),
            nearest(_same_person(u)).label("person"),
            nearest(_same_subject(u)).label("subject"),
        )
        .where(*where)
        .cte("nearest")
        .prefix_with("MATERIALIZED")
    )
    rows = await scope.execute(
        select(near.c.number, near.c.person, near.c.subject)
        .where(or_(near.c.person.is_not(None), near.c.subject.is_not(None)))
        .order_by(near.c.number)
        .limit(REPEATS_LISTED)
    )
    return [(n, p, s_) for n, p, s_ in rows.all()]


async def _penalties(
    scope: TenantScope, access: Access, window: Period, labels: Labels
) -> list[DepartmentPenalties]:
    """Per department (the penalised unit, else the staff member's department): penalties
    confirmed or adjusted in the window with their amount, waived in the window, and
    proposals made in the window still waiting for a decision."""
    dept = func.coalesce(Penalty.department_id, Staff.department_id)
    decided_in = and_(Penalty.status.in_(DECIDED), sql.between(Penalty.decided_at, window))
    waived_in = and_(Penalty.status == "waived", sql.between(Penalty.decided_at, window))
    pending = and_(Penalty.status == "proposed", sql.between(Penalty.created_at, window))
    amount = func.coalesce(func.sum(sql.case_value(decided_in, Penalty.final_fen)), 0)
    points = func.coalesce(func.sum(sql.case_value(decided_in, Penalty.appraisal_points)), 0)
    rows = await scope.execute(
        select(dept, sql.ones(decided_in), amount, sql.ones(waived_in), sql.ones(pending), points)
        .select_from(Penalty)
        .join(Ticket, Ticket.id == Penalty.ticket_id)
        .outerjoin(Staff, Staff.id == Penalty.staff_id)
        .where(
            access.tickets(),
            access.staff_rows(Penalty.staff_id),
            or_(decided_in, waived_in, pending),
        )
        .group_by(dept)
    )
    out = []
    for dept_id, decided, fen, waived, waiting, pts in rows.all():
        code, name = labels.department(dept_id)
        out.append(
            DepartmentPenalties(key=code, label=name, decided=int(decided), amount_fen=int(fen),
                                waived=int(waived), pending=int(waiting),
                                appraisal_points=int(pts))
        )  # fmt: skip
    return sorted(out, key=lambda r: (-r.amount_fen, -r.decided, r.key or ""))


async def kpis(
    scope: TenantScope,
    access: Access,
    window: Period,
    window_days: int = DEFAULT_WINDOW_DAYS,
    now: dt.datetime | None = None,
) -> Kpis:
    """The window's KPIs as ``access`` may see them, judged as of ``now`` (default: now)."""
    now = now or utcnow()
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    labels = await Labels.load(scope)
    where = cohort(access, window)

    clocks = await _on_time(scope, [*where, access.clocks(StepClock.owner_department_id)], now)
    first = clocks.get("first_contact", (0, 0))
    resolved = clocks.get("resolution", (0, 0))
    # 处理情况答复客户 is watched on its own [002 《客户投诉管理考核办法》第二十一条]: the reply
    # clock (started at dispatch, met by the reply to the complainant, 第十五条 "4个工作日内
    # 查处完毕并答复客户"), apart from the resolution clock that registration starts.
    replied = clocks.get("reply", (0, 0))
    complaints, one_time = await _cohort_counts(scope, where)
    follow_rate, satisfaction, missing = await _follow_ups(scope, where, labels)
    rates = [
        _rate("first_contact_on_time", "第一时间联系 first contact within deadline", *first),
        _rate("resolved_on_time", "按时解决 resolved within deadline", *resolved),
        _rate("replied_on_time", "按时答复 replied to the complainant within deadline", *replied),
        one_time,
        follow_rate,
        satisfaction,
    ]
    served = customers(tenant.config, window)
    per_10k = PerTenThousand(
        complaints=complaints,
        customers=served,
        value=round(complaints / served * 10_000, 2) if served else None,
    )
    return Kpis(
        tenant=tenant.slug,
        window=window_out(window),
        scope=access.label,
        as_of=now,
        rates=rates,
        follow_up_missing=missing,
        complaints_per_10k=per_10k,
        repeat_complaints=await _repeats(scope, where, window_days, access, window),
        penalties_by_department=await _penalties(scope, access, window, labels),
    )
