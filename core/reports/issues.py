"""The month's report pack: its due date, a reminder, and the on-time record.

[000 §篇1 4(4)7] "在每月30日前对投诉事件进行统计、分析,将统计、分析结果上呈主管经理": the desk
supervisor (客服中心主管) does the month's statistics and analysis **before the 30th of that
same month** and hands them to the manager. Decision (domain §8, §9): "before the 30th" means
by the end of the 30th — or of the month's last day when it is shorter (February) — in the
tenant's time zone; the pack of ``YYYY-MM`` is due then, covering what that month recorded so
far. Issuing the pack (``tousu reports pack``) records the first issue and whether it was on
time; regenerating it later keeps the first record. The reminder (``tousu reports remind``,
run daily) tells the supervisors and managers once, :data:`REMIND_DAYS` days before the due
date, and once more when it has passed without an issue — for every month not issued, not
only the current one (issue 23 §2; the other recurring duties: :mod:`core.tasks.periodic`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import Database, TenantScope, utcnow
from core.penalties.service import period_bounds
from core.people.roles import Role
from core.reports.models import ReportIssue
from core.reports.period import check_month
from core.tasks.notify import recipients
from core.tasks.periodic import Owed, months_between, remind_once, tenants

DUE_DAY = 30
REMIND_DAYS = 3
SEED = "000 §篇1 4(4)7"
REMINDED = frozenset({Role.SUPERVISOR, Role.MANAGER})
"""Who does the statistics (客服中心主管) and who receives them (主管经理) [000 §篇1 4(4)7]."""


def due_at(period: str, tz: str) -> dt.datetime:
    """The end (UTC) of the 30th of ``period`` (``YYYY-MM``), or of its last day if shorter,
    in zone ``tz``. Bad text: :class:`core.errors.Invalid` naming ``period``."""
    check_month(period)  # the reports' months, in their words
    period_bounds(period, tz)
    year, month = int(period[:4]), int(period[5:])
    day = min(DUE_DAY, calendar.monthrange(year, month)[1])
    end = dt.datetime(year, month, day, tzinfo=ZoneInfo(tz)) + dt.timedelta(days=1)
    return end.astimezone(dt.UTC)


async def record_issue(
    scope: TenantScope, period: str, tz: str, by: str, now: dt.datetime | None = None
) -> ReportIssue:
    """The first issue of ``period``'s pack (later ones return that first record)."""
    row = await scope.scalar(select(ReportIssue).where(ReportIssue.period == period))
    if row is not None:
        return row
    now = now or utcnow()
    due = due_at(period, tz)
    row = ReportIssue(period=period, due_at=due, issued_at=now, issued_by=by, on_time=now < due)
    scope.add(row)
    await scope.flush()
    return row


async def remind(db: Database, now: dt.datetime | None = None) -> int:
    """For every tenant and **every month** since the tenant was created (at most
    :data:`core.tasks.periodic.LOOKBACK_MONTHS` back) whose pack is not issued: a
    ``report_pack_due`` notification from :data:`REMIND_DAYS` days before the due date, a
    ``report_pack_overdue`` one after it (each once per month, whatever how often this runs).
    A month whose due date passed while no run looked at it — a 30-day month is overdue only
    from the 1st of the next, February from the 1st of March — is reminded as overdue at the
    next run (issue 23 §2). Returns how many notifications were new."""
    now = now or utcnow()
    sent = 0
    for t in await tenants(db, now):
        owed = [
            Owed(
                kinds=("report_pack_due", "report_pack_overdue"),
                key=period,
                due=due_at(period, t.zone),
                params={"period": period, "seed": SEED},
            )
            for period in months_between(t.first, t.current)
        ]
        owed = [o for o in owed if now >= o.due - dt.timedelta(days=REMIND_DAYS)]
        if not owed:
            continue
        async with db.tenant(t.id) as scope:
            issued = set(
                await scope.scalars(
                    select(ReportIssue.period).where(ReportIssue.period.in_([o.key for o in owed]))
                )
            )
            owed = [o for o in owed if o.key not in issued]
            if owed:
                users = await recipients(scope, set(REMINDED))
                for item in owed:
                    sent += await remind_once(scope, users, item, t.zone, now)
    return sent
