"""The few expressions that differ between SQLite and PostgreSQL, and the shared ones.

Buckets (week, month) are computed in the tenant's local time: PostgreSQL converts with
``AT TIME ZONE`` (``timezone(zone, ts)``), SQLite shifts the stored UTC text by the zone's
UTC offset at the window's start (exact for zones without daylight saving, such as China's).
Weeks are labelled by their Monday (``YYYY-MM-DD``) on both, months ``YYYY-MM``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_

from core.db import TenantScope
from core.reports.period import Period
from core.tickets.models import Ticket

Col = ColumnElement[Any]


def dialect(scope: TenantScope) -> str:
    bind = scope.session.bind
    return bind.dialect.name if bind is not None else "sqlite"


def counted() -> ColumnElement[bool]:
    """Counts as a complaint: the plugin's ``counts_as_complaint`` when it answered, else the
    core's rule, triaged valid (domain §3; utility: verified only [002 第九条])."""
    return func.coalesce(Ticket.counts_as_complaint, Ticket.valid, False)  # type: ignore[no-any-return]


def not_counted_reason() -> Col:
    """Why a ticket is shown apart: ``invalid`` (triaged invalid), ``excluded`` (the industry
    rule does not count it: unverified utility tickets, communicative property complaints),
    ``untriaged`` (no answer yet)."""
    return case(
        (Ticket.valid.is_(False), "invalid"),
        (Ticket.counts_as_complaint.is_(False), "excluded"),
        else_="untriaged",
    )


def ones(condition: ColumnElement[bool]) -> Col:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): a conditional count in one pass."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def received_in(window: Period) -> ColumnElement[bool]:
    return and_(Ticket.created_at >= window.start, Ticket.created_at < window.end)


def between(column: Col, window: Period) -> ColumnElement[bool]:
    return and_(column >= window.start, column < window.end)


def _offset_minutes(window: Period) -> int:
    offset = window.local(window.start).utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 60)


def bucket(scope: TenantScope, column: Col, window: Period, granularity: str) -> Col:
    """The local week (its Monday) or month of a stored UTC time, as text."""
    if dialect(scope) == "postgresql":
        local = func.timezone(window.timezone, column)
        if granularity == "week":
            return func.to_char(func.date_trunc("week", local), "YYYY-MM-DD")
        return func.to_char(local, "YYYY-MM")
    shift = f"{_offset_minutes(window):+d} minutes"
    if granularity == "week":
        return func.date(column, shift, "-6 days", "weekday 1")
    return func.strftime("%Y-%m", column, shift)


def buckets(window: Period, granularity: str) -> list[str]:
    """Every bucket label the window touches, so a trend shows the empty weeks too."""
    if granularity == "month":
        return window.months()
    first = window.local(window.start).date()
    last = window.local(window.end - dt.timedelta(microseconds=1)).date()
    monday = first - dt.timedelta(days=first.weekday())
    out = []
    while monday <= last:
        out.append(monday.isoformat())
        monday += dt.timedelta(days=7)
    return out


def within(scope: TenantScope, later: Col, earlier: Col, days: int) -> ColumnElement[bool]:
    """``0 <= later - earlier <= days`` (days of 24 hours)."""
    if dialect(scope) == "postgresql":
        gap = later - earlier
        return and_(gap >= literal(dt.timedelta(0)), gap <= literal(dt.timedelta(days=days)))
    gap = func.julianday(later) - func.julianday(earlier)
    return and_(gap >= 0, gap <= days)


def earlier_than(a_created: Col, a_id: Col, b_created: Col, b_id: Col) -> ColumnElement[bool]:
    """Row a came before row b (creation time, then id)."""
    return or_(a_created < b_created, and_(a_created == b_created, a_id < b_id))


def counted_of(entity: Any) -> ColumnElement[bool]:
    """:func:`counted` for an alias of :class:`Ticket`."""
    return func.coalesce(entity.counts_as_complaint, entity.valid, False)  # type: ignore[no-any-return]


def case_value(condition: ColumnElement[bool], value: Col) -> Col:
    """CASE WHEN condition THEN value END (NULL otherwise; aggregates skip it)."""
    return case((condition, value))


def aware(value: Any) -> dt.datetime | None:
    """A time read back from an aggregate: SQLite returns text, PostgreSQL a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
