"""The monthly per-case bulletin (投诉事件通报) [002 第二十二条]: for each case, what happened,
how it was handled, the cause, who was responsible, the corrective measures and the
personnel penalties — ready to circulate, so the complainant's identity is removed.

The complainant's name, contact and address are never copied into a case, and every free
text that is (the description, notes, replies, findings, reasons) is scrubbed: each
occurrence of the name, the address or the contact (also written with spaces or dashes), and
anything shaped like a phone number or an e-mail address, becomes ``***``. A case is a
ticket the reader may see that was graded in the window, or closed in it after handling.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import and_, or_, select, union
from sqlalchemy.orm import aliased

from core.attachments.kinds import KINDS as ATTACHMENT_KINDS
from core.db import TenantScope, utcnow
from core.errors import Invalid
from core.penalties.models import Penalty
from core.people.models import Tenant
from core.reports import sql
from core.reports.access import Access
from core.reports.period import Period
from core.reports.stats import Labels, Window, window_out
from core.tickets.models import Ticket, TicketEvent, TicketGrade
from core.tickets.reading import MAX_ID
from core.tickets.redact import scrubber

HANDLING = (
    "dispatch",
    "return",
    "first_contact",
    "refer_to_inspection",
    "grade",
    "reply",
    "follow_up",
    "follow_up_unsatisfied",
    "suspend",
    "close",
    "reopen",
    "attach",  # evidence added (core.attachments); reading it (a download) is no handling
)


class Step(msgspec.Struct, kw_only=True):
    at: dt.datetime
    action: str
    text: str


class Responsible(msgspec.Struct, kw_only=True):
    staff: str
    name: str
    department: str | None
    grade: str
    offence: str | None
    findings: str


class PenaltyLine(msgspec.Struct, kw_only=True):
    staff: str | None
    unit: str | None
    rule: str
    status: str
    amount_fen: int | None
    sanctions: list[str]


class Case(msgspec.Struct, kw_only=True):
    number: str
    received_at: dt.datetime
    closed_at: dt.datetime | None
    state: str
    resolution: str | None
    counted: bool
    category: str | None
    severity: str | None
    department: str | None
    what_happened: str
    handling: list[Step]
    cause: str
    responsibility: list[Responsible]
    measures: list[str]
    penalties: list[PenaltyLine]


class Bulletin(msgspec.Struct, kw_only=True):
    tenant: str
    tenant_name: str
    window: Window
    scope: str
    as_of: dt.datetime
    cases: list[Case]
    next_cursor: str | None = None
    """Set when the cases were asked for a page at a time and more follow: pass it back as
    ``cursor`` for the next page."""


PAGE = 500
"""Cases per page of the JSON bulletin unless ``limit`` says otherwise. A month at 1M
tickets has ~15k cases; the whole month in one answer took ~2 s (most of it building each
complainant's scrubber), a page answers in a fraction of that."""
MAX_PAGE = 2000


def page_limit(fmt: str, limit: int | None) -> int | None:
    """Cases per answer: ``limit`` when given; else a page of :data:`PAGE` for JSON, and the
    whole window for Markdown (the document to circulate)."""
    if limit is not None:
        return limit
    return None if fmt == "markdown" else PAGE


def encode_cursor(received_at: dt.datetime, ticket_id: int) -> str:
    raw = f"b|{received_at.astimezone(dt.UTC).isoformat()}|{ticket_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """(received_at, ticket id) of the last case of the previous page.

    Raises :class:`core.errors.Invalid` (field ``cursor``) for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, at, number = raw.split("|")
        received_at = dt.datetime.fromisoformat(at)
        ticket_id = int(number)
        if kind != "b" or received_at.tzinfo is None or not 0 < ticket_id <= MAX_ID:
            raise ValueError(raw)
        return received_at, ticket_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(
            "malformed cursor", field="cursor", rule="pass back next_cursor unchanged"
        ) from exc


def _step_text(action: str, payload: dict[str, Any], labels: Labels) -> str:
    """One handling step as the desk writes it in the bulletin: Chinese words around what
    people typed [002 第二十二条] (the JSON keeps ``action`` for programs)."""
    p = payload or {}

    def said(key: str) -> str:
        return f"：{p[key]}" if p.get(key) else ""

    if action == "dispatch":
        dept = labels.department(p.get("department_id"))[1]
        return f"派单至{dept}" + ("（再分发）" if p.get("redispatch") else "")
    if action == "return":
        return "退单" + said("reason")
    if action == "first_contact":
        return "首次联系" + said("note")
    if action == "refer_to_inspection":
        return "移交纪检监察" + said("reason")
    if action == "grade":
        return "定责" + said("findings")
    if action == "reply":
        apology = "（已致歉）" if p.get("apology") else ""
        policy = f"；政策解释：{p['policy_explained']}" if p.get("policy_explained") else ""
        return f"答复{apology}" + said("reply") + policy
    if action == "follow_up":
        return "回访满意" + said("note")
    if action == "follow_up_unsatisfied":
        return "回访不满意" + said("note")
    if action == "suspend":
        return "挂起（无法解决）" + said("reason")
    if action == "close":
        return "销项" + said("note")
    if action == "reopen":
        return "重新处理" + said("reason")
    if action == "attach":  # the kind only: file names may carry people's names
        kind = ATTACHMENT_KINDS.get(str(p.get("kind", "")))
        return f"附件：{kind.label_zh if kind else p.get('kind', '')}"
    return action


def _cases_where(scope: TenantScope, access: Access, window: Period) -> list[Any]:
    """Graded in the window, or closed in it after handling. The two halves are read by
    their own indexes ((tenant, action, at) on events, (tenant, closed_at) on tickets) and
    united: an ``EXISTS … OR …`` on every ticket walked the tenant's whole history
    (issue 10 §3). Each half names the tenant itself — the scope's criteria do not reach
    inside a UNION — and row-level security backs it on PostgreSQL."""
    graded = select(TicketEvent.ticket_id).where(
        TicketEvent.tenant_id == scope.tenant_id,
        TicketEvent.action == "grade",
        sql.between(TicketEvent.at, window),
    )
    closed = select(Ticket.id).where(
        Ticket.tenant_id == scope.tenant_id,
        Ticket.state == "closed",
        sql.between(Ticket.closed_at, window),
        Ticket.resolution.in_(("resolved", "unresolvable")),
    )
    return [access.tickets(), Ticket.id.in_(union(graded, closed))]


CASE_COLUMNS = (
    Ticket.id,
    Ticket.number,
    Ticket.complainant_name,
    Ticket.complainant_contact,
    Ticket.complainant_address,
    Ticket.description,
    Ticket.event_place,
    Ticket.demands,
    Ticket.created_at,
    Ticket.closed_at,
    Ticket.state,
    Ticket.resolution,
    Ticket.category,
    Ticket.severity,
    Ticket.accused_department_id,
    Ticket.assigned_department_id,
)
"""What a case shows of its ticket: plain rows, not ORM objects (a month at 1M tickets is
~15k cases; building and tracking an object each, with JSON columns the bulletin never
reads, cost a second)."""


async def bulletin(
    scope: TenantScope,
    access: Access,
    window: Period,
    now: dt.datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Bulletin:
    """The window's cases with their handling, grades and penalties, identity removed, oldest
    first: all of them, or ``limit`` at a time after ``cursor`` (a previous page's
    ``next_cursor``; :class:`core.errors.Invalid` when malformed).

    The ticket rows come in one query, their events, grades and penalties in one more each:
    for a page, by the page's ids; for the whole window, by the same case rule in the
    database (no list of 15k ids travels back as 15k bind parameters)."""
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    labels = await Labels.load(scope)
    cases_where = _cases_where(scope, access, window)
    page_where = list(cases_where)
    if cursor is not None:
        after_at, after_id = decode_cursor(cursor)
        page_where.append(
            or_(
                Ticket.created_at > after_at,
                and_(Ticket.created_at == after_at, Ticket.id > after_id),
            )
        )
    q = select(*CASE_COLUMNS, sql.counted().label("counted")).where(*page_where)
    q = q.order_by(Ticket.created_at, Ticket.id)
    rows = list((await scope.execute(q if limit is None else q.limit(limit + 1))).all())
    next_cursor = None
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)

    def of_cases(ticket_id: Any) -> Any:
        if limit is None and cursor is None:
            return ticket_id.in_(select(Ticket.id).where(*cases_where))
        return ticket_id.in_([r.id for r in rows])

    # Aliases: the case rule reads ticket_events (graded in the window) and a staff member's
    # visibility is an EXISTS on TicketGrade (core.tickets.reading.visible); neither may
    # correlate with the rows read here.
    e = aliased(TicketEvent, name="handled")
    events = _by_ticket(
        await scope.execute(
            select(e.ticket_id, e.at, e.action, e.payload)
            .where(of_cases(e.ticket_id), e.action.in_(HANDLING))
            .order_by(e.ticket_id, e.seq)
        )
    )
    g = aliased(TicketGrade, name="graded")
    grades = _by_ticket(
        await scope.scalars(
            select(g)
            .where(of_cases(g.ticket_id), g.superseded_at.is_(None), access.staff_rows(g.staff_id))
            .order_by(g.id)
        )
    )
    penalties = _by_ticket(
        await scope.scalars(
            select(Penalty)
            .where(
                of_cases(Penalty.ticket_id),
                Penalty.status != "superseded",
                access.staff_rows(Penalty.staff_id),
            )
            .order_by(Penalty.id)
        )
    )
    cases = [
        _case(t, bool(t.counted), events.get(t.id, []), grades.get(t.id, []),
              penalties.get(t.id, []), labels)
        for t in rows
    ]  # fmt: skip
    return Bulletin(
        tenant=tenant.slug,
        tenant_name=tenant.name,
        window=window_out(window),
        scope=access.label,
        as_of=now or utcnow(),
        cases=cases,
        next_cursor=next_cursor,
    )


def _by_ticket(rows: Iterable[Any]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for row in rows:
        out.setdefault(row.ticket_id, []).append(row)
    return out


def _case(
    t: Any,
    counted: bool,
    events: list[Any],
    grades: list[TicketGrade],
    penalties: list[Penalty],
    labels: Labels,
) -> Case:
    scrub = scrubber(t.complainant_name, t.complainant_contact, t.complainant_address)
    what = t.description
    if t.event_place:
        what = f"{what}（地点：{t.event_place}）"
    if t.demands:
        what = f"{what} 诉求：{t.demands}"
    handling = [
        Step(at=e.at, action=e.action, text=scrub(_step_text(e.action, e.payload, labels)))
        for e in events
    ]
    findings = [str(e.payload.get("findings", "")) for e in events if e.action == "grade"]
    measures: list[str] = []
    for e in events:
        if e.action == "close":
            ticked = e.payload.get("four_donts") or []
            # the industry's close checklist, in its words (the utility's 四不放过)
            measures += [labels.term(f"check:{x}") for x in ticked]
            if e.payload.get("note"):
                measures.append(scrub(str(e.payload["note"])))
        if e.action == "reply" and e.payload.get("apology"):
            measures.append("向投诉人致歉 apologised to the complainant")
    responsible = []
    for g in grades:
        code, name = labels.staff_member(g.staff_id)
        dept = labels.staff_department(g.staff_id)
        responsible.append(
            Responsible(staff=code or "", name=name, department=dept, grade=g.grade,
                        offence=g.offence, findings=scrub(g.findings))
        )  # fmt: skip
        if g.grade != "none":
            measures.append(f"{name}: {scrub(g.findings)}")
    lines = [
        PenaltyLine(
            staff=labels.staff_member(p.staff_id)[0],
            unit=labels.department(p.department_id)[0],
            rule=p.rule,
            status=p.status,
            amount_fen=p.final_fen if p.final_fen is not None else p.proposed_fen,
            sanctions=[str(x) for x in p.sanctions or []],
        )
        for p in penalties
    ]
    return Case(
        number=t.number,
        received_at=t.created_at,
        closed_at=t.closed_at,
        state=t.state,
        resolution=t.resolution,
        counted=counted,
        category=t.category,
        severity=t.severity,
        department=labels.department(t.accused_department_id or t.assigned_department_id)[0],
        what_happened=scrub(what),
        handling=handling,
        cause=scrub(findings[-1]) if findings else "",
        responsibility=responsible,
        measures=measures,
        penalties=lines,
    )


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 100:.2f} 元"


def markdown(b: Bulletin) -> str:
    """The bulletin as Markdown, one section per case."""
    zone = b.window.timezone
    tz = ZoneInfo(zone)

    def local(moment: dt.datetime | None) -> str:
        return "—" if moment is None else f"{moment.astimezone(tz):%Y-%m-%d %H:%M}"

    title = b.window.label or f"{local(b.window.start)} – {local(b.window.end)}"
    out = [
        f"# 投诉事件通报 Complaint bulletin — {b.tenant_name} — {title}",
        "",
        f"Cases: {len(b.cases)}. Scope: {b.scope}. As of {local(b.as_of)} ({zone}). "
        "Complainant identity removed."
        + (f" More cases follow: cursor={b.next_cursor}" if b.next_cursor else ""),
        "",
    ]
    for c in b.cases:
        out += [
            f"## {c.number} — {c.category or '(uncategorised)'} / {c.severity or '—'}",
            "",
            f"- Received {local(c.received_at)}; closed {local(c.closed_at)}; state {c.state}"
            f" ({c.resolution or 'open'}); department {c.department or '—'}; "
            f"{'counted as a complaint' if c.counted else 'not counted as a complaint'}",
            "",
            "**What happened (事件经过)**",
            "",
            c.what_happened,
            "",
            "**How it was handled (处理过程)**",
            "",
            *[f"- {local(s.at)} {s.text}" for s in c.handling],
            "",
            "**Cause (原因)**",
            "",
            c.cause or "—",
            "",
            "**Responsibility (责任认定)**",
            "",
            *(
                [f"- {r.name} ({r.staff}, {r.department or '—'}): {r.grade}"
                 + (f", offence {r.offence}" if r.offence else "") + f" — {r.findings}"
                 for r in c.responsibility]
                or ["- —"]
            ),
            "",
            "**Corrective measures (整改措施)**",
            "",
            *([f"- {m}" for m in c.measures] or ["- —"]),
            "",
            "**Penalties (人员处理)**",
            "",
            *(
                [f"- {p.staff or p.unit or '—'}: {p.rule}, {_yuan(p.amount_fen)}, {p.status}"
                 + (f"; {', '.join(p.sanctions)}" if p.sanctions else "")
                 for p in c.penalties]
                or ["- —"]
            ),
            "",
        ]  # fmt: skip
    return "\n".join(out)
