"""Apply a declarative tenant (file or API body) to the database, idempotently.

Run twice, change nothing the second time: rows are matched by their natural keys (tenant
slug, department code, staff code, username) and only differences are written, each with an
audit event.

Three modes (issue 9 item 5):

- ``sync`` (``tousu tenants sync``, ``tousu serve``): create or update from the tenant files,
  which are the whole truth — staff and users missing from the file are deactivated, never
  deleted, because tickets and history refer to them.
- ``create`` (``POST /api/tenants``): a new tenant only; an existing slug is 409.
- ``update`` (``PUT /api/tenants/{slug}``): an existing tenant only (404 otherwise); it
  creates and changes what the document names and leaves staff and users it does not name
  as they are (an API body is not assumed to list everyone).

In every mode: a ticket prefix held by another tenant is 409 (and a database unique
constraint), and a plugin change on a tenant that has tickets is 409 (their categories,
grades and penalties belong to the old plugin's taxonomy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.db import Database, TenantScope, utcnow
from core.deadlines import service as deadlines
from core.deadlines.models import CalendarDay, DeadlineSetting
from core.errors import Conflict, NotFound
from core.penalties.models import FineSetting
from core.people import passwords
from core.people.auth import forget, hash_token
from core.people.models import ApiKey, Department, Staff, Tenant, User
from core.plugins import hooks_for
from core.provisioning.tenant_file import TenantFile, fine_amounts
from core.tasks.notify import SYSTEM_USER
from core.tickets.models import Ticket

Mode = Literal["sync", "create", "update"]


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


def _settings(tf: TenantFile) -> dict[str, Any]:
    """The tenant row's config; fines, deadlines and calendar days are rows of their own."""
    out: dict[str, Any] = {
        "timezone": tf.config.timezone,
        "calendar_fallback": tf.config.calendar_fallback,
    }
    if tf.config.carry_over is not None:
        out["carry_over"] = tf.config.carry_over
    if tf.config.working_hours:
        out["working_hours"] = list(tf.config.working_hours)
    if tf.config.customers is not None:
        out["customers"] = tf.config.customers
    if tf.config.attachment_max_mb is not None:
        out["attachment_max_mb"] = tf.config.attachment_max_mb
    if tf.config.on_duty:
        out["on_duty"] = list(tf.config.on_duty)
    return out


async def sync_tenant(
    db: Database, tf: TenantFile, actor: str, mode: Mode = "sync"
) -> SyncReport:
    """Create or update one tenant, its people, fines, deadlines and calendar in one
    transaction. Only the tenant row needs the platform door; the rest runs in the tenant's
    own scope (the same code paths as the admin API).

    Raises :class:`Conflict` (slug taken in ``create`` mode, prefix taken, plugin change with
    tickets) and :class:`NotFound` (unknown slug in ``update`` mode); nothing is written then.
    """
    async with db.cross_tenant() as session:  # creating a tenant precedes any tenant scope
        report, scope = await _sync(session, tf, actor, mode)
        report.changes += await _sync_deadlines_and_calendar(scope, tf, actor)
    return report


async def _sync_deadlines_and_calendar(scope: TenantScope, tf: TenantFile, actor: str) -> list[str]:
    changes = []
    now = utcnow()
    for key, entry in tf.config.deadlines.items():
        step, _, severity = key.partition(".")
        current = await scope.scalar(
            select(DeadlineSetting)
            .where(
                DeadlineSetting.step == step,
                DeadlineSetting.severity.is_(None)
                if not severity
                else DeadlineSetting.severity == severity,
                DeadlineSetting.effective_from <= now,
            )
            .order_by(DeadlineSetting.effective_from.desc(), DeadlineSetting.id.desc())
        )
        if current is not None and (current.amount, current.unit) == (entry.amount, entry.unit):
            continue
        await deadlines.set_deadline(
            scope, step, severity or None, entry.amount, entry.unit, now, actor
        )
        changes.append(f"set deadline {key}")
    wanted = {d: "closure" for d in tf.config.closures} | {
        d: "workday" for d in tf.config.extra_workdays
    }
    have = {d.day: d.kind for d in await scope.scalars(select(CalendarDay))}
    for day in sorted(set(wanted) | set(have)):
        if wanted.get(day) != have.get(day):
            await deadlines.set_calendar_day(scope, day, wanted.get(day), "tenant file", actor)
            changes.append(f"calendar {day} {wanted.get(day) or 'removed'}")
    return changes


