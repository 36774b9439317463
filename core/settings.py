"""Typed settings read from the environment, with embedded defaults.

The defaults give a zero-set-up deployment: a SQLite file under ``./var`` and the demo
tenants from ``./tenants``. Production points ``DATABASE_URL`` at PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str
    """What the app connects with: on PostgreSQL the app role (not the tables' owner)."""
    migrate_database_url: str
    """What ``tousu migrate`` connects with: the tables' owner (default: ``database_url``)."""
    redis_url: str | None
    tenants_dir: Path
    host: str
    port: int
    trace_hooks: bool
    webhook_allow_nets: str = ""
    """``TOUSU_WEBHOOK_ALLOW_NETS``: comma-separated networks webhooks may reach although they
    are not global (an intranet receiver), e.g. ``10.20.0.0/16``; empty = global only."""
    webhook_lease_seconds: float = 60.0
    """``TOUSU_WEBHOOK_LEASE_SECONDS``: how long a worker holds a delivery while it POSTs
    (a POST may take a third of it, at most 10 s); also how long a queued delivery may go
    unclaimed before the reaper enqueues it again."""
    reaper_seconds: float = 10.0
    """``TOUSU_REAPER_SECONDS``: how often the reaper re-enqueues lost deliveries."""

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


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    database_url = normalise_database_url(
        env.get("DATABASE_URL", "sqlite+aiosqlite:///./var/tousu.db")
    )
    return Settings(
        database_url=database_url,
        migrate_database_url=normalise_database_url(
            env.get("TOUSU_MIGRATE_DATABASE_URL") or database_url
        ),
        redis_url=env.get("REDIS_URL") or None,
        tenants_dir=Path(env.get("TOUSU_TENANTS_DIR", "tenants")),
        host=env.get("TOUSU_HOST", "127.0.0.1"),
        port=int(env.get("TOUSU_PORT", "8000")),
        trace_hooks=env.get("TOUSU_TRACE_HOOKS", "") not in ("", "0", "false"),
        webhook_allow_nets=env.get("TOUSU_WEBHOOK_ALLOW_NETS", ""),
        webhook_lease_seconds=float(env.get("TOUSU_WEBHOOK_LEASE_SECONDS", "60")),
        reaper_seconds=float(env.get("TOUSU_REAPER_SECONDS", "10")),
    )
