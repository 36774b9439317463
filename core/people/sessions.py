"""Console sessions: password login, server-side sessions, the auth audit trail.

People log in with tenant, username and password (:mod:`core.people.passwords`); the
session lives server-side — in the database (:class:`DatabaseStore`, table ``web_sessions``),
with Redis in front as a cache when ``REDIS_URL`` is set (:class:`CachedStore`: a Redis
restart or outage ends no session) — and the browser holds only
its random id in an HttpOnly, SameSite=Lax cookie. A session expires after
``TOUSU_SESSION_IDLE_MINUTES`` (default 30) without a request and after 12 hours in any case;
changing the password ends every other session. Machines keep bearer keys
(:mod:`core.people.auth`): a request that sends ``Authorization`` is judged by its token
alone.

Every login, logout, failed login, lock and password change is one row of ``auth_events``
(a platform table: a failure may name no tenant).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware import AuthenticationResult
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Database, utcnow
from core.error_text import READER_ZONE
from core.errors import ApiError, Invalid, Unauthorized
from core.people import passwords
from core.people.auth import BearerAuth, principal_of
from core.people.models import Tenant, User
from core.people.throttle import LOGIN_IP, LOGIN_USER, LOGIN_USER_IP, Throttle, Throttled
from core.principal import Principal
from core.settings import Settings

log = logging.getLogger("tousu.sessions")

COOKIE = "tousu_session"
MAX_LIFETIME = 12 * 3600
"""Seconds a session lives at most, however active (a stolen cookie does not last)."""


def idle_seconds(settings: Settings) -> int:
    """Idle expiry in seconds (``TOUSU_SESSION_IDLE_MINUTES``, default 30)."""
    return int(settings.session_idle_minutes * 60)


# ---------------------------------------------------------------- tables


class WebSession(Base):
    """A server-side session (embedded default); the cookie carries only ``key``."""

    __tablename__ = "web_sessions"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[dt.datetime | None] = mapped_column(index=True)


class AuthEvent(Base):
    """Append-only: logins, logouts, failures, locks, password changes.

    ``tenant_id`` is NULL for platform operators and for attempts naming no known tenant.
    """

    __tablename__ = "auth_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    """``login``, ``logout``, ``login_failed``, ``locked``, ``token_throttled``,
    ``password_changed``."""
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


async def audit(
    db: Database,
    action: str,
    *,
    username: str,
    tenant_id: int | None = None,
    user_id: int | None = None,
    address: str = "",
    **detail: Any,
) -> None:
    """Append one auth event in its own transaction (a failed login writes nothing else)."""
    async with db.cross_tenant() as session:  # failures may precede any tenant
        session.add(
            AuthEvent(
                tenant_id=tenant_id,
                user_id=user_id,
                username=username[:64],
                action=action,
                address=address[:64],
                detail=detail,
            )
        )


# ---------------------------------------------------------------- the store


class DatabaseStore(Store):
    """Litestar's :class:`~litestar.stores.base.Store` over the ``web_sessions`` table.

    ``get(renew_for=...)`` pushes the expiry forward (idle expiry), writing at most once a
    minute per session; ``set`` with unchanged data is skipped.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def _expiry(expires_in: int | dt.timedelta | None) -> dt.datetime | None:
        if expires_in is None:
            return None
        seconds = expires_in.total_seconds() if isinstance(expires_in, dt.timedelta) else expires_in
        return utcnow() + dt.timedelta(seconds=seconds)

    async def set(
        self, key: str, value: str | bytes, expires_in: int | dt.timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        async with self.db.cross_tenant() as session:
            row = await session.get(WebSession, key)
            if row is None:
                session.add(WebSession(key=key, value=data, expires_at=self._expiry(expires_in)))
            elif row.value != data:
                row.value = data
                row.expires_at = self._expiry(expires_in)

    async def get(self, key: str, renew_for: int | dt.timedelta | None = None) -> bytes | None:
        async with self.db.cross_tenant() as session:
            row = await session.get(WebSession, key)
            if row is None:
                return None
            now = utcnow()
            if row.expires_at is not None and row.expires_at <= now:
                await session.delete(row)
                return None
            if renew_for is not None and row.expires_at is not None:
                target = self._expiry(renew_for)
                assert target is not None
                if (target - row.expires_at).total_seconds() > 60:
                    row.expires_at = target
            return bytes(row.value)

    async def delete(self, key: str) -> None:
        async with self.db.cross_tenant() as session:
            await session.execute(delete(WebSession).where(WebSession.key == key))

    async def delete_all(self) -> None:
        async with self.db.cross_tenant() as session:
            await session.execute(delete(WebSession))

    async def delete_expired(self) -> int:
        async with self.db.cross_tenant() as session:
            result = await session.execute(
                delete(WebSession).where(WebSession.expires_at <= utcnow())
            )
            return int(result.rowcount or 0)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self.db.cross_tenant() as session:
            row = await session.get(WebSession, key)
        if row is None or row.expires_at is None:
            return None
        return int((row.expires_at - utcnow()).total_seconds())


ROTATE = "tousu.rotate_session"
"""Scope key a login sets: the session gets a fresh id (no session fixation)."""


class _Backend(ServerSideSessionBackend):
    """Writes nothing for requests without a session (bearer API calls stay stateless) and
    gives a session a new id when a login asks for it (:data:`ROTATE`)."""

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        had_cookie = bool(connection.cookies.get(self.config.key))
        if (scope_session is Empty or not scope_session) and not had_cookie:
            return
        if not scope_session:
            scope_session = Empty
        if scope_session is not Empty and connection.scope.get(ROTATE):  # type: ignore[misc]  # Scope is a TypedDict
            store = self.config.get_store_from_app(connection.scope["app"])
            old = connection.cookies.get(self.config.key)
            if old:
                await self.delete(old, store=store)
            new_id = self.generate_session_id()
            await self.set(new_id, self.serialize_data(scope_session, connection.scope), store)
            params = dict(
                extract_dataclass_items(
                    self.config, exclude_none=True, include=Cookie.__dict__.keys()
                )
            )
            MutableScopeHeaders.from_message(message).add(
                "Set-Cookie",
                Cookie(value=new_id, key=self.config.key, **params).to_header(header=""),
            )
            return
        await super().store_in_message(scope_session, message, connection)


class SessionConfig(ServerSideSessionConfig):
    _backend_class = _Backend


def session_config(settings: Settings, db: Database) -> tuple[SessionConfig, Store]:
    """The session middleware's config and its store: the ``web_sessions`` table always
    (sessions survive a Redis restart), with Redis in front as a cache when configured
    (keys under ``TOUSU_REDIS_NAMESPACE``)."""
    config = SessionConfig(
        key=COOKIE,
        max_age=idle_seconds(settings),
        renew_on_access=True,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        store="sessions",
    )
    store: Store
    if settings.redis_url:
        store = CachedStore(db, settings.redis_url, settings.redis_namespace)
    else:
        store = DatabaseStore(db)
    return config, store


class CachedStore(DatabaseStore):
    """The ``web_sessions`` table with Redis in front: a read is served from Redis when it
    holds the session (kept :data:`CACHE_SECONDS`), else from the table (which renews the
    idle expiry, so expiry is exact to about a minute) and then cached; every write goes to
    the table first, then to Redis.

    Redis is only a cache: when it does not answer (0.5 s timeouts) the table serves alone
    and Redis is left alone for :data:`PAUSE_SECONDS`; a Redis restart loses nothing. Keys:
    ``<TOUSU_REDIS_NAMESPACE>:sessions:<id>``, so deployments sharing a Redis stay apart."""

    CACHE_SECONDS = 60
    PAUSE_SECONDS = 5.0

    def __init__(self, db: Database, redis_url: str, namespace: str) -> None:
        from core.redis_clients import client

        super().__init__(db)
        self.prefix = f"{namespace}:sessions:"
        self.redis = client(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._paused_until = 0.0

    async def _cache(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """One Redis command, or None while Redis is down (logged once per pause)."""
        if time.monotonic() < self._paused_until:
            return None
        try:
            return await getattr(self.redis, op)(*args, **kwargs)
        except Exception as exc:  # any Redis failure: the table answers alone
            self._paused_until = time.monotonic() + self.PAUSE_SECONDS
            log.warning("session cache unavailable, using the database: %s", type(exc).__name__)
            return None

    async def set(
        self, key: str, value: str | bytes, expires_in: int | dt.timedelta | None = None
    ) -> None:
        await super().set(key, value, expires_in)
        data = value.encode() if isinstance(value, str) else value
        await self._cache("set", self.prefix + key, data, ex=self.CACHE_SECONDS)

    async def get(self, key: str, renew_for: int | dt.timedelta | None = None) -> bytes | None:
        hit = await self._cache("get", self.prefix + key)
        if hit is not None:
            return bytes(hit)
        value = await super().get(key, renew_for)
        if value is not None:
            await self._cache("set", self.prefix + key, value, ex=self.CACHE_SECONDS)
        return value

    async def delete(self, key: str) -> None:
        await self._cache("delete", self.prefix + key)
        await super().delete(key)

    async def delete_all(self) -> None:
        try:
            async for name in self.redis.scan_iter(match=self.prefix + "*"):
                await self.redis.delete(name)
        except Exception as exc:  # Redis down: its entries expire within CACHE_SECONDS
            log.warning("session cache not cleared: %s", type(exc).__name__)
        await super().delete_all()

    async def close(self) -> None:
        await self.redis.aclose()


# ---------------------------------------------------------------- login and principal


def _fingerprint(password_hash: str | None) -> str:
    """A short tag of the current hash: a password change ends the other sessions."""
    return (password_hash or "")[-16:]


async def _find(db: Database, tenant_slug: str, username: str) -> tuple[User | None, Tenant | None]:
    async with db.cross_tenant() as session:  # login precedes the tenant scope
        tenant = None
        if tenant_slug:
            tenant = await session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
            if tenant is None:
                return None, None
        user = await session.scalar(
            select(User).where(
                User.username == username,
                User.tenant_id == tenant.id if tenant else User.tenant_id.is_(None),
            )
        )
        return user, tenant


async def login(
    db: Database, throttle: Throttle, tenant_slug: str, username: str, password: str, address: str
) -> tuple[Principal, dict[str, Any]]:
    """Check a password login. Returns the principal and the session data to store.

    Raises :class:`~core.people.throttle.Throttled` (429) while the account or the address
    is locked, :class:`~core.errors.Unauthorized` (401, field ``password``) for a wrong
    tenant, username or password — one message for all three, so nobody learns which
    accounts exist. Every outcome is audited.
    """
    tenant_slug, username = tenant_slug.strip().lower(), username.strip().lower()
    # Counted before the slow hash check, each count one atomic increment: 40 wrong passwords
    # at once verify at most the limit (core.people.throttle); a success gives them back.
    await throttle.take(LOGIN_IP, address, field="password")
    try:
        here = await throttle.take(LOGIN_USER_IP, tenant_slug, username, address, field="password")
        await throttle.take(LOGIN_USER, tenant_slug, username, field="password")
    except Throttled:
        await throttle.give_back(LOGIN_IP, address)  # refused unheard: not a guess at others
        raise
    user, tenant = await _find(db, tenant_slug, username)
    ok = await passwords.verify_async(password, user.password_hash if user else None)
    tenant_id = tenant.id if tenant else None
    if not ok or user is None or not user.active:
        who: dict[str, Any] = {
            "username": username,
            "tenant_id": tenant_id,
            "user_id": user.id if user else None,
            "address": address,
        }
        await audit(db, "login_failed", **who, tenant=tenant_slug)
        if here == LOGIN_USER_IP.limit:  # this failure locks the account from this address
            await audit(db, "locked", **who, seconds=LOGIN_USER_IP.window)
        raise Unauthorized(
            "wrong tenant, username or password",
            field="password",
            rule="credentials must match an active user",
        )
    await throttle.clear(LOGIN_USER_IP, tenant_slug, username, address)
    await throttle.give_back(LOGIN_USER, tenant_slug, username)
    await throttle.give_back(LOGIN_IP, address)
    await audit(
        db, "login", username=username, tenant_id=tenant_id, user_id=user.id, address=address
    )
    data = {"uid": user.id, "at": int(time.time()), "fp": _fingerprint(user.password_hash)}
    return principal_of(user, tenant), data


async def session_principal(db: Database, data: dict[str, Any]) -> Principal | None:
    """The principal of a session's data, or None when the session no longer holds (user
    deactivated, password changed, older than :data:`MAX_LIFETIME`)."""
    uid, at = data.get("uid"), data.get("at")
    if not isinstance(uid, int) or not isinstance(at, int) or time.time() - at > MAX_LIFETIME:
        return None
    async with db.cross_tenant() as session:
        row = (
            await session.execute(
                select(User, Tenant)
                .outerjoin(Tenant, Tenant.id == User.tenant_id)
                .where(User.id == uid, User.active)
            )
        ).first()
    if row is None or _fingerprint(row[0].password_hash) != data.get("fp"):
        return None
    return principal_of(row[0], row[1])


async def set_password(
    db: Database, user_id: int, new_password: str, actor: str, address: str = ""
) -> None:
    """Hash and store a new password (ends the user's other sessions), audited."""
    hashed = await passwords.hash_async(new_password)
    async with db.cross_tenant() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise Invalid("no such user", field="username", rule="must exist")
        await session.execute(update(User).where(User.id == user_id).values(password_hash=hashed))
        session.add(
            AuthEvent(
                tenant_id=user.tenant_id,
                user_id=user.id,
                username=user.username,
                action="password_changed",
                address=address[:64],
                detail={"by": actor},
            )
        )


# ---------------------------------------------------------------- the middleware


class LoginRequired(ApiError):
    """A console page without a session: answered with a redirect to ``/login``."""

    status, code = 401, "login_required"


class SessionOrBearerAuth(BearerAuth):
    """A request sending ``Authorization`` is judged by its bearer token (machines); any
    other by its session cookie (people). Console pages without a session redirect to the
    login page; API calls without either answer 401."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        if connection.headers.get("authorization"):
            return await super().authenticate_request(connection)
        data = connection.scope.get("session")
        if isinstance(data, dict) and data.get("uid"):
            principal = await session_principal(connection.app.state.db, data)
            if principal is not None:
                READER_ZONE.set(principal.timezone)  # times in this request's messages
                return AuthenticationResult(user=principal, auth="session")
            connection.scope["session"] = {}  # stale: the cookie is cleared on the way out
        if not connection.url.path.startswith("/api"):
            raise LoginRequired("log in first")
        raise Unauthorized(
            "send 'Authorization: Bearer <token>' or log in to the console",
            field="Authorization",
            rule="bearer token or session required",
        )
