"""The Litestar application factory: all wiring in one place."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, get
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from sqlalchemy import select

from core.confidential import after_request as confidential_after_request
from core.confidential import remember_scope
from core.db import Database
from core.deadlines.api import ROUTES as DEADLINE_ROUTES
from core.errors import EXCEPTION_HANDLERS
from core.penalties.api import ROUTES as PENALTY_ROUTES
from core.people.api import ROUTES as PEOPLE_ROUTES
from core.people.auth import BearerAuth
from core.people.guards import conflict_of_interest
from core.people.models import Tenant
from core.reports.api import ROUTES as REPORT_ROUTES
from core.settings import Settings, load_settings
from core.tasks.api import ROUTES as TASK_ROUTES
from core.tickets.api import ROUTES as TICKET_ROUTES

PUBLIC = ["^/health", "^/docs", "^/schema"]


@get("/health", operation_id="health", tags=["ops"])
async def health(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Liveness and database check (503 when the database does not answer)."""
    db: Database = request.app.state.db
    try:
        async with db.cross_tenant() as session:
            await session.execute(select(Tenant.id).limit(1))
    except Exception as exc:  # the check's whole point is to report it
        from litestar.exceptions import HTTPException

        raise HTTPException(
            status_code=503, detail=f"database unavailable: {type(exc).__name__}"
        ) from exc
    return {"status": "ok", "database": db.dialect}


def create_app(
    settings: Settings | None = None, db: Database | None = None, background: bool = False
) -> Litestar:
    """The app. ``background`` runs the embedded worker, outbox relay and deadline sweep
    in-process (``tousu serve`` without Redis); tests drive those by hand."""
    settings = settings or load_settings()
    database = db or Database(settings.database_url)

    @asynccontextmanager
    async def _background(_: Litestar) -> AsyncIterator[None]:
        if not background:
            yield
            return
        from core.tasks.runtime import embedded

        async with embedded(database, settings):
            yield

    async def _dispose() -> None:
        if db is None:
            await database.dispose()

    app = Litestar(
        route_handlers=[
            health,
            *PEOPLE_ROUTES,
            *TICKET_ROUTES,
            *PENALTY_ROUTES,
            *DEADLINE_ROUTES,
            *TASK_ROUTES,
            *REPORT_ROUTES,
        ],
        middleware=[remember_scope, DefineMiddleware(BearerAuth, exclude=PUBLIC)],
        # Complainant confidentiality at the output boundary: one hook for every route
        after_request=confidential_after_request,
        # Nobody acts on a complaint that names them: one guard for every route
        guards=[conflict_of_interest],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="tousu — complaint handling API",
            version="0.1.0",
            path="/docs",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            description="Authenticate with `Authorization: Bearer <token>`.",
        ),
        on_shutdown=[_dispose],
        lifespan=[_background],
        debug=False,
        logging_config=None,
    )
    app.state.db = database
    app.state.settings = settings
    logging.getLogger("tousu").setLevel(logging.INFO)
    return app
