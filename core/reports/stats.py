"""Statistics for a window: counts by category, severity, channel, department, staff member
and responsibility grade, and the weekly and monthly trend (domain §8).

The population is the tickets **received** in the window that the reader may see. Each row
splits them into ``counted`` complaints and ``not_counted`` tickets (shown apart: invalid,
excluded by the industry's rule — tickets not verified as the supplier's
responsibility [002 《客户投诉管理考核办法》第九条], communicative complaints — and
untriaged ones). Every figure is one GROUP BY in the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.orm import aliased

from core.db import TenantScope, utcnow
from core.people.models import Department, Staff, Tenant
from core.reports import sql
from core.reports.access import Access
from core.reports.period import Period
from core.tickets.facts import plugin_of
from core.tickets.models import AccusedStaff, Ticket, TicketGrade

GRANULARITIES = ("week", "month")


class Row(msgspec.Struct, kw_only=True):
    key: str | None
    label: str
    counted: int
    not_counted: int


class Totals(msgspec.Struct, kw_only=True):
    received: int
    counted: int
    not_counted: int
    invalid: int
    communicative: int
    """Triaged communicative (沟通性投诉: help, inquiry, venting [000 §篇1 1(1)2)]): counted
    apart from invalid ones."""
    excluded: int
    untriaged: int


class Window(msgspec.Struct, kw_only=True):
    start: dt.datetime
    end: dt.datetime
    timezone: str
    label: str | None


class Stats(msgspec.Struct, kw_only=True):
    tenant: str
    window: Window
    scope: str
    as_of: dt.datetime
    totals: Totals
    breakdowns: dict[str, list[Row]]
    trend: dict[str, list[Row]]


def window_out(window: Period) -> Window:
    return msgspec.convert(window, Window, from_attributes=True)


@dataclass(frozen=True)
class Labels:
    """Codes → human labels (taxonomy terms, department and staff names) for one tenant,
    read once per report so that rows are labelled without a query each."""

    terms: dict[str, str]
    departments: dict[int, tuple[str, str]]
    staff: dict[int, Staff]

    @classmethod
    async def load(cls, scope: TenantScope) -> Labels:
        tax = (await plugin_of(scope)).taxonomy()
        terms = {t.code: t.label_zh or t.label for t in (*tax.categories, *tax.severities)}
        terms |= {f"grade:{t.code}": t.label_zh or t.label for t in tax.grades}
        terms |= {f"check:{t.code}": t.label_zh or t.label for t in tax.close_checklist}
        depts = {d.id: (d.code, d.name) for d in await scope.scalars(select(Department))}
        staff = {s.id: s for s in await scope.scalars(select(Staff))}
        return cls(terms, depts, staff)

    def term(self, code: str | None) -> str:
        return "(none)" if code is None else self.terms.get(code, code)

    def grade(self, code: str | None) -> str:
        return "(none)" if code is None else self.terms.get(f"grade:{code}", code)

    def department(self, dept_id: int | None) -> tuple[str | None, str]:
        if dept_id is None or dept_id not in self.departments:
            return None, "(none)"
        return self.departments[dept_id]

    def staff_member(self, staff_id: int | None) -> tuple[str | None, str]:
        member = self.staff.get(staff_id) if staff_id is not None else None
        return (member.code, member.name) if member is not None else (None, "(none)")

    def staff_department(self, staff_id: int) -> str | None:
        """The code of the staff member's department (None: none, or no such member)."""
        member = self.staff.get(staff_id)
        return self.department(member.department_id)[0] if member is not None else None


def _split() -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    counted = sql.ones(sql.counted())
    return counted.label("counted"), (func.count(Ticket.id) - counted).label("not_counted")


async def _grouped(
    scope: TenantScope,
    key: ColumnElement[Any],
    where: list[ColumnElement[bool]],
    join: tuple[Any, ColumnElement[bool]] | None = None,
) -> list[Any]:
    """(key, counted, not_counted) per key: one GROUP BY over the tickets in ``where``."""
    counted, not_counted = _split()
    q = select(key.label("key"), counted, not_counted).select_from(Ticket)
    if join is not None:
        q = q.join(*join)
    q = q.where(*where).group_by(key)
    return list((await scope.execute(q)).all())


def _rows(raw: list[Any], label: Callable[[Any], tuple[str | None, str]]) -> list[Row]:
    rows = []
    for key, counted, not_counted in raw:
        code, text = label(key)
        rows.append(Row(key=code, label=text, counted=int(counted), not_counted=int(not_counted)))
    return sorted(rows, key=lambda r: (-r.counted, -r.not_counted, r.key or ""))


def _totals_columns() -> list[ColumnElement[Any]]:
    """received, counted, invalid, excluded, untriaged, communicative: one pass over the
    rows."""
    reason = sql.not_counted_reason()
    counted, _ = _split()
    return [
        func.count(Ticket.id),
        counted,
        sql.ones(~sql.counted() & (reason == "invalid")),
        sql.ones(~sql.counted() & (reason == "excluded")),
        sql.ones(~sql.counted() & (reason == "untriaged")),
        sql.ones(~sql.counted() & (reason == "communicative")),
    ]


Grouped = dict[str, list[tuple[Any, int, int]]]
TOTALS = 6
"""How many columns :func:`_totals_columns` gives."""


