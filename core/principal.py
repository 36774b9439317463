"""Who asks: the authenticated principal every handler and service receives.

Kernel: a plain value (user, roles, tenant, plugin, department, staff), made by the people
area's authentication (:mod:`core.people.auth`) and read by every area.
"""

from __future__ import annotations

import msgspec

from core.errors import Forbidden
from core.settings import DEFAULT_TIMEZONE


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    username: str
    roles: frozenset[str]
    tenant_id: int | None
    tenant_slug: str | None
    plugin: str | None
    department_id: int | None
    staff_id: int | None
    timezone: str = DEFAULT_TIMEZONE
    """The tenant's IANA zone (``Tenant.timezone``): times in its messages are read in it."""

    def require_tenant(self) -> int:
        """The principal's tenant id; :class:`core.errors.Forbidden` (403, rule ``tenant
        member``) for a principal of no tenant (the platform operator) — the one home of that
        refusal (the tenant API's guard, the ``tenant`` and ``report`` dependencies, bulk)."""
        if self.tenant_id is None:
            raise Forbidden(
                "this route works on a tenant's data; a platform operator has none",
                rule="tenant member",
            )
        return self.tenant_id

    def has(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def role_for(self, allowed: frozenset[str]) -> str | None:
        """The role under which the principal may act (recorded on audit events)."""
        for role in sorted(self.roles & allowed):
            return role
        return None
