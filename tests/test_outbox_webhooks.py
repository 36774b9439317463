"""The outbox and webhooks on the embedded broker (no Redis): every transition writes an
outbox row in its own transaction; the relay hands unsent rows to dramatiq and stamps them;
the actors fan an event out to the tenant's webhooks and deliver it signed, retrying
failures, never twice.

The broker and the actors are the module globals of :mod:`core.tasks.worker` (a
``StubBroker`` when ``REDIS_URL`` is unset). A test that runs actors starts a
``dramatiq.Worker`` on that broker and points the worker module's Database at the test
database (``core.tasks.worker._db``), restoring both afterwards. Webhooks post to a local
HTTP sink on 127.0.0.1; webhooks a test registers are deactivated when it ends, so later
tests' events are not fanned out to a sink that is gone.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dramatiq
import pytest
from conftest import run_db
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select, update

from core import clock
from core.db import Database
from core.people.models import Tenant
from core.tasks import webhooks
from core.tasks import worker as tasks
from core.tasks.models import OutboxEvent, Webhook
from core.tasks.relay import relay_once

TENANT = "greenwood"
C = {  # tenants/greenwood-property.toml, plugins/property
    "category": "repair_quality",
    "severity": "minor",
    "facets": {"nature": "valid"},
    "dept": "engineering",
    "head": "head-engineering",
    "staff": ["GW-S001"],
}
_paths = itertools.count(1)


# ---------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _real_time() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()




def tenant_id(api: Any, slug: str = TENANT) -> int:
    async def go(db: Database) -> int:
        async with db.cross_tenant() as s:
            return int(await s.scalar(select(Tenant.id).where(Tenant.slug == slug)))

    return run_db(api, go)  # type: ignore[no-any-return]


def outbox_of(api: Any, ticket: dict[str, Any], slug: str = TENANT) -> list[OutboxEvent]:
    """The ticket's transition events (dedupe key ``ticket:<id>:<seq>``), oldest first."""
    tid = tenant_id(api, slug)

    async def go(db: Database) -> list[OutboxEvent]:
        async with db.cross_tenant() as s:
            rows = await s.scalars(
                select(OutboxEvent)
                .where(
                    OutboxEvent.tenant_id == tid,
                    OutboxEvent.dedupe_key.like(f"ticket:{ticket['id']}:%"),
                )
                .order_by(OutboxEvent.id)
            )
            return list(rows)

    return run_db(api, go)  # type: ignore[no-any-return]


def relay(api: Any, broker: Any) -> list[Any]:
    """Relay until nothing is left; the reports of every pass."""

    async def go(db: Database) -> list[Any]:
        reports = []
        for _ in range(50):
            report = await relay_once(db, broker)
            reports.append(report)
            if report.sent == 0:
                return reports
        raise AssertionError("the relay never ran dry")

    return run_db(api, go)  # type: ignore[no-any-return]


def queued(broker: StubBroker, queue: str = "default") -> list[dramatiq.Message]:  # type: ignore[type-arg]
    return [dramatiq.Message.decode(raw) for raw in list(broker.queues[queue].queue)]


def walk(api: Any, upto: str = "dispatch") -> dict[str, Any]:
    t = api.create(TENANT, accused_staff=C["staff"], accused_department=C["dept"])
    steps = [
        (
            "clerk",
            "triage_valid",
            {"category": C["category"], "severity": C["severity"], "facets": C["facets"]},
        ),
        ("clerk", "register", {"reason": "on_site"}),
        ("supervisor", "review", {}),
        ("clerk", "dispatch", {"department": C["dept"]}),
        (C["head"], "first_contact", {"note": "called"}),
    ]
    for user, action, body in steps:
        t = api.act(TENANT, user, t, action, **body)
        if action == upto:
            break
    return t


