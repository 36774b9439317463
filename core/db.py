"""Engine, base model and the one tenant-scoping mechanism.

Every tenant-owned row inherits :class:`TenantScoped`. Handlers never hold a bare session:
they open a :class:`TenantScope` (``db.tenant(tenant_id)``), a unit of work bound to one
tenant. A ``do_orm_execute`` listener puts ``tenant_id = :tenant`` into every SELECT, UPDATE
and DELETE that touches a tenant-owned table (joins, relationship loads and subqueries
included), a ``before_flush`` listener stamps and checks ``tenant_id`` on inserts, and
hand-written SQL text is refused outright in a tenant scope. A session that is not bound to a
tenant refuses to touch tenant-owned tables unless it was opened, by name, as
``db.cross_tenant()`` — the handful of platform paths (authentication, tenant sync).

Statements are built from mapped classes (``select(Ticket)``, ``select_from(Ticket)``,
joins, subqueries of them); a Core ``Table`` (``Ticket.__table__``) would not carry the
filter, and a test keeps it out of the code base.

On PostgreSQL the database is the backstop (:mod:`core.db_security`): the app connects as a
role under row-level security, and every transaction of a scope starts by setting the
transaction-local ``tousu.tenant_id`` (``tousu.cross_tenant`` for the platform door), so a
statement that escaped the filter above still sees only its tenant's rows, and a session
with neither sees none.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import msgspec
from sqlalchemy import JSON, DateTime, ForeignKey, MetaData, String, bindparam, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.util import find_tables
from sqlalchemy.types import TypeDecorator

from core import clock
from core.db_security import CROSS_SETTING, TENANT_SETTING

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Now, in UTC (through :mod:`core.clock`, which tests can move)."""
    return clock.now()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the database stores UTC-aware times")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012
        dt.datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class TenantScoped:
    """Mixin for every tenant-owned table: the scope filters and stamps ``tenant_id``."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class TenantScopeError(RuntimeError):
    """A statement tried to reach tenant-owned rows outside a tenant scope (a bug, not input)."""


_TENANT = "tenant_id"
_CROSS = "cross_tenant"
_STAMPED = "tenant_stamped"


def _tenant_tables() -> frozenset[Any]:
    return frozenset(
        m.local_table for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)
    )


def _touches_tenant_tables(state: ORMExecuteState) -> bool:
    """Whether the statement reads or writes a tenant table anywhere: as an entity, in a
    FROM list (``select(func.count()).select_from(Ticket)``), a join or a subquery."""
    if any(
        isinstance(m.class_, type) and issubclass(m.class_, TenantScoped) for m in state.all_mappers
    ):
        return True
    tables = _tenant_tables()
    return any(
        t in tables
        for t in find_tables(
            state.statement, include_joins=True, include_aliases=True, include_crud=True
        )
    )


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    info = state.session.info
    if info.get(_CROSS):
        return
    tenant_id = info.get(_TENANT)
    if isinstance(state.statement, TextClause):
        raise TenantScopeError("raw SQL text is not allowed in a tenant scope; build a statement")
    if not _touches_tenant_tables(state):
        return
    if tenant_id is None:
        raise TenantScopeError("tenant-owned table queried without a tenant scope")
    if state.is_insert and not state.execution_options.get(_STAMPED):
        raise TenantScopeError("bulk INSERT into a tenant table: use scope.add() instead")
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
            )
        )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, flush_context: Any, instances: Any) -> None:
    if session.info.get(_CROSS):
        return
    tenant_id = session.info.get(_TENANT)
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if tenant_id is None:
            raise TenantScopeError(f"{type(obj).__name__} written without a tenant scope")
        current = obj.tenant_id
        if current is None:
            obj.tenant_id = tenant_id
        elif current != tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} belongs to another tenant")


@event.listens_for(Session, "after_begin")
def _scope_transaction(session: Session, transaction: Any, connection: Any) -> None:
    """Tell PostgreSQL whose transaction this is, for its row-level security policies.

    ``set_config(…, true)`` is transaction-local: it ends with the transaction, so a pooled
    connection never carries one tenant's setting into the next unit of work."""
    if connection.dialect.name != "postgresql":
        return
    tenant_id = session.info.get(_TENANT)
    cross = "on" if session.info.get(_CROSS) else ""
    jit = getattr(connection.engine, "_tousu_jit", "off")
    connection.execute(_SET_SCOPE, {"tenant": "" if tenant_id is None else str(tenant_id),
                                    "cross": cross, "jit": jit})  # fmt: skip


