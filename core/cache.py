"""Per-process caches of per-tenant static data read on every request, each registered by
the area that owns the data: the tenant's plugin, prefix, zone and departments
(:mod:`core.people.tenant_data`), its working calendar and deadline settings
(:mod:`core.deadlines.engine`), notification settings, the duty roster.

A hot path must not re-read what almost never changes. Each cached value is a
:class:`TenantMemo`: keyed by tenant id (nothing cached crosses a tenant), loaded by one
query on a miss, dropped explicitly when this process commits a change to one of the models
the memo *watches* (ORM units of work and bulk UPDATE/DELETE statements alike), and expired
after :data:`TTL` seconds so a change committed by another server process is seen within
that time. An area registers its own memo next to the code that reads it (for example the
working calendar in :mod:`core.deadlines.engine`), so this module names no area's model but
the tenant's own.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from core.db import TenantScope

TTL = 30.0
"""Seconds another process's change to cached tenant data may take to show."""

T = TypeVar("T")
_PENDING = "tousu_cache_dirty"
_memos: list[TenantMemo[Any]] = []


class TenantMemo(Generic[T]):
    """One per-tenant cached value: ``await memo.get(scope)`` returns it, loading it with
    ``load(scope)`` (in the caller's transaction) when absent or older than :data:`TTL`.

    ``watch``: the models whose committed change (by this process) drops the tenant's entry:
    that of the row's ``tenant_id`` — or, for a model in ``own_id`` (the tenant itself),
    of the row's ``id``."""

    def __init__(
        self,
        name: str,
        load: Callable[[TenantScope], Awaitable[T]],
        watch: tuple[type[Any], ...],
        own_id: tuple[type[Any], ...] = (),
    ) -> None:
        self.name = name
        self.load = load
        self.watch = watch
        self.own_id = own_id
        # keyed by (database URL, tenant id): tenant ids repeat across databases, and one
        # process may serve two (the test suite runs SQLite and PostgreSQL side by side)
        self.entries: dict[tuple[Any, int], tuple[float, T]] = {}
        _memos.append(self)

    async def get(self, scope: TenantScope, refresh: bool = False) -> T:
        if self._changed_in(scope.session.sync_session):
            # this transaction changed what the memo holds: read it as the transaction
            # sees it, and keep nothing (it may yet roll back)
            return await self.load(scope)
        key = (scope.session.bind.url, scope.tenant_id)  # URL: an immutable, hashable tuple
        hit = self.entries.get(key)
        if hit is not None and hit[0] > time.monotonic() and not refresh:
            return hit[1]
        # what this transaction reads is as old as its snapshot: if anything was dropped
        # since it began, the value may predate that change — serve it, do not keep it
        seen = scope.session.sync_session.info.get(_BEGUN_AT, _generation)
        value = await self.load(scope)
        if seen == _generation:
            self.entries[key] = (time.monotonic() + TTL, value)
        return value

    def _changed_in(self, session: Session) -> bool:
        if any(key == id(self) for key, _ in session.info.get(_PENDING, ())):
            return True  # flushed (or written in bulk) in this transaction
        return any(
            isinstance(obj, self.watch)
            for obj in (*session.new, *session.dirty, *session.deleted)
        )

    def forget(self, tenant_id: int | None) -> None:
        global _generation
        _generation += 1
        if tenant_id is None:
            self.entries.clear()
        else:
            for key in [k for k in self.entries if k[1] == tenant_id]:
                self.entries.pop(key, None)


_generation = 0
"""Bumped by every drop: a value read by a transaction that began before a drop is not kept."""
_BEGUN_AT = "tousu_cache_generation"


@event.listens_for(Session, "after_begin")
def _note_begin(session: Session, _transaction: Any, _connection: Any) -> None:
    session.info.setdefault(_BEGUN_AT, _generation)


_publishers: list[Callable[[int | None], None]] = []
"""Where this process tells the others what it changed (Redis, wired by the API server's
invalidation listener, :func:`core.people.auth.listen`); empty without Redis, where
:data:`TTL` alone bounds how long another process sees the old data."""


def forget(tenant_id: int | None = None) -> None:
    """Drop one tenant's entries of every memo, or every entry (in this process)."""
    for memo in _memos:
        memo.forget(tenant_id)


def publish_to(publisher: Callable[[int | None], None]) -> Callable[[], None]:
    """Send every committed change's tenant id (None: unknown) to ``publisher`` too;
    returns the function that stops it."""
    _publishers.append(publisher)
    return lambda: _publishers.remove(publisher) if publisher in _publishers else None


def _watchers(model: type[Any]) -> list[TenantMemo[Any]]:
    return [m for m in _memos if model in m.watch]


# ---------------------------------------------------------------- invalidation


def _pending(session: Session) -> set[tuple[int, int | None]]:
    pending: set[tuple[int, int | None]] = session.info.setdefault(_PENDING, set())
    return pending


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _ctx: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        for memo in _watchers(type(obj)):
            own = isinstance(obj, memo.own_id)
            tid = obj.id if own else getattr(obj, "tenant_id", None)
            _pending(session).add((id(memo), tid))


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        for mapper in state.all_mappers:
            for memo in _watchers(mapper.class_):
                _pending(state.session).add((id(memo), None))  # which tenant: unknown


@event.listens_for(Session, "after_commit")
def _drop_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the change is not committed until the outer commit
    session.info.pop(_BEGUN_AT, None)  # the next transaction has a snapshot of its own
    dirty = session.info.pop(_PENDING, ())
    if not dirty:
        return
    for memo in _memos:
        for key, tid in dirty:
            if key == id(memo):
                memo.forget(tid)
    for tid in {tid for _, tid in dirty}:
        for publish in list(_publishers):
            publish(tid)


@event.listens_for(Session, "after_rollback")
def _keep_on_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back: the outer transaction's changes still stand
    session.info.pop(_PENDING, None)
    session.info.pop(_BEGUN_AT, None)
