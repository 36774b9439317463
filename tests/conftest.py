"""Fixtures: the real app over a real, migrated database — SQLite and PostgreSQL both.

Every test that takes ``api`` runs once per backend. PostgreSQL must be reachable (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``, override with TOUSU_TEST_POSTGRES_URL):
when it is not, the tests error out instead of skipping, so CI cannot pass without it.
The demo tenants of ``tenants/`` are loaded through the same sync the CLI uses.

On PostgreSQL the database is migrated as its owner (the server's ``postgres`` user) and the
app — and ``api.url``, ``run_db`` — connect as the app role ``tousu_app`` (``APP_ROLE``): not a
superuser, owner of nothing, under row-level security (core/db_security.py). ``api.owner_url``
is the owner's URL, for tests that must read around the policies.

Parallel (pytest-xdist): every worker is its own process, so it has its own databases
(named per process id), its own app, its own temporary folders; private servers take free
ports (tests/serverkit.py). Set-up is paid once: a database from :func:`database_url` that
:func:`prepare` fills with the demo tenants is a copy of a template migrated and loaded once
per state of the code (SQLite: a file under the system's temporary folder; PostgreSQL: a
``tousu_tmpl_<hash>`` database made with ``CREATE DATABASE … TEMPLATE``), keyed by a hash of
core/, plugins/, migrations/ and tenants/, so any change there makes a new one.

Speed, with nothing a test asserts changed (throw-away data need not survive a power cut):
temporary files — SQLite databases and templates, private servers' folders, browser
profiles — go to the memory file system ``/dev/shm`` when it has room (``TMPDIR`` set by the
caller is kept), and the PostgreSQL databases made here run with ``synchronous_commit =
off`` (a commit does not wait for the disk; what it makes visible, and when, is unchanged).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import itertools
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import TestClient

from core import clock
from core.app import create_app
from core.cli import _sync
from core.db import Database
from core.migrate import upgrade
from core.provisioning.tenant_file import load_dir
from core.settings import load_settings


def _temporary_files_in_memory() -> None:
    """``TMPDIR`` is ``/dev/shm/tousu-tests`` when the caller set none and ``/dev/shm``
    has at least 2 GiB free (a container's default 64 MiB is left alone): a commit to a
    SQLite file there costs microseconds instead of a disk flush (milliseconds). Set before
    pytest makes its temporary folders; xdist workers and servers started here inherit it."""
    shm = Path("/dev/shm")
    if "TMPDIR" in os.environ or not shm.is_dir() or not os.access(shm, os.W_OK):
        return
    if shutil.disk_usage(shm).free < 2 * 1024**3:
        return
    folder = shm / "tousu-tests"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o1777)  # like /tmp: private servers run as ``postgres`` below it
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None  # tempfile caches its choice: let it choose again


_temporary_files_in_memory()

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
        await conn.execute(NO_FLUSH.format(name=name))
    finally:
        await conn.close()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


NO_FLUSH = 'ALTER DATABASE "{name}" SET synchronous_commit = off'
"""For the databases the tests make (a setting of the database, not copied by ``CREATE
DATABASE … TEMPLATE``, so set on every copy): a commit returns before its WAL reaches the
disk (about 9 ms less each on a busy machine); a crash could lose the last commits of a
database thrown away anyway. Visibility and locking are as with the default."""


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


_FRESH: set[str] = set()
"""URLs :func:`database_url` handed out that nothing has written to yet (a :func:`prepare`
of the demo tenants may then copy a template instead of migrating)."""


def database_url(backend: str, tmp: Path, name: str = "api") -> str:
    """An empty database. On PostgreSQL a fresh database per test process and name, created
    through the ``test`` database, so parallel runs on one server never share tables."""
    if backend == "postgres":
        asyncio.run(_check_postgres(PG_URL))
        url = asyncio.run(_fresh_database(f"tousu_{name}_{os.getpid()}"))
    else:
        url = f"sqlite+aiosqlite:///{tmp / name}.db"
    _FRESH.add(url)
    return url


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


def _migrate_and_load(url: str, tenants: Path) -> str:
    app = app_url(url)
    if url.startswith("postgresql"):
        asyncio.run(_ensure_app_role())
    upgrade(url, app_url=app)
    settings = load_settings({"DATABASE_URL": app})
    asyncio.run(_sync(settings, tenants, quiet=True))
    return app


def prepare(url: str, tenants: Path = TENANTS) -> str:
    """Migrate ``url`` as its owner and load the tenant files as the app; returns the app's
    URL (on PostgreSQL the app role's). A fresh database of :func:`database_url` with the
    demo tenants is copied from the template instead (the same rows, in well under a
    second)."""
    fresh = url in _FRESH
    _FRESH.discard(url)
    if fresh and tenants == TENANTS and os.environ.get("TOUSU_TEST_NO_TEMPLATE") != "1":
        if url.startswith("sqlite"):
            _copy_sqlite(_sqlite_template(), Path(url.split(":///", 1)[1]))
            return url
        if url.rsplit("/", 1)[0] == PG_URL.rsplit("/", 1)[0]:  # the suite's server
            asyncio.run(_ensure_app_role())
            asyncio.run(_clone_database(_postgres_template(), url.rsplit("/", 1)[1]))
            return app_url(url)
    return _migrate_and_load(url, tenants)


# --------------------------------------------------------------------------- templates


def _code_hash() -> str:
    """Of everything a migrated, loaded database depends on: the migrations, the code the
    tenant sync runs, the plugins and the demo tenant files."""
    h = hashlib.sha256()
    for top in ("core", "plugins", "migrations", "tenants"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in {".py", ".toml", ".ini", ".mako"} and path.is_file():
                h.update(str(path.relative_to(ROOT)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:16]


CODE_HASH = _code_hash()
TEMPLATES = Path(tempfile.gettempdir()) / "tousu-test-templates"


def _copy_sqlite(src: Path, dst: Path) -> None:
    """SQLite's online backup: a consistent copy even of a database in WAL mode."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(src)) as a,
        contextlib.closing(sqlite3.connect(dst)) as b,
    ):
        a.backup(b)


def _sqlite_template() -> Path:
    """The migrated, loaded SQLite file for this state of the code (made once, by whichever
    worker gets there first; the others wait on the lock file)."""
    import fcntl

    TEMPLATES.mkdir(exist_ok=True)
    target = TEMPLATES / f"{CODE_HASH}.db"
    if target.exists():
        return target
    with (TEMPLATES / f"{CODE_HASH}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not target.exists():
            work = Path(tempfile.mkdtemp(prefix="tousu-tmpl-", dir=TEMPLATES))
            try:
                _migrate_and_load(f"sqlite+aiosqlite:///{work / 'db.db'}", TENANTS)
                _copy_sqlite(work / "db.db", work / "copy.db")
                os.replace(work / "copy.db", target)
                _prune_sqlite_templates()
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return target


def _admin_dsn() -> str:
    return PG_URL.replace("postgresql+asyncpg://", "postgresql://")


def _postgres_template() -> str:
    """The name of the migrated, loaded template database for this state of the code, made
    under an advisory lock (parallel workers and runs share it; it is never connected to
    after it is made, as ``CREATE DATABASE … TEMPLATE`` requires)."""
    name = f"tousu_tmpl_{CODE_HASH}"

    async def make() -> None:
        conn = await asyncpg.connect(_admin_dsn(), timeout=5)
        try:
            done = "SELECT datistemplate FROM pg_database WHERE datname = $1"
            if await conn.fetchval(done, name):
                return
            await conn.execute("SELECT pg_advisory_lock(hashtext('tousu-test-templates'))")
            if await conn.fetchval(done, name):  # made by another worker meanwhile
                return
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.execute(NO_FLUSH.format(name=name))
            owner = PG_URL.rsplit("/", 1)[0] + "/" + name
            # alembic and the sync run their own event loops: in a thread of their own
            await asyncio.to_thread(_migrate_and_load, owner, TENANTS)
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            await conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true')
            await conn.execute(f"COMMENT ON DATABASE \"{name}\" IS 'made {int(time.time())}'")
            await _prune_postgres_templates(conn)
        finally:
            await conn.close()  # releases the advisory lock

    asyncio.run(make())
    return name


STALE_TEMPLATE_SECONDS = 6 * 3600
"""Templates of older states of the code are removed once this old (other worktrees on the
machine may still be using a recent one)."""


async def _prune_postgres_templates(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        "SELECT datname, shobj_description(oid, 'pg_database') AS note FROM pg_database "
        "WHERE datistemplate AND datname LIKE 'tousu\\_tmpl\\_%'"
    )
    for row in rows:
        made = (row["note"] or "").removeprefix("made ")
        if made.isdigit() and time.time() - int(made) > STALE_TEMPLATE_SECONDS:
            with contextlib.suppress(asyncpg.PostgresError):
                await conn.execute(f'ALTER DATABASE "{row["datname"]}" WITH IS_TEMPLATE false')
                await conn.execute(f'DROP DATABASE "{row["datname"]}" WITH (FORCE)')


def _prune_sqlite_templates() -> None:
    for old in TEMPLATES.glob("*.db"):
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > STALE_TEMPLATE_SECONDS:
                old.unlink()
                old.with_suffix(".lock").unlink(missing_ok=True)


async def _clone_database(template: str, name: str) -> None:
    conn = await asyncpg.connect(_admin_dsn(), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for attempt in range(20):
            try:
                await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                await conn.execute(NO_FLUSH.format(name=name))
                return
            except asyncpg.ObjectInUseError:  # another worker is cloning it this instant
                if attempt == 19:
                    raise
                await asyncio.sleep(0.1 * (attempt + 1))
    finally:
        await conn.close()


CST = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991


def pytest_configure(config: pytest.Config) -> None:
    """pytest-xdist workers must collect the same tests in the same order, and some tests
    are parametrized over sets (ordered by string hashes): the workers, started after this,
    inherit one hash seed (an explicit PYTHONHASHSEED is kept)."""
    os.environ.setdefault("PYTHONHASHSEED", "0")


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


_APPS: dict[str, tuple[Api, contextlib.ExitStack]] = {}
"""This process's app per backend, made on first use and kept to the end of the session."""


@pytest.fixture(scope="session", params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Api:
    """The app on a migrated database with the demo tenants, once per backend and process.
    pytest sets a parametrized session fixture up again whenever the parameter changes
    (under ``--dist loadscope`` at every module: sqlite, then postgres); the app is kept
    here instead, so that costs nothing, and closed in :func:`pytest_sessionfinish`."""
    backend = request.param
    if backend not in _APPS:
        tmp = tmp_path_factory.mktemp(backend)
        url = database_url(backend, tmp)
        app_db = prepare(url)
        # attachments' bytes in the test's own folder, not ./var (core.attachments.storage)
        env = {"DATABASE_URL": app_db, "TOUSU_STORAGE_URL": str(tmp / "attachments")}
        app = create_app(load_settings(env))
        stack = contextlib.ExitStack()
        stack.callback(drop_database, url)
        client = stack.enter_context(TestClient(app))
        _APPS[backend] = (Api(client, backend, app_db, url), stack)
    return _APPS[backend][0]


@pytest.fixture
def settings_in_force(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``settings_in_force(api, smtp_host=…)``: for this test, the settings in force
    (:func:`core.settings.current`) with these fields changed — the process's (a channel type
    called directly, the in-process worker) and, given an ``api``, that app's in its requests;
    undone after the test. The settings are read once, at start: an environment variable set
    afterwards changes nothing."""
    import core.settings

    def change(api: Api | None = None, **fields: Any) -> None:
        process = msgspec.structs.replace(core.settings.current(), **fields)
        monkeypatch.setattr(core.settings, "_process", process)
        if api is not None:
            state = api.client.app.state
            monkeypatch.setattr(
                state, "settings", msgspec.structs.replace(state.settings, **fields)
            )

    return change


def pytest_sessionfinish(session: pytest.Session) -> None:
    while _APPS:
        _, (_, stack) = _APPS.popitem()
        stack.close()


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
        u: f"{slug}-{u}-test-key-0001" for u in ("manager", "admin", "clerk", "supervisor", "head")
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


SLOW_FIRST = (
    "test_console_walk",
    "test_console_language",
    "test_reports",
    "test_queue_browser",
    "test_faults",
    "test_decide_once",
    "test_trust_address",
    "test_failover",
    "test_handoff_notifications",
    "test_faults_db",
    "test_search_oracle",
    "test_console_browser",
    "test_attachment_concurrency",
    "test_brokers",
    "test_console_approvals",
    "test_console_auth",
    "test_redis_worker",
    "test_pgbouncer",
    "test_acceptance_issue23_periods",
    "test_revocation",
    "test_console_grade_form",
    "test_redis_outage",
)
"""The modules that take longest (a whole module, set-up included; ``--durations`` of a
full run, issue 18), longest first. Under ``--dist loadscope --no-loadscope-reorder`` (the
README's command) xdist hands modules out in collection order, so these start first and the
run does not end on one long module on one worker while the others idle. A module missing
from the list runs after them, in the usual order; a stale entry only costs time."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules of :data:`SLOW_FIRST` first, in that order; the rest keep theirs; in a
    module, its browser tests last.

    Playwright's sync API keeps an event loop running on the main thread while it lives,
    and the fixtures here call ``asyncio.run``, which refuses to start while another loop
    runs. Browser modules start Playwright per module (their ``playwright`` fixture is
    module-scoped, as in tests/test_console_browser.py; pytest-playwright's own is
    session-scoped and must not be used) and stop it at the module's end, so a browser
    module may come first; inside one, the tests without a browser run before it starts."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    first_seen: dict[Path, int] = {}
    for item in items:
        first_seen.setdefault(item.path, len(first_seen))
    browser = {"page", "browser", "context", "playwright"}

    def order(item: pytest.Item) -> tuple[int, int, bool]:
        uses_browser = bool(browser & set(getattr(item, "fixturenames", ())))
        return rank.get(item.path.stem, len(rank)), first_seen[item.path], uses_browser

    items.sort(key=order)  # stable: otherwise the collection order
