"""Liveness and readiness, for load balancers and process supervisors.

* ``GET /health`` — the process answers (no I/O at all): 200 ``{"status": "ok"}``.
* ``GET /metrics`` — Prometheus metrics (:mod:`core.metrics`).
* ``GET /ready`` — the service can do its work: the database answers, its schema is at the
  migrations' head, and Redis answers ``PING`` when ``REDIS_URL`` is set. 200 with each
  check ``"ok"``; 503 naming the failing check otherwise. Each check is one round trip with
  a short timeout, so probing every second costs nothing noticeable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
from functools import cache
from typing import Any

from litestar import Request, Response, get
from sqlalchemy import column, func, select, table

from core import metrics
from core.db import Database, utcnow
from core.errors import Unauthorized
from core.notify.models import OutboundMessage
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
async def health(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Liveness: the process answers. Touches nothing; see ``/ready`` for dependencies."""
    db: Database = request.app.state.db
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
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=1)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return "ok"


async def _check(name: str, coro: Any, checks: dict[str, str]) -> bool:
    try:
        checks[name] = await asyncio.wait_for(coro, TIMEOUT_SECONDS)
        return True
    except Exception as exc:  # the check's whole point is to report it
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        checks[name] = f"failed: {message[:200]}"
        return False


@get("/ready", operation_id="ready", tags=["ops"])
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Readiness: database reachable, migrations at head, Redis reachable when configured.

    200 ``{"status": "ready", "checks": {...}}``, or 503 ``{"status": "unavailable", ...}``
    with the failing check's one-line reason."""
    db: Database = request.app.state.db
    redis_url = request.app.state.settings.redis_url
    checks: dict[str, str] = {}
    ok = await _check("database", _database(db), checks)
    if redis_url:
        ok = await _check("redis", _redis(redis_url), checks) and ok
    return Response(
        {"status": "ready" if ok else "unavailable", "checks": checks},
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
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus metrics of this API process (``core.metrics``); the outbox and outbound
    queue gauges are read from the database at scrape time. When ``TOUSU_METRICS_TOKEN``
    is set the scraper must send it as a bearer token (401 otherwise)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    token = request.app.state.settings.metrics_token
    if token:
        sent = request.headers.get("authorization", "").partition(" ")[2].strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            raise Unauthorized(
                "metrics need the scrape token",
                field="Authorization",
                rule="Bearer TOUSU_METRICS_TOKEN",
            )
    try:
        await read_queues(request.app.state.db)
    except Exception:  # the database is down: still serve what this process knows
        pass
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


ROUTES = [health, ready, metrics_endpoint]
