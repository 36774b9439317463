"""HTTP routes for the caller, the tenant's people and taxonomy, plugins and the audit log.

The platform's tenant routes (``/api/tenants``) are :mod:`core.provisioning.api`."""

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.params import FromQuery, QueryParameter
from sqlalchemy import select

from core.audit import AuditEvent
from core.people.guards import requires, tenant_member
from core.people.models import Department, Staff
from core.people.roles import Role
from core.plugins import describe_plugins, hooks_for
from core.principal import Principal
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
async def me(request: Request[Any, Any, Any]) -> Me:
    """Who the bearer token authenticates, and in which tenant."""
    p: Principal = request.user
    return Me(
        username=p.username,
        roles=sorted(p.roles),
        tenant=p.tenant_slug,
        plugin=p.plugin,
        department_id=p.department_id,
        staff_id=p.staff_id,
    )


@get("/api/departments", operation_id="listDepartments", tags=["people"], guards=[tenant_member])
async def departments(request: Request[Any, Any, Any]) -> list[DepartmentOut]:
    p: Principal = request.user
    async with request.app.state.db.tenant(p.tenant_id) as scope:
        rows = await scope.scalars(select(Department).order_by(Department.code))
        return [DepartmentOut(code=d.code, name=d.name) for d in rows]


@get("/api/staff", operation_id="listStaff", tags=["people"], guards=[tenant_member])
async def staff(request: Request[Any, Any, Any]) -> list[StaffOut]:
    p: Principal = request.user
    async with request.app.state.db.tenant(p.tenant_id) as scope:
        depts = {d.id: d.code for d in await scope.scalars(select(Department))}
        rows = await scope.scalars(select(Staff).order_by(Staff.code))
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


@get("/api/taxonomy", operation_id="getTaxonomy", tags=["plugins"], guards=[tenant_member])
async def taxonomy(request: Request[Any, Any, Any]) -> Taxonomy:
    """The caller's tenant taxonomy, from its industry plugin."""
    p: Principal = request.user
    return hooks_for(p.plugin or "").taxonomy()


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
    guards=[tenant_member, requires(Role.TENANT_ADMIN, Role.MANAGER, Role.GENERAL_MANAGER)],
)
async def audit_log(
    request: Request[Any, Any, Any],
    entity: FromQuery[str | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
) -> list[AuditOut]:
    """Changes outside ticket transitions (people, fines, deadlines, calendar, pay, webhooks,
    breaches), newest first. Ticket transitions are in each ticket's history."""
    p: Principal = request.user
    async with request.app.state.db.tenant(p.tenant_id) as scope:
        q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if entity:
            q = q.where(AuditEvent.entity == entity)
        return [
            AuditOut(
                id=a.id,
                at=a.at,
                actor=a.actor,
                action=a.action,
                entity=a.entity,
                entity_key=a.entity_key,
                payload=a.payload,
            )
            for a in await scope.scalars(q)
        ]


ROUTES = [
    audit_log,
    me,
    departments,
    staff,
    taxonomy,
    plugins,
]
