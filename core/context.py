"""What a route handler takes from the request, resolved once by Litestar.

Handlers name what they need as parameters and Litestar provides it (registered on the app
in :func:`core.app.create_app`; resolved only for a handler that asks):

- ``principal``: who asks (:class:`core.principal.Principal`, set by the auth middleware);
- ``tenant``: the caller's tenant as one unit of work (:class:`core.db.TenantScope`). The
  transaction begins when the handler is called and commits after its answer is built —
  before the answer is sent, so a failed commit is an error answer, never a 200 for a
  change that did not land; an exception rolls everything back. A state change and its
  audit event therefore land together or not at all. Work that must follow the commit
  (metrics, a wake-up to the worker) goes in :meth:`core.db.TenantScope.after_commit`;
- ``settings``: the :class:`core.settings.Settings` given to ``create_app`` (never re-read
  from the environment in a request);
- ``db``: the :class:`core.db.Database`, for the few platform paths that work across
  tenants.

Guards per surface live on the routers (:mod:`core.routers`): the tenant API's routes are
for tenant members, the platform API's for the platform operator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from typing import Any, cast

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.types import ASGIApp, Receive, Scope, Send

from core.db import Database, TenantScope
from core.principal import Principal
from core.settings import Settings


def request_values(app: ASGIApp, values: Callable[[Scope], dict[ContextVar[Any], Any]]) -> ASGIApp:
    """ASGI middleware: each request runs with the context variables ``values(scope)`` names
    set to their values (each request runs in its own task, so each sees its own)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        tokens = [(var, var.set(value)) for var, value in values(scope).items()]
        try:
            await app(scope, receive, send)
        finally:
            for var, token in reversed(tokens):
                var.reset(token)

    return middleware


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The authenticated principal."""
    user = request.user
    assert isinstance(user, Principal)  # the auth middleware sets nothing else
    return user


def provide_db(request: Request[Any, Any, Any]) -> Database:
    db = request.app.state.db
    assert isinstance(db, Database)
    return db


def provide_settings(request: Request[Any, Any, Any]) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


async def provide_tenant(request: Request[Any, Any, Any]) -> AsyncIterator[TenantScope]:
    """The caller's tenant scope: commits after the handler answers, rolls back on an error.

    Raises :class:`core.errors.Forbidden` (403, rule ``tenant member``) for a principal of
    no tenant (the platform operator)."""
    tenant_id = provide_principal(request).require_tenant()
    state = cast(dict[str, Any], request.scope)
    async with provide_db(request).tenant(tenant_id) as scope:
        # The answer is built (and the confidentiality hook reads) before this commits: they
        # read through this same open transaction (:func:`open_scope`) — on SQLite a second
        # one would wait for this writer's lock.
        state[_OPEN] = scope
        try:
            yield scope
        finally:
            state.pop(_OPEN, None)


_OPEN = "tousu.tenant_scope"


def open_scope(asgi_scope: Any, tenant_id: int) -> TenantScope | None:
    """The request's open tenant scope for ``tenant_id``, while its handler's unit of work is
    still open (the after-request hook runs before the commit); else None."""
    scope = asgi_scope.get(_OPEN) if isinstance(asgi_scope, dict) else None
    if isinstance(scope, TenantScope) and scope.tenant_id == tenant_id:
        return scope
    return None


DEPENDENCIES: dict[str, Provide] = {
    "principal": Provide(provide_principal, sync_to_thread=False),
    "tenant": Provide(provide_tenant),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "db": Provide(provide_db, sync_to_thread=False),
}
"""Registered once on the app; a handler asks for any of them by name."""

TenantScopeDep = NamedDependency[TenantScope]
"""``tenant: TenantScopeDep`` — the caller's tenant scope (:func:`provide_tenant`)."""
PrincipalDep = NamedDependency[Principal]
"""``principal: PrincipalDep`` — who asks."""
SettingsDep = NamedDependency[Settings]
"""``settings: SettingsDep`` — the app's settings."""
DatabaseDep = NamedDependency[Database]
"""``db: DatabaseDep`` — the database, for platform paths across tenants."""
