"""Ticket search (``GET /api/tickets?q=``): number, complainant contact, description, demands.

Indexed on both backends:

- PostgreSQL: ``pg_trgm`` GIN indexes on each searched column; the query is a
  case-insensitive substring match (``ILIKE '%q%'``) that the indexes answer for three
  characters or more. Shorter queries (one or two characters — common in Chinese, e.g.
  "电梯") give the same, correct answer through a scan of the tenant's tickets: trigrams
  need three characters.
- SQLite: an FTS5 table with the ``trigram`` tokenizer (``ticket_search``, kept by triggers,
  migration 0009); queries of three characters or more go through it, shorter ones scan
  with ``LIKE``, as on PostgreSQL.

The complainant's contact is searched only for readers who may see it
(:data:`core.people.roles.SEES_COMPLAINANT`), and a reader who may not see the complainant
never finds a ticket *by* the complainant's name, contact or address (that would reveal
them): the results are the same tickets the reader could list, masked the same way.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    column,
    exists,
    literal_column,
    not_,
    or_,
    select,
    table,
)

from core.errors import Invalid
from core.people.auth import Principal
from core.people.roles import SEES_COMPLAINANT
from core.tickets.models import AccusedStaff, Ticket, TicketGrade

MIN_INDEXED = 3
"""Trigram indexes need at least three characters; shorter queries scan (still correct)."""
MAX_LENGTH = 100

_fts: Table = table("ticket_search", column("rowid"))


def check(q: str) -> str:
    q = q.strip()
    if not q:
        raise Invalid("q: give at least one character", field="q", rule="min length 1")
    if len(q) > MAX_LENGTH:
        raise Invalid(
            f"q: at most {MAX_LENGTH} characters", field="q", rule=f"max length {MAX_LENGTH}"
        )
    return q


def _fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def _involved(staff_id: int) -> ColumnElement[bool]:
    return or_(
        exists().where(AccusedStaff.ticket_id == Ticket.id, AccusedStaff.staff_id == staff_id),
        exists().where(TicketGrade.ticket_id == Ticket.id, TicketGrade.staff_id == staff_id),
    )


def clause(principal: Principal, q: str, dialect: str) -> ColumnElement[bool]:
    """The WHERE clause for ``q`` as ``principal`` may search (see the module docstring)."""
    q = check(q)
    with_contact = principal.has(*SEES_COMPLAINANT)
    if dialect == "sqlite" and len(q) >= MIN_INDEXED:
        columns = "{number contact body}" if with_contact else "{number body}"
        hit = Ticket.id.in_(
            select(_fts.c.rowid).where(
                literal_column("ticket_search").op("MATCH")(f"{columns} : {_fts_phrase(q)}")
            )
        )
    else:
        fields = [Ticket.number, Ticket.description, Ticket.demands]
        if with_contact:
            fields.append(Ticket.complainant_contact)
        hit = or_(*(f.icontains(q, autoescape=True) for f in fields))
    identity = or_(
        Ticket.complainant_name.icontains(q, autoescape=True),
        Ticket.complainant_contact.icontains(q, autoescape=True),
        Ticket.complainant_address.icontains(q, autoescape=True),
    )
    if not with_contact:
        return and_(hit, not_(identity))
    if principal.staff_id is not None:  # masked on the tickets that name or grade them
        return and_(hit, or_(not_(identity), not_(_involved(principal.staff_id))))
    return hit
