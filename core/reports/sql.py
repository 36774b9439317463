"""The few expressions that differ between SQLite and PostgreSQL, and the shared ones.

Buckets (day, week, month) are the tenant's local calendar dates. SQLite cannot convert
time zones with daylight saving in SQL, so both backends use the same expression: the UTC
instants at which each local bucket starts are computed in Python (:func:`boundaries`) and a
row's bucket is found by comparing its stored UTC time with them (a balanced CASE: about
log2(buckets) comparisons a row, grouping stays in SQL). One computation, so SQLite and
PostgreSQL agree by construction, across DST changes too (issue 11 §4).
Days and weeks are labelled ``YYYY-MM-DD`` (a week by its Monday), months ``YYYY-MM``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_

from core.db import TenantScope
from core.reports.period import Period
from core.tickets.counting import counted as counted  # the tickets' rule, as sql.counted()
from core.tickets.counting import counted_of as counted_of
from core.tickets.models import Ticket

Col = ColumnElement[Any]


def dialect(scope: TenantScope) -> str:
    bind = scope.session.bind
    return bind.dialect.name if bind is not None else "sqlite"


def not_counted_reason() -> Col:
    """Why a ticket is shown apart: ``communicative`` (沟通性投诉, triaged as help, inquiry or
    venting [000 §篇1 1(1)2)]), ``invalid`` (triaged invalid), ``excluded`` (the industry
    rule does not count it: unverified tickets, communicative complaints),
    ``untriaged`` (no answer yet)."""
    return case(
        (Ticket.communicative.is_not(None), "communicative"),
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


def _starts(first: dt.date, last: dt.date, granularity: str) -> list[tuple[str, dt.date]]:
    if granularity == "month":
        day = first.replace(day=1)
    elif granularity == "week":
        day = first - dt.timedelta(days=first.weekday())
    elif granularity == "day":
        day = first
    else:
        raise ValueError(f"unknown granularity {granularity!r}")
    out = []
    while day <= last:
        out.append((f"{day:%Y-%m}" if granularity == "month" else day.isoformat(), day))
        if granularity == "month":
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        else:
            day += dt.timedelta(days=7 if granularity == "week" else 1)
    return out


def boundaries(window: Period, granularity: str) -> list[tuple[str, dt.datetime]]:
    """(label, UTC instant its local day/week/month starts) of every bucket the window
    touches, in order. Local midnights are taken in the tenant's zone (a midnight skipped
    by a DST change maps to the instant the clocks jumped)."""
    first = window.local(window.start).date()
    last = window.local(window.end - dt.timedelta(microseconds=1)).date()
    return [
        (label, dt.datetime.combine(day, dt.time(0), tzinfo=window.zone).astimezone(dt.UTC))
        for label, day in _starts(first, last, granularity)
    ]


def _pick(column: Col, bounds: list[tuple[str, dt.datetime]]) -> Col:
    if len(bounds) == 1:
        return literal(bounds[0][0])
    mid = len(bounds) // 2
    return case(
        (column < bounds[mid][1], _pick(column, bounds[:mid])), else_=_pick(column, bounds[mid:])
    )


def bucket(scope: TenantScope, column: Col, window: Period, granularity: str) -> Col:
    """The local day, week (its Monday) or month of a stored UTC time, as text, for rows
    inside ``window`` (the same SQL on both backends; ``scope`` kept for callers)."""
    return _pick(column, boundaries(window, granularity))


def buckets(window: Period, granularity: str) -> list[str]:
    """Every bucket label the window touches, so a trend shows the empty weeks too."""
    return [label for label, _ in boundaries(window, granularity)]


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
