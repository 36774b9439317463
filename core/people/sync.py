"""Apply a declarative tenant (file or API body) to the database, idempotently.

Run twice, change nothing the second time: rows are matched by their natural keys (tenant
slug, department code, staff code, username) and only differences are written, each with an
audit event. Staff and users missing from the file are deactivated, never deleted, because
tickets and history refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.db import Database
from core.people.auth import forget, hash_token
from core.people.models import ApiKey, Department, Staff, Tenant, User
from core.people.tenant_file import TenantFile


@dataclass
class SyncReport:
    slug: str
    created: bool = False
    changes: list[str] = field(default_factory=list)


def _diff(obj: Any, values: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for k, v in values.items():
        if getattr(obj, k) != v:
            changed[k] = v
            setattr(obj, k, v)
    return changed


async def sync_tenant(db: Database, tf: TenantFile, actor: str) -> SyncReport:
    """Create or update one tenant and its people in one transaction."""
    async with db.cross_tenant() as session:  # creating a tenant precedes any tenant scope
        return await _sync(session, tf, actor)


async def _sync(session: AsyncSession, tf: TenantFile, actor: str) -> SyncReport:
    report = SyncReport(tf.slug)
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == tf.slug))
    if tenant is None:
        tenant = Tenant(
            slug=tf.slug,
            name=tf.name,
            plugin=tf.plugin,
            ticket_prefix=tf.ticket_prefix,
            config=tf.config,
        )
        session.add(tenant)
        await session.flush()
        report.created = True
    tid = tenant.id

    def audit(action: str, entity: str, key: str, payload: dict[str, Any]) -> None:
        report.changes.append(f"{action} {entity} {key}")
        session.add(
            AuditEvent(
                tenant_id=tid,
                actor=actor,
                action=action,
                entity=entity,
                entity_key=key,
                payload=payload,
            )
        )

    if report.created:
        audit("create", "tenant", tf.slug, {"name": tf.name, "plugin": tf.plugin})
    else:
        changed = _diff(
            tenant,
            {
                "name": tf.name,
                "plugin": tf.plugin,
                "ticket_prefix": tf.ticket_prefix,
                "config": tf.config,
            },
        )
        if changed:
            audit("update", "tenant", tf.slug, changed)

    depts = {
        d.code: d
        for d in await session.scalars(select(Department).where(Department.tenant_id == tid))
    }
    for d in tf.departments:
        row = depts.get(d.code)
        if row is None:
            row = depts[d.code] = Department(tenant_id=tid, code=d.code, name=d.name)
            session.add(row)
            audit("create", "department", d.code, {"name": d.name})
        elif changed := _diff(row, {"name": d.name}):
            audit("update", "department", d.code, changed)
    await session.flush()

    staff = {s.code: s for s in await session.scalars(select(Staff).where(Staff.tenant_id == tid))}
    for s in tf.staff:
        values = {
            "name": s.name,
            "department_id": depts[s.department].id,
            "position": s.position,
            "active": True,
        }
        row = staff.get(s.code)
        if row is None:
            row = staff[s.code] = Staff(tenant_id=tid, code=s.code, **values)
            session.add(row)
            audit("create", "staff", s.code, {"name": s.name, "department": s.department})
        elif changed := _diff(row, values):
            audit("update", "staff", s.code, changed)
    listed = {s.code for s in tf.staff}
    for code, row in staff.items():
        if code not in listed and row.active:
            row.active = False
            audit("deactivate", "staff", code, {})
    await session.flush()

    users = {
        u.username: u for u in await session.scalars(select(User).where(User.tenant_id == tid))
    }
    for u in tf.users:
        values = {
            "display_name": u.display_name,
            "roles": sorted(set(u.roles)),
            "department_id": depts[u.department].id if u.department else None,
            "staff_id": staff[u.staff].id if u.staff else None,
            "active": True,
        }
        row = users.get(u.username)
        if row is None:
            row = users[u.username] = User(tenant_id=tid, username=u.username, **values)
            session.add(row)
            audit("create", "user", u.username, {"roles": values["roles"]})
        elif changed := _diff(row, values):
            audit("update", "user", u.username, changed)
            forget()
    listed = {u.username for u in tf.users}
    for name, row in users.items():
        if name not in listed and row.active:
            row.active = False
            audit("deactivate", "user", name, {})
            forget()
    await session.flush()

    for u in tf.users:
        if u.demo_key is None:
            continue
        key_hash = hash_token(u.demo_key)
        key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
        user = users[u.username]
        if key is None:
            session.add(ApiKey(user_id=user.id, key_hash=key_hash, label="demo"))
            audit("create", "api_key", u.username, {"label": "demo"})
        elif key.user_id != user.id:
            raise ValueError(f"demo key of {u.username} already belongs to another user")
    return report
