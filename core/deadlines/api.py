"""HTTP routes for a ticket's step clocks, pauses, extensions, deadline overrides and the
tenant's calendar days."""

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar import delete, get, post, put
from litestar.params import FromPath, JSONBody
from msgspec import Meta
from sqlalchemy import select

from core.context import DatabaseDep, PrincipalDep, TenantScopeDep
from core.db import utcnow
from core.deadlines import service
from core.deadlines.models import CalendarDay, DeadlineSetting, StepClock
from core.people.guards import requires
from core.people.roles import MANAGEMENT, Role
from core.strict import fits
from core.tickets import reading as tickets
from core.tickets.facts import plugin_of
from core.tickets.schemas import from_row

TAGS = ["deadlines"]
ADMIN_GUARDS = [requires(Role.TENANT_ADMIN)]  # setDeadline (and the console's form for it)
CALENDAR_GUARDS = [requires(Role.TENANT_ADMIN, *MANAGEMENT)]  # setCalendarDay, removeCalendarDay
Text = Annotated[str, Meta(min_length=1, max_length=2000)]


class ClockOut(msgspec.Struct, kw_only=True):
    id: int
    step: str
    state: str
    owner_department: str | None
    started_at: dt.datetime
    limit: str
    source: str
    due_at: dt.datetime
    overdue: bool
    breached_at: dt.datetime | None
    warned_at: dt.datetime | None
    paused_at: dt.datetime | None
    pause_reason: str | None
    paused_seconds: int
    ended_at: dt.datetime | None


class PauseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, fits(StepClock.pause_reason, min_length=1)]
    note: Annotated[str, Meta(max_length=2000)] = ""


class ToldIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    by: Annotated[str, Meta(min_length=1, max_length=64)]
    at: Annotated[dt.datetime, Meta(tz=True)]
    how: Literal["phone", "sms", "visit", "letter", "in_person", "other"]


class ExtensionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount: Annotated[int, Meta(ge=1, le=10000)]
    unit: Literal["minutes", "hours", "calendar_days", "working_days"]
    reason: Text
    complainant_informed: bool = False
    complainant_told: ToldIn | None = None
    """Who told the complainant why, when and how [002 《客户投诉管理考核办法》第十五条];
    required where the industry tells the complainant first (core.deadlines.notice)."""


class DecisionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=2000)] = ""


class ExtensionOut(msgspec.Struct, kw_only=True):
    id: int
    ticket_id: int
    step: str
    amount: int
    unit: str
    reason: str
    status: str
    new_due_at: dt.datetime | None


class DeadlineIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    step: Annotated[str, fits(DeadlineSetting.step, min_length=1)]
    amount: Annotated[int, Meta(ge=1, le=100000)]
    unit: Literal["minutes", "hours", "calendar_days", "working_days", "months"]
    severity: Annotated[str, fits(DeadlineSetting.severity, min_length=1)] | None = None
    effective_from: Annotated[dt.datetime, Meta(tz=True)] | None = None


class DeadlineRow(msgspec.Struct, kw_only=True):
    step: str
    severity: str | None
    amount: int
    unit: str
    source: str
    seed: str = ""
    effective_from: dt.datetime | None = None


class CalendarDayIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["closure", "workday"]
    note: Annotated[str, fits(CalendarDay.note)] = ""


def _clock_out(c: StepClock, depts: dict[int, Any], now: dt.datetime) -> ClockOut:
    overdue = (
        c.breached_at is not None
        or (c.state == "running" and now > c.due_at)
        or (c.state == "missed")
    )
    dept = depts.get(c.owner_department_id or -1)
    code = dept.code if dept is not None else None
    return from_row(
        c, ClockOut, owner_department=code, limit=f"{c.amount} {c.unit}", overdue=overdue
    )


