"""Throttling failed authentication: wrong passwords and unknown bearer tokens.

Attempts are counted per key in a fixed window that opens with the first count (the
``limits`` library's fixed-window counters); at a policy's limit the key is locked until the
window closes, and a refused attempt answers 429 with ``Retry-After`` (seconds). The
counters live in Redis when ``REDIS_URL`` is set — under ``TOUSU_REDIS_NAMESPACE``, so two
deployments on one Redis keep their own — and in this process otherwise. While Redis does
not answer, counting goes on in this process (:class:`Throttle` falls back to memory and
tries Redis again a few seconds later): throttling never stops and never fails a request.

The client address comes from :func:`core.client_address.client_address` (forwarded
headers only from ``TOUSU_TRUSTED_PROXIES``). Locks are precise, so one attacker cannot lock
out a whole office behind one NAT address:

Passwords (console login, :func:`core.people.sessions.login`) — counted **before** the slow
hash check, atomically (an increment that returns the new count), so 40 wrong passwords at
once verify at most the limit; a correct password takes its attempt back:

- ``login-user-ip``: 5 per 900 s — one address guessing one account: that address is
  locked out of that account for up to 15 minutes (the account owner elsewhere is not);
- ``login-user``: 20 per 900 s — one account guessed from anywhere (a distributed guess);
- ``login-ip``: 30 per 900 s — one address guessing across accounts (a spray).

Bearer tokens (:class:`core.people.auth.BearerAuth`) — unknown or revoked tokens counted:

- ``bearer-ip``: 30 per 300 s per address;
- ``bearer-prefix``: 10 per 300 s per token prefix (the first 12 characters) — guesses at
  one key whose beginning leaked, from any number of addresses.

A locked address or prefix refuses **unknown** tokens only (429 instead of 401, not counted
again): a valid key keeps working from behind a locked address, so 30 bad tokens from one
machine in an office no longer lock every tenant's users out for 5 minutes. Tokens are 256
random bits: the lock is there to stop and report a guessing client (``token_throttled``
auth event), not because a guess could succeed.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisSentinelStorage, RedisStorage, Storage

from core.client_address import client_address
from core.errors import ApiError
from core.redis_clients import is_sentinel, parse_sentinel

log = logging.getLogger("tousu.throttle")

RETRY_REDIS_SECONDS = 5.0
"""After a Redis failure, count in memory for this long before trying Redis again."""


@dataclass(frozen=True)
class Policy:
    name: str
    limit: int
    window: int
    """Seconds."""
    item: Any = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "item", RateLimitItemPerSecond(self.limit, self.window, namespace=self.name)
        )


LOGIN_USER_IP = Policy("login-user-ip", 5, 900)
LOGIN_USER = Policy("login-user", 20, 900)
LOGIN_IP = Policy("login-ip", 30, 900)
BEARER_IP = Policy("bearer-ip", 30, 300)
BEARER_PREFIX = Policy("bearer-prefix", 10, 300)
PREFIX_CHARS = 12
"""Characters of a token counted as its prefix (``tsu_`` and 8 random ones)."""


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


class Throttle:
    """Fixed-window counters over a ``limits`` storage: Redis when given, with an
    in-process fallback that counts while Redis does not answer."""

    def __init__(self, redis_url: str | None = None, namespace: str = "tousu") -> None:
        self.memory: Storage = MemoryStorage()
        self.redis: Storage | None = None
        if redis_url and is_sentinel(redis_url):
            # limits' own Sentinel storage, from our redis+sentinel:// form (core.redis_clients)
            s = parse_sentinel(redis_url)
            hosts = ",".join(f"{h}:{p}" for h, p in s.sentinels)
            sentinel_kwargs: dict[str, Any] = {"socket_timeout": 0.5}
            if s.sentinel_password:
                sentinel_kwargs["password"] = s.sentinel_password
            conn: dict[str, Any] = {"db": s.db, "socket_timeout": 0.5}
            if s.password:
                conn["password"] = s.password
            if s.username:
                conn["username"] = s.username
            self.redis = RedisSentinelStorage(
                f"async+redis+sentinel://{hosts}/{s.service}",
                implementation="redispy",
                key_prefix=f"{namespace}:throttle",
                wrap_exceptions=True,
                sentinel_kwargs=sentinel_kwargs,
                **conn,
            )
        elif redis_url:
            url = redis_url if redis_url.startswith("async+") else "async+" + redis_url
            self.redis = RedisStorage(
                url,
                implementation="redispy",
                key_prefix=f"{namespace}:throttle",
                wrap_exceptions=True,
                socket_timeout=0.5,
                socket_connect_timeout=0.5,
            )
        self._redis_down_until = 0.0

    @classmethod
    def for_settings(cls, redis_url: str | None, namespace: str = "tousu") -> Throttle:
        return cls(redis_url, namespace)

    async def _run(self, op: str, *args: Any) -> Any:
        """``op`` on Redis, or on the in-process storage while Redis is down."""
        if self.redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                return await getattr(self.redis, op)(*args)
            except Exception as exc:  # any Redis failure: count here instead (docstring)
                self._redis_down_until = time.monotonic() + RETRY_REDIS_SECONDS
                log.warning(
                    "throttle Redis unavailable, counting in this process: %s",
                    type(exc).__name__,
                )
        return await getattr(self.memory, op)(*args)

    async def _seconds_left(self, key: str, window: int) -> int:
        expiry = await self._run("get_expiry", key)
        return max(1, min(window, math.ceil(float(expiry) - time.time())))

    async def hit(self, policy: Policy, *subject: str) -> tuple[int, int]:
        """Count one attempt; returns (the count now, seconds left in the window)."""
        key = policy.item.key_for(*subject)
        count = int(await self._run("incr", key, policy.window, 1))
        return count, await self._seconds_left(key, policy.window)

    async def take(self, policy: Policy, *subject: str, field: str | None = None) -> int:
        """Count one attempt before doing it; raise :class:`Throttled` when it is over the
        limit. Returns the count (the attempt that makes it ``policy.limit`` is the last)."""
        count, left = await self.hit(policy, *subject)
        if count > policy.limit:
            raise Throttled(left, policy, field=field)
        return count

    async def give_back(self, policy: Policy, *subject: str) -> None:
        """Undo one :meth:`take` (the attempt succeeded and should not count)."""
        await self._run("incr", policy.item.key_for(*subject), policy.window, -1)

    async def locked(self, policy: Policy, *subject: str) -> int | None:
        """Seconds until ``subject`` is unlocked under ``policy``, or None when it is not."""
        key = policy.item.key_for(*subject)
        if int(await self._run("get", key)) >= policy.limit:
            return await self._seconds_left(key, policy.window)
        return None

    async def check(self, policy: Policy, *subject: str, field: str | None = None) -> None:
        """Raise :class:`Throttled` while ``subject`` is locked under ``policy``."""
        left = await self.locked(policy, *subject)
        if left is not None:
            raise Throttled(left, policy, field=field)

    async def fail(self, policy: Policy, *subject: str) -> int | None:
        """Count one failure; returns the lock's seconds when this one reached the limit."""
        count, left = await self.hit(policy, *subject)
        return left if count == policy.limit else None

    async def clear(self, policy: Policy, *subject: str) -> None:
        await self._run("clear", policy.item.key_for(*subject))

    async def close(self) -> None:
        if self.redis is not None:
            bridge = getattr(self.redis, "bridge", None)
            client = getattr(bridge, "storage", None)
            closer = getattr(client, "aclose", None)
            if closer is not None:
                try:
                    await closer()
                except Exception:  # shutting down: nothing to do about it
                    log.debug("closing the throttle's Redis client failed", exc_info=True)