async def _one_pass(
    scope: TenantScope, where: list[ColumnElement[bool]], dims: dict[str, ColumnElement[Any]]
) -> tuple[Any, Grouped]:
    """PostgreSQL: the totals and every per-ticket dimension in ONE scan of the window's
    tickets — ``GROUP BY GROUPING SETS ((d1), (d2), …, ())``, each row told apart by
    ``GROUPING()`` (a NULL key is a real value: uncategorised, no department). At 1M tickets
    seven GROUP BYs over the same 50k rows cost seven scans (issue 10 §3)."""
    names = list(dims)
    cols = [dims[n] for n in names]
    flags = [func.grouping(c) for c in cols]
    _, not_counted = _split()
    totals = _totals_columns()
    q = (
        select(*cols, *flags, *totals, not_counted)
        .where(*where)
        .group_by(func.grouping_sets(*[tuple_(c) for c in cols], tuple_()))
    )
    grouped: Grouped = {n: [] for n in names}
    total_row: Any = None
    k = len(names)
    for r in (await scope.execute(q)).all():
        grouping = r[k : 2 * k]
        if all(grouping):
            total_row = r[2 * k : 2 * k + TOTALS]
            continue
        i = grouping.index(0)
        grouped[names[i]].append((r[i], int(r[2 * k + 1]), int(r[2 * k + TOTALS])))
    if total_row is None:  # no rows at all: GROUPING SETS still yields the () row
        total_row = (0,) * TOTALS
    return total_row, grouped


async def _pass_each(
    scope: TenantScope, where: list[ColumnElement[bool]], dims: dict[str, ColumnElement[Any]]
) -> tuple[Any, Grouped]:
    """SQLite (no GROUPING SETS; the embedded default's tenants are small): the totals and
    one GROUP BY per dimension."""
    row = (await scope.execute(select(*_totals_columns()).where(*where))).one()
    grouped: Grouped = {}
    for name, col in dims.items():
        grouped[name] = [(k, int(c), int(n)) for k, c, n in await _grouped(scope, col, where)]
    return row, grouped


async def statistics(
    scope: TenantScope, access: Access, window: Period, now: dt.datetime | None = None
) -> Stats:
    """The window's statistics as ``access`` may see them (see docs/reports.md)."""
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    labels = await Labels.load(scope)
    base: list[ColumnElement[bool]] = [sql.received_in(window), access.tickets()]

    dept = func.coalesce(Ticket.accused_department_id, Ticket.assigned_department_id)
    dims: dict[str, ColumnElement[Any]] = {
        "category": Ticket.category,
        "severity": Ticket.severity,
        "channel": Ticket.channel,
        "department": dept,
        **{g: sql.bucket(scope, Ticket.created_at, window, g) for g in GRANULARITIES},
    }
    if sql.dialect(scope) == "postgresql":
        row, grouped = await _one_pass(scope, base, dims)
    else:
        row, grouped = await _pass_each(scope, base, dims)
    totals = Totals(
        received=int(row[0]),
        counted=int(row[1]),
        not_counted=int(row[0]) - int(row[1]),
        invalid=int(row[2]),
        excluded=int(row[3]),
        untriaged=int(row[4]),
        communicative=int(row[5]),
    )

    def term(k: Any) -> tuple[str | None, str]:
        return k, labels.term(k)

    breakdowns = {
        "category": _rows(grouped["category"], term),
        "severity": _rows(grouped["severity"], term),
        "channel": _rows(grouped["channel"], lambda k: (k, k)),
        "department": _rows(grouped["department"], labels.department),
    }
    # Aliases: a staff member's visibility is itself an EXISTS on AccusedStaff and on
    # TicketGrade (core.tickets.reading.visible), which must not correlate with these joins.
    accused = aliased(AccusedStaff)
    breakdowns["staff"] = _rows(
        await _grouped(
            scope,
            accused.staff_id,
            [*base, access.staff_rows(accused.staff_id)],
            (accused, accused.ticket_id == Ticket.id),
        ),
        labels.staff_member,
    )
    g = aliased(TicketGrade)
    graded = (g, (g.ticket_id == Ticket.id) & g.superseded_at.is_(None))
    grade_where = [*base, access.staff_rows(g.staff_id)]
    breakdowns["grade"] = _rows(
        await _grouped(scope, g.grade, grade_where, graded), lambda k: (k, labels.grade(k))
    )
    counted, not_counted = _split()
    raw = (
        await scope.execute(
            select(g.staff_id, g.grade, counted, not_counted)
            .select_from(Ticket)
            .join(*graded)
            .where(*grade_where)
            .group_by(g.staff_id, g.grade)
        )
    ).all()
    pairs = []
    for staff_id, grade, c, n in raw:
        code, name = labels.staff_member(staff_id)
        pairs.append(
            Row(key=f"{code}:{grade}", label=f"{name} {labels.grade(grade)}", counted=int(c),
                not_counted=int(n))
        )  # fmt: skip
    breakdowns["staff_grade"] = sorted(pairs, key=lambda r: (-r.counted, -r.not_counted, r.key))

    trend = {}
    for granularity in GRANULARITIES:
        found = {str(k): (int(c), int(n)) for k, c, n in grouped[granularity]}
        labels_in_order = sql.buckets(window, granularity)
        labels_in_order += sorted(set(found) - set(labels_in_order))
        trend[granularity] = [
            Row(
                key=b, label=b, counted=found.get(b, (0, 0))[0], not_counted=found.get(b, (0, 0))[1]
            )
            for b in labels_in_order
        ]
    return Stats(
        tenant=tenant.slug,
        window=window_out(window),
        scope=access.label,
        as_of=now or utcnow(),
        totals=totals,
        breakdowns=breakdowns,
        trend=trend,
    )
