"""Route guards about who the caller is: small functions, one rule each (raise Forbidden,
never return False).

Two rules that read tickets are wired for the whole app in :mod:`core.app` rather than per
route, so a new route cannot forget them: the conflict-of-interest guard
(:mod:`core.conflict_of_interest`) and the confidentiality boundary
(:mod:`core.confidential`). Both sit above the areas whose rows they read; only the route
mark :data:`EXEMPT` lives here, where every area's routes can name it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.errors import Forbidden
from core.people.auth import Principal
from core.people.roles import Role, role_code, roles_text

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
            "this route works on a tenant's data; a platform operator has none",
            rule="tenant member",
        )


def operator_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Platform routes: a platform operator, who belongs to no tenant (a tenant user holding
    the role by mistake must not reach other tenants)."""
    principal: Principal = connection.user
    if Role.PLATFORM_OPERATOR not in principal.roles or principal.tenant_id is not None:
        raise needs_role([Role.PLATFORM_OPERATOR], "此平台接口")


EXEMPT = "conflict_of_interest_exempt"
"""Route ``opt`` key: the route is the involved person's own right on the ticket (appealing
their own grade [000 §篇8 4(3)1]); its value says why. The service behind it acts only for
the caller's own grade. Read by :func:`core.conflict_of_interest.conflict_of_interest`."""

IN_SERVICE = "conflict_of_interest_in_service"
"""Route ``opt`` key: the service behind the route applies this same rule itself, in the
request's own transaction, before anything else (the lifecycle actions: see
:func:`core.flow.service.transition`), which spares the guard its separate transaction."""

CONFLICT_MESSAGE = (
    "你是此投诉中被投诉或被定责的人员，不能处理此工单，请由他人处理"
    "(you are named in this complaint; someone else must handle it)"
)
