"""Bearer-token authentication: the principal, and with it the tenant, come from the token.

Tokens are random 256-bit strings shown once; only their SHA-256 is stored. The tenant is
never taken from a client header. Resolved principals are cached for a few seconds, keyed by
the token hash, and dropped from the cache when a key is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy import select

from core.db import Database
from core.errors import Unauthorized
from core.people import throttle
from core.people.models import ApiKey, Tenant, User

TOKEN_PREFIX = "tsu_"
CACHE_SECONDS = 10.0


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    username: str
    roles: frozenset[str]
    tenant_id: int | None
    tenant_slug: str | None
    plugin: str | None
    department_id: int | None
    staff_id: int | None

    def has(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def role_for(self, allowed: frozenset[str]) -> str | None:
        """The role under which the principal may act (recorded on audit events)."""
        for role in sorted(self.roles & allowed):
            return role
        return None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


_cache: dict[str, tuple[float, Principal]] = {}


def forget(key_hash: str | None = None) -> None:
    """Drop cached principals (one key, or all) after a revoke or a role change."""
    if key_hash is None:
        _cache.clear()
    else:
        _cache.pop(key_hash, None)


async def resolve(db: Database, token: str) -> Principal | None:
    key_hash = hash_token(token)
    hit = _cache.get(key_hash)
    now = time.monotonic()
    if hit and hit[0] > now:
        return hit[1]
    async with db.cross_tenant() as session:  # auth is the one path that precedes a tenant
        row = (
            await session.execute(
                select(User, Tenant)
                .join(ApiKey, ApiKey.user_id == User.id)
                .outerjoin(Tenant, Tenant.id == User.tenant_id)
                .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None), User.active)
            )
        ).first()
    if row is None:
        return None
    user, tenant = row
    principal = Principal(
        user_id=user.id,
        username=user.username,
        roles=frozenset(user.roles or []),
        tenant_id=user.tenant_id,
        tenant_slug=tenant.slug if tenant else None,
        plugin=tenant.plugin if tenant else None,
        department_id=user.department_id,
        staff_id=user.staff_id,
    )
    _cache[key_hash] = (now + CACHE_SECONDS, principal)
    return principal


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
        await throttle.check_bearer(connection)
        principal = await resolve(db, token.strip())
        if principal is None:
            await throttle.bearer_failed(connection)
            raise Unauthorized(
                "unknown or revoked token", field="Authorization", rule="token must be active"
            )
        return AuthenticationResult(user=principal, auth=token)
