"""Throttling failed authentication: wrong passwords and unknown bearer tokens.

Failures are counted per key (an account, a client address) in a fixed window that opens
with the first failure; at the policy's limit the key is locked until the window closes,
and every attempt meanwhile answers 429 with ``Retry-After`` (seconds). A success clears an
account's count. The counts live in Redis when ``REDIS_URL`` is set, so every API process
shares them; otherwise in this process.

Policies (limit failures per window, seconds):

- ``login-user``: 5 per 900 — an account is locked for up to 15 minutes;
- ``login-ip``: 30 per 900 — one address guessing across accounts;
- ``bearer-ip``: 30 per 300 — one address presenting unknown or revoked tokens.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from core.errors import ApiError

log = logging.getLogger("tousu.throttle")


def _down(exc: Exception) -> None:
    log.warning("throttle store unavailable, not counting: %s", type(exc).__name__)


@dataclass(frozen=True)
class Policy:
    name: str
    limit: int
    window: int
    """Seconds."""


LOGIN_USER = Policy("login-user", 5, 900)
LOGIN_IP = Policy("login-ip", 30, 900)
BEARER_IP = Policy("bearer-ip", 30, 300)


class Throttled(ApiError):
    """429: too many failures; ``retry_after`` seconds until the lock lifts."""

    status, code = 429, "throttled"

    def __init__(self, retry_after: int, policy: Policy, *, field: str | None = None) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            f"失败次数过多，已暂时锁定，请 {minutes} 分钟后再试"
            f" (too many failed attempts; retry in {retry_after} s)",
            field=field,
            rule=f"at most {policy.limit} failures per {policy.window} s",
            retry_after=retry_after,
        )
        self.retry_after = retry_after


class _Backend(Protocol):
    async def count(self, key: str) -> tuple[int, int]: ...
    async def incr(self, key: str, window: int) -> tuple[int, int]: ...
    async def clear(self, key: str) -> None: ...


class MemoryBackend:
    """Counts in this process (the embedded default: one server process)."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[int, float]] = {}

    def _live(self, key: str) -> tuple[int, float] | None:
        hit = self._data.get(key)
        if hit and hit[1] <= time.monotonic():
            del self._data[key]
            return None
        return hit

    async def count(self, key: str) -> tuple[int, int]:
        hit = self._live(key)
        if hit is None:
            return 0, 0
        return hit[0], max(1, math.ceil(hit[1] - time.monotonic()))

    async def incr(self, key: str, window: int) -> tuple[int, int]:
        hit = self._live(key)
        count, until = (hit[0] + 1, hit[1]) if hit else (1, time.monotonic() + window)
        self._data[key] = (count, until)
        if len(self._data) > 100_000:  # bound memory under a spray of addresses
            now = time.monotonic()
            self._data = {k: v for k, v in self._data.items() if v[1] > now}
        return count, max(1, math.ceil(until - time.monotonic()))

    async def clear(self, key: str) -> None:
        self._data.pop(key, None)


class RedisBackend:
    """Counts in Redis (INCR + EXPIRE), shared by every API process.

    Fails open: while Redis does not answer (0.5 s timeouts), nothing is counted and nobody
    is locked out — the API keeps serving (README, "If Redis is down"), and the failure is
    logged. Losing a few minutes of throttling is the lesser harm than refusing everyone.
    """

    def __init__(self, url: str, prefix: str = "tousu:throttle:") -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix

    async def count(self, key: str) -> tuple[int, int]:
        k = self._prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                raw, ttl = await pipe.get(k).ttl(k).execute()
        except Exception as exc:  # redis down: fail open (see the class docstring)
            _down(exc)
            return 0, 0
        return (int(raw) if raw else 0), max(1, int(ttl) if ttl and ttl > 0 else 1)

    async def incr(self, key: str, window: int) -> tuple[int, int]:
        k = self._prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                count, _, ttl = await pipe.incr(k).expire(k, window, nx=True).ttl(k).execute()
        except Exception as exc:
            _down(exc)
            return 0, window
        return int(count), max(1, int(ttl) if ttl and ttl > 0 else window)

    async def clear(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except Exception as exc:
            _down(exc)

    async def close(self) -> None:
        await self._redis.aclose()


class Throttle:
    """Failure counting over one backend; see the module docstring for the policies."""

    def __init__(self, backend: _Backend) -> None:
        self.backend = backend

    @classmethod
    def for_settings(cls, redis_url: str | None) -> Throttle:
        return cls(RedisBackend(redis_url) if redis_url else MemoryBackend())

    async def check(self, policy: Policy, subject: str, field: str | None = None) -> None:
        """Raise :class:`Throttled` when ``subject`` is locked under ``policy``."""
        count, ttl = await self.backend.count(f"{policy.name}:{subject}")
        if count >= policy.limit:
            raise Throttled(ttl, policy, field=field)

    async def fail(self, policy: Policy, subject: str) -> int | None:
        """Count one failure; returns the lock's seconds when this failure reached the limit."""
        count, ttl = await self.backend.incr(f"{policy.name}:{subject}", policy.window)
        return ttl if count == policy.limit else None

    async def clear(self, policy: Policy, subject: str) -> None:
        await self.backend.clear(f"{policy.name}:{subject}")

    async def close(self) -> None:
        closer = getattr(self.backend, "close", None)
        if closer is not None:
            await closer()


def client_address(connection: Any) -> str:
    """The peer address (proxies' X-Forwarded-For is not trusted: clients can forge it)."""
    client = getattr(connection, "client", None)
    return client.host if client and client.host else "unknown"


_locked_here: dict[str, float] = {}
"""Addresses this process saw locked for bad tokens → until (monotonic): a request from
one of them is checked against the shared count even with a token this process knows."""


def locked_here(connection: Any) -> bool:
    until = _locked_here.get(client_address(connection))
    return until is not None and until > time.monotonic()


def _lock_here(address: str, seconds: int) -> None:
    _locked_here[address] = time.monotonic() + seconds
    if len(_locked_here) > 10_000:  # bounded: drop what has expired
        now = time.monotonic()
        for a in [a for a, t in _locked_here.items() if t <= now]:
            _locked_here.pop(a, None)


async def check_bearer(connection: Any) -> None:
    """Before a bearer token is looked up: 429 while this address is locked for bad tokens."""
    throttle: Throttle | None = getattr(connection.app.state, "throttle", None)
    if throttle is not None:
        address = client_address(connection)
        try:
            await throttle.check(BEARER_IP, address, field="Authorization")
        except Throttled as exc:
            _lock_here(address, exc.retry_after)
            raise


async def bearer_failed(connection: Any) -> None:
    """Count an unknown or revoked token; the failure that locks the address is audited."""
    throttle: Throttle | None = getattr(connection.app.state, "throttle", None)
    if throttle is None:
        return
    address = client_address(connection)
    locked = await throttle.fail(BEARER_IP, address)
    if locked:
        _lock_here(address, locked)
        from core.people.sessions import audit  # sessions build on auth, which imports us

        await audit(
            connection.app.state.db,
            "token_throttled",
            username="",
            address=address,
            seconds=locked,
            failures=BEARER_IP.limit,
        )
