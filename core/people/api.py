"""HTTP routes for the caller, the tenant's people and taxonomy, plugins and tenants."""

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import Database
from core.errors import Invalid
from core.people.auth import Principal
from core.people.guards import operator_only, requires, tenant_member
from core.people.models import Department, Staff, Tenant
from core.people.roles import Role
from core.people.sync import sync_tenant
from core.people.tenant_file import TenantFile, TenantFileError, validate_references
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


class TenantOut(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    plugin: str
    ticket_prefix: str


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


@get("/api/tenants", operation_id="listTenants", tags=["platform"], guards=[operator_only])
async def list_tenants(request: Request[Any, Any, Any]) -> list[TenantOut]:
    db: Database = request.app.state.db
    async with db.cross_tenant() as session:  # the platform operator sees every tenant
        rows = await session.scalars(select(Tenant).order_by(Tenant.slug))
        return [
            TenantOut(slug=t.slug, name=t.name, plugin=t.plugin, ticket_prefix=t.ticket_prefix)
            for t in rows
        ]


def _tenant_doc(data: TenantFile) -> TenantOut:
    try:
        validate_references(data, "body")
    except TenantFileError as exc:
        raise Invalid(exc.rule, field=exc.key, rule=exc.rule) from exc
    return TenantOut(
        slug=data.slug, name=data.name, plugin=data.plugin, ticket_prefix=data.ticket_prefix
    )


@post(
    "/api/tenants",
    operation_id="createTenant",
    tags=["platform"],
    guards=[operator_only],
    status_code=201,
)
async def create_tenant(request: Request[Any, Any, Any], data: JSONBody[TenantFile]) -> TenantOut:
    """Create a tenant from the same document as a ``tenants/*.toml`` file.

    Never overwrites: an existing slug is 409 (update with ``PUT /api/tenants/{slug}``), a
    ticket prefix another tenant holds is 409. Audited in the new tenant's audit log.
    """
    out = _tenant_doc(data)
    p: Principal = request.user
    await sync_tenant(request.app.state.db, data, actor=f"user:{p.user_id}", mode="create")
    return out


@put(
    "/api/tenants/{slug:str}",
    operation_id="updateTenant",
    tags=["platform"],
    guards=[operator_only],
)
async def update_tenant(
    request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[TenantFile]
) -> TenantOut:
    """Update an existing tenant from a tenant document (the slug must match the path).

    Creates and changes the departments, staff and users the document names; staff and users
    it does not name are left as they are (deactivating people is the tenant files' job,
    ``tousu tenants sync``). 404 for an unknown slug; 409 for a ticket prefix another tenant
    holds or a plugin change on a tenant that has tickets. Every change is audited in the
    tenant's audit log with the operator as actor.
    """
    if data.slug != slug:
        raise Invalid(
            f"slug: 文档中的 slug {data.slug!r} 与路径中的 {slug!r} 不一致",
            field="slug",
            rule="equals the path's slug",
        )
    out = _tenant_doc(data)
    p: Principal = request.user
    await sync_tenant(request.app.state.db, data, actor=f"user:{p.user_id}", mode="update")
    return out


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
    list_tenants,
    create_tenant,
    update_tenant,
]
