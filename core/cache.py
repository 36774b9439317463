"""Per-process caches of per-tenant static data read on every request: the tenant's plugin
and its departments' codes and names.

A hot path must not re-read what almost never changes. Entries are dropped explicitly when
this process commits a change to a tenant or a department (ORM units of work and bulk
UPDATE/DELETE statements alike), and expire after :data:`TTL` seconds so a change committed
by another server process is seen within that time. Keys are tenant ids: nothing cached
crosses a tenant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from core.db import TenantScope
from core.people.models import Department, Tenant

TTL = 30.0
"""Seconds another process's change to a tenant's plugin or departments may take to show."""


@dataclass(frozen=True)
class TenantInfo:
    plugin: str
    ticket_prefix: str
    timezone: str  # the tenant's IANA zone: its calendar dates (ticket-number year) use it


_tenants: dict[int, tuple[float, TenantInfo]] = {}
_departments: dict[int, tuple[float, dict[int, tuple[str, str]]]] = {}
_WATCHED = (Tenant, Department)
_PENDING = "tousu_cache_dirty"


def forget(tenant_id: int | None = None) -> None:
    """Drop one tenant's entries, or every entry."""
    if tenant_id is None:
        _tenants.clear()
        _departments.clear()
        return
    _tenants.pop(tenant_id, None)
    _departments.pop(tenant_id, None)


def _fresh(entry: tuple[float, Any] | None) -> bool:
    return entry is not None and entry[0] > time.monotonic()


async def tenant_info(scope: TenantScope) -> TenantInfo:
    """The tenant's plugin (industry) name and ticket-number prefix."""
    hit = _tenants.get(scope.tenant_id)
    if _fresh(hit):
        return hit[1]  # type: ignore[index]
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    assert tenant is not None
    info = TenantInfo(
        plugin=tenant.plugin,
        ticket_prefix=tenant.ticket_prefix,
        timezone=(tenant.config or {}).get("timezone") or "Asia/Shanghai",
    )
    _tenants[scope.tenant_id] = (time.monotonic() + TTL, info)
    return info


async def plugin_name(scope: TenantScope) -> str:
    """The tenant's plugin (industry) name."""
    return (await tenant_info(scope)).plugin


async def departments(scope: TenantScope, refresh: bool = False) -> dict[int, tuple[str, str]]:
    """The tenant's departments: id → (code, name). ``refresh`` reads them again (a code
    not found may have been added by another process a moment ago)."""
    hit = _departments.get(scope.tenant_id)
    if _fresh(hit) and not refresh:
        return hit[1]  # type: ignore[index]
    rows = await scope.execute(select(Department.id, Department.code, Department.name))
    found = {int(i): (code, name) for i, code, name in rows.all()}
    _departments[scope.tenant_id] = (time.monotonic() + TTL, found)
    return found


async def department_id(scope: TenantScope, code: str) -> int | None:
    """The id of the tenant's department ``code``, or None."""
    for refresh in (False, True):
        for i, (c, _) in (await departments(scope, refresh)).items():
            if c == code:
                return i
    return None


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _ctx: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED):
            tid = obj.id if isinstance(obj, Tenant) else obj.tenant_id
            session.info.setdefault(_PENDING, set()).add(tid)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        m.class_ in _WATCHED for m in state.all_mappers
    ):
        state.session.info.setdefault(_PENDING, set()).add(None)


@event.listens_for(Session, "after_commit")
def _drop_on_commit(session: Session) -> None:
    for tid in session.info.pop(_PENDING, ()):
        forget(tid)


@event.listens_for(Session, "after_rollback")
def _keep_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
