"""The text a ticket is searched by, kept on the ticket at write time (two columns).

- ``search_full``: description, demands and the complainant's name, contact and address —
  searched by readers who see the complainant in full.
- ``search_masked``: description and demands **as a reader who may not see the
  complainant is shown them** (:func:`core.tickets.redact.scrubber`, the same function
  the output boundary :mod:`core.confidential` applies): phone, identity-card numbers,
  e-mail addresses and every form of the complainant's name, contact and address are
  ``***``. Searched by everyone else. A match over it is a function of what the reader
  already sees, so no sequence of queries tells two tickets apart that differ only in
  masked text (issue 21 item 1: search was an oracle, digit by digit, for the phone).

Both are :func:`normalise`\\ d, and so is the query: NFKC (full-width Latin letters and
digits match half-width ones), case-folded, and the spaces and hyphens *between digits*
dropped, so ``139 1234 5678`` and ``13912345678`` find each other (issue 23 item 8).

They are filled by the column defaults of :class:`core.tickets.models.Ticket` on insert and
kept by :func:`refresh` if a searched field ever changes; migration
``0017_search_masked`` fills existing rows. What the scrubber masks may grow (Chinese
numerals as digits were added after 0017): rows written before keep their masked text
until a searched field changes — no migration refills them; new rows are right.
Indexed like the rest of search (pg_trgm GIN on PostgreSQL, the FTS5 trigram table
``ticket_search`` on SQLite).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from core.tickets.models import SEARCHED
from core.tickets.redact import scrubber

_DIGIT_GAP = re.compile(r"(?<=\d)[\s\-]+(?=\d)")


def normalise(text: str) -> str:
    """``text`` as search compares it: NFKC, case-folded, no spaces or hyphens between
    digits (``"１３９ 1234-5678"`` → ``"13912345678"``)."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return _DIGIT_GAP.sub("", folded)


def full_text(description: str, demands: str, name: str, contact: str, address: str) -> str:
    """The ``search_full`` value (see the module text)."""
    return normalise("\n".join((description or "", demands or "", name or "", contact or "",
                                address or "")))  # fmt: skip


def masked_text(description: str, demands: str, name: str, contact: str, address: str) -> str:
    """The ``search_masked`` value: description and demands as a reader who may not see the
    complainant reads them (see the module text)."""
    scrub = scrubber(name or "", contact or "", address or "")
    return normalise(scrub(description or "") + "\n" + scrub(demands or ""))


def _args(get: Any) -> tuple[str, str, str, str, str]:
    description, demands, name, contact, address = (str(get(f) or "") for f in SEARCHED)
    return description, demands, name, contact, address


def default_full(context: Any) -> str:
    """Column default (SQLAlchemy insert context) for ``search_full``."""
    return full_text(*_args(context.get_current_parameters().get))


def default_masked(context: Any) -> str:
    """Column default (SQLAlchemy insert context) for ``search_masked``."""
    return masked_text(*_args(context.get_current_parameters().get))


def refresh(ticket: Any) -> None:
    """Recompute both columns on a loaded ticket whose searched fields changed."""
    args = _args(lambda f: getattr(ticket, f))
    ticket.search_full = full_text(*args)
    ticket.search_masked = masked_text(*args)
