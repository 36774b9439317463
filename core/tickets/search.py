"""Ticket search (``GET /api/tickets?q=``): number, description, demands, complainant.

What is matched is what the reader may see (issue 21 item 1; :mod:`core.tickets.search_text`):

- a reader who sees the complainant in full (:func:`core.tickets.complainant.level`)
  matches the ticket number and ``search_full`` — description, demands and the
  complainant's name, contact and address;
- every other reader — roles that do not need the identity, and the staff member a ticket
  names or grades on *that* ticket — matches the number and ``search_masked``: description
  and demands exactly as masked for them. A hit is then a function of the text they are
  shown, so search is no oracle for a phone number, an identity-card number or a name, digit
  by digit or character by character.

Query and columns are normalised alike (NFKC, case-folded, spaces and hyphens between
digits dropped): ``139 1234 5678`` finds ``13912345678`` and back, ``ＡＢ１２`` finds ``ab12``
(issue 23 item 8).

Indexed on both backends:

- PostgreSQL: ``pg_trgm`` GIN indexes on ``number``, ``search_full`` and
  ``search_masked``; the query is a substring match (``LIKE '%q%'`` over case-folded text)
  that the indexes answer for three characters or more. Shorter queries (one or two
  characters — common in Chinese, e.g. "电梯") give the same, correct answer through a scan
  of the tenant's tickets: trigrams need three characters.
- SQLite: an FTS5 table with the ``trigram`` tokenizer (``ticket_search``: number, full,
  masked; kept by triggers, migrations 0009 and 0017); queries of three characters or more
  go through it, shorter ones scan with ``LIKE``, as on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_, column, literal_column, not_, or_, select, table

from core.errors import Invalid
from core.principal import Principal
from core.tickets import complainant
from core.tickets.models import Ticket
from core.tickets.reading import involving
from core.tickets.search_text import normalise

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
            "q: at most {n} characters",
            field="q",
            rule=f"max length {MAX_LENGTH}",
            params={"n": MAX_LENGTH},
        )
    return q


def _fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def _hit(raw: str, q: str, dialect: str, full: bool) -> ColumnElement[bool]:
    """Tickets whose number holds ``raw`` (the query as typed) or whose full (``full``) or
    masked search text holds ``q`` (the query normalised)."""
    column = "full" if full else "masked"
    if dialect == "sqlite" and len(raw) >= MIN_INDEXED and len(q) >= MIN_INDEXED:
        match = f"{{number}} : {_fts_phrase(raw)} OR {{{column}}} : {_fts_phrase(q)}"
        return Ticket.id.in_(
            select(_fts.c.rowid).where(literal_column("ticket_search").op("MATCH")(match))
        )
    text = Ticket.search_full if full else Ticket.search_masked
    return or_(Ticket.number.icontains(raw, autoescape=True), text.contains(q, autoescape=True))


def clause(principal: Principal, q: str, dialect: str) -> ColumnElement[bool]:
    """The WHERE clause for ``q`` as ``principal`` may search (see the module docstring).
    Raises :class:`~core.errors.Invalid` (422, field ``q``) for an empty or too long query."""
    raw = check(q)
    q = normalise(raw)
    if not complainant.role_sees(principal):
        return _hit(raw, q, dialect, full=False)
    if principal.staff_id is None:
        return _hit(raw, q, dialect, full=True)
    # a staff member with a role that sees complainants: masked on the tickets that name or
    # grade them, in full elsewhere (complainant.level decides per ticket)
    involved = involving(principal.staff_id)
    return or_(
        and_(involved, _hit(raw, q, dialect, full=False)),
        and_(not_(involved), _hit(raw, q, dialect, full=True)),
    )