async def _check_tenant(
    session: AsyncSession, tf: TenantFile, tenant: Tenant | None, mode: Mode
) -> None:
    if tenant is not None and mode == "create":
        raise Conflict(
            "tenant {slug} exists; change it with PUT {path}",
            field="slug",
            params={"slug": tf.slug, "path": f"/api/tenants/{tf.slug}"},
            rule="unique; create never overwrites",
        )
    if tenant is None and mode == "update":
        raise NotFound("tenant {slug} not found", field="slug", params={"slug": tf.slug})
    holder = await session.scalar(
        select(Tenant.slug).where(Tenant.ticket_prefix == tf.ticket_prefix, Tenant.slug != tf.slug)
    )
    if holder is not None:
        raise Conflict(
            "ticket prefix {prefix} is taken by tenant {holder}",
            field="ticket_prefix",
            params={"prefix": tf.ticket_prefix, "holder": holder},
            rule="unique across tenants",
        )
    if tenant is not None and tenant.plugin != tf.plugin:
        has_tickets = await session.scalar(
            select(Ticket.id).where(Ticket.tenant_id == tenant.id).limit(1)
        )
        if has_tickets is not None:
            raise Conflict(
                "tenant {slug} has tickets; its plugin cannot change from {old} to {new}",
                field="plugin",
                params={"slug": tf.slug, "old": tenant.plugin, "new": tf.plugin},
                rule="unchangeable once the tenant has tickets",
            )


async def _sync(
    session: AsyncSession, tf: TenantFile, actor: str, mode: Mode
) -> tuple[SyncReport, TenantScope]:
    report = SyncReport(tf.slug)
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == tf.slug))
    await _check_tenant(session, tf, tenant, mode)
    if tenant is None:
        tenant = Tenant(
            slug=tf.slug,
            name=tf.name,
            plugin=tf.plugin,
            ticket_prefix=tf.ticket_prefix,
            config=_settings(tf),
        )
        session.add(tenant)
        await session.flush()
        report.created = True
    tid = tenant.id
    scope = await Database.narrow(session, tid)  # from here on: this tenant's rows only

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
                "config": _settings(tf),
            },
        )
        if changed:
            audit("update", "tenant", tf.slug, changed)

    depts = {d.code: d for d in await session.scalars(select(Department))}
    for d in tf.departments:
        row = depts.get(d.code)
        if row is None:
            row = depts[d.code] = Department(tenant_id=tid, code=d.code, name=d.name)
            session.add(row)
            audit("create", "department", d.code, {"name": d.name})
        elif changed := _diff(row, {"name": d.name}):
            audit("update", "department", d.code, changed)
    await session.flush()

    staff = {s.code: s for s in await session.scalars(select(Staff))}
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
        if mode == "sync" and code not in listed and row.active:
            row.active = False
            audit("deactivate", "staff", code, {})
    await session.flush()

    users = {u.username: u for u in await session.scalars(select(User))}
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
    if SYSTEM_USER not in users:  # the actor of automated changes (sweeps, auto-upgrades)
        users[SYSTEM_USER] = User(
            tenant_id=tid, username=SYSTEM_USER, display_name="automated actions", roles=[]
        )
        session.add(users[SYSTEM_USER])
    listed = {u.username for u in tf.users} | {SYSTEM_USER}
    for name, row in users.items():
        if mode == "sync" and name not in listed and row.active:
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
            raise Conflict(
                "demo key of {username} already belongs to another user",
                field="users.demo_key",
                params={"username": u.username},
                rule="unique across users",
            )

    for u in tf.users:  # initial passwords: only while the user has none (see UserEntry)
        user = users[u.username]
        if user.password_hash is None and (u.password_hash or u.demo_password):
            user.password_hash = u.password_hash or passwords.hash_password(u.demo_password or "")
            audit("set_initial_password", "user", u.username, {})

    await _sync_fines(session, tf, tid, actor, audit)
    return report, scope


async def _sync_fines(
    session: AsyncSession, tf: TenantFile, tid: int, actor: str, audit: Any
) -> None:
    """A fine in the file that differs from the amount in force becomes a new version,
    effective now; earlier penalties keep the amounts they were proposed with."""
    if not tf.config.fines:
        return
    now = utcnow()
    rows = await session.execute(
        select(FineSetting.rule, FineSetting.amount_fen)
        .where(FineSetting.effective_from <= now)
        .order_by(FineSetting.effective_from, FineSetting.id)
    )
    current = {rule: fen for rule, fen in rows.all()}
    schedule = hooks_for(tf.plugin).penalty_schedule()
    for rule_code, (fen, reason) in fine_amounts(tf).items():
        rule = schedule.rule(rule_code)
        in_force = current.get(rule_code, rule.default_fen if rule else None)
        if fen == in_force:
            continue
        session.add(
            FineSetting(
                tenant_id=tid,
                rule=rule_code,
                amount_fen=fen,
                effective_from=now,
                reason=reason,
                out_of_range=bool(rule and not rule.in_range(fen)),
                set_by=actor,
            )
        )
        audit("set", "fine", rule_code, {"amount_fen": fen, "was_fen": in_force})
