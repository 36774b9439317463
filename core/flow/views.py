"""Saved queue views: a named set of the list's filters and sort (issue 20 §1).

A view is the query string of ``GET /api/tickets`` (and of the console's queue ``/``),
stored by name: a user's own views (``user_id`` set) and the tenant's shared views
(``user_id`` NULL), which only a tenant admin creates or deletes. Everyone in the tenant
sees the shared views; each user sees only their own. Opening a view is opening its URL, so
what it shows is always the reader's own view of the tickets (:mod:`core.flow.listing`).

Routes: ``GET /api/views`` (``listViews``), ``POST /api/views`` (``createView``, 201),
``DELETE /api/views/{view_id}`` (``deleteView``, 204). Each change writes an
:class:`core.audit.AuditEvent` in its transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

import msgspec
from litestar import delete, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta
from sqlalchemy import ForeignKey, Index, String, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from core.audit import AuditEvent
from core.context import PrincipalDep, TenantScopeDep
from core.db import Base, TenantScope, TenantScoped, utcnow
from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.flow import listing
from core.people.roles import Role
from core.principal import Principal
from core.tickets.schemas import from_row

TAGS = ["tickets"]
KEYS = (
    "state", "category", "severity", "department", "owner", "mine", "due", "channel", "sort", "q",
)  # fmt: skip
"""The list parameters a view may hold."""
PAGING = frozenset({"offset", "limit", "cursor", "total", "page", "lang"})
"""Parameters of where one stands in a list, not of the view: dropped when saving."""
MAX_VIEWS = 50
"""Per user, and shared per tenant: a view list is a menu, not a store."""


class SavedView(TenantScoped, Base):
    """One named queue view; ``user_id`` NULL = shared with the whole tenant."""

    __tablename__ = "saved_views"
    __table_args__ = (Index("ix_saved_views_tenant_user", "tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ViewIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    query: Annotated[str, Meta(max_length=1000)]
    """The list's query string, e.g. ``state=dispatched&sort=due&mine=true``."""
    shared: bool = False
    """Shared with the whole tenant (tenant admins only)."""


class ViewOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    query: str
    shared: bool
    mine: bool
    """Whether the reader may delete it."""


def normalise(query: str) -> str:
    """The query string with only :data:`KEYS`, empty values and :data:`PAGING` dropped, in
    a fixed order. Raises Invalid (422, field ``query``) on another parameter."""
    pairs = [
        (k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=True) if k not in PAGING
    ]
    unknown = sorted({k for k, _ in pairs if k not in KEYS})
    if unknown:
        raise Invalid(
            "a view cannot hold {keys}",
            field="query",
            rule="only " + ", ".join(KEYS),
            params={"keys": ", ".join(unknown)},
        )
    kept = {k: v.strip() for k, v in pairs if v.strip()}
    return urlencode([(k, kept[k]) for k in KEYS if k in kept])


async def _check_query(scope: TenantScope, query: str) -> None:
    """The view's whole query string, read by the list's own parser
    (:func:`core.flow.listing.parse`): a value the list would refuse is refused here (422,
    field ``query``), so a saved view never opens onto an error."""
    params = dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    try:
        parsed, _, _ = listing.parse(params)
        await listing.validate(scope, parsed)
    except Invalid as exc:
        raise Invalid(
            "the view's query is not a valid list query: {why}",
            field="query",
            rule=f"{exc.field}: {exc.rule}",
            params={"why": exc},  # the list's own error, written in the reader's language
        ) from None


def _out(v: SavedView, p: Principal) -> ViewOut:
    shared = v.user_id is None
    mine = (v.user_id == p.user_id) or (shared and p.has(Role.TENANT_ADMIN))
    return from_row(v, ViewOut, shared=shared, mine=mine)


def _audit(scope: TenantScope, p: Principal, action: str, v: SavedView) -> None:
    payload = {"name": v.name, "query": v.query, "shared": v.user_id is None}
    scope.add(
        AuditEvent(
            actor=f"user:{p.user_id}",
            action=action,
            entity="saved_view",
            entity_key=str(v.id),
            payload=payload,
        )
    )


async def views_in(scope: TenantScope, p: Principal) -> list[ViewOut]:
    """The reader's own views, then the tenant's shared ones, each by name."""
    rows = await scope.scalars(
        select(SavedView)
        .where(or_(SavedView.user_id == p.user_id, SavedView.user_id.is_(None)))
        .order_by(SavedView.user_id.is_(None), SavedView.name)
    )
    return [_out(v, p) for v in rows]


@get("/api/views", operation_id="listViews", tags=TAGS)
async def list_views(tenant: TenantScopeDep, principal: PrincipalDep) -> list[ViewOut]:
    """The caller's saved queue views, then the tenant's shared ones (by name)."""
    return await views_in(tenant, principal)


@post("/api/views", operation_id="createView", tags=TAGS, status_code=201)
async def create_view(
    tenant: TenantScopeDep, principal: PrincipalDep, data: JSONBody[ViewIn]
) -> ViewOut:
    """Save a queue view under a name. ``shared`` (tenant admins only; 403 otherwise) shows
    it to everyone in the tenant. The query keeps only the list's filters and sort (422 on
    another parameter); a second view of the same name for the same owner is a 409."""
    p = principal
    if data.shared and not p.has(Role.TENANT_ADMIN):
        raise Forbidden("only a tenant admin shares views", field="shared", rule="tenant admin")
    name = data.name.strip()
    if not name:
        raise Invalid("name: required", field="name", rule="required")
    query = normalise(data.query)
    owner = None if data.shared else p.user_id
    await _check_query(tenant, data.query)
    same = SavedView.user_id.is_(None) if owner is None else SavedView.user_id == owner
    names = list(await tenant.scalars(select(SavedView.name).where(same)))
    if name in names:
        raise Conflict(
            "a view named {name} exists",
            field="name",
            rule="unique name",
            params={"name": repr(name)},
        )
    if len(names) >= MAX_VIEWS:
        raise Invalid("too many views", field="name", rule=f"at most {MAX_VIEWS}")
    view = SavedView(user_id=owner, name=name, query=query)
    tenant.add(view)
    await tenant.session.flush()
    _audit(tenant, p, "view.create", view)
    return _out(view, p)


@delete("/api/views/{view_id:int}", operation_id="deleteView", tags=TAGS, status_code=204)
async def delete_view(
    tenant: TenantScopeDep, principal: PrincipalDep, view_id: FromPath[int]
) -> None:
    """Delete one of the caller's views, or (tenant admin) a shared one; 404 otherwise."""
    view = await tenant.scalar(select(SavedView).where(SavedView.id == view_id))
    if view is None or not _out(view, principal).mine:
        raise NotFound("view {id} not found", field="view_id", params={"id": view_id})
    _audit(tenant, principal, "view.delete", view)
    await tenant.session.delete(view)


ROUTES = [list_views, create_view, delete_view]