@pytest.fixture
def broker(api) -> Iterator[StubBroker]:
    """The worker module's embedded broker, with every earlier unsent event relayed and the
    queues emptied, so a test sees only its own messages."""
    b = tasks.broker
    assert isinstance(b, StubBroker), (
        f"core.tasks.worker.broker is {type(b).__name__}: these tests need the embedded "
        "broker (REDIS_URL unset)"
    )
    relay(api, b)
    b.flush_all()
    yield b
    b.flush_all()


class Sink:
    """A local HTTP server recording every POST; per path, a list of statuses to answer in
    turn (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.plans: dict[str, collections.deque[int]] = {}
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink.lock:
                    plan = sink.plans.get(self.path)
                    status = plan.popleft() if plan else 200
                    sink.requests.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "status": status,
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def to(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    s.thread.start()
    try:
        yield s
    finally:
        s.server.shutdown()
        s.server.server_close()


@pytest.fixture
def hooks(api) -> Iterator[list[tuple[str, int]]]:
    """Webhooks a test registers: (tenant, id); deactivated at the end."""
    made: list[tuple[str, int]] = []
    yield made
    if made:

        async def off(db: Database) -> None:
            async with db.cross_tenant() as s:
                await s.execute(
                    update(Webhook).where(Webhook.id.in_([i for _, i in made])).values(active=False)
                )

        run_db(api, off)


def register(
    api: Any, hooks: list[tuple[str, int]], url: str, topics: list[str], slug: str = TENANT
) -> dict[str, Any]:
    r = api.post(slug, "admin", "/api/webhooks", json={"url": url, "topics": topics})
    assert r.status_code == 201, r.text
    hook = r.json()
    hooks.append((slug, hook["id"]))
    return hook  # type: ignore[no-any-return]


def deliveries(api: Any, hook: dict[str, Any], slug: str = TENANT) -> list[dict[str, Any]]:
    r = api.get(slug, "admin", f"/api/webhooks/{hook['id']}/deliveries")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def run_worker(api, broker, monkeypatch) -> Iterator[Any]:
    """Start a dramatiq Worker on the embedded broker with the worker module's Database on
    the test database; ``run_worker()`` waits until the queues are drained."""
    db = Database(api.url)
    monkeypatch.setattr(tasks, "_db", db)
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()

    def drain(timeout_ms: int = 30_000) -> None:
        broker.join("default", timeout=timeout_ms)
        worker.join()

    try:
        yield drain
    finally:
        loop = get_event_loop_thread()
        if loop is not None:
            with contextlib.suppress(Exception):
                loop.run_coroutine(db.dispose())
        worker.stop()


# ---------------------------------------------------------------- the outbox


def test_every_transition_writes_an_outbox_row(api):
    """Each transition writes its outbox event with the change (domain: webhooks are fed from
    the outbox); the payload names the ticket and the change, never the complainant."""
    t = walk(api, upto="first_contact")
    rows = outbox_of(api, t)
    hist = api.get(TENANT, "manager", f"/api/tickets/{t['id']}/history").json()
    assert [r.topic for r in rows] == [f"ticket.{e['action']}" for e in hist]
    assert [r.dedupe_key for r in rows] == [f"ticket:{t['id']}:{e['seq']}" for e in hist]
    assert [r.topic for r in rows] == [
        "ticket.intake",
        "ticket.triage_valid",
        "ticket.register",
        "ticket.review",
        "ticket.dispatch",
        "ticket.first_contact",
    ]
    for row, e in zip(rows, hist, strict=True):
        assert row.sent_at is None and row.attempts == 0
        assert (row.payload["ticket_id"], row.payload["number"]) == (t["id"], t["number"])
        assert (row.payload["action"], row.payload["from"], row.payload["to"]) == (
            e["action"],
            e["from_state"],
            e["to_state"],
        )
        text = json.dumps(row.payload, ensure_ascii=False)
        assert "张三丰" not in text and "13812345678" not in text and "1栋2单元301" not in text


def test_a_refused_transition_writes_no_outbox_row(api):
    t = walk(api, upto="review")
    before = len(outbox_of(api, t))
    r = api.post(
        TENANT,
        "clerk",
        f"/api/tickets/{t['id']}/dispatch",
        json={"version": t["version"], "department": "no-such-dept"},
    )
    assert r.status_code == 422, r.text
    r = api.post(
        TENANT,
        "clerk",
        f"/api/tickets/{t['id']}/dispatch",
        json={"version": t["version"] - 1, "department": C["dept"]},
    )
    assert r.status_code == 409, r.text
    assert len(outbox_of(api, t)) == before


def test_outbox_row_commits_or_rolls_back_with_the_change(api, monkeypatch):
    """The event is written in the transition's own transaction: when the request fails after
    the event was written, neither the change, its history nor the event remain."""
    from core.tickets import service

    t = walk(api, upto="review")
    before = outbox_of(api, t)
    real_emit = service.emit

    async def emit_then_fail(*args: Any, **kwargs: Any) -> None:
        await real_emit(*args, **kwargs)
        raise RuntimeError("crash after the outbox write")

    monkeypatch.setattr(service, "emit", emit_then_fail)
    r = api.post(
        TENANT,
        "clerk",
        f"/api/tickets/{t['id']}/dispatch",
        json={"version": t["version"], "department": C["dept"]},
    )
    assert r.status_code == 500, r.text
    monkeypatch.undo()
    after = api.get(TENANT, "manager", f"/api/tickets/{t['id']}").json()
    assert (after["state"], after["version"]) == ("ready", t["version"])
    assert [
        e["action"] for e in api.get(TENANT, "manager", f"/api/tickets/{t['id']}/history").json()
    ][-1] == "review"
    assert [r.id for r in outbox_of(api, t)] == [r.id for r in before]
    # The same transition then succeeds and writes its one event.
    t = api.act(TENANT, "clerk", t, "dispatch", department=C["dept"])
    assert outbox_of(api, t)[-1].topic == "ticket.dispatch"


# ---------------------------------------------------------------- the relay


def test_relay_enqueues_and_stamps_sent(api, broker):
    t = walk(api, upto="register")
    mine = outbox_of(api, t)
    assert len(mine) == 3 and all(r.sent_at is None for r in mine)
    reports = relay(api, broker)
    assert reports[0].sent >= 3 and reports[-1].sent == 0
    stamped = outbox_of(api, t)
    assert all(r.sent_at is not None for r in stamped)
    messages = [m for m in queued(broker) if m.actor_name == "deliver_outbox"]
    tid = tenant_id(api)
    for r in stamped:
        assert [list(m.args) for m in messages].count([r.id, tid]) == 1
    # A second pass sends nothing more: the stamped rows are not enqueued again.
    count = len(queued(broker))
    assert relay(api, broker)[0].sent == 0
    assert len(queued(broker)) == count


def test_relay_keeps_events_when_the_broker_is_down(api, broker):
    """At-least-once with the broker unreachable: nothing is stamped, the attempt and error
    are recorded, and the next pass on a working broker sends the backlog."""

    class Down:
        def enqueue(self, message: Any, **kw: Any) -> Any:
            raise ConnectionError("redis is down")

    t = walk(api, upto="triage_valid")
    report = run_db(api, lambda db: relay_once(db, Down()))
    assert report.sent == 0 and report.failed >= 1 and "redis is down" in report.error
    rows = outbox_of(api, t)
    assert all(r.sent_at is None for r in rows)
    assert rows[0].attempts == 1 and "ConnectionError" in rows[0].last_error
    relay(api, broker)
    assert all(r.sent_at is not None for r in outbox_of(api, t))


# ---------------------------------------------------------------- webhooks through the worker


def test_webhook_receives_the_signed_event(api, broker, sink, hooks, run_worker):
    """A tenant admin registers a URL (the secret is shown once); the worker fans the event
    out and POSTs it signed ``sha256=HMAC(secret, body)``; the delivery log shows it."""
    path = f"/hook-{next(_paths)}"
    r = api.post(TENANT, "manager", "/api/webhooks", json={"url": sink.url(path), "topics": []})
    assert r.status_code == 403, r.text
    hook = register(api, hooks, sink.url(path), ["ticket.dispatch"])
    assert hook["secret"] and len(hook["secret"]) >= 32
    listed = api.get(TENANT, "admin", "/api/webhooks").json()
    assert [h.get("secret") for h in listed if h["id"] == hook["id"]] == [None]
    other_path = f"/hook-{next(_paths)}"  # another tenant's webhook hears nothing of greenwood
    register(api, hooks, sink.url(other_path), [], slug="citybus")

    t = walk(api, upto="dispatch")
    event = outbox_of(api, t)[-1]
    assert event.topic == "ticket.dispatch"
    relay(api, broker)
    run_worker()

    got = sink.to(path)
    assert len(got) == 1, got  # intake, triage... are not among the webhook's topics
    req = got[0]
    expected = (
        "sha256=" + hmac.new(hook["secret"].encode(), req["body"], hashlib.sha256).hexdigest()
    )
    assert hmac.compare_digest(req["headers"]["x-tousu-signature"], expected)
    assert req["headers"]["x-tousu-signature"] == webhooks.sign(hook["secret"], req["body"])
    assert req["headers"]["x-tousu-event"] == "ticket.dispatch"
    body = json.loads(req["body"])
    assert (body["id"], body["topic"]) == (event.id, "ticket.dispatch")
    assert (body["data"]["ticket_id"], body["data"]["action"], body["data"]["to"]) == (
        t["id"],
        "dispatch",
        "dispatched",
    )
    assert "张三丰" not in req["body"].decode() and "13812345678" not in req["body"].decode()
    assert sink.to(other_path) == []

    log = [d for d in deliveries(api, hook) if d["outbox_id"] == event.id]
    assert len(log) == 1
    assert (log[0]["status"], log[0]["attempts"], log[0]["response_code"]) == ("delivered", 1, 200)
    assert log[0]["delivered_at"] is not None
    assert str(log[0]["id"]) == req["headers"]["x-tousu-delivery"]


def test_failed_deliveries_are_retried_until_delivered(
    api, broker, sink, hooks, run_worker, monkeypatch
):
    """A receiver answering 500 twice then 200: the actor retries with backoff (shortened here
    through the actor's options) and the log shows three attempts, then delivered."""
    monkeypatch.setitem(tasks.send_webhook.options, "min_backoff", 20)
    monkeypatch.setitem(tasks.send_webhook.options, "max_backoff", 100)
    path = f"/hook-{next(_paths)}"
    sink.plans[path] = collections.deque([500, 500])
    hook = register(api, hooks, sink.url(path), ["ticket.triage_valid"])
    t = walk(api, upto="triage_valid")
    event = outbox_of(api, t)[-1]
    relay(api, broker)
    run_worker()

    got = sink.to(path)
    assert [r["status"] for r in got] == [500, 500, 200]
    assert len({r["headers"]["x-tousu-delivery"] for r in got}) == 1
    assert len({r["body"] for r in got}) == 1  # the same signed body every time
    log = [d for d in deliveries(api, hook) if d["outbox_id"] == event.id]
    assert len(log) == 1
    assert log[0]["status"] == "delivered" and log[0]["attempts"] >= 3
    assert log[0]["response_code"] == 200 and log[0]["error"] == ""


def test_the_same_event_twice_is_delivered_once(api, broker, sink, hooks, run_worker):
    """Delivery is at least once and the handlers are idempotent: relaying an event again
    (its sent stamp cleared, as after a crash between send and stamp) or sending the actor
    message twice makes no second delivery — one delivery row per (webhook, event)."""
    path = f"/hook-{next(_paths)}"
    hook = register(api, hooks, sink.url(path), ["ticket.register"])
    t = walk(api, upto="register")
    event = outbox_of(api, t)[-1]
    assert event.topic == "ticket.register"
    relay(api, broker)
    run_worker()
    assert len(sink.to(path)) == 1

    async def unsend(db: Database) -> None:
        async with db.cross_tenant() as s:
            await s.execute(
                update(OutboxEvent).where(OutboxEvent.id == event.id).values(sent_at=None)
            )

    run_db(api, unsend)
    assert relay(api, broker)[0].sent >= 1
    tid = tenant_id(api)
    tasks.deliver_outbox.send(event.id, tid)
    tasks.deliver_outbox.send(event.id, tid)
    run_worker()
    assert len(sink.to(path)) == 1
    log = [d for d in deliveries(api, hook) if d["outbox_id"] == event.id]
    assert len(log) == 1 and log[0]["status"] == "delivered" and log[0]["attempts"] == 1

    # Delivering the delivered row directly does not post again either.
    status = run_db(api, lambda db: webhooks.deliver(db, tid, log[0]["id"]))
    assert status == "delivered"
    assert len(sink.to(path)) == 1


def test_concurrent_fan_out_makes_one_delivery_row(api, broker, sink, hooks):
    """Two workers fanning out the same event at once still make one delivery row."""
    path = f"/hook-{next(_paths)}"
    hook = register(api, hooks, sink.url(path), ["ticket.review"])
    t = walk(api, upto="review")
    event = outbox_of(api, t)[-1]
    tid = tenant_id(api)

    async def twice(db: Database) -> list[list[int]]:
        return list(await asyncio.gather(*(webhooks.fan_out(db, tid, event.id) for _ in range(4))))

    pending = run_db(api, twice)
    assert all(len(p) == 1 for p in pending) and len({p[0] for p in pending}) == 1
    assert len([d for d in deliveries(api, hook) if d["outbox_id"] == event.id]) == 1


def test_a_dead_receiver_is_given_up_after_max_attempts(api, sink, hooks):
    """webhooks.deliver called in a loop (what the actor's retries do): each failure is
    logged and raises for a retry; after MAX_ATTEMPTS the delivery is marked failed and
    no further request is made."""
    path = f"/hook-{next(_paths)}"
    sink.plans[path] = collections.deque([503] * 50)
    hook = register(api, hooks, sink.url(path), ["ticket.settle"])
    t = api.create(TENANT, accused_staff=C["staff"], accused_department=C["dept"])
    t = api.act(
        TENANT,
        "clerk",
        t,
        "triage_valid",
        category=C["category"],
        severity=C["severity"],
        facets=C["facets"],
    )
    t = api.act(TENANT, "clerk", t, "settle", explanation="explained on the phone")
    event = outbox_of(api, t)[-1]
    assert event.topic == "ticket.settle"
    tid = tenant_id(api)
    (delivery_id,) = run_db(api, lambda db: webhooks.fan_out(db, tid, event.id))

    outcomes = []
    for _ in range(webhooks.MAX_ATTEMPTS + 2):
        try:
            outcomes.append(run_db(api, lambda db: webhooks.deliver(db, tid, delivery_id)))
        except webhooks.DeliveryFailed as exc:
            outcomes.append(f"retry: {exc}")
    assert outcomes[: webhooks.MAX_ATTEMPTS - 1] == ["retry: HTTP 503"] * (
        webhooks.MAX_ATTEMPTS - 1
    )
    assert outcomes[webhooks.MAX_ATTEMPTS - 1 :] == ["failed"] * 3
    assert len(sink.to(path)) == webhooks.MAX_ATTEMPTS
    (log,) = [d for d in deliveries(api, hook) if d["id"] == delivery_id]
    assert (log["status"], log["attempts"], log["response_code"], log["error"]) == (
        "failed",
        webhooks.MAX_ATTEMPTS,
        503,
        "HTTP 503",
    )
    assert log["delivered_at"] is None
