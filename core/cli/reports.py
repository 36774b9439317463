"""``tousu reports pack`` and ``tousu ledger run``: the monthly jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from core.cli import base

app = typer.Typer(help="Monthly statistics, bulletin, exports and charts.", no_args_is_help=True)
ledger = typer.Typer(help="The monthly fine deduction run.", no_args_is_help=True)

TenantSlug = Annotated[
    str, typer.Option("--tenant", help="Tenant slug, e.g. greenwood.", show_default=False)
]
Period = Annotated[
    str,
    typer.Option(
        "--period",
        help="The month, YYYY-MM (counted in the tenant's time zone).",
        callback=base.check_period,
        show_default=False,
    ),
]


@app.command("pack")
def pack(
    tenant: TenantSlug,
    period: Period,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder to write into (created if missing).", show_default=False
        ),
    ],
) -> None:
    """Write the month's report pack: statistics, KPIs, tickets and fine ledger (CSV, XLSX),
    the bulletin (JSON, Markdown) and charts (PNG, SVG). Prints the files written."""
    base.writable_folder(out)  # fail now, not after the work
    paths = base.run(_pack(tenant, period, out))
    for path in paths:
        typer.echo(path)


async def _pack(tenant: str, period: str, out: Path) -> list[Path]:
    from core.db import Database
    from core.reports.pack import write_pack

    settings = base.settings()
    db = Database(settings.database_url)
    # figures from the reports database (a replica) when set; the on-time record: primary
    reads = Database(settings.reports_database_url) if settings.reports_database_url else None
    try:
        with base.progress(f"report pack {tenant} {period}") as (bar, task):

            def step(what: str) -> None:
                bar.update(task, description=f"report pack {tenant} {period}: {what}")

            return await write_pack(db, tenant, period, out, progress=step, reads=reads)
    finally:
        await db.dispose()
        if reads is not None:
            await reads.dispose()


@app.command("remind")
def remind() -> None:
    """Remind every recurring duty left undone, for every period since the tenant was
    created (at most a year back), once when owed and once when overdue; run it daily.
    Prints how many notifications were new.

    The month's statistics and analysis, to supervisors and managers [000 §篇1 4(4)7]; the
    month's fine deductions, to the tenant admin and the manager [002 第二十八条]; the
    half-year appraisal of units, to its proposers [002 第二十七条]; each unit's monthly
    《投诉事件通报》, to the unit's head [002 第二十二条] (the last two where the tenant's
    industry keeps them)."""
    sent = base.run(_remind())
    typer.echo(f"{sent} reminder(s) sent")


async def _remind() -> int:
    from core.penalties import reminders
    from core.reports import unit_bulletins
    from core.reports.issues import remind as send

    async with base.database() as db:
        return await send(db) + await reminders.remind(db) + await unit_bulletins.remind(db)


@ledger.command("run")
def run(tenant: TenantSlug, period: Period) -> None:
    """Deduct a month's decided fines from performance pay (idempotent: a month already run
    changes nothing)."""
    with base.progress(f"ledger run {tenant} {period}"):
        created = base.run(_ledger_run(tenant, period))
    typer.echo(f"{tenant} {period}: {'run' if created else 'already run; nothing changed'}")


async def _ledger_run(tenant: str, period: str) -> Any:
    from sqlalchemy import select

    from core.penalties.service import run_month
    from core.people.models import Tenant

    async with base.database() as db:
        async with db.cross_tenant() as session:  # resolve the slug, then scope to it
            tid = await session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
        if tid is None:
            raise base.usage(f"unknown tenant {tenant!r}")
        async with db.tenant(tid) as scope:
            _, created = await run_month(scope, period, "cli:ledger run")
    return created
