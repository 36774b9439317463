"""Every setting the program reads, in one typed object, from the environment.

Each field of :class:`Settings` names its environment variable, its default and a one-line
description; nothing else in the code reads ``os.environ``. Adding a setting is one line::

    webhook_allow: Annotated[str, Env("TOUSU_WEBHOOK_ALLOW", "hosts webhooks may call")] = ""

Values are parsed and checked when loaded (``tousu`` does it before any command runs): a
bad value raises :class:`SettingsError` whose message is one line naming the variable, e.g.
``TOUSU_PORT: expected an integer from 1 to 65535, got 'eighty'``. ``tousu config`` prints
them all (secrets masked); the README's settings table lists them (a test keeps it whole).

The defaults give a zero-set-up deployment: a SQLite file under ``./var`` and the demo
tenants from ``./tenants``. Production points ``DATABASE_URL`` at PostgreSQL.

Read once, passed down: an entry point (:func:`core.app.create_app`, the worker, the CLI)
loads the settings and hands them on; code that cannot be handed them through a contract it
does not own (a channel type's ``check`` and ``send``, a plugin's egress) asks
:func:`current`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import msgspec

DEFAULT_TIMEZONE = "Asia/Shanghai"
"""A tenant's time zone when its configuration names none (``timezone`` in its tenant file):
the one default every module falls back to."""


def tenant_zone(config: dict[str, Any] | None) -> str:
    """A tenant's IANA time zone from its configuration (``timezone``): the one rule — an
    unknown or missing zone is :data:`DEFAULT_TIMEZONE`. Read it as ``Tenant.timezone``
    (``core.people.models``) or ``tenant_data.tenant_info(scope).timezone``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    tz = str((config or {}).get("timezone") or DEFAULT_TIMEZONE)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_TIMEZONE
    return tz


class Env:
    """Field metadata: the variable's name, what it does, whether to mask it, its bounds."""

    __slots__ = ("choices", "description", "ge", "le", "name", "pattern", "secret")

    def __init__(
        self,
        name: str,
        description: str,
        *,
        secret: bool = False,
        ge: float | None = None,
        le: float | None = None,
        choices: tuple[str, ...] | None = None,
        pattern: str | None = None,
    ) -> None:
        self.name = name
        self.pattern = pattern
        self.description = description
        self.secret = secret
        self.ge = ge
        self.le = le
        self.choices = choices


