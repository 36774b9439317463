"""Route guards: small functions, one rule each (raise Forbidden, never return False)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.errors import Forbidden
from core.people.auth import Principal
from core.people.roles import Role

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def requires(*roles: str) -> Guard:
    """Allow the route to principals holding any of ``roles``."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if principal.roles.isdisjoint(allowed):
            raise Forbidden(
                f"this needs one of the roles {sorted(allowed)}",
                rule="role",
                allowed_roles=sorted(allowed),
            )

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
        raise Forbidden(
            "this needs a platform operator",
            rule="role",
            allowed_roles=[Role.PLATFORM_OPERATOR.value],
        )
