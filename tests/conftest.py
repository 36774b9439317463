"""Fixtures: the real app over a real, migrated database — SQLite and PostgreSQL both.

Every test that takes ``api`` runs once per backend. PostgreSQL must be reachable (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``, override with TOUSU_TEST_POSTGRES_URL):
when it is not, the tests error out instead of skipping, so CI cannot pass without it.
The demo tenants of ``tenants/`` are loaded through the same sync the CLI uses.

On PostgreSQL the database is migrated as its owner (the server's ``postgres`` user) and the
app — and ``api.url``, ``run_db`` — connect as the app role ``tousu_app`` (``APP_ROLE``): not a
superuser, owner of nothing, under row-level security (core/db_security.py). ``api.owner_url``
is the owner's URL, for tests that must read around the policies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import TestClient

from core import clock
from core.app import create_app
from core.cli import _sync
from core.db import Database
from core.migrate import upgrade
from core.provisioning.tenant_file import load_dir
from core.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
TENANTS = ROOT / "tenants"
PG_URL = os.environ.get(
    "TOUSU_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgres"]
APP_ROLE = "tousu_app"


async def _check_postgres(url: str) -> None:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        raise RuntimeError(
            f"PostgreSQL is required for the test suite and is not reachable at {dsn}: {exc}"
        ) from exc
    await conn.close()


async def _fresh_database(name: str) -> str:
    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


async def _drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def drop_database(url: str) -> None:
    """Remove a database made by :func:`database_url` (no-op for SQLite files)."""
    if url.startswith("postgresql"):
        asyncio.run(_drop_database(url))


def database_url(backend: str, tmp: Path, name: str = "api") -> str:
    """An empty database. On PostgreSQL a fresh database per test process and name, created
    through the ``test`` database, so parallel runs on one server never share tables."""
    if backend == "postgres":
        asyncio.run(_check_postgres(PG_URL))
        return asyncio.run(_fresh_database(f"tousu_{name}_{os.getpid()}"))
    return f"sqlite+aiosqlite:///{tmp / name}.db"


async def _ensure_app_role() -> None:
    """The app's login role exists (roles are cluster-wide: parallel test runs share it)."""
    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    for attempt in range(10):
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            row = await conn.fetchrow(
                "SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = $1", APP_ROLE
            )
            if row is None:
                await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER")
            elif not row["rolcanlogin"]:  # created NOLOGIN by a migrate before the tests
                await conn.execute(f"ALTER ROLE {APP_ROLE} LOGIN")
            return
        except asyncpg.PostgresError:  # created or altered by a parallel run just now
            if attempt == 9:
                raise
            await asyncio.sleep(0.1 * (attempt + 1))
        finally:
            await conn.close()


def app_url(url: str) -> str:
    """The URL the app uses for a database made by :func:`database_url`: on PostgreSQL the
    same database as the app role (SQLite has no roles: the same URL)."""
    if not url.startswith("postgresql"):
        return url
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=APP_ROLE, password=None).render_as_string(False)


def owner_url(url: str) -> str:
    """The owner's URL for the same database (the inverse of :func:`app_url`)."""
    if not url.startswith("postgresql"):
        return url
    from sqlalchemy.engine import make_url

    owner = make_url(PG_URL)
    return (
        make_url(url).set(username=owner.username, password=owner.password).render_as_string(False)
    )


def prepare(url: str, tenants: Path = TENANTS) -> str:
    """Migrate ``url`` as its owner and load the tenant files as the app; returns the app's
    URL (on PostgreSQL the app role's)."""
    app = app_url(url)
    if url.startswith("postgresql"):
        asyncio.run(_ensure_app_role())
    upgrade(url, app_url=app)
    settings = load_settings({"DATABASE_URL": app})
    asyncio.run(_sync(settings, tenants, quiet=True))
    return app


CST = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991


@pytest.fixture(autouse=True)
def _real_time() -> Iterator[None]:
    """Every test starts and ends on the real clock (tests move it with core.clock)."""
    clock.reset()
    yield
    clock.reset()


