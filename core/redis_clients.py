"""One place that turns a Redis URL into a client: caches, sessions, throttling, pub/sub,
the jobs broker and ``/ready`` all call :func:`client` (asyncio) or :func:`sync_client`.

Two URL forms are accepted:

* ``redis://[:password@]host:port/db`` (``rediss://`` for TLS, ``unix://``) — one server;
* ``redis+sentinel://[:password@]s1:26379,s2:26379/service/db`` — Redis Sentinel: the
  sentinels at ``s1``, ``s2``… are asked for the current master of ``service`` at every
  (re)connection, so a failover needs no change of setting. The password is the master's
  (and the sentinels', when they have one: ``?sentinel_password=…`` otherwise); ``db``
  defaults to 0.

Keyword arguments (``socket_timeout``, ``socket_connect_timeout``, ``health_check_interval``)
go to the client whichever the form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")


class RedisUrlError(ValueError):
    """A Redis URL that cannot be used; the message names what is wrong (not the password)."""


@dataclass(frozen=True)
class SentinelUrl:
    """The parts of a ``redis+sentinel://`` URL."""

    sentinels: list[tuple[str, int]]
    service: str
    db: int = 0
    password: str | None = None
    username: str | None = None
    sentinel_password: str | None = None
    ssl: bool = False
    options: dict[str, str] = field(default_factory=dict)


def is_sentinel(url: str) -> bool:
    return url.split("://", 1)[0].lower() in SENTINEL_SCHEMES


def parse_sentinel(url: str) -> SentinelUrl:
    """``redis+sentinel://[user:password@]h1:p1,h2:p2/service[/db][?sentinel_password=…]``.

    Raises :class:`RedisUrlError` for a URL without sentinels or service, or a bad port/db."""
    scheme, _, rest = url.partition("://")
    rest, _, query = rest.partition("?")
    creds, at, tail = rest.rpartition("@")
    netloc, _, path = tail.partition("/")
    username = password = None
    if at:
        user, colon, pw = creds.partition(":")
        username = unquote(user) or None
        password = unquote(pw) if colon else None
    sentinels = []
    for part in filter(None, netloc.split(",")):
        host, colon, port = part.rpartition(":") if ":" in part else (part, "", "26379")
        if not port.isdigit():
            raise RedisUrlError(f"sentinel port {port!r} is not a number")
        sentinels.append((host, int(port)))
    if not sentinels:
        raise RedisUrlError("a redis+sentinel URL names at least one sentinel host:port")
    service, _, db = path.strip("/").partition("/")
    if not service:
        raise RedisUrlError("a redis+sentinel URL names the service: …/mymaster[/db]")
    if db and not db.isdigit():
        raise RedisUrlError(f"database {db!r} is not a number")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    return SentinelUrl(
        sentinels=sentinels,
        service=service,
        db=int(db or 0),
        password=password,
        username=username,
        sentinel_password=options.pop("sentinel_password", None),
        ssl=scheme.lower().startswith("rediss"),
        options=options,
    )


def check(url: str) -> None:
    """Raise :class:`RedisUrlError` if ``url`` is neither form (used when settings load)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if is_sentinel(url):
        parse_sentinel(url)
    elif scheme not in ("redis", "rediss", "unix"):
        raise RedisUrlError(
            "expected redis://host:port/db, rediss://…, unix://… or "
            "redis+sentinel://sentinel:26379,…/service/db"
        )


def _sentinel_kwargs(
    s: SentinelUrl, kwargs: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    conn = dict(kwargs)
    conn.setdefault("db", s.db)
    if s.password is not None:
        conn.setdefault("password", s.password)
    if s.username is not None:
        conn.setdefault("username", s.username)
    if s.ssl:
        conn.setdefault("ssl", True)
    sentinel_kwargs = {
        k: v for k, v in kwargs.items() if k in ("socket_timeout", "socket_connect_timeout")
    }
    if s.sentinel_password:
        sentinel_kwargs["password"] = s.sentinel_password
    return conn, sentinel_kwargs


def _connect(url: str, kwargs: dict[str, Any], redis: Any, sentinel: Any) -> Any:
    """A ``redis`` client for ``url``: directly, or the master the sentinels name."""
    if not is_sentinel(url):
        return redis.from_url(url, **kwargs)
    s = parse_sentinel(url)
    conn, sentinel_kwargs = _sentinel_kwargs(s, kwargs)
    return sentinel(s.sentinels, sentinel_kwargs=sentinel_kwargs).master_for(
        s.service, redis_class=redis, **conn
    )


def client(url: str, **kwargs: Any) -> Any:
    """An asyncio client (``redis.asyncio.Redis``) for ``url``, either form."""
    from redis.asyncio import Redis
    from redis.asyncio.sentinel import Sentinel

    return _connect(url, kwargs, Redis, Sentinel)


def sync_client(url: str, **kwargs: Any) -> Any:
    """A blocking client (``redis.Redis``) for ``url``, either form (the broker, pub/sub)."""
    from redis import Redis
    from redis.sentinel import Sentinel

    return _connect(url, kwargs, Redis, Sentinel)
