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
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import msgspec


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

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and pick async drivers."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


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
    settings = Settings(**values)
    database_url = normalise_database_url(settings.database_url)
    return msgspec.structs.replace(
        settings,
        database_url=database_url,
        migrate_database_url=normalise_database_url(settings.migrate_database_url or database_url),
    )


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
