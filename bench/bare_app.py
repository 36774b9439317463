"""The bare baseline: a Litestar app writing and reading the same rows as tousu, by hand.

No ORM, no tenant scope, no plugin, no authentication: asyncpg (PostgreSQL) or one aiosqlite
connection (SQLite) and the statements a careful hand would write for the same rows. Each
bench case divides tousu's figure by this app's, measured in the same run, so the ratio
says what tousu's own machinery costs on this machine at this moment.

Configured from the environment (the bench sets it): ``BARE_DSN`` (``postgresql://…`` or a
SQLite file path), ``BARE_TENANT``, ``BARE_USER`` (created_by), ``BARE_STAFF`` (an accused
staff id), ``BARE_PREFIX`` (ticket number prefix).

Rows written per create, as tousu's intake writes them: the counter bump, the ticket, one
accused staff row, the intake event, two clocks (dispatch, invalid_notice) and one outbox
row. Per triage: the ticket update, the invalid_notice clock cancelled, an auto-upgrade
clock started, the event and one outbox row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post

TENANT = int(os.environ.get("BARE_TENANT", "1"))
USER = int(os.environ.get("BARE_USER", "1"))
STAFF = int(os.environ.get("BARE_STAFF", "1"))
PREFIX = os.environ.get("BARE_PREFIX", "GW")
DSN = os.environ.get("BARE_DSN", "")
IS_PG = DSN.startswith("postgres")

_decode = msgspec.json.Decoder()

PG_CREATE = """
WITH n AS (
  UPDATE counters SET value = value + 1 WHERE tenant_id = $1 AND name = $2 RETURNING value
), t AS (
  INSERT INTO tickets (tenant_id, number, channel, complainant_name, complainant_contact,
    complainant_address, accused_department_id, event_place, description, demands,
    temper_note, facets, facts, classification, state, referred_to_inspection,
    redispatch_count, reopen_count, version, created_by, created_at, updated_at,
    idempotency_key, request_hash)
  SELECT $1, $3 || lpad(n.value::text, 6, '0'), $4, $5, $6, $7, NULL, '', $8, '', '',
    '{}', '{}', '{}', 'received', false, 0, 0, 1, $9, $10, $10, $11, 'h' FROM n
  ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
  RETURNING *
), a AS (
  INSERT INTO ticket_accused_staff (tenant_id, ticket_id, staff_id) SELECT $1, t.id, $12 FROM t
), e AS (
  INSERT INTO ticket_events (tenant_id, ticket_id, seq, action, from_state, to_state,
    actor_user_id, actor_role, at, payload)
  SELECT $1, t.id, 1, 'intake', NULL, 'received', $9, 'clerk', $10,
    json_build_object('channel', t.channel, 'number', t.number) FROM t
), c AS (
  INSERT INTO step_clocks (tenant_id, ticket_id, step, state, started_at, amount, unit, source,
    due_at, warn_at, alarm_at, paused_seconds)
  SELECT $1, t.id, v.step, 'running', $10, v.amount, 'hours', 'plugin', $10 + v.span,
    $10 + v.span * 0.8, $10 + v.span * 0.8, 0
  FROM t, (VALUES ('dispatch', 24, interval '24 hours'),
                  ('invalid_notice', 72, interval '72 hours')) AS v(step, amount, span)
), o AS (
  INSERT INTO outbox (tenant_id, topic, payload, dedupe_key, created_at, attempts, last_error)
  SELECT $1, 'ticket.intake', json_build_object('ticket_id', t.id, 'number', t.number,
    'action', 'intake', 'to', 'received'), 'ticket:' || t.id || ':1', $10, 0, '' FROM t
)
SELECT t.*, (SELECT json_agg(json_build_object('code', s.code, 'name', s.name))
             FROM staff s WHERE s.id = $12) AS accused FROM t
