"""The month's report pack, written to a folder (``tousu reports pack``).

The pack is made to circulate, so it is read as a tenant admin: the whole tenant, the fine
ledger, and complainants masked in the ticket list (a tenant admin does not see them, domain
§7); the bulletin removes their identity in any case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import msgspec
from sqlalchemy import select

from core.db import Database, utcnow
from core.errors import ApiError
from core.people.models import Tenant
from core.people.roles import Role
from core.principal import Principal
from core.reports import bulletin as bulletins
from core.reports import charts, exports, issues, kpis, stats
from core.reports.access import Access
from core.reports.period import resolve, tenant_timezone

PACK_CHARTS = ("trend", "category", "severity", "department")


async def write_pack(
    db: Database,
    tenant_slug: str,
    period: str,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
    reads: Database | None = None,
) -> list[Path]:
    """Write the statistics, KPIs, ticket list and fine ledger (CSV and XLSX), the bulletin
    (JSON and Markdown) and the charts (PNG and SVG) of ``period`` (YYYY-MM) for the tenant
    into ``out_dir``; returns the files written. Unknown tenant or bad period: SystemExit.
    ``progress`` is told each stage's name as it starts (the CLI's progress bar). ``reads``:
    the reports database (a replica) the figures are read from; the on-time record is
    written to ``db``."""
    step = progress or (lambda _: None)
    async with db.cross_tenant() as session:  # resolve the slug, then scope to it
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        raise SystemExit(f"unknown tenant {tenant_slug!r}")
    try:
        window = resolve(tenant.config, utcnow(), period)
    except ApiError as exc:
        raise SystemExit(f"{exc.message} (give --period as YYYY-MM)") from exc
    reader = Principal(
        user_id=0,
        username="cli:reports pack",
        roles=frozenset({Role.TENANT_ADMIN.value}),
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        plugin=tenant.plugin,
        department_id=None,
        staff_id=None,
    )
    access = Access(reader)
    async with (reads or db).tenant(tenant.id) as scope:
        step("statistics")
        data = await stats.statistics(scope, access, window)
        step("KPIs")
        figures = await kpis.kpis(scope, access, window)
        step("bulletin")
        cases = await bulletins.bulletin(scope, access, window)
        step("tables")
        tables = {
            "stats": exports.stats_tables(data),
            "kpis": exports.kpi_tables(figures),
            "tickets": [await exports.ticket_table(scope, access, window)],
            "ledger": [await exports.ledger_table(scope, access, window)],
        }
    prefix = f"{tenant.slug}_{window.name}"
    step("writing files and charts")
    paths = await asyncio.to_thread(_write, out_dir, prefix, data, figures, cases, tables)
    # The on-time record: issued by the 30th of the month [000 §篇1 4(4)7] (core.reports.issues).
    async with db.tenant(tenant.id) as scope:
        await issues.record_issue(
            scope, window.name, tenant_timezone(tenant.config), reader.username
        )
    return paths


def _write(
    out_dir: Path,
    prefix: str,
    data: stats.Stats,
    figures: kpis.Kpis,
    cases: bulletins.Bulletin,
    tables: dict[str, list[exports.Table]],
) -> list[Path]:
    """Render and write every file (blocking work: run in a thread)."""
    files: dict[str, bytes] = {
        f"{prefix}_stats.json": msgspec.json.format(msgspec.json.encode(data)),
        f"{prefix}_kpis.json": msgspec.json.format(msgspec.json.encode(figures)),
        f"{prefix}_bulletin.json": msgspec.json.format(msgspec.json.encode(cases)),
        f"{prefix}_bulletin.md": bulletins.markdown(cases).encode(),
    }
    for what, sheets in tables.items():
        for fmt in exports.MEDIA_TYPES:
            files[f"{prefix}_{what}.{fmt}"] = exports.render(sheets, fmt)
    for name in PACK_CHARTS:
        for fmt in charts.FORMATS:
            files[f"{prefix}_{name}.{fmt}"] = charts.render(data, name, fmt)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in sorted(files.items()):
        path = out_dir / name
        path.write_bytes(content)
        paths.append(path)
    return paths
