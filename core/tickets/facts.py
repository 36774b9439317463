"""What a plugin sees of a ticket (values, never rows) and the tenant's plugin hooks."""

from __future__ import annotations

import datetime as dt

import msgspec

from core.db import TenantScope, utcnow
from core.people.tenant_data import plugin_name
from core.plugins import TenantHooks, hooks_for
from core.rules import TicketFacts
from core.tickets.models import Ticket


async def plugin_of(scope: TenantScope) -> TenantHooks:
    """The hooks of the scope's tenant plugin (the plugin name is cached per process:
    :mod:`core.people.tenant_data`)."""
    return hooks_for(await plugin_name(scope))


def facts_of(ticket: Ticket, now: dt.datetime | None = None) -> TicketFacts:
    """The value a plugin sees of a ticket (never the row itself)."""
    return TicketFacts(
        number=ticket.number,
        state=ticket.state,
        channel=ticket.channel,
        category=ticket.category,
        severity=ticket.severity,
        facets=dict(ticket.facets or {}),
        facts=dict(ticket.facts or {}),
        created_at=ticket.created_at,
        event_time=ticket.event_time,
        valid=ticket.valid,
        now=now or utcnow(),
    )


def reclassify_from_facts(hooks: TenantHooks, ticket: Ticket) -> None:
    """Store the plugin's reading of the ticket's facts (suggestions and flags)."""
    result = hooks.classify(facts_of(ticket))
    ticket.classification = msgspec.to_builtins(result)
    # A communicative complaint is no complaint whatever the industry's rule says
    # [000 §篇1 1(1)2)]: counted apart (core.reports.sql.not_counted_reason).
    ticket.counts_as_complaint = (
        False if ticket.communicative is not None else result.counts_as_complaint
    )