"""

PG_TRIAGE = """
WITH t AS (
  UPDATE tickets SET state = 'valid', category = $3, severity = $4, facets = $5::json,
    valid = true, version = version + 1, updated_at = $6
  WHERE tenant_id = $1 AND id = $2 AND version = $7 AND state = 'received'
  RETURNING *
), c AS (
  UPDATE step_clocks SET state = 'cancelled', ended_at = $6, alarm_at = NULL
  WHERE tenant_id = $1 AND ticket_id = (SELECT id FROM t) AND step = 'invalid_notice'
    AND state = 'running'
), u AS (
  INSERT INTO step_clocks (tenant_id, ticket_id, step, state, started_at, amount, unit, source,
    due_at, warn_at, alarm_at, paused_seconds)
  SELECT $1, t.id, 'auto_upgrade', 'running', t.created_at, 1, 'months', 'plugin',
    t.created_at + interval '1 month', t.created_at + interval '1 month',
    t.created_at + interval '1 month', 0 FROM t
), e AS (
  INSERT INTO ticket_events (tenant_id, ticket_id, seq, action, from_state, to_state,
    actor_user_id, actor_role, at, payload)
  SELECT $1, t.id, t.version, 'triage_valid', 'received', 'valid', $8, 'clerk', $6,
    json_build_object('category', $3::text, 'severity', $4::text) FROM t
), o AS (
  INSERT INTO outbox (tenant_id, topic, payload, dedupe_key, created_at, attempts, last_error)
  SELECT $1, 'ticket.triage_valid', json_build_object('ticket_id', t.id, 'number', t.number),
    'ticket:' || t.id || ':' || t.version, $6, 0, '' FROM t
)
SELECT t.*, '[]'::json AS accused FROM t
"""

ACCUSED = """(SELECT json_agg(json_build_object('code', s.code, 'name', s.name))
  FROM ticket_accused_staff a JOIN staff s ON s.id = a.staff_id
  WHERE a.tenant_id = t.tenant_id AND a.ticket_id = t.id) AS accused"""
PG_GET = f"SELECT t.*, {ACCUSED} FROM tickets t WHERE t.tenant_id = $1 AND t.id = $2"
PG_LIST = f"""SELECT t.*, {ACCUSED} FROM tickets t
WHERE t.tenant_id = $1 AND t.id < $2 ORDER BY t.id DESC LIMIT $3"""

# The queue (issue 20): what a careful hand writes for tousu's list with ``sort=due``,
# ``due=overdue`` and ``mine=true`` ($1 tenant, $2 limit, $3 the reader). ``sort=due``
# walks the open clocks by due time and keeps each ticket's earliest (an anti-join), so
# the first page reads ~50 clocks, not every ticket's minimum; tickets without an open
# clock (last in that order) are never reached by a first page at 1M.
_OPEN = "ended_at IS NULL AND state IN ('running', 'missed')"
PG_QUEUE = {
    "due": f"""SELECT t.*, {ACCUSED}, c.due_at AS next_due
FROM step_clocks c JOIN tickets t ON t.id = c.ticket_id AND t.tenant_id = $1
WHERE c.tenant_id = $1 AND c.{_OPEN.replace(" AND ", " AND c.")} AND NOT EXISTS (
  SELECT 1 FROM step_clocks o WHERE o.tenant_id = $1 AND o.ticket_id = c.ticket_id
    AND o.{_OPEN.replace(" AND ", " AND o.")}
    AND (o.due_at < c.due_at OR (o.due_at = c.due_at AND o.id < c.id)))
ORDER BY c.due_at, t.id DESC LIMIT $2""",
    "overdue": f"""SELECT t.*, {ACCUSED} FROM tickets t
WHERE t.tenant_id = $1 AND EXISTS (
  SELECT 1 FROM step_clocks c WHERE c.tenant_id = $1 AND c.ticket_id = t.id
    AND c.ended_at IS NULL AND (c.breached_at IS NOT NULL OR c.state = 'missed'
      OR (c.state = 'running' AND c.due_at < now())))
ORDER BY t.id DESC LIMIT $2""",
    "mine": f"""SELECT t.*, {ACCUSED} FROM tickets t
