"""Shared by the fuzz and stateful isolation tests: two tenants of their own on a fresh
PostgreSQL database, users of every role, and the app served on a free 127.0.0.1 port.

The tenants are copies of two demo tenant files under new slugs, prefixes and tokens, loaded
into a database made for the test — the demo data is never touched.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from conftest import TENANTS, database_url, drop_database, prepare

from core.app import create_app
from core.db import Database
from core.people.auth import hash_token
from core.people.models import ApiKey, User
from core.provisioning.tenant_file import load_dir
from core.settings import load_settings

SOURCES = {"greenwood-property.toml": ("fuzz-a", "FA"), "riverside-power.toml": ("fuzz-b", "FB")}


@dataclass
class World:
    url: str
    base: str
    tokens: dict[tuple[str, str], str]
    """(tenant slug, username) -> bearer token; the operator's tenant is ''."""
    staff: dict[str, list[str]] = field(default_factory=dict)
    """tenant slug -> its staff codes."""

    def header(self, tenant: str, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(tenant, user)]}"}


def _tenant_files(into: Path) -> None:
    for name, (slug, prefix) in SOURCES.items():
        text = (TENANTS / name).read_text(encoding="utf-8")
        text = re.sub(r'(?m)^slug = ".*"$', f'slug = "{slug}"', text, count=1)
        text = re.sub(r'(?m)^ticket_prefix = ".*"$', f'ticket_prefix = "{prefix}"', text, count=1)
        text = re.sub(r'demo_key = "([^"]+)"', f'demo_key = "{slug}-\\1"', text)
        (into / name).write_text(text, encoding="utf-8")


async def _operator(url: str) -> str:
    db = Database(url)
    token = secrets.token_urlsafe(32)
    try:
        async with db.cross_tenant() as session:
            user = User(tenant_id=None, username="fuzz-operator", roles=["platform_operator"])
            session.add(user)
            await session.flush()
            session.add(ApiKey(user_id=user.id, key_hash=hash_token(token), label="fuzz"))
    finally:
        await db.dispose()
    return token


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def serve(tmp: Path, name: str) -> Iterator[World]:
    """The world, served by uvicorn in a thread until the generator is closed."""
    url = database_url("postgres", tmp, name)
    files = tmp / "tenants"
    files.mkdir()
    _tenant_files(files)
    app_db = prepare(url, files)  # migrated as the owner; the app runs as the app role
    tokens = {
        (tf.slug, u.username): u.demo_key
        for _, tf in load_dir(files)
        for u in tf.users
        if u.demo_key
    }
    staff = {tf.slug: [s.code for s in tf.staff] for _, tf in load_dir(files)}
    tokens[("", "operator")] = asyncio.run(_operator(app_db))
    storage = str(tmp / "attachments")  # attachments' bytes stay in the test's folder
    app = create_app(load_settings({"DATABASE_URL": app_db, "TOUSU_STORAGE_URL": storage}))
    sock = _free_socket()
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="critical", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(300):
        if server.started:
            break
        time.sleep(0.05)
    host, port = sock.getsockname()
    try:
        yield World(url=app_db, base=f"http://{host}:{port}", tokens=tokens, staff=staff)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        drop_database(url)


def users_of(world: World, tenant: str) -> list[str]:
    return sorted(u for (t, u) in world.tokens if t == tenant)


def any_of(world: World) -> list[tuple[str, str]]:
    return sorted(world.tokens)


__all__ = ["SOURCES", "World", "any_of", "serve", "users_of"]