class SettingsError(ValueError):
    """A variable has a value the program cannot use; the message is one line naming it."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # -- storage ---------------------------------------------------------------------------
    database_url: Annotated[
        str,
        Env(
            "DATABASE_URL",
            "what the app connects with; on PostgreSQL the app role's login",
            secret=True,
        ),
    ] = "sqlite+aiosqlite:///./var/tousu.db"
    migrate_database_url: Annotated[
        str,
        Env(
            "TOUSU_MIGRATE_DATABASE_URL",
            "the tables' owner, for `tousu migrate`; unset: DATABASE_URL",
            secret=True,
        ),
    ] = ""
    app_role: Annotated[
        str,
        Env(
            "TOUSU_APP_ROLE",
            "PostgreSQL role the app runs as (grants, row-level security)",
            pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        ),
    ] = "tousu_app"
    redis_url: Annotated[
        str | None,
        Env(
            "REDIS_URL",
            "Redis for workers, scheduler, cache invalidation; unset: in-process",
            secret=True,
        ),
    ] = None
    tenants_dir: Annotated[Path, Env("TOUSU_TENANTS_DIR", "folder of tenant *.toml files")] = Path(
        "tenants"
    )
    storage_url: Annotated[
        str,
        Env(
            "TOUSU_STORAGE_URL",
            "where ticket attachments' bytes live: a directory path or file:///path, or "
            "s3://bucket/prefix; unset: ./var/attachments",
        ),
    ] = ""
    s3_endpoint: Annotated[
        str,
        Env(
            "TOUSU_S3_ENDPOINT",
            "an S3-compatible server's address (MinIO, a cloud's OSS), e.g. "
            "http://127.0.0.1:9000; unset: AWS",
        ),
    ] = ""
    s3_region: Annotated[str, Env("TOUSU_S3_REGION", "the bucket's region")] = "us-east-1"
    s3_access_key_id: Annotated[
        str, Env("TOUSU_S3_ACCESS_KEY_ID", "S3 access key; unset: the AWS_* environment")
    ] = ""
    s3_secret_access_key: Annotated[
        str,
        Env(
            "TOUSU_S3_SECRET_ACCESS_KEY", "S3 secret key; unset: the AWS_* environment", secret=True
        ),
    ] = ""
    # -- the API server --------------------------------------------------------------------
    host: Annotated[str, Env("TOUSU_HOST", "address `tousu serve` binds")] = "127.0.0.1"
    port: Annotated[int, Env("TOUSU_PORT", "port `tousu serve` binds", ge=1, le=65535)] = 8000
    public_url: Annotated[
        str,
        Env(
            "TOUSU_PUBLIC_URL",
            "the console's address as people reach it, e.g. https://tousu.example.cn: links "
            "in e-mail and SMS notices; unset: the ticket's path alone (/tickets/123)",
        ),
    ] = ""
    # -- plugins ---------------------------------------------------------------------------
    trace_hooks: Annotated[bool, Env("TOUSU_TRACE_HOOKS", "log every plugin hook call")] = False
    disable_plugin_autoload: Annotated[
        bool, Env("TOUSU_DISABLE_PLUGIN_AUTOLOAD", "do not load tousu.plugins entry points")
    ] = False
    # -- background work -------------------------------------------------------------------
    redis_namespace: Annotated[
        str, Env("TOUSU_REDIS_NAMESPACE", "key prefix keeping deployments on one Redis apart")
    ] = "tousu"
    redis_heartbeat_ms: Annotated[
        int,
        Env(
            "TOUSU_REDIS_HEARTBEAT_MS", "a dead worker's messages are requeued after (ms)", ge=1000
        ),
    ] = 30_000
    redis_maintenance_chance: Annotated[
        int,
        Env(
            "TOUSU_REDIS_MAINTENANCE_CHANCE",
            "per million broker calls that requeue dead workers' messages",
            ge=0,
            le=1_000_000,
        ),
    ] = 20_000
    sweep_seconds: Annotated[
        float, Env("TOUSU_SWEEP_SECONDS", "seconds between deadline sweeps", ge=0.01)
    ] = 30.0
    relay_seconds: Annotated[
        float, Env("TOUSU_RELAY_SECONDS", "seconds between outbox relay passes", ge=0.01)
    ] = 1.0

    # -- logs and metrics ------------------------------------------------------------------
    log_format: Annotated[
        str,
        Env(
            "TOUSU_LOG_FORMAT",
            "json, console, or auto: JSON unless on a terminal",
            choices=("auto", "json", "console"),
        ),
    ] = "auto"
    log_level: Annotated[
        str,
        Env(
            "TOUSU_LOG_LEVEL",
            "least severe level logged",
            choices=("debug", "info", "warning", "error"),
        ),
    ] = "info"
    worker_metrics_port: Annotated[
        int,
        Env(
            "TOUSU_WORKER_METRICS_PORT",
            "`tousu worker` serves Prometheus metrics here; 0: off",
            ge=0,
            le=65535,
        ),
    ] = 0
    metrics_token: Annotated[
        str,
        Env("TOUSU_METRICS_TOKEN", "bearer token GET /metrics requires; unset: open", secret=True),
    ] = ""
    # -- notifications (email through the platform's SMTP relay) --------------------------
    smtp_host: Annotated[str, Env("TOUSU_SMTP_HOST", "SMTP relay for email; unset: no email")] = ""
    smtp_port: Annotated[int, Env("TOUSU_SMTP_PORT", "SMTP relay port", ge=1, le=65535)] = 25
    smtp_username: Annotated[str, Env("TOUSU_SMTP_USERNAME", "SMTP login, if any")] = ""
    smtp_password: Annotated[
        str, Env("TOUSU_SMTP_PASSWORD", "SMTP password, if any", secret=True)
    ] = ""
    smtp_from: Annotated[str, Env("TOUSU_SMTP_FROM", "sender when a tenant names none")] = (
        "tousu@localhost"
    )
    smtp_starttls: Annotated[bool, Env("TOUSU_SMTP_STARTTLS", "upgrade to TLS (STARTTLS)")] = False
    # -- the console (people's sessions) -----------------------------------------------------
    secret_key: Annotated[
        str,
        Env(
            "TOUSU_SECRET_KEY",
            "signs CSRF tokens; several API processes behind one address must share it "
            "(unset: each process makes its own)",
            secret=True,
        ),
    ] = ""
    session_idle_minutes: Annotated[
        float,
        Env("TOUSU_SESSION_IDLE_MINUTES", "a console session ends after this idle time", ge=1),
    ] = 30.0
    cookie_secure: Annotated[
        bool, Env("TOUSU_COOKIE_SECURE", "send the session cookie over HTTPS only")
    ] = False
    console_poll_seconds: Annotated[
        int,
        Env(
            "TOUSU_CONSOLE_POLL_SECONDS",
            "how often an open queue or ticket page asks whether something changed",
            ge=1,
            le=3600,
        ),
    ] = 15
    # -- webhooks --------------------------------------------------------------------------
    webhook_allow_nets: Annotated[
        str,
        Env(
            "TOUSU_WEBHOOK_ALLOW_NETS",
            "comma-separated non-global networks webhooks may reach (an intranet receiver), "
            "e.g. 10.20.0.0/16; empty: global addresses only",
        ),
    ] = ""
    webhook_lease_seconds: Annotated[
        float,
        Env(
            "TOUSU_WEBHOOK_LEASE_SECONDS",
            "how long a worker holds a delivery while it POSTs; also how long a queued "
            "delivery may go unclaimed before the reaper enqueues it again",
            ge=1,
        ),
    ] = 60.0
    reaper_seconds: Annotated[
        float,
        Env("TOUSU_REAPER_SECONDS", "how often the reaper re-enqueues lost deliveries", ge=0.01),
    ] = 10.0
    # -- trust: who the client is (behind a balancer) ------------------------------------
    trusted_proxies: Annotated[
        str,
        Env(
            "TOUSU_TRUSTED_PROXIES",
            "comma-separated addresses or networks of the balancers/proxies in front of the "
            "API, e.g. 10.0.0.5,10.1.0.0/24; only from them is X-Forwarded-For believed "
            "(empty: trust none, the client is the TCP peer)",
        ),
    ] = ""

    # -- deployment: database pool, poolers, replicas, broker (docs/deployment.md) --------
    db_pool_size: Annotated[
        int,
        Env(
            "TOUSU_DB_POOL_SIZE",
            "PostgreSQL connections each process keeps open; 0: no pool of our own (a "
            "connection per unit of work, for pgbouncer)",
            ge=0,
            le=1000,
        ),
    ] = 10
    db_max_overflow: Annotated[
        int,
        Env(
            "TOUSU_DB_MAX_OVERFLOW",
            "connections a process may open beyond the pool under a burst",
            ge=0,
            le=1000,
        ),
    ] = 10
    db_statement_cache_size: Annotated[
        int,
        Env(
            "TOUSU_DB_STATEMENT_CACHE_SIZE",
            "prepared statements asyncpg keeps per connection; 0 behind a transaction pooler",
            ge=0,
            le=100_000,
        ),
    ] = 100
    db_pooler: Annotated[
        str,
        Env(
            "TOUSU_DB_POOLER",
            "what sits between the app and PostgreSQL: none, or transaction (pgbouncer "
            "pool_mode=transaction: statement caches off, a unique name per prepared "
            "statement)",
            choices=("none", "transaction"),
        ),
    ] = "none"
    db_jit: Annotated[
        bool,
        Env(
            "TOUSU_DB_JIT",
            "PostgreSQL's JIT for our statements (set per transaction, so poolers pass it)",
        ),
    ] = False
    reports_database_url: Annotated[
        str,
        Env(
            "TOUSU_REPORTS_DATABASE_URL",
            "a replica that serves statistics, KPIs, bulletins, exports, charts and report "
            "packs (lag in the X-Replica-Lag header); unset: DATABASE_URL",
            secret=True,
        ),
    ] = ""
    broker_url: Annotated[
        str,
        Env(
            "TOUSU_BROKER_URL",
            "where jobs queue: redis://…, redis+sentinel://… or amqp://… (RabbitMQ); "
            "unset: REDIS_URL",
            secret=True,
        ),
    ] = ""

    @property
    def broker(self) -> str | None:
        """The jobs broker's URL (``TOUSU_BROKER_URL``, else ``REDIS_URL``); None: the
        embedded in-process worker."""
        return self.broker_url or self.redis_url


def normalise_database_url(url: str, variable: str = "DATABASE_URL") -> str:
    """Accept the URLs people paste and pick async drivers.

    ``postgres://`` and ``postgresql://`` become ``postgresql+asyncpg://``; libpq's
    multi-host form (``postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write``,
    what pg_auto_failover and Patroni print) becomes SQLAlchemy's
    ``postgresql+asyncpg://u@/db?host=h1:5432&host=h2:5433&target_session_attrs=read-write``.
    ``sqlite:///`` becomes ``sqlite+aiosqlite:///``.

    Raises :class:`SettingsError` naming ``variable`` for a URL that cannot be parsed (a
    port that is not a number, a host list in a URL of another kind)."""
    if not url:
        return url
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith("postgresql"):
        url = _multi_host(url, variable)
    if url.startswith("postgresql+asyncpg") and "target_session_attrs=read-write" in url:
        # libpq's read-write asks the server (SHOW transaction_read_only); asyncpg's only
        # reads default_transaction_read_only, which a hot standby reports "off": it would
        # settle on a standby listed first and every write would fail. "primary" asks
        # pg_is_in_recovery() (or the in_hot_standby status): what read-write means here.
        url = url.replace("target_session_attrs=read-write", "target_session_attrs=primary")
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - parses the port (int) now, not at the first connection
    except (ArgumentError, ValueError) as exc:
        raise SettingsError(variable, f"not a database URL ({exc}): {mask(url, True)}") from None
    hosts = parsed.query.get("host", ())
    for host in (hosts,) if isinstance(hosts, str) else hosts:
        _host_port(host, variable, url)
    return url


def _host_port(hostport: str, variable: str, url: str) -> tuple[str, int | None]:
    host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise SettingsError(
            variable,
            f"port {port!r} of host {host!r} is not a number from 1 to 65535: {mask(url, True)}",
        )
    return host, int(port) if port else None


def _multi_host(url: str, variable: str) -> str:
    """libpq's ``scheme://user@h1:p1,h2:p2/db?…`` → ``scheme://user@/db?host=h1:p1&host=…``."""
    scheme, rest = url.split("://", 1)
    creds, at, tail = rest.rpartition("@")
    netloc, _, path = tail.partition("/")
    if "," not in netloc:
        return url
    hosts = [h for h in netloc.split(",") if h]
    for h in hosts:
        _host_port(h, variable, url)
    db, _, query = path.partition("?")
    params = "&".join(f"host={h}" for h in hosts)
    query = f"{params}&{query}" if query else params
    return f"{scheme}://{creds}{at}/{db}?{query}"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _split(annotation: Any) -> tuple[Any, Env]:
    """``Annotated[T, Env(...)]`` → (T, Env)."""
    base, *meta = get_args(annotation)
    env = next(m for m in meta if isinstance(m, Env))
    return base, env