WHERE t.tenant_id = $1 AND t.owner_user_id = $3 ORDER BY t.id DESC LIMIT $2""",
}
PG_COUNT = "SELECT count(*) FROM tickets WHERE tenant_id = $1"

SQ_ACCUSED = """(SELECT json_group_array(json_object('code', s.code, 'name', s.name))
  FROM ticket_accused_staff a JOIN staff s ON s.id = a.staff_id
  WHERE a.tenant_id = t.tenant_id AND a.ticket_id = t.id) AS accused"""


def _row(record: Any) -> dict[str, Any]:
    out = dict(record)
    for key in ("facets", "facts", "classification", "accused"):
        if isinstance(out.get(key), str):
            out[key] = _decode.decode(out[key])
    out.pop("complainant_contact", None)  # tousu masks or shows it; either way no extra work
    return out


def _json(value: Any, status: int = 200) -> Response[bytes]:
    return Response(msgspec.json.encode(value), status_code=status, media_type="application/json")


class Store:
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class Pg(Store):
    pool: Any

    async def start(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(DSN, min_size=10, max_size=20)

    async def stop(self) -> None:
        await self.pool.close()

    async def create(self, body: dict[str, Any], key: str | None) -> dict[str, Any] | None:
        now = dt.datetime.now(dt.UTC)
        c = body["complainant"]
        async with self.pool.acquire() as conn:
            rec = await conn.fetchrow(
                PG_CREATE, TENANT, f"bare-{now.year}", f"{PREFIX}-B{now.year}-", body["channel"],
                c["name"], c["contact"], c.get("address", ""), body["description"], USER, now,
                key, STAFF,
            )  # fmt: skip
        return _row(rec) if rec else None

    async def triage(self, ticket_id: int, body: dict[str, Any]) -> dict[str, Any] | None:
        now = dt.datetime.now(dt.UTC)
        async with self.pool.acquire() as conn:
            rec = await conn.fetchrow(
                PG_TRIAGE, TENANT, ticket_id, body.get("category"), body.get("severity"),
                msgspec.json.encode(body.get("facets", {})).decode(), now, body["version"], USER,
            )  # fmt: skip
        return _row(rec) if rec else None

    async def get(self, ticket_id: int) -> dict[str, Any] | None:
        async with self.pool.acquire() as conn:
            rec = await conn.fetchrow(PG_GET, TENANT, ticket_id)
        return _row(rec) if rec else None

    async def list(self, before: int, limit: int, tenant: int) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(PG_LIST, tenant, before, limit)
        return [_row(r) for r in rows]

    async def queue(self, kind: str, limit: int, total: bool) -> dict[str, Any]:
        args: tuple[Any, ...] = (TENANT, limit) + ((USER,) if kind == "mine" else ())
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(PG_QUEUE[kind], *args)
            count = await conn.fetchval(PG_COUNT, TENANT) if total else None
        return {"items": [_row(r) for r in rows], "total": count}


class Sqlite(Store):
    """One connection; writes serialised by a lock with BEGIN IMMEDIATE (SQLite has one
    writer anyway), reads on the same connection."""

    async def start(self) -> None:
        import aiosqlite

        self.conn = await aiosqlite.connect(DSN, isolation_level=None)
        self.conn.row_factory = aiosqlite.Row
        await self.conn.execute("PRAGMA journal_mode=WAL")
        await self.conn.execute("PRAGMA busy_timeout=5000")
        self.lock = asyncio.Lock()

    async def stop(self) -> None:
        await self.conn.close()

    async def create(self, body: dict[str, Any], key: str | None) -> dict[str, Any] | None:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        iso = now.isoformat(sep=" ")
        c = body["complainant"]
        db = self.conn
        async with self.lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                name = f"bare-{now.year}"
                await db.execute(
                    "INSERT OR IGNORE INTO counters (tenant_id, name, value) VALUES (?, ?, 0)",
                    (TENANT, name),
                )
                cur = await db.execute(
                    "UPDATE counters SET value = value + 1 WHERE tenant_id = ? AND name = ? "
                    "RETURNING value",
                    (TENANT, name),
                )
                (value,) = await cur.fetchone()  # type: ignore[misc]
                cur = await db.execute(
                    "INSERT INTO tickets (tenant_id, number, channel, complainant_name, "
                    "complainant_contact, complainant_address, event_place, description, "
                    "demands, temper_note, facets, facts, classification, state, "
                    "referred_to_inspection, redispatch_count, reopen_count, version, "
                    "created_by, created_at, updated_at, idempotency_key, request_hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, '', ?, '', '', '{}', '{}', '{}', 'received', 0, "
                    "0, 0, 1, ?, ?, ?, ?, 'h') RETURNING *",
                    (TENANT, f"{PREFIX}-B{now.year}-{value:06d}", body["channel"], c["name"],
                     c["contact"], c.get("address", ""), body["description"], USER, iso, iso,
                     key),
                )  # fmt: skip
                row = dict(await cur.fetchone())  # type: ignore[arg-type]
                tid = row["id"]
                await db.execute(
                    "INSERT INTO ticket_accused_staff (tenant_id, ticket_id, staff_id) "
                    "VALUES (?, ?, ?)",
                    (TENANT, tid, STAFF),
                )
                await db.execute(
                    "INSERT INTO ticket_events (tenant_id, ticket_id, seq, action, from_state, "
                    "to_state, actor_user_id, actor_role, at, payload) VALUES "
                    "(?, ?, 1, 'intake', NULL, 'received', ?, 'clerk', ?, ?)",
                    (TENANT, tid, USER, iso, msgspec.json.encode(
                        {"channel": body["channel"], "number": row["number"]}).decode()),
                )  # fmt: skip
                clocks = []
                for step, hours in (("dispatch", 24), ("invalid_notice", 72)):
                    due = (now + dt.timedelta(hours=hours)).isoformat(sep=" ")
                    clocks.append((TENANT, tid, step, iso, hours, due, due, due))
                await db.executemany(
                    "INSERT INTO step_clocks (tenant_id, ticket_id, step, state, started_at, "
                    "amount, unit, source, due_at, warn_at, alarm_at, paused_seconds) VALUES "
                    "(?, ?, ?, 'running', ?, ?, 'hours', 'plugin', ?, ?, ?, 0)",
                    clocks,
                )
                await db.execute(
                    "INSERT INTO outbox (tenant_id, topic, payload, dedupe_key, created_at, "
                    "attempts, last_error) VALUES (?, 'ticket.intake', ?, ?, ?, 0, '')",
                    (TENANT, msgspec.json.encode({"ticket_id": tid}).decode(),
                     f"ticket:{tid}:1", iso),
                )  # fmt: skip
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return _row(row)

    async def get(self, ticket_id: int) -> dict[str, Any] | None:
        cur = await self.conn.execute(
            f"SELECT t.*, {SQ_ACCUSED} FROM tickets t WHERE t.tenant_id = ? AND t.id = ?",
            (TENANT, ticket_id),
        )
        row = await cur.fetchone()
        return _row(dict(row)) if row else None


STORE: Store = Pg() if IS_PG else Sqlite()


@post("/tickets", status_code=201)
async def create(request: Request[Any, Any, Any]) -> Response[bytes]:
    body = _decode.decode(await request.body())
    row = await STORE.create(body, request.headers.get("idempotency-key"))  # type: ignore[attr-defined]
    return _json(row, 201) if row else _json({"error": "duplicate"}, 409)


@post("/tickets/{ticket_id:int}/triage-valid")
async def triage(ticket_id: int, request: Request[Any, Any, Any]) -> Response[bytes]:
    body = _decode.decode(await request.body())
    row = await STORE.triage(ticket_id, body)  # type: ignore[attr-defined]
    return _json(row) if row else _json({"error": "version"}, 409)


@get("/tickets/{ticket_id:int}")
async def get_one(ticket_id: int) -> Response[bytes]:
    row = await STORE.get(ticket_id)  # type: ignore[attr-defined]
    return _json(row) if row else _json({"error": "not found"}, 404)


@get("/tickets")
async def list_page(limit: int = 50, before: int = 2**31 - 1, tenant: int = 0) -> Response[bytes]:
    rows = await STORE.list(before, limit + 1, tenant or TENANT)  # type: ignore[attr-defined]
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = rows[-1]["id"] if more and rows else None
    return _json({"items": rows, "next": nxt})


@get("/queue")
async def queue(kind: str = "due", limit: int = 50, total: bool = False) -> Response[bytes]:
    """The queue's lists (PostgreSQL only): ``kind`` one of ``PG_QUEUE``."""
    out = await STORE.queue(kind, limit + 1, total)  # type: ignore[attr-defined]
    more = len(out["items"]) > limit
    return _json({"items": out["items"][:limit], "total": out["total"], "more": more})


def create_app() -> Litestar:
    return Litestar(
        route_handlers=[create, triage, get_one, list_page, queue],
        on_startup=[STORE.start],
        on_shutdown=[STORE.stop],
        debug=False,
        logging_config=None,
    )
