"""The app-wide conflict-of-interest guard: nobody acts on a complaint that names them.

Composition, not an area (``docs/architecture.md``): the rule reads the rows of several areas
— tickets and their accused and graded staff, and the penalties, appeals, extensions and
files that belong to a ticket — and ticket visibility, so it sits above all of them and is
wired once for the whole app in :mod:`core.app`. A route exempts itself with the opt key
:data:`core.people.guards.EXEMPT`.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import exists, or_, select

from core.attachments.models import Attachment
from core.deadlines.models import Extension
from core.errors import Forbidden
from core.penalties.models import Appeal, Penalty
from core.people.guards import CONFLICT_MESSAGE, EXEMPT, IN_SERVICE
from core.principal import Principal
from core.tickets.models import AccusedStaff, Ticket, TicketGrade
from core.tickets.reading import visible

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

TICKET_REFS: dict[str, Any] = {
    "ticket_id": None,
    "penalty_id": Penalty,
    "appeal_id": Appeal,
    "extension_id": Extension,
    "attachment_id": Attachment,
}
"""Path parameters that name a ticket, or a row that belongs to one (its ``ticket_id``).
A new kind of ticket-owned row reached by id (a file, a note) is added here; the route-table
test fails until it is."""

NOT_TICKET_PARAMS = frozenset(
    {"notification_id", "webhook_id", "delivery_id", "rule", "staff_code", "period", "day",
     "step", "filename", "slug", "key_id", "user_id", "username", "session_id", "token_id",
     "action", "verb", "nid", "form_name", "message_id", "appraisal_id", "view_id", "kind"}
)  # fmt: skip
"""Path parameters known not to lead to a ticket (``step`` travels with ``ticket_id``)."""

MAX_ID = 2**31 - 1


def ticket_ref(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str, int] | None:
    """The path parameter through which a request reaches a ticket, and its value."""
    params = connection.path_params or {}
    for name in TICKET_REFS:
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return name, value
    return None


async def involved_in(db: Any, principal: Principal, param: str, value: int) -> bool:
    """Whether the ticket reached through ``param=value`` names or grades the principal (and
    the principal can see it: a ticket out of sight answers 404 from the route itself)."""
    if principal.staff_id is None or not 0 < value <= MAX_ID:
        return False
    model = TICKET_REFS[param]
    tid = (
        value
        if model is None
        else select(model.ticket_id).where(model.id == value).scalar_subquery()
    )
    sid = principal.staff_id
    q = select(Ticket.id).where(
        Ticket.id == tid,
        visible(principal),
        or_(
            exists().where(AccusedStaff.ticket_id == Ticket.id, AccusedStaff.staff_id == sid),
            exists().where(TicketGrade.ticket_id == Ticket.id, TicketGrade.staff_id == sid),
        ),
    )
    async with db.tenant(principal.tenant_id) as scope:
        return await scope.scalar(q) is not None


async def conflict_of_interest(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """A person named in a complaint (as accused staff, or graded on it), whatever other role
    they hold, takes no action on that ticket — its lifecycle, clocks, pauses, extensions,
    penalties, appeals or files — through any route that changes something (domain §7: the
    complainant is protected against retaliation [002 《供电局客户投诉举报管理办法》第二条];
    nobody judges their own case). Wired once for the whole app; reading routes pass.
    The one exemption is a route marked with :data:`EXEMPT` (filing an appeal on one's own
    grade); a route marked :data:`IN_SERVICE` (the lifecycle actions) has its service apply
    this rule first, in the request's own transaction."""
    if connection.scope.get("method") not in MUTATING:
        return
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal) or principal.tenant_id is None:
        return
    opt = handler.opt or {}
    if principal.staff_id is None or opt.get(EXEMPT) or opt.get(IN_SERVICE):
        return
    ref = ticket_ref(connection)
    if ref is None:
        return
    if await involved_in(connection.app.state.db, principal, *ref):
        raise Forbidden(CONFLICT_MESSAGE, rule="conflict of interest")