_SET_SCOPE = select(
    func.set_config(TENANT_SETTING, bindparam("tenant", type_=String), True),
    func.set_config(CROSS_SETTING, bindparam("cross", type_=String), True),
    func.set_config("jit", bindparam("jit", type_=String), True),
)
"""Built once: every transaction on PostgreSQL starts with it (only the values change)."""


read_only: ContextVar[bool] = ContextVar("tousu_read_only", default=False)
"""True while serving a request that only reads (GET, HEAD): its SQLite transactions begin
DEFERRED and run beside others. Everything else begins IMMEDIATE (see :func:`_sqlite_begin`)."""

SQLITE_BUSY_MS = 30_000
"""How long a SQLite writer waits for the write lock before giving up (ms)."""


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own transaction handling starts a transaction lazily at the first write,
    # after the reads it depends on: under concurrent writers that read-then-upgrade fails
    # with "database is locked". We begin transactions ourselves (_sqlite_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    """A transaction that may write takes SQLite's single write lock before its first read
    (BEGIN IMMEDIATE), waiting up to :data:`SQLITE_BUSY_MS` for it, so it never has to
    upgrade a read snapshot another writer has moved past. Read-only requests begin
    DEFERRED: in WAL mode they never wait for writers."""
    conn.exec_driver_sql("BEGIN" if read_only.get() else "BEGIN IMMEDIATE")


class EngineOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How the PostgreSQL engine connects (``TOUSU_DB_*`` settings, docs/deployment.md).

    ``pool_size`` 0: no pool of our own (``NullPool``, a connection per unit of work — the
    pooler pools). ``pooler`` ``"transaction"``: pgbouncer in transaction mode hands each
    transaction any server connection, so no prepared statement may outlive its transaction
    or share a name with another client's: both statement caches are off and every
    statement gets a unique name. ``jit``: PostgreSQL's JIT, set per transaction (a pooler
    refuses it as a startup parameter)."""

    pool_size: int = 10
    max_overflow: int = 10
    statement_cache_size: int = 100
    pooler: str = "none"
    jit: bool = False

    @classmethod
    def from_settings(cls, settings: Any = None) -> EngineOptions:
        """From ``settings``, else the ones in force (:func:`core.settings.current`)."""
        from core.settings import current

        s = settings or current()
        return cls(
            pool_size=s.db_pool_size,
            max_overflow=s.db_max_overflow,
            statement_cache_size=s.db_statement_cache_size,
            pooler=s.db_pooler,
            jit=s.db_jit,
        )


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def make_engine(url: str, options: EngineOptions | None = None) -> AsyncEngine:
    """The engine. SQLite: WAL, foreign keys, IMMEDIATE write transactions. PostgreSQL: a
    pool of ``options.pool_size`` (+ ``max_overflow``; 0: none) without a ping per checkout
    (a dead connection fails its statement and is replaced; the request answers 503 through
    core.errors), pooler-safe statements when ``options.pooler`` says so."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    options = options or EngineOptions.from_settings()
    connect_args: dict[str, Any] = {"statement_cache_size": options.statement_cache_size}
    if options.pooler == "transaction" or options.statement_cache_size == 0:
        # asyncpg names prepared statements per connection (__asyncpg_stmt_1__…); behind a
        # transaction pooler two clients' names collide on one server connection, and a
        # cached statement is gone when the next transaction lands on another one.
        connect_args.update(
            statement_cache_size=0,
            prepared_statement_cache_size=0,
            prepared_statement_name_func=_unique_statement_name,
        )
    pool: dict[str, Any]
    if options.pool_size == 0:
        pool = {"poolclass": NullPool}
    else:
        pool = {
            "pool_size": options.pool_size,
            "max_overflow": options.max_overflow,
            "pool_recycle": 3600,
        }
    # No ping per checkout: a connection the server dropped fails its statement (503 to
    # that request), the error is recognised as a disconnect and the whole pool is
    # invalidated, so the next requests connect afresh once the server is back.
    engine = create_async_engine(url, connect_args=connect_args, **pool)
    # JIT compiles a report's plan for longer than the plan runs (0.5 s of 0.9 s measured
    # on a month's repeat complaints); the statements here are index-shaped. It is set in
    # each transaction's first statement (see _scope_transaction), not as a startup
    # parameter, which pgbouncer refuses ("unsupported startup parameter: jit").
    engine.sync_engine._tousu_jit = "on" if options.jit else "off"
    event.listen(engine.sync_engine, "handle_error", _flag_disconnect)
    return engine


def _flag_disconnect(context: Any) -> None:
    """Treat every "the server is gone" error as a disconnect (SQLAlchemy recognises only
    some), so the pool drops its connections instead of handing out dead ones. A write
    refused as read-only counts too: the server was demoted (a failover), and connecting
    afresh finds the new primary through ``target_session_attrs=read-write``."""
    from core.errors import database_unavailable

    if not context.is_disconnect and database_unavailable(context.original_exception):
        context.is_disconnect = True


class TenantScope:
    """A unit of work bound to one tenant; the only way handlers reach tenant data.

    It is an ``AsyncSession`` underneath whose every statement is filtered by the listeners
    above. Use it as ``async with db.tenant(tid) as scope:``; leaving the block commits, an
    exception rolls back, so a state change and its audit event land together or not at all.
    """

    def __init__(self, session: AsyncSession, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.committed: list[Callable[[], object]] = []

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once the scope's transaction has committed (never after a
        rollback): metrics and wake-ups that must not count a change that did not land."""
        self.committed.append(callback)

    def add(self, obj: Any) -> None:
        if isinstance(obj, TenantScoped):
            if obj.tenant_id is None:
                obj.tenant_id = self.tenant_id
            elif obj.tenant_id != self.tenant_id:
                raise TenantScopeError(f"{type(obj).__name__} belongs to another tenant")
        self.session.add(obj)

    async def insert_ignore(self, model: type[Any], rows: list[dict[str, Any]]) -> int:
        """Insert rows, skipping those that hit a unique constraint (idempotent writes such as
        "notify once"). Returns how many were inserted. ``tenant_id`` is set here."""
        if not rows:
            return 0
        values = [{**r, "tenant_id": self.tenant_id} for r in rows]
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(model).values(values).on_conflict_do_nothing()
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(model).values(values).on_conflict_do_nothing()
        result = await self.session.execute(stmt, execution_options={_STAMPED: True})
        return int(result.rowcount or 0)

    async def execute(self, statement: Any, params: Any = None) -> Any:
        return await self.session.execute(statement, params)

    async def scalar(self, statement: Any) -> Any:
        return await self.session.scalar(statement)

    async def scalars(self, statement: Any) -> Any:
        return await self.session.scalars(statement)

    async def flush(self) -> None:
        await self.session.flush()


