"""Bearer-token authentication: the principal, and with it the tenant, come from the token.

Tokens are random 256-bit strings shown once; only their SHA-256 is stored. The tenant is
never taken from a client header. Resolved principals are cached for a few seconds, keyed by
the token hash, only while this process listens for invalidations through Redis; a revoke
or role change anywhere drops them everywhere at once (:mod:`core.people.invalidation`).
Without Redis every request reads its principal from the database, so a key revoked by
another process (``tousu users revoke``) stops working on its next request.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy import select

from core import cache
from core.db import Database, read_only
from core.error_text import READER_ZONE
from core.errors import Unauthorized
from core.logs import bind as bind_log_context
from core.people import throttle
from core.people.invalidation import Listener, publish
from core.people.models import ApiKey, Tenant, User
from core.principal import Principal
from core.settings import DEFAULT_TIMEZONE

TOKEN_PREFIX = "tsu_"
CACHE_SECONDS = 10.0


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


_cache: dict[str, tuple[float, Principal]] = {}
_generation = 0  # bumped by every drop: a lookup that raced a revoke does not cache
_listeners: list[Listener] = []
_redis: tuple[str, str] | None = None  # (REDIS_URL, namespace) this process publishes to
_unpublish: dict[int, Callable[[], None]] = {}  # listener → stops publishing cache changes


TENANT_DATA = "tenant-data:"
"""Prefix of an invalidation naming a tenant whose cached static data changed
(:mod:`core.cache`), sent on the same channel as revoked keys."""


def _drop(key_hash: str | None) -> None:
    global _generation
    if key_hash is not None and key_hash.startswith(TENANT_DATA):
        tid = key_hash.removeprefix(TENANT_DATA)
        cache.forget(int(tid) if tid.isdigit() else None)
        return
    if key_hash is None:
        cache.forget(None)  # subscribed anew or disconnected: news may have been missed
    _generation += 1
    if key_hash is None:
        _cache.clear()
    else:
        _cache.pop(key_hash, None)


def _cache_on() -> bool:
    """Cached principals are used only while a Redis listener would hear of revocations."""
    return any(listener.live.is_set() for listener in _listeners)


def forget(key_hash: str | list[str] | None = None) -> None:
    """Drop cached principals — one key, several, or all (``None``) — in this process at
    once and, through Redis when configured, in every other (see
    :mod:`core.people.invalidation`). Call it after a revoke or a role or user change."""
    hashes = [key_hash] if isinstance(key_hash, str) else key_hash
    for h in hashes if hashes is not None else [None]:
        _drop(h)
    target = _redis
    if target is None:
        from core.settings import current

        settings = current()
        target = (settings.redis_url, settings.redis_namespace) if settings.redis_url else None
    if target is not None:
        publish(target[0], target[1], hashes)


def listen(redis_url: str, namespace: str) -> Listener:
    """Start this process's invalidation listener (the API server does, with Redis)."""
    global _redis
    _redis = (redis_url, namespace)
    listener = Listener(redis_url, namespace, _drop).start()
    _unpublish[id(listener)] = cache.publish_to(  # tenant data this process changes, too
        lambda tid: publish(redis_url, namespace, [f"{TENANT_DATA}{'all' if tid is None else tid}"])
    )
    _listeners.append(listener)
    return listener


def unlisten(listener: Listener) -> None:
    global _redis
    listener.stop()
    _unpublish.pop(id(listener), lambda: None)()
    if listener in _listeners:
        _listeners.remove(listener)
    if not _listeners:
        _redis = None
    _drop(None)


async def revoke_keys(db: Database, user_id: int) -> int:
    """Revoke every active key of a user; returns how many. From the moment this returns,
    no process accepts them (see :func:`forget`)."""
    from core.db import utcnow

    async with db.cross_tenant() as session:
        keys = list(
            await session.scalars(
                select(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
            )
        )
        for key in keys:
            key.revoked_at = utcnow()
    if keys:
        forget([key.key_hash for key in keys])
    return len(keys)


async def resolve(db: Database, token: str) -> Principal | None:
    """The principal of an active key, or None. Served from the cache only while
    invalidations can reach this process; otherwise read from the database."""
    key_hash = hash_token(token)
    now = time.monotonic()
    cached = _cache_on()
    if cached:
        hit = _cache.get(key_hash)
        if hit and hit[0] > now:
            return hit[1]
    generation = _generation
    # A read, whatever the request: on SQLite it begins DEFERRED beside the writers instead
    # of queueing for the write lock (core.db.read_only) — every POST was taking it twice.
    reading = read_only.set(True)
    try:
        async with db.cross_tenant() as session:  # auth is the one path before a tenant
            row = (
                await session.execute(
                    select(User, Tenant)
                    .join(ApiKey, ApiKey.user_id == User.id)
                    .outerjoin(Tenant, Tenant.id == User.tenant_id)
                    .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None), User.active)
                )
            ).first()
    finally:
        read_only.reset(reading)
    if row is None:
        return None
    principal = principal_of(*row)
    if cached and generation == _generation:  # no revoke raced this read
        _cache[key_hash] = (now + CACHE_SECONDS, principal)
    return principal


def principal_of(user: User, tenant: Tenant | None) -> Principal:
    """Who ``user`` (of ``tenant``; None: a platform user) is, for the request."""
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=frozenset(user.roles or []),
        tenant_id=user.tenant_id,
        tenant_slug=tenant.slug if tenant else None,
        plugin=tenant.plugin if tenant else None,
        department_id=user.department_id,
        staff_id=user.staff_id,
        timezone=tenant.timezone if tenant else DEFAULT_TIMEZONE,
    )


class BearerAuth(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "send 'Authorization: Bearer <token>'",
                field="Authorization",
                rule="bearer token required",
            )
        db: Database = connection.app.state.db
        token = token.strip()
        principal = await resolve(db, token)
        if principal is None:
            # A locked address or token prefix refuses unknown tokens only (429): a valid key
            # still works from behind an address someone else guessed from, so the locks are
            # looked up only for a token that failed (core.people.throttle).
            locked = await throttle.bearer_locked(connection, token)
            await throttle.bearer_failed(connection, token, locked)
            raise Unauthorized(
                "unknown or revoked token", field="Authorization", rule="token must be active"
            )
        # Every log line of the request names who asked (core.logs), never the token.
        bind_log_context(tenant=principal.tenant_slug or "platform", user=principal.username)
        READER_ZONE.set(principal.timezone)  # times in this request's messages
        return AuthenticationResult(user=principal, auth=token)
