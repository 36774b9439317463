"""Liveness and readiness, for load balancers and process supervisors.

* ``GET /health`` — the process answers (no I/O at all): 200 ``{"status": "ok"}``.
* ``GET /metrics`` — Prometheus metrics (:mod:`core.metrics`).
* ``GET /ready?scope=host`` — the load balancer's check: this host can serve (the database
  answers, its schema is at the migrations' head); nothing shared by every host (Redis).
* ``GET /ready`` — the full report: the database, Redis answering ``PING`` when
  ``REDIS_URL`` is set, the reports database when set, and warnings when a failover could
  lose acknowledged writes (no synchronous standby). 200 with each check ``"ok"``; 503
  naming the failing check otherwise. Each check is one round trip with a short timeout, so
  probing every second costs nothing noticeable.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
from functools import cache
from typing import Annotated, Any, Literal

from litestar import Request, Response, get
from litestar.params import QueryParameter
from sqlalchemy import column, func, select, table

from core import metrics
from core.context import DatabaseDep, SettingsDep
from core.db import Database, utcnow
from core.errors import Unauthorized
from core.notify.models import OutboundMessage
from core.reports.replica import reports_database
from core.tasks.models import OutboxEvent

TIMEOUT_SECONDS = 2.0
VERSION = table("alembic_version", column("version_num"))
"""Alembic's bookkeeping table (not a tenant table: no scope applies)."""


@cache
def migration_heads() -> frozenset[str]:
    """The revision(s) the code expects (read once from the migration scripts)."""
    from alembic.script import ScriptDirectory

    from core.migrate import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


@get("/health", operation_id="health", tags=["ops"])
async def health(db: DatabaseDep) -> dict[str, Any]:
    """Liveness: the process answers. Touches nothing; see ``/ready`` for dependencies."""
    return {"status": "ok", "database": db.dialect}


async def _database(db: Database) -> str:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(select(VERSION.c.version_num))).all()
    current = frozenset(r[0] for r in rows)
    if current != migration_heads():
        have = ",".join(sorted(current)) or "none"
        want = ",".join(sorted(migration_heads()))
        raise RuntimeError(f"migrations at {have}, code expects {want}: run `tousu migrate`")
    return "ok"


async def _redis(url: str) -> str:
    from core.redis_clients import client as redis_client

    client = redis_client(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=1)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return "ok"


async def replication_warnings(db: Database) -> list[str]:
    """Why a failover of this primary could lose acknowledged writes (empty: it cannot).

    PostgreSQL only (SQLite: ``[]``). Warns when ``synchronous_standby_names`` is empty (a
    commit is acknowledged before any standby has it: a promoted standby lacks the last
    ones, and their ids are handed out again), when ``synchronous_commit`` is ``off`` or
    ``local`` (the same for our transactions), and — when the role may see
    ``pg_stat_replication`` (``pg_monitor``) — when no synchronous standby is connected
    (commits then wait). docs/deployment.md, "Failover". One round trip."""
    if db.dialect != "postgresql":
        return []
    async with db.engine.connect() as conn:
        names, commit, recovery, standbys, visible = (await conn.execute(_REPLICATION)).one()
    if recovery:
        return ["this server is a standby (read-only): writes are refused"]
    out = []
    if not (names or "").strip():
        out.append(
            "no synchronous standby (synchronous_standby_names is empty): a failover may "
            "lose acknowledged writes"
        )
    elif commit in ("off", "local"):
        out.append(
            f"synchronous_commit={commit}: commits do not wait for the standby; a failover "
            "may lose acknowledged writes"
        )
    elif visible and not standbys:
        out.append(
            f"synchronous_standby_names={names!r} but no synchronous standby is connected: "
            "commits wait for one"
        )
    return out


_WAL_SENDERS = table("pg_stat_replication", column("sync_state"))
_SYNC_STATE = _WAL_SENDERS.c.sync_state
_REPLICATION = select(
    func.current_setting("synchronous_standby_names"),
    func.current_setting("synchronous_commit"),
    func.pg_is_in_recovery(),
    select(func.count())
    .select_from(_WAL_SENDERS)
    .where(_SYNC_STATE.in_(("sync", "quorum")))
    .scalar_subquery(),
    select(func.count(_SYNC_STATE)).select_from(_WAL_SENDERS).scalar_subquery(),
)
"""Settings, whether in recovery, synchronous standbys connected, rows this role may read."""