class Database:
    def __init__(self, url: str, options: EngineOptions | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, options)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def tenant(self, tenant_id: int) -> AsyncIterator[TenantScope]:
        async with self.sessions() as session:
            session.info[_TENANT] = tenant_id
            scope = TenantScope(session, tenant_id)
            async with session.begin():
                yield scope
            for callback in scope.committed:
                callback()

    @staticmethod
    async def narrow(session: AsyncSession, tenant_id: int) -> TenantScope:
        """Turn a cross-tenant session into a tenant scope, in the same transaction: creating
        a tenant needs the platform door for the tenant row, and nothing wider after it (the
        database's settings are narrowed too)."""
        session.info.pop(_CROSS, None)
        session.info[_TENANT] = tenant_id
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            await session.execute(
                select(
                    func.set_config(TENANT_SETTING, str(tenant_id), True),
                    func.set_config(CROSS_SETTING, "", True),
                )
            )
        return TenantScope(session, tenant_id)

    @asynccontextmanager
    async def cross_tenant(self) -> AsyncIterator[AsyncSession]:
        """A session that sees every tenant: platform paths only (auth, tenant sync)."""
        async with self.sessions() as session:
            session.info[_CROSS] = True
            async with session.begin():
                yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


__all__ = [
    "Base",
    "Database",
    "Engine",
    "TenantScope",
    "TenantScopeError",
    "TenantScoped",
    "utcnow",
]
