"""HTTP routes for the caller, the tenant's people and taxonomy, plugins and the audit log.

The platform's tenant routes (``/api/tenants``) are :mod:`core.provisioning.api`."""

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.params import FromQuery, QueryParameter
from sqlalchemy import select

from core.audit import AuditEvent
from core.context import PrincipalDep, TenantScopeDep
from core.people.guards import requires
from core.people.models import Department, Staff
from core.people.roles import Role
from core.plugins import describe_plugins, hooks_for
from core.taxonomy import Taxonomy


class Me(msgspec.Struct, kw_only=True):
    username: str
    roles: list[str]
    tenant: str | None
    plugin: str | None
    department_id: int | None
    staff_id: int | None


class DepartmentOut(msgspec.Struct, kw_only=True):
    code: str
    name: str


class StaffOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    department: str | None
    position: str
    active: bool


@get("/api/me", operation_id="me", tags=["people"])
async def me(principal: PrincipalDep) -> Me:
    """Who the bearer token authenticates, and in which tenant."""
    return Me(
        username=principal.username,
        roles=sorted(principal.roles),
        tenant=principal.tenant_slug,
        plugin=principal.plugin,
        department_id=principal.department_id,
        staff_id=principal.staff_id,
    )


@get("/api/departments", operation_id="listDepartments", tags=["people"])
async def departments(tenant: TenantScopeDep) -> list[DepartmentOut]:
    rows = await tenant.scalars(select(Department).order_by(Department.code))
    return [msgspec.convert(d, DepartmentOut, from_attributes=True) for d in rows]


@get("/api/staff", operation_id="listStaff", tags=["people"])
async def staff(tenant: TenantScopeDep) -> list[StaffOut]:
    depts = {d.id: d.code for d in await tenant.scalars(select(Department))}
    rows = await tenant.scalars(select(Staff).order_by(Staff.code))
    return [
        StaffOut(
            code=x.code,
            name=x.name,
            department=depts.get(x.department_id or -1),
            position=x.position,
            active=x.active,
        )
        for x in rows
    ]


@get("/api/taxonomy", operation_id="getTaxonomy", tags=["plugins"])
async def taxonomy(principal: PrincipalDep) -> Taxonomy:
    """The caller's tenant taxonomy, from its industry plugin."""
    return hooks_for(principal.plugin or "").taxonomy()


@get("/api/plugins", operation_id="listPlugins", tags=["plugins"])
async def plugins() -> list[dict[str, Any]]:
    """Installed industry plugins: name, version, distribution and the hooks each implements."""
    return describe_plugins()


class AuditOut(msgspec.Struct, kw_only=True):
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_key: str
    payload: dict[str, Any]


@get(
    "/api/audit",
    operation_id="auditLog",
    tags=["people"],
    guards=[requires(Role.TENANT_ADMIN, Role.MANAGER, Role.GENERAL_MANAGER)],
)
async def audit_log(
    tenant: TenantScopeDep,
    entity: FromQuery[str | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
) -> list[AuditOut]:
    """Changes outside ticket transitions (people, fines, deadlines, calendar, pay, webhooks,
    breaches), newest first. Ticket transitions are in each ticket's history."""
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity:
        q = q.where(AuditEvent.entity == entity)
    return [msgspec.convert(a, AuditOut, from_attributes=True) for a in await tenant.scalars(q)]


TENANT_ROUTES = [audit_log, departments, staff, taxonomy]
"""For the tenant's members (:data:`core.routers.TENANT_API`)."""
OPEN_ROUTES = [me, plugins]
"""For any authenticated caller, the platform operator included (:data:`core.routers.OPEN_API`)."""
ROUTES = [*TENANT_ROUTES, *OPEN_ROUTES]