def _parse(raw: str, kind: Any, env: Env) -> Any:
    """One variable's text → its typed value, or SettingsError naming the variable."""
    optional = get_origin(kind) is not None and type(None) in get_args(kind)
    if optional:
        if raw == "":
            return None
        kind = next(a for a in get_args(kind) if a is not type(None))
    text = raw.strip()
    if kind is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise SettingsError(env.name, f"expected 1/0, true/false, yes/no or on/off, got {raw!r}")
    if kind is int or kind is float:
        try:
            value: Any = kind(text)
        except ValueError:
            noun = "an integer" if kind is int else "a number"
            raise SettingsError(env.name, f"expected {noun}{_bounds(env)}, got {raw!r}") from None
        if (env.ge is not None and value < env.ge) or (env.le is not None and value > env.le):
            noun = "an integer" if kind is int else "a number"
            raise SettingsError(env.name, f"expected {noun}{_bounds(env)}, got {raw!r}")
        return value
    if kind is Path:
        return Path(text)
    if env.pattern is not None and not re.fullmatch(env.pattern, text):
        raise SettingsError(env.name, f"expected a plain lower-case identifier, got {raw!r}")
    if env.choices is not None and text.lower() not in env.choices:
        raise SettingsError(env.name, f"expected one of {', '.join(env.choices)}, got {raw!r}")
    return text.lower() if env.choices else raw


