"""Apply the alembic migrations to the configured database (``tousu migrate``).

Run as the owner of the tables (``TOUSU_MIGRATE_DATABASE_URL``, else ``DATABASE_URL``); on
PostgreSQL it then (re)applies the app role's grants and the row-level security policies
(:mod:`core.db_security`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations

SCRIPT_LOCATION = Path(migrations.__file__).parent


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head", app_url: str | None = None) -> None:
    """Migrate ``database_url`` (the owner's) to ``revision``; on PostgreSQL also secure it.

    ``app_url``: the URL the app connects with; when its user is not the owner, that user is
    made a member of the app role (``TOUSU_APP_ROLE``, default ``tousu_app``)."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)
    if database_url.startswith("postgresql"):
        asyncio.run(_secure(database_url, app_url))


def _user_of(url: str | None) -> str | None:
    if not url or not url.startswith("postgresql"):
        return None
    from sqlalchemy.engine import make_url

    return make_url(url).username


async def _secure(owner_url: str, app_url: str | None) -> None:
    from core.db import make_engine
    from core.db_security import secure

    app_user = _user_of(app_url)
    users = (app_user,) if app_user and app_user != _user_of(owner_url) else ()
    engine = make_engine(owner_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: secure(c, login_users=users))
    finally:
        await engine.dispose()


def revision(database_url: str, message: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