@get(
    "/api/tickets/{ticket_id:int}/deadlines",
    operation_id="ticketDeadlines",
    tags=TAGS,
)
async def ticket_deadlines(
    tenant: TenantScopeDep, principal: PrincipalDep, ticket_id: FromPath[int]
) -> list[ClockOut]:
    """Every step's clock of the ticket: due time, state, owner, overdue — not only the
    nearest one, so an overrun is charged to the step and department that caused it."""
    await tickets.load(tenant, principal, ticket_id)
    depts = await tickets.department_refs(tenant)
    rows = await tenant.scalars(
        select(StepClock).where(StepClock.ticket_id == ticket_id).order_by(StepClock.id)
    )
    now = utcnow()
    return [_clock_out(c, depts, now) for c in rows]


@post(
    "/api/tickets/{ticket_id:int}/deadlines/{step:str}/pause",
    operation_id="pauseClock",
    tags=TAGS,
    status_code=200,
)
async def pause_clock(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    ticket_id: FromPath[int],
    step: FromPath[str],
    data: JSONBody[PauseIn],
) -> ClockOut:
    """Pause a step's clock with one of the plugin's reasons; paused time does not count."""
    ticket = await tickets.load(tenant, principal, ticket_id)
    clock = await service.pause(tenant, principal, ticket, step, data.reason, data.note)
    return _clock_out(clock, await tickets.department_refs(tenant), utcnow())


@post(
    "/api/tickets/{ticket_id:int}/deadlines/{step:str}/resume",
    operation_id="resumeClock",
    tags=TAGS,
    status_code=200,
)
async def resume_clock(
    tenant: TenantScopeDep, principal: PrincipalDep, ticket_id: FromPath[int], step: FromPath[str]
) -> ClockOut:
    """Resume a paused clock; its due time moves on by the time it was paused."""
    ticket = await tickets.load(tenant, principal, ticket_id)
    clock = await service.resume(tenant, principal, ticket, step)
    return _clock_out(clock, await tickets.department_refs(tenant), utcnow())


@post(
    "/api/tickets/{ticket_id:int}/deadlines/{step:str}/extensions",
    operation_id="requestExtension",
    tags=TAGS,
    status_code=201,
)
async def request_extension(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    ticket_id: FromPath[int],
    step: FromPath[str],
    data: JSONBody[ExtensionIn],
) -> ExtensionOut:
    """Ask for more time on a step, with a reason; the plugin says who approves."""
    ticket = await tickets.load(tenant, principal, ticket_id)
    ext = await service.request_extension(
        tenant, principal, ticket, step, data.amount, data.unit, data.reason,
        data.complainant_informed,
        msgspec.structs.asdict(data.complainant_told) if data.complainant_told else None,
    )  # fmt: skip
    return from_row(ext, ExtensionOut, step=step)  # the clock's step: no column of ``ext``


def _decide_route(approve: bool) -> Any:
    verb = "approve" if approve else "reject"

    async def handler(
        tenant: TenantScopeDep,
        principal: PrincipalDep,
        extension_id: FromPath[int],
        data: JSONBody[DecisionIn],
    ) -> ExtensionOut:
        ext = await service.extension(tenant, extension_id)
        ticket = await tickets.load(tenant, principal, ext.ticket_id)
        await service.decide_extension(tenant, principal, ticket, ext, approve, data.reason)
        clock = await tenant.session.get(StepClock, ext.clock_id)
        return from_row(ext, ExtensionOut, step=clock.step if clock else "")

    handler.__doc__ = f"{verb.capitalize()} an extension (approvers come from the plugin)."
    handler.__name__ = f"extension_{verb}"
    return post(
        f"/api/extensions/{{extension_id:int}}/{verb}",
        operation_id=f"extension{verb.capitalize()}",
        tags=TAGS,
        status_code=200,
    )(handler)


@get(
    "/api/config/deadlines",
    operation_id="listDeadlines",
    tags=["configuration"],
)
async def list_deadlines(tenant: TenantScopeDep) -> list[DeadlineRow]:
    """The plugin's default limits and the tenant's overrides (newest last)."""
    table = (await plugin_of(tenant)).deadlines()
    rows = [from_row(r, DeadlineRow, source="plugin") for r in table.rules]
    tenant_rows = await tenant.scalars(select(DeadlineSetting).order_by(DeadlineSetting.id))
    return rows + [from_row(o, DeadlineRow, source="tenant") for o in tenant_rows]


