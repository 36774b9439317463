"""Recurring duties reminded for **every** period, not only the current one (issue 23 §2).

The seeds name duties owed once a month or once a half-year: the desk's statistics and
analysis [000 §篇1 4(4)7] (:mod:`core.reports.issues`), the month's deductions from
performance pay [002 《客户投诉管理考核办法》第二十八条] and the half-yearly appraisal of units
[第二十七条] (:mod:`core.penalties.reminders`), each unit's monthly 《投诉事件通报》 [第二十二条]
(:mod:`core.reports.unit_bulletins`). A reminder that looks only at the current period
misses every earlier one left undone; each of these reminders walks every period since the
tenant was created (at most :data:`LOOKBACK_MONTHS` back) and tells whoever owes one that is
not done: once when it is owed (``*_due``) and once more when its due date has passed
(``*_overdue``) — each once per period, however often ``tousu reports remind`` runs.

This module holds what they share: the tenants with their zones and creation months, the
arithmetic of months and half-years, and :func:`remind_once`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import Database, TenantScope
from core.people.models import Tenant
from core.settings import tenant_zone
from core.tasks.notify import notify

LOOKBACK_MONTHS = 12
"""How far back a period left undone is still reminded (from the tenant's creation, at most
this many months): a bound on one run's work — a year is more than any desk catches up on."""


@dataclass(frozen=True)
class TenantPeriods:
    """A tenant as a reminder sees it: its id, zone, and the months it is reminded of."""

    id: int
    config: dict[str, Any]
    zone: str
    first: str
    """The first month reminded: the tenant's creation month, at most
    :data:`LOOKBACK_MONTHS` before the current one (``YYYY-MM``)."""
    current: str
    """The current month in the tenant's zone."""


async def tenants(db: Database, now: dt.datetime) -> list[TenantPeriods]:
    """Every tenant, with the months its reminders look at."""
    async with db.cross_tenant() as session:
        rows = [(t.id, t.config, t.created_at) for t in await session.scalars(select(Tenant))]
    out = []
    for tenant_id, config, created in rows:
        zone = tenant_zone(config)
        current = month_of(now, zone)
        start = month_of(created, zone) if created else current
        first = max(start, shift(current, -LOOKBACK_MONTHS))
        out.append(TenantPeriods(tenant_id, dict(config or {}), zone, first, current))
    return out


def month_of(at: dt.datetime, zone: str) -> str:
    """``YYYY-MM`` of the instant ``at`` in ``zone`` (a naive instant is UTC)."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    return f"{at.astimezone(ZoneInfo(zone)):%Y-%m}"


def shift(period: str, months: int) -> str:
    """``period`` moved by ``months`` (negative: back)."""
    index = int(period[:4]) * 12 + int(period[5:]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """``YYYY-MM`` periods from ``first`` to ``last`` inclusive, oldest first."""
    out = []
    while first <= last:
        out.append(first)
        first = shift(first, 1)
    return out


def month_end(period: str, zone: str) -> dt.datetime:
    """The instant (UTC) ``period`` ends: midnight of the next month's 1st in ``zone``."""
    nxt = shift(period, 1)
    return dt.datetime(int(nxt[:4]), int(nxt[5:]), 1, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def half_of(period: str) -> str:
    """The half-year (``YYYY-H1|H2``) a month falls in."""
    return f"{period[:4]}-H{1 if int(period[5:]) <= 6 else 2}"


def half_last_month(half: str) -> str:
    return f"{half[:4]}-{6 if half.endswith('H1') else 12:02d}"


@dataclass(frozen=True)
class Owed:
    """One period's duty left undone, as a reminder tells it."""

    kinds: tuple[str, str]
    """(``*_due``, ``*_overdue``) notification kinds."""
    key: str
    """What makes it one: the period, and the unit for a unit's duty."""
    due: dt.datetime
    """When it is overdue (UTC)."""
    params: dict[str, Any]
    """The notification's parameters besides ``due`` (``period``, ``seed``…)."""


async def remind_once(
    scope: TenantScope, users: list[int], owed: Owed, zone: str, now: dt.datetime
) -> int:
    """Tell ``users`` of ``owed``: its ``*_due`` kind before its due date, its ``*_overdue``
    kind after it — each once (the notification's dedupe key holds the kind and ``key``).
    The due date is shown as the last minute it still counts (``… 23:59`` of the last day)
    in the tenant's zone. Returns how many notifications were new."""
    if not users:
        return 0
    kind = owed.kinds[0] if now < owed.due else owed.kinds[1]
    local = owed.due.astimezone(ZoneInfo(zone)) - dt.timedelta(seconds=1)
    return await notify(
        scope,
        users,
        kind=kind,
        dedupe=f"{kind}:{owed.key}",
        params=owed.params | {"due": local.isoformat()},
    )
