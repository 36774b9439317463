"""Route guards: small functions, one rule each (raise Forbidden, never return False).

Two of them are wired for the whole app in :mod:`core.app` rather than per route, so a new
route cannot forget them: :func:`conflict_of_interest` here, and the confidentiality
boundary in :mod:`core.confidential`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import exists, or_, select

from core.attachments.models import Attachment
from core.deadlines.models import Extension
from core.errors import Forbidden
from core.penalties.models import Appeal, Penalty
from core.people.auth import Principal
from core.people.roles import Role, role_code, roles_text
from core.tickets.models import AccusedStaff, Ticket, TicketGrade

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Any]


def needs_role(roles: Iterable[object], what: str = "此操作") -> Forbidden:
    """The 403 for a caller holding none of ``roles``: a Chinese message naming each role by
    its label and code (``此操作需要以下角色之一：主管经理(manager)、总经理(general_manager)``),
    and ``allowed_roles`` as plain codes."""
    codes = sorted({role_code(r) for r in roles})
    return Forbidden(
        f"{what}需要以下角色之一：{roles_text(codes)}", rule="role", allowed_roles=codes
    )


def requires(*roles: str) -> Guard:
    """Allow the route to principals holding any of ``roles``."""
    allowed = frozenset(role_code(r) for r in roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if principal.roles.isdisjoint(allowed):
            raise needs_role(allowed)

    return guard


def tenant_member(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Tenant routes need a principal that belongs to a tenant (not a platform operator)."""
    principal: Principal = connection.user
    if principal.tenant_id is None:
        raise Forbidden(
            "此接口处理租户的数据，平台运营方不属于任何租户"
            "(this route works on a tenant's data; a platform operator has none)",
            rule="tenant member",
        )


def operator_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Platform routes: a platform operator, who belongs to no tenant (a tenant user holding
    the role by mistake must not reach other tenants)."""
    principal: Principal = connection.user
    if Role.PLATFORM_OPERATOR not in principal.roles or principal.tenant_id is not None:
        raise needs_role([Role.PLATFORM_OPERATOR], "此平台接口")


# ---------------------------------------------------------------- conflict of interest

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
     "action", "verb", "nid", "form_name", "message_id", "appraisal_id"}
)  # fmt: skip
"""Path parameters known not to lead to a ticket (``step`` travels with ``ticket_id``)."""

EXEMPT = "conflict_of_interest_exempt"
"""Route ``opt`` key: the route is the involved person's own right on the ticket (appealing
their own grade [000 §篇8 4(3)1]); its value says why. The service behind it acts only for
the caller's own grade."""

IN_SERVICE = "conflict_of_interest_in_service"
"""Route ``opt`` key: the service behind the route applies this same rule itself, in the
request's own transaction, before anything else (the lifecycle actions: see
:func:`core.tickets.service.transition`), which spares the guard its separate transaction."""

CONFLICT_MESSAGE = (
    "你是此投诉中被投诉或被定责的人员，不能处理此工单，请由他人处理"
    "(you are named in this complaint; someone else must handle it)"
)

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
    from core.tickets.service import visible  # service imports the routes' modules' models

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
    grade)."""
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
