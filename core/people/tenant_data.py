"""The tenant's own static data, cached per process (:mod:`core.cache`): its plugin,
ticket-number prefix and zone, and its departments' codes and names — read on every intake,
listing and transition.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.cache import TenantMemo
from core.db import TenantScope
from core.people.models import Department, Tenant


@dataclass(frozen=True)
class TenantInfo:
    plugin: str
    ticket_prefix: str
    timezone: str  # the tenant's IANA zone: its calendar dates (ticket-number year) use it


async def _tenant_info(scope: TenantScope) -> TenantInfo:
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    return TenantInfo(
        plugin=tenant.plugin,
        ticket_prefix=tenant.ticket_prefix,
        timezone=tenant.timezone,
    )


async def _departments(scope: TenantScope) -> dict[int, tuple[str, str]]:
    rows = await scope.execute(select(Department.id, Department.code, Department.name))
    return {int(i): (code, name) for i, code, name in rows.all()}


TENANT = TenantMemo("tenant", _tenant_info, watch=(Tenant,), own_id=(Tenant,))
DEPARTMENTS = TenantMemo("departments", _departments, watch=(Tenant, Department), own_id=(Tenant,))


async def tenant_info(scope: TenantScope) -> TenantInfo:
    """The tenant's plugin (industry) name, ticket-number prefix and zone."""
    return await TENANT.get(scope)


async def plugin_name(scope: TenantScope) -> str:
    """The tenant's plugin (industry) name."""
    return (await tenant_info(scope)).plugin


async def departments(scope: TenantScope, refresh: bool = False) -> dict[int, tuple[str, str]]:
    """The tenant's departments: id → (code, name). ``refresh`` reads them again (a code
    not found may have been added by another process a moment ago)."""
    return await DEPARTMENTS.get(scope, refresh)


async def department_id(scope: TenantScope, code: str) -> int | None:
    """The id of the tenant's department ``code``, or None."""
    for refresh in (False, True):
        for i, (c, _) in (await departments(scope, refresh)).items():
            if c == code:
                return i
    return None
