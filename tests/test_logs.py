"""Structured logs (issue 14 item 3): JSON lines with a request id, tenant and user; the id
travels from ``X-Request-ID`` to the response, the history, the outbox and the jobs; no
token, password or complainant identity is ever written."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from conftest import DEMO_KEYS, prepare, run_db
from dramatiq.brokers.stub import StubBroker
from opskit.procs import Server, env_with
from sqlalchemy import select

from core.logs import redact
from core.notify.models import OutboundMessage
from core.notify.outbound import dispatch

TENANT = "greenwood"
COMPLAINANT = {"name": "欧阳娜娜", "contact": "13912345678", "address": "7栋1单元"}


def test_the_redacting_processor_masks_secrets_and_people() -> None:
    token = DEMO_KEYS[(TENANT, "clerk")]
    event = {
        "event": f"got Authorization: Bearer {token} from 13912345678 / nana@example.cn",
        "password": "hunter2",
        "complainant": {"name": "欧阳娜娜", "contact": "13912345678"},
        "payload": {"complainant_name": "欧阳娜娜", "note": "call tsu_abcdefghijklmnop"},
        "error": "IntegrityError [parameters: ('欧阳娜娜', '13912345678')] (Background…)",
        "request_id": "r-1",
        "tenant": "greenwood",
        "user": "clerk",
        "count": 3,
    }
    out = redact(None, "info", dict(event))
    text = json.dumps(out, ensure_ascii=False)
    for secret in (
        token,
        "hunter2",
        "欧阳娜娜",
        "13912345678",
        "nana@example.cn",
        "tsu_abcdefghijklmnop",
    ):
        assert secret not in text, secret
    assert out["request_id"] == "r-1" and out["tenant"] == "greenwood" and out["user"] == "clerk"
    assert out["count"] == 3 and out["password"] == "***" and out["complainant"] == "***"
    assert "got Authorization: Bearer ***" in out["event"]
    # Statement traces (aiosqlite/SQLAlchemy debug lines) carry bound values: never shown.
    sql = {
        "event": "executing INSERT INTO tickets VALUES (?, ?) ('欧阳娜娜', '7栋1单元')",
        "logger": "aiosqlite",
        "level": "debug",
    }
    assert "欧阳娜娜" not in json.dumps(redact(None, "debug", sql), ensure_ascii=False)


def test_log_text_masks_every_number_the_ticket_redaction_masks() -> None:
    """Log lines and complaint text share one set of patterns (core.logs): a landline, a
    mobile written with separators, an identity-card number and an e-mail address are masked
    in free text, while ids, times and counts stay readable."""
    event = {
        "event": "call 0755-23456789 or +86 139-1234-5678; id 110101199003071234; a.b@ex.cn",
        "detail": "ticket 4711 took 0.25 s at 2026-12-07T17:12:36Z, 3 retries",
    }
    out = redact(None, "info", dict(event))
    for personal in ("23456789", "1234-5678", "110101199003071234", "a.b@ex.cn"):
        assert personal not in out["event"], (personal, out["event"])
    assert out["event"].count("***") == 4, out["event"]
    assert out["detail"] == event["detail"]


def _walk(server: Server, headers: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    import httpx

    ids = []
    r = httpx.post(
        f"{server.url}/api/tickets",
        headers={**headers, "X-Request-ID": "walk-intake-1"},
        json={
            "channel": "phone",
            "description": "电梯停运",
            "complainant": COMPLAINANT,
            "accused_department": "engineering",
            "accused_staff": ["GW-S001"],
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text
    assert r.headers["x-request-id"] == "walk-intake-1"  # echoed
    ticket = r.json()
    r = httpx.post(
        f"{server.url}/api/tickets/{ticket['id']}/triage-valid",
        headers={**headers, "X-Request-ID": "bad id with spaces"},
        json={
            "version": ticket["version"],
            "category": "repair_quality",
            "severity": "minor",
            "facets": {"nature": "valid"},
        },
        timeout=30,
    )
    assert r.status_code == 200, r.text
    made_up = r.headers["x-request-id"]
    assert made_up != "bad id with spaces" and len(made_up) == 32  # replaced, not trusted
    ids.append(made_up)
    r = httpx.get(f"{server.url}/api/me", headers={"Authorization": "Bearer tsu_wrongwrongwrong"})
    assert r.status_code == 401 and r.headers["x-request-id"]
    ids.append(r.headers["x-request-id"])
    return ticket, ids


def test_a_walk_logs_json_lines_with_request_tenant_and_user(tmp_path: Path) -> None:
    db_file = tmp_path / "logs.db"
    url = f"sqlite+aiosqlite:///{db_file}"
    prepare(url)
    token = DEMO_KEYS[(TENANT, "clerk")]
    server = Server(tmp_path, env_with(DATABASE_URL=url, TOUSU_LOG_LEVEL="debug"), "logs")
    try:
        server.wait()
        started = server.log.stat().st_size
        ticket, made_up = _walk(server, {"Authorization": f"Bearer {token}"})
    finally:
        server.stop()
    text = server.log.read_text(encoding="utf-8")
    walk_lines = [line for line in text[started:].splitlines() if line.strip()]
    assert walk_lines
    records = [json.loads(line) for line in walk_lines]  # every line is JSON
    during = [r for r in records if r.get("logger") == "tousu.access"]
    assert {r["request_id"] for r in during} >= {"walk-intake-1", *made_up}
    for record in records:
        if record.get("logger") == "tousu.access":
            assert record["request_id"] and record["route"] and record["status"]
            if record["status"] != 401 and record["route"] != "/health":
                assert record["tenant"] == TENANT and record["user"] == "clerk", record
    intake = next(r for r in during if r["request_id"] == "walk-intake-1")
    assert intake["route"] == "/api/tickets" and intake["method"] == "POST"
    # Never a token or the complainant's identity, anywhere in the log.
    for secret in (token, "tsu_wrongwrongwrong", COMPLAINANT["name"], COMPLAINANT["contact"]):
        assert secret not in text, secret

    # The request id is stored with the change and its outbox event.
    with sqlite3.connect(db_file) as conn:
        events = conn.execute(
            "SELECT action, request_id FROM ticket_events WHERE ticket_id = ? ORDER BY seq",
            (ticket["id"],),
        ).fetchall()
        outbox = conn.execute(
            "SELECT topic, request_id FROM outbox WHERE dedupe_key LIKE ? ORDER BY id",
            (f"ticket:{ticket['id']}:%",),
        ).fetchall()
    assert events == [("intake", "walk-intake-1"), ("triage_valid", made_up[0])]
    assert outbox == [("ticket.intake", "walk-intake-1"), ("ticket.triage_valid", made_up[0])]


def test_jobs_carry_the_request_id_of_the_change(api, settings_in_force) -> None:
    """The SMS the intake causes is stored with the request's id and handed to its job
    with it (the worker binds it for every line the job logs)."""
    settings_in_force(api, webhook_allow_nets="127.0.0.1/32")  # the gateway's address
    admin = api.headers(TENANT, "admin")
    config = {
        "channels": {"sms": {"type": "http-sms", "url": "http://127.0.0.1:9/sms"}},
        "complainant": {"channel": "sms", "events": ["received"]},
    }
    assert (
        api.client.put("/api/config/notifications", json=config, headers=admin).status_code == 200
    )
    try:
        r = api.client.post(
            "/api/tickets",
            headers={**api.headers(TENANT, "clerk"), "X-Request-ID": "job-trace-7"},
            json={"channel": "phone", "description": "噪音", "complainant": COMPLAINANT},
        )
        assert r.status_code == 201, r.text
        assert r.headers["x-request-id"] == "job-trace-7"
        ticket_id = r.json()["id"]
        broker = StubBroker()
        broker.declare_queue("default")
        run_db(api, lambda db: dispatch(db, broker))
    finally:
        assert (
            api.client.put("/api/config/notifications", json={}, headers=admin).status_code == 200
        )

    async def mine(db: Any) -> tuple[int, str | None]:
        async with db.cross_tenant() as s:
            row = (
                await s.scalars(
                    select(OutboundMessage).where(OutboundMessage.ticket_id == ticket_id)
                )
            ).one()
            return row.id, row.request_id

    row_id, stored = run_db(api, mine)

    async def settle(db: Any) -> None:  # the job never runs here: no later test may send it
        async with db.cross_tenant() as s:
            row = await s.get(OutboundMessage, row_id)
            row.status = "failed"

    run_db(api, settle)
    assert stored == "job-trace-7"
    import dramatiq

    messages = [dramatiq.Message.decode(raw) for raw in broker.queues["default"].queue]
    (job,) = [m for m in messages if m.args[0] == row_id]
    assert job.actor_name == "send_outbound"
    assert job.options["request_id"] == "job-trace-7"
