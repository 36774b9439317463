"""HTTP routes of the platform operator for tenants: list them, create one from a tenant
document, update one (the same document as a ``tenants/*.toml`` file, applied by
:func:`core.provisioning.sync.sync_tenant`)."""

import msgspec
from litestar import get, post, put
from litestar.params import FromPath, JSONBody
from sqlalchemy import select

from core.context import DatabaseDep, PrincipalDep
from core.errors import Invalid
from core.people.guards import operator_only
from core.people.models import Tenant
from core.provisioning.sync import sync_tenant
from core.provisioning.tenant_file import TenantFile, TenantFileError, validate_references

PLATFORM_GUARDS = [operator_only]  # listTenants, createTenant (and the console's /platform)


class TenantOut(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    plugin: str
    ticket_prefix: str


# The platform's routes work across tenants (db, never one tenant's scope) under the router's
# guard, operator_only (core.routers.PLATFORM_API). listTenants and createTenant keep it on
# the route as well: the console's /platform page calls them by reference and runs only the
# handler's own guards (core.console.calls).


@get("/api/tenants", operation_id="listTenants", tags=["platform"], guards=PLATFORM_GUARDS)
async def list_tenants(db: DatabaseDep) -> list[TenantOut]:
    async with db.cross_tenant() as session:  # the platform operator sees every tenant
        rows = await session.scalars(select(Tenant).order_by(Tenant.slug))
        return [msgspec.convert(t, TenantOut, from_attributes=True) for t in rows]


def _tenant_doc(data: TenantFile) -> TenantOut:
    try:
        validate_references(data, "body")
    except TenantFileError as exc:
        raise Invalid(exc.template, field=exc.key, rule=exc.rule, params=exc.params) from exc
    return msgspec.convert(data, TenantOut, from_attributes=True)


@post(
    "/api/tenants",
    operation_id="createTenant",
    tags=["platform"],
    guards=PLATFORM_GUARDS,
    status_code=201,
)
async def create_tenant(
    db: DatabaseDep, principal: PrincipalDep, data: JSONBody[TenantFile]
) -> TenantOut:
    """Create a tenant from the same document as a ``tenants/*.toml`` file.

    Never overwrites: an existing slug is 409 (update with ``PUT /api/tenants/{slug}``), a
    ticket prefix another tenant holds is 409. Audited in the new tenant's audit log.
    """
    out = _tenant_doc(data)
    await sync_tenant(db, data, actor=f"user:{principal.user_id}", mode="create")
    return out


@put(
    "/api/tenants/{slug:str}",
    operation_id="updateTenant",
    tags=["platform"],
)
async def update_tenant(
    db: DatabaseDep, principal: PrincipalDep, slug: FromPath[str], data: JSONBody[TenantFile]
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
            "slug: the document's slug {given} differs from the path's {path}",
            field="slug",
            params={"given": repr(data.slug), "path": repr(slug)},
            rule="equals the path's slug",
        )
    out = _tenant_doc(data)
    await sync_tenant(db, data, actor=f"user:{principal.user_id}", mode="update")
    return out


ROUTES = [list_tenants, create_tenant, update_tenant]