def token_prefix(token: str) -> str:
    return token[:PREFIX_CHARS]


def _throttle(connection: Any) -> Throttle | None:
    return getattr(connection.app.state, "throttle", None)


async def bearer_locked(connection: Any, token: str) -> int | None:
    """Seconds this request's address or token prefix stays locked for unknown tokens, or
    None. A locked request is still looked up: a valid key passes (see the docstring)."""
    throttle = _throttle(connection)
    if throttle is None:
        return None
    left = await throttle.locked(BEARER_IP, client_address(connection))
    if left is None:
        left = await throttle.locked(BEARER_PREFIX, token_prefix(token))
    return left


async def bearer_failed(connection: Any, token: str, locked: int | None) -> None:
    """An unknown or revoked token: raise :class:`Throttled` when the address or prefix was
    already locked (``locked``, from :func:`bearer_locked`), else count it; the failure that
    locks an address or prefix is audited (``token_throttled``)."""
    throttle = _throttle(connection)
    if throttle is None:
        return
    if locked is not None:
        raise Throttled(locked, BEARER_IP, field="Authorization")
    address = client_address(connection)
    by_address = await throttle.fail(BEARER_IP, address)
    by_prefix = await throttle.fail(BEARER_PREFIX, token_prefix(token))
    for policy, seconds in ((BEARER_IP, by_address), (BEARER_PREFIX, by_prefix)):
        if seconds:
            from core.people.sessions import audit  # sessions build on auth, which imports us

            await audit(
                connection.app.state.db,
                "token_throttled",
                username="",
                address=address,
                seconds=seconds,
                failures=policy.limit,
                policy=policy.name,
            )
