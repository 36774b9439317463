"""The Litestar application factory: all wiring in one place."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp

from core import logs, metrics, plugins
from core.attachments.storage import open_store
from core.confidential import after_request as confidential_after_request
from core.confidential import remember_scope
from core.conflict_of_interest import conflict_of_interest
from core.console import docs as api_docs
from core.console import wiring
from core.console.safety import security_headers
from core.context import DEPENDENCIES, request_values
from core.db import Database, EngineOptions, read_only
from core.errors import EXCEPTION_HANDLERS
from core.openapi import document
from core.query_params import known_query_only
from core.reports.replica import lag_header as replica_lag_header
from core.routers import SURFACES
from core.settings import Settings, in_request, load_settings, use
from core.strict import check_request

PUBLIC = ["^/health", "^/ready", "^/metrics", "^/docs", "^/schema"]
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_state(app: ASGIApp) -> ASGIApp:
    """Per request: whether it only reads, for the database layer (SQLite begins its
    transactions DEFERRED; writers begin IMMEDIATE: see :data:`core.db.read_only`), and
    this app's settings as :func:`core.settings.current` (two apps in one process each
    see their own)."""
    return request_values(
        app,
        lambda scope: {
            read_only: scope.get("method") in READS,
            in_request: scope["litestar_app"].state.settings,
        },
    )


def create_app(
    settings: Settings | None = None, db: Database | None = None, background: bool = False
) -> Litestar:
    """The app. ``background`` runs the embedded worker, outbox relay and deadline sweep
    in-process (``tousu serve`` without Redis); tests drive those by hand. ``settings``: the
    environment's when not given; made the process's (:func:`core.settings.use`)."""
    settings = use(settings or load_settings())
    plugins.manager()  # a plugin's misspelled hook stops start-up here (PluginHookError)
    options = EngineOptions.from_settings(settings)  # pool, pooler, JIT: TOUSU_DB_*
    database = db or Database(settings.database_url, options)
    # reports read a replica when one is configured (core.reports.replica)
    reports_db = (
        Database(settings.reports_database_url, options) if settings.reports_database_url else None
    )

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
        from core.jobs.runtime import embedded

        async with embedded(database, settings):
            yield

    async def _dispose() -> None:
        if db is None:
            await database.dispose()
        if reports_db is not None:
            await reports_db.dispose()
        close = getattr(console.stores.get("sessions"), "close", None)
        if close is not None:  # the session store's Redis client
            await close()

    console = wiring(settings, database, PUBLIC)
    app = Litestar(
        route_handlers=[
            *console.routes,
            *SURFACES,
        ],
        middleware=[
            security_headers,  # CSP, no-store, nosniff… on every answer (core.console.safety)
            logs.request_context,  # X-Request-ID, bound for every log line
            metrics.http_middleware(),  # latency by route template
            remember_scope,  # the request's scope for the confidentiality hook
            request_state,  # SQLite: readers begin DEFERRED; current() is this app's settings
            *console.middleware,  # session → CSRF (browsers) → bearer or session auth
        ],
        dependencies=DEPENDENCIES,  # principal, tenant, settings, db (core.context)
        stores=console.stores,
        template_config=console.template_config,
        plugins=console.plugins,
        # Complainant confidentiality at the output boundary: one hook for every route
        after_request=confidential_after_request,
        # Nobody acts on a complaint that names them; no unknown query parameter passes
        guards=[conflict_of_interest, known_query_only],
        exception_handlers=console.exception_handlers(EXCEPTION_HANDLERS),
        before_request=check_request,
        openapi_config=OpenAPIConfig(
            title="tousu — complaint handling API",
            version="0.1.0",
            path="/docs",
            render_plugins=[api_docs.swagger(["/", "/swagger"])],  # offline: assets served here
            components=api_docs.components(),
            security=api_docs.SECURITY,
            description="Authenticate with `Authorization: Bearer <token>` (machines) or the "
            "console's session cookie (people; log in at `/login`).",
        ),
        on_shutdown=[_dispose, console.throttle.close],
        # echoes X-Request-ID, writes the access line; the replica's lag on reports
        before_send=[logs.before_send, replica_lag_header],
        lifespan=[_auth_invalidation, _background],
        debug=False,
        logging_config=None,
    )
    document(app)
    app.state.db = database
    app.state.reports_db = reports_db  # None: reports read the primary
    app.state.throttle = console.throttle
    app.state.settings = settings
    app.state.store = open_store(settings)  # attachments' bytes (core.attachments.storage)
    logging.getLogger("tousu").setLevel(logging.INFO)
    return app