async def _check(name: str, coro: Any, checks: dict[str, str]) -> bool:
    try:
        checks[name] = await asyncio.wait_for(coro, TIMEOUT_SECONDS)
        return True
    except Exception as exc:  # the check's whole point is to report it
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        checks[name] = f"failed: {message[:200]}"
        return False


@get("/ready", operation_id="ready", tags=["ops"])
async def ready(
    request: Request[Any, Any, Any],
    db: DatabaseDep,
    settings: SettingsDep,
    reach: Annotated[
        Literal["full", "host"],
        QueryParameter(name="scope", description="host: the load balancer's check"),
    ] = "full",
) -> Response[dict[str, Any]]:
    """Readiness.

    ``?scope=host`` — the load balancer's check: can *this host* serve? Only the database
    (reachable, migrations at head). Redis, the broker and replication are shared by every
    host: their failure must not take every host out of the balancer at once (the API keeps
    taking complaints without Redis).

    ``?scope=full`` (default) — the full report: the database, Redis when configured (503
    when it does not answer), the reports database when configured, and ``warnings`` (200
    all the same) when a failover could lose acknowledged writes
    (:func:`replication_warnings`).

    200 ``{"status": "ready", "checks": {...}}``, or 503 ``{"status": "unavailable", ...}``
    with the failing check's one-line reason and ``Retry-After``."""
    checks: dict[str, str] = {}
    ok = await _check("database", _database(db), checks)
    body: dict[str, Any] = {}
    if reach == "full":
        if settings.redis_url:
            ok = await _check("redis", _redis(settings.redis_url), checks) and ok
        reports_db = reports_database(request)
        if reports_db is not db:
            ok = await _check("reports_database", _database(reports_db), checks) and ok
        warnings: list[str] = []
        with contextlib.suppress(Exception):  # the database check above says why
            warnings = await asyncio.wait_for(replication_warnings(db), TIMEOUT_SECONDS)
        if warnings:
            body["warnings"] = warnings
    return Response(
        {"status": "ready" if ok else "unavailable", "checks": checks, **body},
        status_code=200 if ok else 503,
        headers=None if ok else {"Retry-After": "5"},  # as every other 503 of the service
    )


async def read_queues(db: Database) -> None:
    """Set the outbox and outbound gauges of :mod:`core.metrics` from the database (two cheap
    aggregate reads, at scrape time: the numbers are true whichever process relays)."""
    async with db.cross_tenant() as session:  # platform-wide figures, no rows leave
        depth, oldest = (
            await session.execute(
                select(func.count(), func.min(OutboxEvent.created_at)).where(
                    OutboxEvent.sent_at.is_(None)
                )
            )
        ).one()
        outbound = await session.scalar(
            select(func.count()).where(OutboundMessage.status.in_(("pending", "sending")))
        )
    metrics.OUTBOX_DEPTH.set(depth or 0)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    metrics.OUTBOX_LAG.set((utcnow() - oldest).total_seconds() if oldest is not None else 0)
    metrics.OUTBOUND_DEPTH.set(outbound or 0)


@get("/metrics", operation_id="metrics", tags=["ops"])
async def metrics_endpoint(
    request: Request[Any, Any, Any], db: DatabaseDep, settings: SettingsDep
) -> Response[bytes]:
    """Prometheus metrics of this API process (``core.metrics``); the outbox and outbound
    queue gauges are read from the database at scrape time. When ``TOUSU_METRICS_TOKEN``
    is set the scraper must send it as a bearer token (401 otherwise)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    token = settings.metrics_token
    if token:
        sent = request.headers.get("authorization", "").partition(" ")[2].strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            raise Unauthorized(
                "metrics need the scrape token",
                field="Authorization",
                rule="Bearer TOUSU_METRICS_TOKEN",
            )
    try:
        await read_queues(db)
    except Exception:  # the database is down: still serve what this process knows
        pass
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


ROUTES = [health, ready, metrics_endpoint]