@put(
    "/api/config/deadlines",
    operation_id="setDeadline",
    tags=["configuration"],
    guards=ADMIN_GUARDS,
)
async def set_deadline(
    tenant: TenantScopeDep, principal: PrincipalDep, data: JSONBody[DeadlineIn]
) -> DeadlineRow:
    """Override a (step, severity) limit for steps started from ``effective_from`` on."""
    row = await service.set_deadline(
        tenant,
        data.step,
        data.severity,
        data.amount,
        data.unit,
        data.effective_from or utcnow(),
        f"user:{principal.user_id}",
    )
    return from_row(row, DeadlineRow, source="tenant")


@get(
    "/api/config/calendar",
    operation_id="listCalendarDays",
    tags=["configuration"],
)
async def list_calendar(tenant: TenantScopeDep) -> list[dict[str, str]]:
    """The tenant's own closures and extra working days (on top of China's calendar)."""
    rows = await tenant.scalars(select(CalendarDay).order_by(CalendarDay.day))
    return [{"day": d.day.isoformat(), "kind": d.kind, "note": d.note} for d in rows]


@put(
    "/api/config/calendar/{day:date}",
    operation_id="setCalendarDay",
    tags=["configuration"],
    guards=CALENDAR_GUARDS,
)
async def set_calendar_day(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    day: FromPath[dt.date],
    data: JSONBody[CalendarDayIn],
) -> dict[str, Any]:
    """Add or change a closure / extra working day; open steps' due times are recomputed."""
    n = await service.set_calendar_day(
        tenant, day, data.kind, data.note, f"user:{principal.user_id}"
    )
    return {"day": day.isoformat(), "kind": data.kind, "clocks_retimed": n}


@delete(
    "/api/config/calendar/{day:date}",
    operation_id="removeCalendarDay",
    tags=["configuration"],
    guards=CALENDAR_GUARDS,
    status_code=200,
)
async def remove_calendar_day(
    tenant: TenantScopeDep, principal: PrincipalDep, day: FromPath[dt.date]
) -> dict[str, Any]:
    n = await service.set_calendar_day(tenant, day, None, "", f"user:{principal.user_id}")
    return {"day": day.isoformat(), "kind": None, "clocks_retimed": n}


@get(
    "/api/platform/calendar",
    operation_id="platformCalendar",
    tags=["platform"],
)
async def platform_calendar(db: DatabaseDep) -> dict[str, Any]:
    """The national schedule the deployment knows (issue 23 §6), for the platform operator:
    ``library`` (first and last year of the installed ``holidays`` package), ``loaded``
    (years loaded with ``tousu calendar load``, with their source), ``missing`` (this year,
    and next year from 1 November, when neither carries it) and ``warning`` (a sentence,
    or null)."""
    from core.deadlines.calendar import known_years, missing_years
    from core.deadlines.official import official_years

    # The deployment's schedule belongs to no tenant: one read outside any tenant scope.
    async with db.cross_tenant() as session:
        years = await official_years(session)
    missing = missing_years(utcnow(), [y.year for y in years])
    lib = known_years()
    return {
        "library": [lib.start, lib.stop - 1],
        "loaded": [
            {
                "year": y.year,
                "source": y.source,
                "days_off": len(y.days_off),
                "workdays": len(y.workdays),
            }
            for y in years
        ],
        "missing": missing,
        "warning": (
            "no official working-day schedule for "
            + ", ".join(map(str, missing))
            + ": load it with `tousu calendar load FILE` (docs/deadlines.md); clocks that "
            "reach it are estimates until then"
        )
        if missing
        else None,
    }


PLATFORM_ROUTES = [platform_calendar]
"""For the platform operator (:data:`core.routers.PLATFORM_API`)."""

ROUTES = [
    ticket_deadlines,
    pause_clock,
    resume_clock,
    request_extension,
    _decide_route(True),
    _decide_route(False),
    list_deadlines,
    set_deadline,
    list_calendar,
    set_calendar_day,
    remove_calendar_day,
]
"""For the tenant's members (:data:`core.routers.TENANT_API`)."""