def cst(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    """A time in China Standard Time, as the seeds' desks keep it."""
    return dt.datetime(y, m, d, h, mi, tzinfo=CST)


def ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def run_db(api: Any, fn: Any) -> Any:
    """Run ``fn(db)`` on a Database of its own (the app's engine lives on another loop)."""

    async def go() -> Any:
        db = Database(api.url)
        try:
            return await fn(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


DEMO_KEYS = {
    (tf.slug, u.username): u.demo_key for _, tf in load_dir(TENANTS) for u in tf.users if u.demo_key
}


class Api:
    """The HTTP client plus who-is-who helpers (tokens come from the demo tenant files)."""

    _counter = itertools.count(1)

    def __init__(
        self, client: TestClient[Any], backend: str, url: str, owner: str | None = None
    ) -> None:
        self.client = client
        self.backend = backend
        self.url = url
        """The app's database URL (PostgreSQL: the app role)."""
        self.owner_url = owner or url
        """The tables' owner (PostgreSQL: not subject to row-level security)."""

    def headers(self, tenant: str, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {DEMO_KEYS[(tenant, username)]}"}

    def get(self, tenant: str, username: str, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(tenant, username), **kw)

    def post(
        self,
        tenant: str,
        username: str,
        path: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> Any:
        h = self.headers(tenant, username) | (headers or {})
        return self.client.post(path, json=json, headers=h, **kw)

    def create(self, tenant: str, username: str = "clerk", **fields: Any) -> dict[str, Any]:
        body = {
            "channel": "phone",
            "complainant": {"name": "张三丰", "contact": "13812345678", "address": "1栋2单元301"},
            "description": f"test complaint #{next(self._counter)}",
        } | fields
        r = self.post(tenant, username, "/api/tickets", json=body)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def act(
        self,
        tenant: str,
        username: str,
        ticket: dict[str, Any],
        action: str,
        expect: int = 200,
        **payload: Any,
    ) -> dict[str, Any]:
        body = {"version": ticket["version"]} | payload
        r = self.post(
            tenant, username, f"/api/tickets/{ticket['id']}/{action.replace('_', '-')}", json=body
        )
        assert r.status_code == expect, f"{action} as {username}: {r.status_code} {r.text}"
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="session", params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    backend = request.param
    tmp = tmp_path_factory.mktemp(backend)
    url = database_url(backend, tmp)
    app_db = prepare(url)
    # attachments' bytes in the test's own folder, not ./var (core.attachments.storage)
    env = {"DATABASE_URL": app_db, "TOUSU_STORAGE_URL": str(tmp / "attachments")}
    app = create_app(load_settings(env))
    with TestClient(app) as client:
        yield Api(client, backend, app_db, url)
    drop_database(url)


def make_operator(api: Api, name: str | None = None) -> dict[str, str]:
    """A platform operator (a user of no tenant) with a fresh API key; its auth headers."""
    import secrets

    from core.people.auth import hash_token
    from core.people.models import ApiKey, User

    name = name or f"op-{secrets.token_hex(4)}"
    token = secrets.token_urlsafe(32)

    async def go(db: Database) -> None:
        async with db.cross_tenant() as session:
            user = User(tenant_id=None, username=name, roles=["platform_operator"])
            session.add(user)
            await session.flush()
            session.add(ApiKey(user_id=user.id, key_hash=hash_token(token), label="test"))

    run_db(api, go)
    return {"Authorization": f"Bearer {token}"}


def small_tenant(slug: str, prefix: str, plugin: str = "utility") -> dict[str, Any]:
    """A minimal tenant document (as ``POST /api/tenants`` takes): one department ``desk``,
    one staff member ``S1`` (no user) and users manager, admin, clerk, supervisor and head (the
    desk's department head), whose demo keys are ``{slug}-{username}-test-key-0001``."""
    keys = {
        u: f"{slug}-{u}-test-key-0001"
        for u in ("manager", "admin", "clerk", "supervisor", "head")
    }
    return {
        "slug": slug,
        "name": f"测试公司 {slug}",
        "plugin": plugin,
        "ticket_prefix": prefix,
        "departments": [{"code": "desk", "name": "客服部"}],
        "staff": [{"code": "S1", "name": "王五", "department": "desk", "position": "客服"}],
        "users": [
            {"username": "manager", "roles": ["manager"], "demo_key": keys["manager"]},
            {"username": "admin", "roles": ["tenant_admin"], "demo_key": keys["admin"]},
            {"username": "clerk", "roles": ["clerk"], "department": "desk",
             "demo_key": keys["clerk"]},
            {"username": "supervisor", "roles": ["supervisor"], "department": "desk",
             "demo_key": keys["supervisor"]},
            {"username": "head", "roles": ["department_head"], "department": "desk",
             "demo_key": keys["head"]},
        ],
    }  # fmt: skip


def graded_citybus(api: Api) -> dict[str, Any]:
    """A fresh citybus ticket graded ``main`` for driver CB-S001 (staff-wang): the tenant
    file's 100-yuan fine_main is proposed [000 §篇8 3(3)]."""
    t = api.create("citybus", channel="government_transfer", accused_staff=["CB-S001"],
                   accused_department="fleet-1")  # fmt: skip
    t = api.act("citybus", "clerk", t, "triage_valid", category="skip_stop", severity="general",
                facets={"direction": "government", "mode": "phone"})  # fmt: skip
    t = api.act("citybus", "clerk", t, "register", reason="on_site")
    t = api.act("citybus", "supervisor", t, "review")
    t = api.act("citybus", "clerk", t, "dispatch", department="fleet-1")
    t = api.act("citybus", "head-fleet1", t, "first_contact", note="called")
    return api.act(
        "citybus", "head-fleet1", t, "grade", findings="investigated",
        grades=[{"staff": "CB-S001", "grade": "main", "findings": "established",
                 "complainant_violation": "argued about the fare before boarding"}],
    )  # fmt: skip


def graded_penalty(api: Api) -> dict[str, Any]:
    """The proposed penalty of a fresh :func:`graded_citybus` ticket."""
    t = graded_citybus(api)
    rows = api.get("citybus", "manager", f"/api/tickets/{t['id']}/penalties").json()
    return next(x for x in rows if x["status"] == "proposed" and x["staff"] == "CB-S001")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last. Playwright's sync API keeps an event loop running on the main
    thread from its first use to the end of the session, and the fixtures here call
    ``asyncio.run``, which refuses to start while another loop runs."""
    browser = {"page", "browser", "context", "playwright"}
    late = [i for i in items if browser & set(getattr(i, "fixturenames", ()))]
    if late:
        items[:] = [i for i in items if i not in late] + late
