"""Official working-day schedules loaded by the operator (issue 23 §6).

The State Council publishes next year's holiday schedule each autumn; the ``holidays``
package carries it only from a later release. ``tousu calendar load FILE`` stores a year
read from a small file (:func:`core.deadlines.calendar.parse_schedule`) as platform data
(:class:`~core.deadlines.models.OfficialDay`); every tenant's calendar reads it
(:func:`official_years`, called by the calendar memo of :mod:`core.deadlines.engine`).
Loading a year recomputes every open clock that may touch it, in each tenant's own
transaction: an estimate made with rule-based holidays becomes the official due time, and
the ticket's history says so (``calendar_retimed``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database, TenantScope, utcnow
from core.deadlines.calendar import OfficialYear
from core.deadlines.models import OPEN, OfficialDay, StepClock


async def official_years(session: AsyncSession | TenantScope) -> tuple[OfficialYear, ...]:
    """Every loaded year, oldest first (one query; a few dozen rows a year)."""
    rows = list(await session.scalars(select(OfficialDay).order_by(OfficialDay.day)))
    years: dict[int, tuple[set[dt.date], set[dt.date], str]] = {}
    for row in rows:
        off, work, _ = years.setdefault(row.year, (set(), set(), row.source))
        (work if row.kind == "workday" else off).add(row.day)
    return tuple(
        OfficialYear(y, frozenset(off), frozenset(work), src)
        for y, (off, work, src) in sorted(years.items())
    )


async def loaded_years(db: Database) -> list[int]:
    """The years loaded with ``tousu calendar load`` (for :func:`calendar.missing_years`)."""
    async with db.cross_tenant() as session:
        return [y.year for y in await official_years(session)]


async def store(db: Database, year: OfficialYear | int, remove: bool = False) -> dict[str, Any]:
    """Replace the loaded schedule of ``year`` (or remove it), then recompute the open
    clocks of every tenant that may touch it. Returns ``{"year", "days", "clocks"}``."""
    number = year if isinstance(year, int) else year.year
    now = utcnow()
    async with db.cross_tenant() as session:
        await session.execute(delete(OfficialDay).where(OfficialDay.year == number))
        rows = []
        if not remove and isinstance(year, OfficialYear):
            rows = [
                OfficialDay(day=d, year=number, kind=kind, source=year.source, loaded_at=now)
                for kind, days in (("off", year.days_off), ("workday", year.workdays))
                for d in sorted(days)
            ]
            session.add_all(rows)
        tenants = await _tenants(session)
    forget()
    clocks = 0
    for tenant_id in tenants:
        clocks += await _retime_tenant(db, tenant_id, number)
    return {"year": number, "days": len(rows), "clocks": clocks}


async def _tenants(session: AsyncSession) -> list[int]:
    from core.people.models import Tenant

    return list(await session.scalars(select(Tenant.id).order_by(Tenant.id)))


def forget() -> None:
    """Drop every cached tenant calendar in this process (other processes: within the
    cache's TTL, :data:`core.cache.TTL`)."""
    from core.deadlines.engine import CALENDAR

    CALENDAR.entries.clear()


async def _retime_tenant(db: Database, tenant_id: int, year: int) -> int:
    """Recompute the open clocks of one tenant that were estimated or are due from the
    month before ``year`` on (a clock due in December may end in January once extended or
    paused); each ticket's history records the change."""
    from core.deadlines.engine import retime
    from core.people.tenant_data import plugin_name
    from core.plugins import hooks_for
    from core.tasks.notify import system_user_id
    from core.tickets.events import append_event
    from core.tickets.models import Ticket

    since = dt.datetime(year - 1, 12, 1, tzinfo=dt.UTC)
    changed = 0
    async with db.tenant(tenant_id) as scope:
        ids = sorted(
            set(
                await scope.scalars(
                    select(StepClock.ticket_id).where(
                        StepClock.state.in_(OPEN),
                        (StepClock.source == "estimate") | (StepClock.due_at >= since),
                    )
                )
            )
        )
        if not ids:
            return 0
        hooks = hooks_for(await plugin_name(scope))
        actor = await system_user_id(scope)
        for ticket_id in ids:
            ticket = await scope.session.get(Ticket, ticket_id)
            if ticket is None:
                continue
            changes = await retime(scope, hooks, ticket)
            if changes:
                changed += len(changes)
                await append_event(
                    scope, ticket, "calendar_retimed", actor, "system",
                    {"year": year, "deadlines": changes},
                )  # fmt: skip
    return changed


__all__ = ["forget", "loaded_years", "official_years", "store"]
