"""Appending a ticket's history event together with its change (one transaction, version+1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from core.db import TenantScope, utcnow
from core.errors import Conflict
from core.tickets.models import Ticket, TicketEvent


def add_event(
    scope: TenantScope,
    ticket: Ticket,
    action: str,
    payload: dict[str, Any],
    *,
    by: tuple[int, str],
    since: str | None,
    at: dt.datetime,
) -> TicketEvent:
    """Add the ticket's history event for ``action`` to the scope (flushed by the caller):
    numbered by the ticket's version, from state ``since`` to its current one, ``by`` the
    actor's (user id, role), at ``at``."""
    event = TicketEvent(
        ticket_id=ticket.id,
        seq=ticket.version,
        action=action,
        from_state=since,
        to_state=ticket.state,
        actor_user_id=by[0],
        actor_role=by[1],
        at=at,
        payload=payload,
    )
    scope.add(event)
    return event


async def append_event(
    scope: TenantScope,
    ticket: Ticket,
    action: str,
    actor_user_id: int,
    role: str,
    payload: dict[str, Any],
    from_state: str | None = None,
    at: dt.datetime | None = None,
) -> TicketEvent:
    """Write the ticket's change and its history event together; the ticket's version moves
    on by one (a concurrent writer holding the old version gets 409). ``at`` stamps it
    (default: now; the sweep passes the instant it evaluates)."""
    now = at or utcnow()
    ticket.updated_at = now
    ticket.version = ticket.version + 1
    since = from_state or ticket.state
    event = add_event(scope, ticket, action, payload, by=(actor_user_id, role), since=since, at=now)
    try:
        await scope.flush()
    except StaleDataError as exc:
        raise Conflict(
            "the ticket changed since you read it; reload and retry",
            field="version",
            rule="must equal the ticket's current version",
        ) from exc
    return event
