"""The Litestar application factory: all wiring in one place."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from core import logs, metrics
from core.db import Database
from core.deadlines.api import ROUTES as DEADLINE_ROUTES
from core.errors import EXCEPTION_HANDLERS
from core.health import ROUTES as HEALTH_ROUTES
from core.notify.api import ROUTES as NOTIFY_ROUTES
from core.penalties.api import ROUTES as PENALTY_ROUTES
from core.people.api import ROUTES as PEOPLE_ROUTES
from core.people.auth import BearerAuth
from core.reports.api import ROUTES as REPORT_ROUTES
from core.settings import Settings, load_settings
from core.tasks.api import ROUTES as TASK_ROUTES
from core.tickets.api import ROUTES as TICKET_ROUTES

PUBLIC = ["^/health", "^/ready", "^/metrics", "^/docs", "^/schema"]


def create_app(
    settings: Settings | None = None, db: Database | None = None, background: bool = False
) -> Litestar:
    """The app. ``background`` runs the embedded worker, outbox relay and deadline sweep
    in-process (``tousu serve`` without Redis); tests drive those by hand."""
    settings = settings or load_settings()
    database = db or Database(settings.database_url)

    @asynccontextmanager
    async def _auth_invalidation(_: Litestar) -> AsyncIterator[None]:
        # With Redis, revocations reach this process's principal cache (core.people.auth).
        if not settings.redis_url:
            yield
            return
        from core.people.auth import listen, unlisten

        listener = listen(settings.redis_url, settings.redis_namespace)
        try:
            yield
        finally:
            unlisten(listener)

    @asynccontextmanager
    async def _background(_: Litestar) -> AsyncIterator[None]:
        if not background:
            yield
            return
        from core.tasks.runtime import embedded

        async with embedded(database):
            yield

    async def _dispose() -> None:
        if db is None:
            await database.dispose()

    app = Litestar(
        route_handlers=[
            *HEALTH_ROUTES,
            *PEOPLE_ROUTES,
            *TICKET_ROUTES,
            *PENALTY_ROUTES,
            *DEADLINE_ROUTES,
            *TASK_ROUTES,
            *REPORT_ROUTES,
            *NOTIFY_ROUTES,
        ],
        middleware=[
            logs.request_context,  # X-Request-ID, bound for every log line
            metrics.http_middleware(),  # latency by route template
            DefineMiddleware(BearerAuth, exclude=PUBLIC),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="tousu — complaint handling API",
            version="0.1.0",
            path="/docs",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            description="Authenticate with `Authorization: Bearer <token>`.",
        ),
        on_shutdown=[_dispose],
        before_send=[logs.before_send],  # echoes X-Request-ID, writes the access line
        lifespan=[_auth_invalidation, _background],
        debug=False,
        logging_config=None,
    )
    app.state.db = database
    app.state.settings = settings
    logging.getLogger("tousu").setLevel(logging.INFO)
    return app
