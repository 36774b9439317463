"""The database defends itself (issue 9 item 15).

PostgreSQL: the app connects as ``tousu_app`` — not a superuser, owner of nothing — and every
tenant table is under row-level security keyed on the transaction-local ``tousu.tenant_id``.
These tests connect as that role with raw SQL, the way a statement that escaped the
application's tenant filter would run: unscoped it sees nothing; with tenant A's setting it
neither reads nor changes tenant B's rows; TRUNCATE and ``session_replication_role`` are
refused; decided penalties, grades and fine versions cannot be changed or deleted.

SQLite has no roles and no row-level security; there the same append-only triggers hold
(tested below on both backends through the app's own engine).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from conftest import APP_ROLE, graded_penalty, make_operator, run_db, small_tenant
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.db import Database

TENANT_TABLES_MIN = {
    "tickets", "ticket_events", "audit_events", "penalties", "ticket_grades", "fine_settings",
    "users", "staff", "departments", "outbox", "appeals", "step_clocks", "extensions",
}  # fmt: skip


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _raw(url: str, fn: Any) -> Any:
    conn = await asyncpg.connect(dsn(url), timeout=10)
    try:
        return await fn(conn)
    finally:
        await conn.close()


def raw(url: str, fn: Any) -> Any:
    return asyncio.run(_raw(url, fn))


@pytest.fixture
def pg(api: Any) -> Iterator[Any]:
    if api.backend != "postgres":
        pytest.skip("roles and row-level security are PostgreSQL's (SQLite: see the docstring)")
    yield api


def tenant_ids(api: Any) -> dict[str, int]:
    async def go(conn: Any) -> dict[str, int]:
        return {r["slug"]: r["id"] for r in await conn.fetch("SELECT slug, id FROM tenants")}

    return raw(api.owner_url, go)  # the owner reads around the policies


def test_app_role_is_not_superuser_and_owns_nothing(pg):
    async def go(conn: Any) -> dict[str, Any]:
        me = await conn.fetchrow(
            "SELECT current_user AS who, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
            "FROM pg_roles WHERE rolname = current_user"
        )
        owned = await conn.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = current_user"
        )
        return dict(me) | {"owned": owned}

    me = raw(pg.url, go)
    assert me == {"who": APP_ROLE, "rolsuper": False, "rolbypassrls": False,
                  "rolcreaterole": False, "rolcreatedb": False, "owned": 0}  # fmt: skip
    # The app under test really runs as that role.
    assert pg.url != pg.owner_url and f"{APP_ROLE}@" in pg.url


def test_every_tenant_table_has_row_level_security(pg):
    async def go(conn: Any) -> dict[str, bool]:
        rows = await conn.fetch(
            "SELECT c.relname, c.relrowsecurity FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        return {r["relname"]: r["relrowsecurity"] for r in rows}

    tables = raw(pg.owner_url, go)
    assert TENANT_TABLES_MIN <= set(tables)
    unprotected = sorted(t for t, on in tables.items() if not on and t != "alembic_version")
    assert unprotected == []


def test_unscoped_raw_statement_sees_no_rows(pg):
    pg.create("greenwood")

    async def go(conn: Any) -> dict[str, int]:
        out = {}
        for table in ("tickets", "ticket_events", "users", "staff", "tenants", "api_keys",
                      "audit_events", "penalties", "outbox"):  # fmt: skip
            out[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
        out["updated"] = int(
            (await conn.execute("UPDATE tickets SET description = 'x'")).split()[-1]
        )
        return out

    seen = raw(pg.url, go)
    assert seen == dict.fromkeys(seen, 0)

    async def owner(conn: Any) -> int:
        return await conn.fetchval("SELECT count(*) FROM tickets")

    assert raw(pg.owner_url, owner) > 0  # the rows are there


def test_tenant_setting_confines_reads_and_writes(pg):
    ids = tenant_ids(pg)
    a, b = ids["greenwood"], ids["citybus"]
    mine = pg.create("greenwood")
    theirs = pg.create("citybus")

    async def go(conn: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with conn.transaction():
            await conn.execute("SELECT set_config('tousu.tenant_id', $1, true)", str(a))
            out["tenants"] = await conn.fetchval("SELECT count(DISTINCT tenant_id) FROM tickets")
            out["own"] = await conn.fetchval(
                "SELECT count(*) FROM tickets WHERE id = $1", mine["id"]
            )
            out["other"] = await conn.fetchval(
                "SELECT count(*) FROM tickets WHERE id = $1", theirs["id"]
            )
            out["tenant_rows"] = [r["id"] for r in await conn.fetch("SELECT id FROM tenants")]
            out["update_other"] = await conn.execute(
                "UPDATE tickets SET description = 'hijacked' WHERE id = $1", theirs["id"]
            )
            out["delete_other"] = await conn.execute("DELETE FROM staff WHERE tenant_id = $1", b)
            try:  # writing a row into the other tenant
                await conn.execute(
                    "INSERT INTO departments (tenant_id, code, name) VALUES ($1, 'evil', 'x')", b
                )
                out["insert_other"] = "stored"
            except asyncpg.InsufficientPrivilegeError as exc:
                out["insert_other"] = type(exc).__name__
        # The setting was transaction-local: the next transaction is unscoped again.
        out["after"] = await conn.fetchval("SELECT count(*) FROM tickets")
        return out

    seen = raw(pg.url, go)
    assert seen == {
        "tenants": 1, "own": 1, "other": 0, "tenant_rows": [a],
        "update_other": "UPDATE 0", "delete_other": "DELETE 0",
        "insert_other": "InsufficientPrivilegeError", "after": 0,
    }  # fmt: skip
    r = pg.get("citybus", "manager", f"/api/tickets/{theirs['id']}")
    assert r.json()["description"] == theirs["description"]


def test_history_cannot_be_truncated_nor_triggers_switched_off(pg):
    async def go(conn: Any) -> list[str]:
        out = []
        for stmt in ("TRUNCATE ticket_events CASCADE", "TRUNCATE audit_events",
                     "TRUNCATE penalties CASCADE", "SET session_replication_role = replica",
                     "ALTER TABLE ticket_events DISABLE TRIGGER USER",
                     "CREATE TABLE scratch (id int)"):  # fmt: skip
            try:
                await conn.execute(stmt)
                out.append(f"{stmt}: allowed")
            except asyncpg.PostgresError as exc:
                out.append(f"{stmt}: {type(exc).__name__}")
        return out

    results = raw(pg.url, go)
    assert all(not r.endswith(": allowed") for r in results), results

    # Even the owner (who has the privilege) meets the TRUNCATE trigger on history.
    async def owner(conn: Any) -> str:
        try:
            await conn.execute("TRUNCATE ticket_events CASCADE")
        except asyncpg.RaiseError as exc:
            return str(exc)
        return "allowed"

    assert "TRUNCATE refused" in raw(pg.owner_url, owner)


def test_app_role_cannot_rewrite_history(pg):
    t = pg.create("greenwood")
    tid = tenant_ids(pg)["greenwood"]

    async def go(conn: Any) -> list[str]:
        out = []
        async with conn.transaction():
            await conn.execute("SELECT set_config('tousu.tenant_id', $1, true)", str(tid))
            for stmt in (f"UPDATE ticket_events SET action = 'x' WHERE ticket_id = {t['id']}",
                         f"DELETE FROM ticket_events WHERE ticket_id = {t['id']}",
                         "UPDATE audit_events SET actor = 'x'",
                         "UPDATE fine_settings SET amount_fen = 1",
                         "DELETE FROM penalties", "DELETE FROM ticket_grades"):  # fmt: skip
                try:
                    async with conn.transaction():
                        await conn.execute(stmt)
                    out.append(f"{stmt}: allowed")
                except asyncpg.InsufficientPrivilegeError:
                    out.append("refused")
        return out

    results = raw(pg.url, go)
    assert results == ["refused"] * len(results), results


# ---------------------------------------------------------------- both backends


def _update(api: Any, sql: str, **params: Any) -> str:
    """Run ``sql`` as the app would connect (PostgreSQL: the app role, in the tenant's
    setting; SQLite: the file), returning 'stored' or the refusal."""

    async def go(db: Database) -> str:
        async with db.engine.connect() as conn:
            try:
                async with conn.begin():
                    if api.backend == "postgres":
                        await conn.execute(
                            text("SELECT set_config('tousu.cross_tenant', 'on', true)")
                        )
                    await conn.execute(text(sql), params)
            except (DBAPIError, IntegrityError) as exc:
                return f"refused: {exc.orig}"
            return "stored"

    return run_db(api, go)


def test_decided_penalty_and_grade_are_append_only(api):
    """A decided penalty cannot be changed or deleted, a grade cannot be rewritten, a fine
    version cannot be changed: a correction is a new row. (Marking superseded is the one
    change an overturned appeal makes, and stays possible.)"""
    penalty = graded_penalty(api)
    r = api.post("citybus", "manager", f"/api/penalties/{penalty['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    pid = penalty["id"]
    for sql in (
        "UPDATE penalties SET final_fen = 1 WHERE id = :id",
        "UPDATE penalties SET status = 'waived' WHERE id = :id",
        "UPDATE penalties SET status = 'superseded', final_fen = 0 WHERE id = :id",
        "DELETE FROM penalties WHERE id = :id",
    ):
        assert _update(api, sql, id=pid).startswith("refused"), sql
    assert _update(api, "UPDATE ticket_grades SET grade = 'none' WHERE ticket_id = :t",
                   t=penalty["ticket_id"]).startswith("refused")  # fmt: skip
    assert _update(api, "DELETE FROM ticket_grades WHERE ticket_id = :t",
                   t=penalty["ticket_id"]).startswith("refused")  # fmt: skip
    assert _update(api, "UPDATE fine_settings SET amount_fen = 1").startswith("refused")
    assert _update(api, "DELETE FROM fine_settings").startswith("refused")
    rows = api.get("citybus", "manager", f"/api/tickets/{penalty['ticket_id']}/penalties")
    stored = next(x for x in rows.json() if x["id"] == pid)
    assert stored["status"] == "confirmed"


def test_cross_tenant_door_still_works_as_the_app_role(api):
    """Platform paths (auth, tenant create, operator listing) work through the narrow door."""
    op = make_operator(api)
    r = api.client.get("/api/tenants", headers=op)
    assert r.status_code == 200 and {"greenwood", "citybus"} <= {t["slug"] for t in r.json()}
    doc = small_tenant("rls-door-" + api.backend, "RLS" + api.backend[0].upper())
    r = api.client.post("/api/tenants", json=doc, headers=op)
    assert r.status_code in (201, 409), r.text
    key = f"{doc['slug']}-clerk-test-key-0001"
    me = api.client.get("/api/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and me.json()["tenant"] == doc["slug"]


def test_a_statement_escaping_the_app_filter_sees_only_its_tenant(pg):
    """A Core statement on the bare table (which the ORM-level tenant criteria do not rewrite)
    run inside tenant A's scope still returns only A's rows: the scope's transaction carries
    A's setting to the database."""
    from core.tickets.models import Ticket

    pg.create("greenwood")
    pg.create("citybus")
    ids = tenant_ids(pg)
    table = Ticket.__table__

    async def go(db: Database) -> tuple[set[int], set[int]]:
        async with db.tenant(ids["greenwood"]) as scope:
            a = {r[0] for r in await scope.execute(select(table.c.tenant_id).distinct())}
        async with db.tenant(ids["citybus"]) as scope:
            b = {r[0] for r in await scope.execute(select(table.c.tenant_id).distinct())}
        return a, b

    assert run_db(pg, go) == ({ids["greenwood"]}, {ids["citybus"]})