def _bounds(env: Env) -> str:
    def n(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    if env.ge is not None and env.le is not None:
        return f" from {n(env.ge)} to {n(env.le)}"
    if env.ge is not None:
        return f" of at least {n(env.ge)}"
    if env.le is not None:
        return f" of at most {n(env.le)}"
    return ""


@cache
def _fields() -> tuple[tuple[str, Any, Any, Env], ...]:
    """(field name, default, type, Env) for every setting, in declaration order."""
    hints = get_type_hints(Settings, include_extras=True)
    out = []
    for f in msgspec.structs.fields(Settings):
        kind, meta = _split(hints[f.name])
        out.append((f.name, f.default, kind, meta))
    return tuple(out)


def variables() -> list[tuple[str, Any, Env]]:
    """(field name, default, Env) for every setting, in declaration order."""
    return [(name, default, meta) for name, default, _, meta in _fields()]


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting (``os.environ`` unless ``env`` is given).

    Raises :class:`SettingsError` (one line naming the variable) for a bad value."""
    source = os.environ if env is None else env
    values: dict[str, Any] = {}
    for name, _, kind, meta in _fields():
        raw = source.get(meta.name)
        if raw is not None:
            values[name] = _parse(raw, kind, meta)
    settings = check_service_urls(Settings(**values))
    database_url = normalise_database_url(settings.database_url)
    settings = msgspec.structs.replace(
        settings,
        database_url=database_url,
        migrate_database_url=normalise_database_url(
            settings.migrate_database_url or database_url, "TOUSU_MIGRATE_DATABASE_URL"
        ),
        reports_database_url=normalise_database_url(
            settings.reports_database_url, "TOUSU_REPORTS_DATABASE_URL"
        ),
    )
    check_values(settings)
    return settings


_process: Settings | None = None
in_request: ContextVar[Settings | None] = ContextVar("tousu_settings", default=None)
"""The settings of the app serving the current request (set by :func:`core.app.create_app`'s
middleware), so that two apps in one process (tests) each see their own."""


def use(settings: Settings) -> Settings:
    """Make ``settings`` this process's, for :func:`current` outside any request (an entry
    point calls it with what it loaded); returns them."""
    global _process
    _process = settings
    return settings


def current() -> Settings:
    """The settings in force: the app's inside one of its requests, else the ones this
    process's entry point passed to :func:`use`; a library caller with neither gets the
    environment's, read once."""
    return in_request.get() or _process or use(load_settings())


