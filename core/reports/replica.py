"""Where reports read: the reports database (``TOUSU_REPORTS_DATABASE_URL``, a streaming
replica) when set, else the primary.

Statistics, KPIs, the bulletin, exports, charts and the report pack read a month of rows;
on a replica they take nothing from intake and decisions, which stay on the primary. A
replica is behind by its replication lag: every answer read there carries
``X-Replica-Lag: <seconds>`` (0 when it has replayed all it received; the age of its last
replayed transaction otherwise), so a reader can tell a figure that may miss the last
seconds. Writes a report causes (the pack's on-time record) go to the primary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.di import NamedDependency, Provide
from litestar.types import Message, Scope
from sqlalchemy import case, func, select

from core.db import Database, TenantScope
from core.principal import Principal

LAG_HEADER = "X-Replica-Lag"
_LAG = "tousu.replica_lag"

LAG_SECONDS = select(
    case(
        (~func.pg_is_in_recovery(), 0.0),
        (func.pg_last_wal_receive_lsn() == func.pg_last_wal_replay_lsn(), 0.0),
        else_=func.coalesce(
            func.extract("epoch", func.now() - func.pg_last_xact_replay_timestamp()), 0.0
        ),
    )
)
"""Seconds the server is behind its primary (0 on a primary, or a caught-up standby)."""


def reports_database(request: Request[Any, Any, Any]) -> Database:
    """The database reports read: ``app.state.reports_db`` when configured, else the app's."""
    db = getattr(request.app.state, "reports_db", None) or request.app.state.db
    assert isinstance(db, Database)
    return db


@asynccontextmanager
async def reading(
    request: Request[Any, Any, Any], principal: Principal
) -> AsyncIterator[TenantScope]:
    """The caller's tenant scope on the reports database — a second database, hence not the
    request's ``tenant`` dependency (which is the primary's); on a separate PostgreSQL one,
    the lag is read in the same transaction and answered in :data:`LAG_HEADER`. A principal
    of no tenant is refused as the ``tenant`` dependency refuses it (403 ``tenant member``)."""
    tenant_id = principal.require_tenant()
    db = reports_database(request)
    async with db.tenant(tenant_id) as scope:
        if db is not request.app.state.db and db.dialect == "postgresql":
            lag = float(await scope.scalar(LAG_SECONDS) or 0.0)
            # an extension key of the ASGI scope, read back by lag_header below
            request.scope[_LAG] = lag  # type: ignore[literal-required]  # Scope is a TypedDict
        yield scope


async def provide_report(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> AsyncIterator[TenantScope]:
    """The ``report`` dependency: :func:`reading` as the route's unit of work (opened before
    the handler, closed after its answer is built)."""
    async with reading(request, principal) as scope:
        yield scope


REPORT = {"report": Provide(provide_report)}
"""The reports router's dependencies."""
ReportScopeDep = NamedDependency[TenantScope]
"""A handler's ``report`` parameter: the caller's read scope on the reports database."""


async def lag_header(message: Message, scope: Scope) -> None:
    """``before_send`` hook: add :data:`LAG_HEADER` to an answer read on the replica."""
    lag = scope.get(_LAG)
    if lag is not None and message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[LAG_HEADER] = f"{lag:.3f}"
