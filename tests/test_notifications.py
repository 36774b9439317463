"""Email and SMS that reach people, from a ticket's lifecycle (issue 14 item 1).

A real SMTP server (aiosmtpd) and a local HTTP SMS gateway on 127.0.0.1 receive what the
workers send. The tenant admin configures the channels and the complainant's messages;
the manager chooses email for escalations; the complainant is told by SMS that the
complaint was received, answered and followed up — with the ticket number, never anyone's
name. Failures retry with backoff, then show as failed to the tenant admin, who retries.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dramatiq
import pytest
from aiosmtpd.controller import Controller
from conftest import run_db
from dramatiq.asyncio import get_event_loop_thread
from opskit.procs import free_port
from prometheus_client import REGISTRY
from sqlalchemy import select

from core import clock
from core.db import Database
from core.jobs import worker as tasks
from core.notify.models import OutboundMessage
from core.notify.outbound import MAX_ATTEMPTS, dispatch

TENANT = "greenwood"
WALK = ("repair_quality", "important", {"nature": "valid"}, "engineering", "head-engineering")
STAFF = ["GW-S001"]


class Gateway:
    """A local SMS gateway: records every POST; a message whose text contains a key of
    ``plans`` is answered with that plan's statuses in turn (then 200), others with 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.plans: dict[str, collections.deque[int]] = {}
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                text = json.loads(body).get("text", "")
                with gateway.lock:
                    plan = next((p for k, p in gateway.plans.items() if k in text), None)
                    status = plan.popleft() if plan else 200
                    gateway.requests.append(
                        {
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "json": json.loads(body),
                            "status": status,
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["status"] == 200]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def gateway(api: Any, settings_in_force: Any) -> Iterator[Gateway]:
    # the gateway listens on loopback: the operator admits it (core.egress; issue 21 item 4)
    settings_in_force(api, webhook_allow_nets="127.0.0.1/32")
    g = Gateway()
    g.thread.start()
    yield g
    g.server.shutdown()
    g.server.server_close()


@pytest.fixture
def inbox(api: Any, settings_in_force: Any) -> Iterator[Inbox]:
    box = Inbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings_in_force(api, smtp_host="127.0.0.1", smtp_port=port, smtp_from="noreply@tousu.example")
    yield box
    controller.stop()


@pytest.fixture
def worker(api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The embedded broker's actors on the test database; ``worker()`` dispatches due
    messages and waits until they are handled, until nothing is due."""
    db = Database(api.url)
    monkeypatch.setattr(tasks, "_db", db)
    broker = tasks.broker
    broker.flush_all()
    w = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    w.start()

    def drain() -> int:
        total = 0
        for _ in range(20):
            sent = run_db(api, lambda d: dispatch(d, broker))
            if not sent:
                return total
            total += sent
            broker.join("default", timeout=30_000)
            w.join()
        raise AssertionError("dispatch never ran dry")

    try:
        yield drain
    finally:
        loop = get_event_loop_thread()
        if loop is not None:
            with contextlib.suppress(Exception):
                loop.run_coroutine(db.dispose())
        w.stop()
        broker.flush_all()


@pytest.fixture
def configured(api: Any, gateway: Gateway, inbox: Inbox) -> Iterator[dict[str, Any]]:
    body = {
        "channels": {
            "mail": {"type": "smtp", "from": "desk@greenwood.example"},
            "sms": {"type": "http-sms", "url": gateway.url, "token": "gw-gateway-secret"},
        },
        "complainant": {
            "channel": "sms",
            "events": ["received", "answered", "followed_up"],
            "templates": {"received": "【{company}】您的投诉已受理，编号{number}（{date}）。"},
        },
    }
    r = api.client.put("/api/config/notifications", json=body, headers=api.headers(TENANT, "admin"))
    assert r.status_code == 200, r.text
    prefs = {"email": "manager@greenwood.example", "kinds": {"escalation": ["mail"]}}
    r = api.client.put("/api/me/notifications", json=prefs, headers=api.headers(TENANT, "manager"))
    assert r.status_code == 200, r.text
    yield body
    # Later tests of the shared database must not queue messages to servers that are gone.
    api.client.put("/api/me/notifications", json={}, headers=api.headers(TENANT, "manager"))
    r = api.client.put("/api/config/notifications", json={}, headers=api.headers(TENANT, "admin"))
    assert r.status_code == 200, r.text


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def outbound(api: Any, ticket_id: int) -> list[OutboundMessage]:
    async def go(db: Database) -> list[OutboundMessage]:
        async with db.cross_tenant() as s:
            rows = await s.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.ticket_id == ticket_id)
                .order_by(OutboundMessage.id)
            )
            return list(rows)

    return run_db(api, go)  # type: ignore[no-any-return]


def walk(api: Any) -> dict[str, Any]:
    category, severity, facets, dept, head = WALK
    t = api.create(TENANT, accused_staff=STAFF, accused_department=dept)
    t = api.act(
        TENANT, "clerk", t, "triage_valid", category=category, severity=severity, facets=facets
    )
    t = api.act(TENANT, "clerk", t, "register", reason="on_site")
    t = api.act(TENANT, "supervisor", t, "review")
    t = api.act(TENANT, "clerk", t, "dispatch", department=dept)
    t = api.act(TENANT, head, t, "first_contact", note="called the complainant")
    t = api.act(
        TENANT,
        head,
        t,
        "grade",
        findings="not done properly",
        grades=[
            {
                "staff": STAFF[0],
                "grade": "main",
                "offence": "tier_2",
                "findings": "left the job unfinished",
            }
        ],
    )
    t = api.act(TENANT, head, t, "reply", reply="fixed, apologies", apology=True)
    return api.act(TENANT, "clerk", t, "follow_up", note="satisfied")


def test_lifecycle_sends_real_email_and_sms(api, configured, gateway, inbox, worker):
    sent_before = sample(
        "tousu_notifications_sent_total", tenant=str(_tenant_id(api)), channel="sms"
    )
    t = walk(api)
    worker()

    texts = [r["json"]["text"] for r in gateway.accepted() if t["number"] in r["json"]["text"]]
    assert len(texts) == 3, gateway.requests  # received, answered, followed up
    # Workers send in parallel: the order of arrival is not the order of events.
    (received,) = [x for x in texts if "已受理" in x]
    assert received.startswith(f"【绿林物业服务有限公司】您的投诉已受理，编号{t['number']}（")
    assert len([x for x in texts if "已处理并答复" in x]) == 1
    assert len([x for x in texts if "已完成回访" in x]) == 1
    mine = [r for r in gateway.accepted() if t["number"] in r["json"]["text"]]
    for request in mine:
        assert request["json"]["to"] == "13812345678"
        assert request["headers"]["authorization"] == "Bearer gw-gateway-secret"
        assert request["headers"]["idempotency-key"] == request["json"]["id"]
        # Nobody's identity: not the complainant's name, not the accused staff, no user.
        for who in ("张三丰", "GW-S001", "head-engineering", "clerk", "王", "张"):
            assert who not in request["json"]["text"]

    to_manager = [
        m
        for m in inbox.messages
        if t["number"] in m.content.decode("utf-8", "replace") or t["number"] in _body(m)
    ]
    assert len(to_manager) == 1, [m.rcpt_tos for m in inbox.messages]
    assert to_manager[0].rcpt_tos == ["manager@greenwood.example"]
    assert to_manager[0].mail_from == "desk@greenwood.example"
    assert "投诉升级提醒" in _subject(to_manager[0])

    rows = outbound(api, t["id"])
    assert sorted(r.kind for r in rows) == [
        "complainant.answered",
        "complainant.followed_up",
        "complainant.received",
        "escalation",
    ]
    assert all(r.status == "sent" and r.attempts == 1 for r in rows)
    assert all(r.request_id for r in rows)  # traced to the request that caused each

    # The delivery log the tenant admin sees masks recipients.
    log = api.get(TENANT, "admin", "/api/notifications/outbound?status=sent").json()
    mine_log = [m for m in log if m["ticket_id"] == t["id"]]
    assert {m["recipient"] for m in mine_log} == {"138****5678", "m***@greenwood.example"}
    assert (
        sample("tousu_notifications_sent_total", tenant=str(_tenant_id(api)), channel="sms")
        >= sent_before + 3
    )

    # Idempotent: nothing is due any more, and a repeated walk step sends nothing twice.
    assert worker() == 0
    assert len([r for r in gateway.accepted() if t["number"] in r["json"]["text"]]) == 3


def test_failures_retry_then_show_to_the_admin(api, configured, gateway, worker):
    t = api.create(TENANT, accused_staff=STAFF, accused_department="engineering")
    gateway.plans[t["number"]] = collections.deque([500] * MAX_ATTEMPTS)
    failures_before = sample(
        "tousu_notification_failures_total", tenant=str(_tenant_id(api)), channel="sms"
    )
    for attempt in range(1, MAX_ATTEMPTS + 1):
        worker()
        (row,) = outbound(api, t["id"])
        assert row.attempts == attempt
        assert row.last_error == "http-sms: gateway answered 500"
        if attempt < MAX_ATTEMPTS:
            assert row.status == "pending" and row.next_attempt_at > clock.now()
            clock.travel_to(row.next_attempt_at + dt.timedelta(seconds=1))  # backoff passes
    assert row.status == "failed"
    assert (
        sample("tousu_notification_failures_total", tenant=str(_tenant_id(api)), channel="sms")
        >= failures_before + MAX_ATTEMPTS
    )

    failed = api.get(TENANT, "admin", "/api/notifications/outbound?status=failed").json()
    entry = next(m for m in failed if m["ticket_id"] == t["id"])
    assert entry["last_error"] == "http-sms: gateway answered 500"
    assert entry["recipient"] == "138****5678"
    assert api.get(TENANT, "clerk", "/api/notifications/outbound").status_code == 403

    r = api.post(TENANT, "admin", f"/api/notifications/outbound/{entry['id']}/retry")
    assert r.status_code == 200 and r.json()["status"] == "pending"
    worker()
    (row,) = outbound(api, t["id"])
    assert row.status == "sent"
    assert [g["json"]["id"] for g in gateway.requests if t["number"] in g["json"]["text"]] == [
        f"tousu-{row.tenant_id}-{row.id}"
    ] * (MAX_ATTEMPTS + 1)  # one stable key across every retry
    assert [g["status"] for g in gateway.requests if t["number"] in g["json"]["text"]] == [
        500
    ] * MAX_ATTEMPTS + [200]


def test_config_shows_secrets_masked_and_keeps_them(api, configured, gateway):
    r = api.get(TENANT, "admin", "/api/config/notifications")
    assert r.status_code == 200
    body = r.json()
    assert body["channels"]["sms"]["token"] == "***"
    assert "gw-gateway-secret" not in r.text
    # Sending the masked form back keeps the stored secret.
    r = api.client.put(
        "/api/config/notifications",
        headers=api.headers(TENANT, "admin"),
        json={"channels": body["channels"], "complainant": body["complainant"]},
    )
    assert r.status_code == 200, r.text
    assert api.get(TENANT, "clerk", "/api/config/notifications").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channels": {"x": {"type": "pigeon"}}}, "channels.x.type"),
        ({"channels": {"x": {"type": "http-sms", "url": "ftp://nope"}}}, "channels.x.url"),
        ({"channels": {"m": {"type": "smtp", "from": "not-an-address"}}}, "channels.m.from"),
        ({"channels": {}, "complainant": {"events": ["received"]}}, "complainant.channel"),
        (
            {"channels": {"m": {"type": "smtp"}}, "complainant": {"channel": "m"}},
            "complainant.channel",
        ),
        (
            {
                "channels": {"s": {"type": "http-sms", "url": "http://127.0.0.1:9/"}},
                "complainant": {"channel": "s", "templates": {"received": "您好 {name}"}},
            },
            "complainant.templates.received",
        ),
        (
            {
                "channels": {"s": {"type": "http-sms", "url": "http://127.0.0.1:9/"}},
                "complainant": {"channel": "s", "templates": {"received": "{number.__class__}"}},
            },
            "complainant.templates.received",
        ),
    ],
)
def test_bad_config_is_a_422_naming_the_field(api, inbox, body, field, settings_in_force):
    settings_in_force(api, webhook_allow_nets="127.0.0.1/32")  # the templates are wrong
    r = api.client.put("/api/config/notifications", json=body, headers=api.headers(TENANT, "admin"))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field, r.text


def test_bad_choices_are_422s(api, configured):
    h = api.headers(TENANT, "manager")
    cases = [
        ({"email": "nope", "kinds": {}}, "email"),
        ({"phone": "12345", "kinds": {}}, "phone"),
        ({"kinds": {"gossip": ["mail"]}}, "kinds.gossip"),
        ({"kinds": {"escalation": ["pager"]}}, "kinds.escalation"),
        ({"kinds": {"escalation": ["sms"]}}, "phone"),  # SMS needs a phone number
    ]
    for body, field in cases:
        r = api.client.put("/api/me/notifications", json=body, headers=h)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, (body, r.text)


def _tenant_id(api: Any) -> int:
    from core.people.models import Tenant

    async def go(db: Database) -> int:
        async with db.cross_tenant() as s:
            return int(await s.scalar(select(Tenant.id).where(Tenant.slug == TENANT)))

    return run_db(api, go)  # type: ignore[no-any-return]


def _message(envelope: Any) -> Any:
    from email import message_from_bytes, policy

    return message_from_bytes(envelope.content, policy=policy.default)


def _body(envelope: Any) -> str:
    return str(_message(envelope).get_content())


def _subject(envelope: Any) -> str:
    return str(_message(envelope)["Subject"])
