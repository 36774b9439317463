"""HTTP routes for statistics, KPIs, the bulletin, exports and charts (all under
``/api/reports``, :data:`ROUTES`).

Every route reads the reports database when one is configured, a second database beside
the request's own (lag in ``X-Replica-Lag``): the routes take the ``report`` dependency
(:func:`core.reports.replica.provide_report`), not ``tenant``. The two file routes open
:func:`core.reports.replica.reading` themselves and close it before the file is drawn (up to
:data:`RENDER_SECONDS` in a thread), so no connection is held while it is. Every route
takes the same window (``period=YYYY-MM``, or ``from`` and ``to`` as timezone-aware ISO
times, default the current month in the tenant's time zone) and answers only what the
caller may read (:mod:`core.reports.access`). Files come back with their media type and a
download name.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, Router, get
from litestar.params import FromPath, FromQuery, QueryParameter
from sqlalchemy import select

from core.context import PrincipalDep
from core.db import TenantScope, utcnow
from core.errors import ApiError, NotFound, language
from core.people.guards import requires
from core.people.models import Tenant
from core.people.roles import Role
from core.reports import bulletin as bulletins
from core.reports import charts, exports, headers, issues, kpis, stats
from core.reports.access import Access
from core.reports.models import ReportIssue
from core.reports.period import Period, resolve, tenant_timezone
from core.reports.replica import REPORT, ReportScopeDep, reading

TAGS = ["reports"]
PeriodQ = Annotated[
    str | None, QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
]
FromQ = Annotated[
    dt.datetime | None, QueryParameter(name="from", description="start, inclusive (ISO, tz)")
]
ToQ = Annotated[dt.datetime | None, QueryParameter(name="to", description="end, exclusive")]
WindowDays = Annotated[int, QueryParameter(ge=1, le=366, description="repeat window (days)")]
EXPORTS = ("stats", "kpis", "tickets", "ledger")
MARKDOWN = "text/markdown; charset=utf-8"
RENDER_SECONDS = 20.0
"""A chart or spreadsheet not drawn in this time answers 503 (windows are capped, so only
an overloaded server gets there)."""
RENDERERS = 2
"""Files are drawn in worker threads, two at a time per app: a burst of charts waits its
turn instead of starving the event loop and every other request."""


class RenderBusy(ApiError):
    status, code = 503, "unavailable"


async def rendered(
    request: Request[Any, Any, Any], media_type: str, filename: str, fn: Any, *args: Any
) -> Response[bytes]:
    """The file ``fn(*args)`` drawn in a worker thread off the event loop, at most
    :data:`RENDER_SECONDS` (waiting for a slot included), as the download ``filename``; a
    503 with ``Retry-After`` when it takes longer."""
    try:
        async with asyncio.timeout(RENDER_SECONDS):
            async with request.app.state.setdefault("renderers", asyncio.Semaphore(RENDERERS)):
                content: bytes = await asyncio.to_thread(fn, *args)
    except TimeoutError:
        err = RenderBusy("the report file took too long to draw; retry shortly", rule="time limit")
        return Response(err.body(), status_code=503, headers={"Retry-After": "10"})
    return _file(content, media_type, filename)


async def window_for(
    scope: TenantScope, period: str | None, start: dt.datetime | None, end: dt.datetime | None
) -> tuple[Tenant, Period]:
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    return tenant, resolve(tenant.config, utcnow(), period, start, end)


def _split(filename: str, names: tuple[str, ...], formats: tuple[str, ...]) -> tuple[str, str]:
    name, _, fmt = filename.rpartition(".")
    if name not in names or fmt not in formats:
        raise NotFound(
            "no report file {name}",
            field="filename",
            params={"name": repr(filename)},
            rule=f"one of {', '.join(names)} with .{' or .'.join(formats)}",
        )
    return name, fmt


def _file(
    content: bytes | str, media_type: str, filename: str, disposition: str = "attachment"
) -> Response[Any]:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


@get("/stats", operation_id="reportStats")
async def get_stats(
    report: ReportScopeDep,
    principal: PrincipalDep,
    period: PeriodQ = None,
    start: FromQ = None,
    end: ToQ = None,
) -> stats.Stats:
    """Counts by category, severity, channel, department, staff and grade, and the trend:
    counted complaints and, apart, the tickets that do not count (domain §8)."""
    _, window = await window_for(report, period, start, end)
    return await stats.statistics(report, Access(principal), window)


@get("/kpis", operation_id="reportKpis")
async def get_kpis(
    report: ReportScopeDep,
    principal: PrincipalDep,
    period: PeriodQ = None,
    start: FromQ = None,
    end: ToQ = None,
    window_days: WindowDays = kpis.DEFAULT_WINDOW_DAYS,
) -> kpis.Kpis:
    """The KPIs as docs/reports.md defines them, with every ticket missing a follow-up."""
    _, window = await window_for(report, period, start, end)
    return await kpis.kpis(report, Access(principal), window, window_days)


@get("/bulletin", operation_id="reportBulletin")
async def get_bulletin(
    report: ReportScopeDep,
    principal: PrincipalDep,
    period: PeriodQ = None,
    start: FromQ = None,
    end: ToQ = None,
    fmt: Annotated[Literal["json", "markdown"], QueryParameter(name="format")] = "json",
    limit: Annotated[int | None, QueryParameter(ge=1, le=bulletins.MAX_PAGE)] = None,
    cursor: FromQuery[str | None] = None,
) -> Response[Any]:
    """The per-case bulletin (投诉事件通报), complainant identity removed; JSON or Markdown.
    JSON comes a page at a time (``limit``, default 500; pass ``next_cursor`` back as
    ``cursor``), Markdown whole unless ``limit`` is given."""
    tenant, window = await window_for(report, period, start, end)
    out = await bulletins.bulletin(
        report, Access(principal), window, limit=bulletins.page_limit(fmt, limit), cursor=cursor
    )
    if fmt == "markdown":
        name = f"{tenant.slug}_{window.name}_bulletin.md"
        return _file(bulletins.markdown(out), MARKDOWN, name, "inline")
    return Response(out)


async def export_tables(
    scope: TenantScope, access: Access, window: Period, what: str, window_days: int
) -> list[exports.Table]:
    if what == "stats":
        return exports.stats_tables(await stats.statistics(scope, access, window))
    if what == "kpis":
        return exports.kpi_tables(await kpis.kpis(scope, access, window, window_days))
    if what == "tickets":
        return [await exports.ticket_table(scope, access, window)]
    return [await exports.ledger_table(scope, access, window)]


@get("/export/{filename:str}", operation_id="reportExport")
async def get_export(
    request: Request[Any, Any, Any],
    principal: PrincipalDep,
    filename: FromPath[str],
    period: PeriodQ = None,
    start: FromQ = None,
    end: ToQ = None,
    window_days: WindowDays = kpis.DEFAULT_WINDOW_DAYS,
    codes: FromQuery[Literal["1", "0", "true", "false"]] = "0",
) -> Response[bytes]:
    """``{stats|kpis|tickets|ledger}.{csv|xlsx}``: the same rows as the JSON reports; ticket
    lists mask the complainant as the ticket API does for the caller. Headers, sheet names
    and cells (channel, category, severity, state, resolution, departments, yes/no) are
    Chinese labels; ``Accept-Language: en`` gives the column codes over English labels;
    ``codes=1`` (or ``true``) the codes in headers and cells, as the JSON reports (for
    programs); 422 ``codes`` for any other value."""
    what, fmt = _split(filename, EXPORTS, tuple(exports.MEDIA_TYPES))
    reader = headers.choice(language(request), codes in ("1", "true"))
    async with reading(request, principal) as scope:
        tenant, window = await window_for(scope, period, start, end)
        tables = await export_tables(scope, Access(principal), window, what, window_days)
        words = None if reader == headers.CODES else await headers.Words.load(scope)
    tables = headers.for_reader(tables, reader, words)  # labels for people
    name = f"{tenant.slug}_{window.name}_{what}.{fmt}"
    return await rendered(request, exports.MEDIA_TYPES[fmt], name, exports.render, tables, fmt)


@get("/charts/{filename:str}", operation_id="reportChart")
async def get_chart(
    request: Request[Any, Any, Any],
    principal: PrincipalDep,
    filename: FromPath[str],
    period: PeriodQ = None,
    start: FromQ = None,
    end: ToQ = None,
    granularity: FromQuery[Literal["week", "month"]] = "week",
) -> Response[bytes]:
    """``{trend|category|severity|department|channel}.{png|svg}``, 800 × 500 px."""
    name, fmt = _split(filename, charts.CHARTS, tuple(charts.FORMATS))
    async with reading(request, principal) as scope:
        tenant, window = await window_for(scope, period, start, end)
        data = await stats.statistics(scope, Access(principal), window)
    download = f"{tenant.slug}_{window.name}_{name}.{fmt}"
    return await rendered(
        request, charts.FORMATS[fmt], download, charts.render, data, name, fmt, granularity
    )


class PackIssueOut(msgspec.Struct, kw_only=True):
    period: str
    due_at: dt.datetime
    """End of the month's 30th (or last day) in the tenant's zone [000 §篇1 4(4)7]."""
    issued_at: dt.datetime | None
    issued_by: str | None
    on_time: bool | None
    """None while not issued and not yet due; False once due without an issue."""


@get(
    "/pack-issue",
    operation_id="reportPackIssue",
    guards=[requires(Role.SUPERVISOR, Role.MANAGER, Role.GENERAL_MANAGER, Role.TENANT_ADMIN)],
)
async def get_pack_issue(report: ReportScopeDep, period: PeriodQ = None) -> PackIssueOut:
    """The month's report pack: due date, when it was issued, whether on time (default: the
    current month). Bad month: 422 naming ``period``."""
    tenant, window = await window_for(report, period, None, None)
    due = issues.due_at(window.name, tenant_timezone(tenant.config))
    row = await report.scalar(select(ReportIssue).where(ReportIssue.period == window.name))
    if row is None:
        return PackIssueOut(period=window.name, due_at=due, issued_at=None, issued_by=None,
                            on_time=False if utcnow() >= due else None)  # fmt: skip
    return msgspec.convert(row, PackIssueOut, from_attributes=True)


ROUTES = [
    Router(
        path="/api/reports",
        tags=TAGS,
        dependencies=REPORT,
        route_handlers=[get_stats, get_kpis, get_bulletin, get_export, get_chart, get_pack_issue],
    )
]
