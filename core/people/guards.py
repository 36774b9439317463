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

from core.error_text import ZH, fill, translations
from core.errors import N_, Forbidden
from core.people.roles import Role, role_code, roles_text
from core.principal import Principal

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Any]


ROLE_TEMPLATE = N_("{what} needs one of the roles: {roles}")


class RoleRequired(Forbidden):
    """403 for a caller holding none of the roles: in English ``{what}`` is ``this`` and
    ``{roles}`` the codes; in Chinese ``{what}`` is the action's Chinese name and each role
    is named by its label with its code (``主管经理(manager)``)."""

    def __init__(self, codes: list[str], what_zh: str) -> None:
        super().__init__(
            ROLE_TEMPLATE,
            rule="role",
            params={"what": "this", "roles": ", ".join(codes)},
            allowed_roles=codes,
        )
        self.what_zh = what_zh

    def localised(self, lang: str) -> str:
        if lang != ZH:
            return super().localised(lang)
        zh = translations().get(self.template, self.template)
        return fill(zh, {"what": self.what_zh, "roles": roles_text(self.extra["allowed_roles"])})


def needs_role(roles: Iterable[object], what: str = "此操作") -> Forbidden:
    """The 403 for a caller holding none of ``roles``: in Chinese the action ``what`` (its
    Chinese name) and each role by its label and code
    (``此操作需要以下角色之一：主管经理(manager)、总经理(general_manager)``), in English
    ``this needs one of the roles: general_manager, manager``; ``allowed_roles`` as plain
    codes."""
    return RoleRequired(sorted({role_code(r) for r in roles}), what)


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
    connection.user.require_tenant()


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
