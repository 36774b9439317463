"""CSV and XLSX for statistics, KPIs, ticket lists and the fine ledger.

Each export is first a list of :class:`Table` (a title, column names, rows of plain values),
so the CSV, the XLSX and the tests read the same rows: the XLSX holds one sheet per table,
the CSV the first table. CSV is UTF-8 with a byte-order mark so spreadsheet programs read
the Chinese labels right. Ticket lists mask the complainant exactly as the ticket API does
for the reader (:func:`core.tickets.reading.complainant_of`, one rule for every surface).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import msgspec
from defusedcsv import csv as defused
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import TenantScope
from core.penalties.models import LedgerLine
from core.people.models import Staff
from core.reports import sql
from core.reports.access import Access
from core.reports.kpis import Kpis
from core.reports.period import Period
from core.reports.stats import Labels, Stats
from core.tickets.models import Ticket
from core.tickets.reading import complainant_of

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
Cell = str | int | float | Decimal | bool | None


class Table(msgspec.Struct, kw_only=True):
    title: str
    columns: list[str]
    rows: list[list[Cell]]


def stats_tables(s: Stats) -> list[Table]:
    """One long table: totals, every breakdown row and every trend bucket."""
    communicative = s.totals.communicative
    rows: list[list[Cell]] = [
        ["totals", "received", None, "received", s.totals.counted, s.totals.not_counted],
        ["totals", "not_counted_reason", "invalid", "invalid", 0, s.totals.invalid],
        ["totals", "not_counted_reason", "communicative", "communicative", 0, communicative],
        ["totals", "not_counted_reason", "excluded", "excluded", 0, s.totals.excluded],
        ["totals", "not_counted_reason", "untriaged", "untriaged", 0, s.totals.untriaged],
    ]
    for dimension, items in s.breakdowns.items():
        rows += [["breakdown", dimension, r.key, r.label, r.counted, r.not_counted] for r in items]
    for granularity, items in s.trend.items():
        rows += [["trend", granularity, r.key, r.label, r.counted, r.not_counted] for r in items]
    columns = ["section", "dimension", "key", "label", "counted", "not_counted"]
    return [Table(title="stats", columns=columns, rows=rows), _about(s)]


def _about(report: Stats | Kpis) -> Table:
    w = report.window
    rows: list[list[Cell]] = [
        ["tenant", report.tenant],
        ["period", w.label or ""],
        ["from", w.start.isoformat()],
        ["to", w.end.isoformat()],
        ["timezone", w.timezone],
        ["scope", report.scope],
        ["as_of", report.as_of.isoformat()],
    ]
    return Table(title="about", columns=["field", "value"], rows=rows)


def kpi_tables(k: Kpis) -> list[Table]:
    rows: list[list[Cell]] = [
        [r.code, r.label, r.numerator, r.denominator, r.percent] for r in k.rates
    ]
    per = k.complaints_per_10k
    rows.append(
        ["complaints_per_10k", "万户投诉比 complaints per 10,000 customers", per.complaints,
         per.customers, per.value]
    )  # fmt: skip
    rep = k.repeat_complaints
    rows += [
        ["repeat_complaints", f"重复投诉 repeats within {rep.window_days} days", rep.count, None,
         None],
        ["repeat_same_complainant", "同一投诉人 same complainant", rep.same_complainant, None,
         None],
        ["repeat_same_subject", "同类别同部门 same category and department", rep.same_subject,
         None, None],
    ]  # fmt: skip
    main = Table(
        title="kpis", columns=["kpi", "label", "numerator", "denominator", "value"], rows=rows
    )
    missing = Table(
        title="follow_up_missing",
        columns=["number", "state", "department", "last_reply_at"],
        rows=[
            [
                m.number,
                m.state,
                m.department,
                m.last_reply_at.isoformat() if m.last_reply_at else None,
            ]
            for m in k.follow_up_missing
        ],
    )
    repeats = Table(
        title="repeat_complaints",
        columns=["number", "earlier", "same_complainant", "same_subject"],
        rows=[
            [r.number, " ".join(r.earlier), r.same_complainant, r.same_subject] for r in rep.tickets
        ],
    )
    penalties = Table(
        title="penalties_by_department",
        columns=[
            "department",
            "label",
            "decided",
            "amount_yuan",
            "waived",
            "pending",
            "appraisal_points",
        ],
        rows=[
            [p.key, p.label, p.decided, yuan(p.amount_fen), p.waived, p.pending, p.appraisal_points]
            for p in k.penalties_by_department
        ],
    )
    return [main, missing, repeats, penalties, _about(k)]


def yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _local(window: Period, moment: dt.datetime | None) -> str | None:
    return None if moment is None else window.local(moment).strftime("%Y-%m-%d %H:%M:%S")


async def ticket_table(scope: TenantScope, access: Access, window: Period) -> Table:
    """The tickets received in the window that the reader may see (a listing, not a sum)."""
    labels = await Labels.load(scope)
    rows = (
        await scope.execute(
            select(Ticket, sql.counted())
            .where(sql.received_in(window), access.tickets())
            .options(selectinload(Ticket.accused), selectinload(Ticket.grades))
            .order_by(Ticket.created_at, Ticket.id)
        )
    ).all()
    out: list[list[Cell]] = []
    for t, counted in rows:
        who = complainant_of(access.principal, t)  # the API's rule (core.tickets.complainant)
        out.append(
            [
                t.number,
                _local(window, t.created_at),
                t.channel,
                t.category,
                t.severity,
                t.state,
                t.resolution,
                t.valid,
                bool(counted),
                labels.department(t.accused_department_id)[0],
                labels.department(t.assigned_department_id)[0],
                " ".join(a.staff.code for a in t.accused),
                t.redispatch_count,
                t.reopen_count,
                t.referred_to_inspection,
                _local(window, t.closed_at),
                who.name,
                who.contact,
            ]
        )
    columns = [
        "number", "received_at", "channel", "category", "severity", "state", "resolution",
        "valid", "counted", "accused_department", "assigned_department", "accused_staff",
        "redispatch_count", "reopen_count", "referred_to_inspection", "closed_at",
        "complainant_name", "complainant_contact",
    ]  # fmt: skip
    return Table(title="tickets", columns=columns, rows=out)


async def ledger_table(scope: TenantScope, access: Access, window: Period) -> Table:
    """Fine-ledger lines of the months the window touches (the ledger is kept per month)."""
    labels = await Labels.load(scope)
    rows = await scope.scalars(
        select(LedgerLine)
        .join(Staff, Staff.id == LedgerLine.staff_id)
        .where(LedgerLine.period.in_(window.months()), access.ledger())
        .order_by(LedgerLine.period, Staff.code)
    )
    out: list[list[Cell]] = []
    for line in rows:
        code, name = labels.staff_member(line.staff_id)
        dept = labels.staff_department(line.staff_id)
        out.append(
            [line.period, code, name, dept, yuan(line.owed_fen), yuan(line.pay_fen),
             yuan(line.deducted_fen), yuan(line.carried_fen), yuan(line.written_off_fen),
             yuan(line.forfeited_fen), yuan(line.credited_fen), line.appraisal_points,
             line.appraisal_points_credited]
        )  # fmt: skip
    columns = [
        "period", "staff", "name", "department", "owed_yuan", "pay_yuan", "deducted_yuan",
        "carried_yuan", "written_off_yuan", "forfeited_yuan", "credited_yuan",
        "appraisal_points", "appraisal_points_credited",
    ]  # fmt: skip
    return Table(title="ledger", columns=columns, rows=out)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BLANK = " \t\r\n"
_TRIGGERS = ("=", "+", "-", "@", "|", "%")
"""What defusedcsv escapes when a cell starts with it."""


def _safe(value: Any) -> Any:
    """Text from complaints is data, never a spreadsheet formula, never a control character
    (openpyxl refuses those). defusedcsv (in :func:`to_csv`) escapes a cell whose first
    character starts a formula; spreadsheets also skip leading blanks (tab, CR, LF,
    space) before one, which defusedcsv does not look at, so such a cell is quoted here."""
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub("", value)
    if value[:1] in _BLANK and value.lstrip(_BLANK)[:1] in _TRIGGERS and value.strip(_BLANK):
        return "'" + value
    return value


def _text(value: Cell) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _safe(value)


def to_csv(tables: list[Table]) -> bytes:
    buf = io.StringIO()
    writer = defused.writer(buf, lineterminator="\r\n")
    table = tables[0]
    writer.writerow(table.columns)
    writer.writerows([_text(v) for v in row] for row in table.rows)
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(tables: list[Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.title[:31])
        sheet.append(table.columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_safe(v) for v in row])
            for cell in sheet[sheet.max_row]:
                # A string cell is text, never a formula, whatever it starts with.
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
        for i, name in enumerate(table.columns, start=1):
            width = max([len(str(name)), *(len(str(r[i - 1] or "")) for r in table.rows[:200])])
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(width + 2, 60)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def render(tables: list[Table], fmt: str) -> bytes:
    return to_csv(tables) if fmt == "csv" else to_xlsx(tables)
