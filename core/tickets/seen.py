"""The tickets a request has loaded, for the confidentiality boundary.

A handler that loads a ticket with its accused staff and grades records here its
complainant and whether the reader is named or graded on it, so the output boundary
(:mod:`core.confidential`, which reads :data:`SEEN`) need not ask the database again. The
boundary's middleware opens one record per request; outside a request :func:`note` does
nothing.
"""

from __future__ import annotations

import contextvars

from core.tickets.models import Ticket

Identity = tuple[str, str, str]
"""(name, contact, address) of a ticket's complainant."""

SEEN: contextvars.ContextVar[dict[int, tuple[Identity, bool]] | None] = contextvars.ContextVar(
    "tousu_seen_tickets", default=None
)


def note(ticket: Ticket, involved: bool) -> None:
    """Record, for this request's boundary, a ticket the handler loaded with its accused and
    grades: its complainant and whether the reader is named or graded on it."""
    seen = SEEN.get()
    if seen is not None:
        identity = (
            ticket.complainant_name or "",
            ticket.complainant_contact or "",
            ticket.complainant_address or "",
        )
        seen[ticket.id] = (identity, involved)
