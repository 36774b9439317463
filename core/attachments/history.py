"""History events of reading and attaching files, appended without a version check.

Issue 21 item 5: every upload and download appended its event through
:func:`core.tickets.events.append_event`, which checks the version the caller read — but an
upload or a download sends none, so 24 parallel uploads to one ticket gave 19 × 409 and
12 parallel downloads 7 × 409. Here the ticket's version (which numbers its events) is
moved on by one ``UPDATE … SET version = version + 1 … RETURNING version``: the database
serialises concurrent appenders on the row and each gets the next number, so none fails.
The version still moves, so an edit checked against an older version still answers 409
("reload and retry"): what the ticket holds did change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from core.db import TenantScope, utcnow
from core.tickets.events import add_event
from core.tickets.models import Ticket, TicketEvent


async def append(
    scope: TenantScope,
    ticket: Ticket,
    action: str,
    actor_user_id: int,
    role: str,
    payload: dict[str, Any],
) -> TicketEvent:
    """Append ``action``'s event to ``ticket``'s history with the next sequence number,
    whatever version the caller read; in the scope's transaction."""
    now = utcnow()
    seq = (
        await scope.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(version=Ticket.version + 1, updated_at=now)
            .returning(Ticket.version)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    # the loaded object follows the row, so a later flush of it checks the right version
    set_committed_value(ticket, "version", seq)
    set_committed_value(ticket, "updated_at", now)
    event = add_event(
        scope, ticket, action, payload, by=(actor_user_id, role), since=ticket.state, at=now
    )
    await scope.flush()
    return event