def check_service_urls(settings: Settings) -> Settings:
    """The Redis and broker URLs parse (``redis://``, ``redis+sentinel://``, ``amqp://``);
    raises :class:`SettingsError` naming the variable otherwise."""
    from core.redis_clients import RedisUrlError, check

    if settings.redis_url:
        try:
            check(settings.redis_url)
        except RedisUrlError as exc:
            raise SettingsError(
                "REDIS_URL", f"{exc}, got {mask(settings.redis_url, True)}"
            ) from None
    broker = settings.broker_url
    if broker and not broker.lower().startswith(("amqp://", "amqps://")):
        try:
            check(broker)
        except RedisUrlError as exc:
            raise SettingsError(
                "TOUSU_BROKER_URL", f"{exc} (or amqp://… for RabbitMQ), got {mask(broker, True)}"
            ) from None
    return settings


def mask(value: Any, secret: bool) -> str:
    """A value for display: URLs keep scheme and host but lose the password; other secrets
    show only whether they are set."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    if not secret:
        return text
    if "://" in text:
        scheme, rest = text.split("://", 1)
        if "@" in rest:
            creds, host = rest.rsplit("@", 1)
            user = creds.split(":", 1)[0]
            return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
        return text
    return "***" if text else ""


def describe(settings: Settings) -> list[tuple[str, str, str, str]]:
    """(variable, shown value, 'env' or 'default', description) for ``tousu config``."""
    rows = []
    for name, default, meta in variables():
        value = getattr(settings, name)
        source = "env" if meta.name in os.environ else "default"
        del default
        rows.append((meta.name, mask(value, meta.secret), source, meta.description))
    return rows


# -- checks across values (trust) ----------------------------------------------------------
# Values whose type alone does not say they are usable: each is checked when the settings
# load, so `tousu check`, `tousu serve` and every other command refuse them at start with
# one line naming the variable (a bad network list used to start a server whose every
# webhook creation was a 500).

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str, variable: str) -> tuple[IPNetwork, ...]:
    """``"127.0.0.1, 10.0.0.0/8, ::1"`` → networks (a bare address is a /32 or /128).

    Raises :class:`SettingsError` naming ``variable`` and the item that is not a network."""
    nets = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                variable,
                f"expected comma-separated addresses or networks (e.g. 10.0.0.0/8), got {item!r}",
            ) from None
    return tuple(nets)


def _check_scheme(variable: str, value: str | None, schemes: tuple[str, ...]) -> None:
    if not value:
        return
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if not any(scheme == s or scheme.startswith(s + "+") for s in schemes):
        wanted = ", ".join(f"{s}://" for s in schemes)
        raise SettingsError(variable, f"expected a URL starting {wanted}, got scheme {scheme!r}")


def check_values(settings: Settings) -> None:
    """Raise :class:`SettingsError` for the first value that cannot be used as it stands."""
    parse_networks(settings.webhook_allow_nets, "TOUSU_WEBHOOK_ALLOW_NETS")
    parse_networks(settings.trusted_proxies, "TOUSU_TRUSTED_PROXIES")
    _check_scheme("REDIS_URL", settings.redis_url, ("redis", "rediss", "unix"))
    _check_scheme("TOUSU_S3_ENDPOINT", settings.s3_endpoint, ("http", "https"))
