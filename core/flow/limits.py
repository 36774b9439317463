"""Per-ticket limits shorter than the plugin's table (issue 12 §1).

Two moments set one: the complainant's own deadline at intake, for the severities the plugin
allows it (one desk's minor complaints: "不超过2天内或在客户要求的期限内解决"
[000 §篇1 4(4)3②]), and the leader's limit when a more serious complaint is dispatched
("由分管领导…并限定时间要求进行处理" [000 §篇6 4.2.3e]). Either is stored as
``Ticket.resolve_by`` and caps the resolution and reply clocks
(:func:`core.deadlines.engine.capped`): it shortens, never lengthens.

Decision (domain §9): a limit that would end after the table's clock is refused (422) rather
than silently ignored — the desk would otherwise promise the complainant a date the system
does not hold it to.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core.db import TenantScope
from core.deadlines import engine as deadlines
from core.deadlines.models import OPEN, StepClock
from core.errors import Invalid
from core.plugins import TenantHooks
from core.tickets.models import Ticket


async def _table_due(
    scope: TenantScope, hooks: TenantHooks, ticket: Ticket, at: dt.datetime
) -> dt.datetime | None:
    """When the ticket's resolution is due by the table: its running clock's due time, else
    the table's limit counted from ``at`` (the clock starts at registration, later)."""
    running = await scope.scalar(
        select(StepClock.due_at).where(
            StepClock.ticket_id == ticket.id,
            StepClock.step == "resolution",
            StepClock.state.in_(OPEN),
        )
    )
    if running is not None:
        return running
    limit = await deadlines.limit_for(scope, hooks.deadlines(), "resolution", ticket.severity, at)
    if limit is None:
        return None
    cal = await deadlines.calendar_for(scope)
    amount, unit, _ = deadlines.capped(cal, ticket, "resolution", at, limit)
    return deadlines.due_or_estimate(cal, at, amount, unit)


async def check(
    scope: TenantScope,
    hooks: TenantHooks,
    ticket: Ticket,
    by: dt.datetime,
    at: dt.datetime,
    field: str,
    allowed: tuple[str, ...],
    refusal: str,
) -> None:
    """Raise :class:`Invalid` naming ``field`` unless ``by`` may shorten the ticket's clock.

    Rules, in order: the ticket's severity is one of ``allowed`` (the plugin's table); ``by``
    is in the future; ``by`` is before the resolution due time the table (or an earlier
    per-ticket limit) gives. ``refusal``: the error template for a severity not in
    ``allowed`` (which limit it is; ``{severities}`` gets ``allowed``).
    """
    if ticket.severity not in allowed:
        raise Invalid(
            refusal,
            field=field,
            rule="severity allows a per-ticket limit",
            params={"severities": ", ".join(allowed) or "(none)"},
            allowed=list(allowed),
        )
    if by <= at:
        raise Invalid(
            "{field} is in the past",
            field=field,
            rule="a per-ticket limit is in the future",
            params={"field": field},
        )
    due = await _table_due(scope, hooks, ticket, at)
    if due is not None and by >= due:
        raise Invalid(
            "{field} {by} would lengthen the limit (due {due})",
            field=field,
            rule="a per-ticket limit only shortens the table's",
            params={"field": field, "by": by, "due": due},
            due_at=due.isoformat(),
        )


PROMISE_STEPS = ("resolution", "reply")


async def check_promise(
    scope: TenantScope, hooks: TenantHooks, ticket: Ticket, by: dt.datetime, at: dt.datetime
) -> None:
    """The upper bound of an interim answer's ``promised_by`` (明确答复 [000 §篇1 4(4)9]).

    The answer tells the complainant by when the result comes; the result is due when the
    ticket's running resolution or reply clock says (extensions included: an approved
    extension moves it), so a later date would promise what no clock holds anyone to
    (issue 23 §8). Bound: the latest due time of those running clocks, else the table's
    resolution limit counted from now. 422 naming ``promised_by`` with ``due_at``."""
    due = await scope.scalar(
        select(func.max(StepClock.due_at)).where(
            StepClock.ticket_id == ticket.id,
            StepClock.step.in_(PROMISE_STEPS),
            StepClock.state.in_(OPEN),
        )
    )
    if due is None:
        due = await _table_due(scope, hooks, ticket, at)
    if due is None:
        return
    due = due if due.tzinfo is not None else due.replace(tzinfo=dt.UTC)
    if by > due:
        raise Invalid(
            "promised_by {by} is after the result is due ({due}): ask for an extension first",
            params={"by": by, "due": due},
            field="promised_by",
            rule="not later than the resolution's due time",
            due_at=due.isoformat(),
        )
