"""The outbox and webhooks on the embedded broker (no Redis).

Every transition writes an outbox row in its own transaction; the relay fans unsent events
out to durable delivery rows (stamping them sent in the same transaction) and enqueues one
``send_webhook`` message per delivery; a worker claims a delivery with a lease, POSTs it
signed through the pinned egress client and records the outcome; the reaper re-enqueues
deliveries whose message was lost. Tenant admins redeliver, disable, enable and delete.

The broker and the actors are the module globals of :mod:`core.jobs.worker` (a
``StubBroker`` when ``REDIS_URL`` is unset). A test that runs actors starts a
``dramatiq.Worker`` on that broker with the worker module's database and delivery config on
the test's (``core.jobs.worker._db`` / ``_config``), restoring both afterwards. Webhooks
post to a local HTTP sink on 127.0.0.1, which only an app whose operator set
``TOUSU_WEBHOOK_ALLOW_NETS=127.0.0.1/32`` accepts (``wapi``; the plain ``api`` refuses it);
webhooks a test registers are deactivated when it ends, so later tests' events are not
fanned out to a sink that is gone.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dramatiq
import pytest
from conftest import Api, run_db
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.stub import StubBroker
from litestar.testing import TestClient
from serverkit import free_port, until
from sqlalchemy import select, update

from core import clock, egress
from core.app import create_app
from core.audit import AuditEvent
from core.db import Database
from core.egress import EgressPolicy
from core.jobs import worker as tasks
from core.people.models import Tenant
from core.settings import load_settings
from core.tasks import webhooks
from core.tasks.models import OutboxEvent, Webhook, WebhookDelivery
from core.tasks.relay import enqueuer, relay_once
from core.tasks.webhooks import DeliveryConfig

TENANT = "greenwood"
C = {  # tenants/greenwood-property.toml, plugins/property
    "category": "repair_quality",
    "severity": "minor",
    "facets": {"nature": "valid"},
    "dept": "engineering",
    "head": "head-engineering",
    "staff": ["GW-S001"],
}
LOCAL = "127.0.0.1/32"
CONFIG = DeliveryConfig(policy=EgressPolicy.from_text(LOCAL), lease_seconds=30)
_paths = itertools.count(1)


# ---------------------------------------------------------------- helpers


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


def delivery_rows(api: Any, hook: dict[str, Any]) -> list[WebhookDelivery]:
    async def go(db: Database) -> list[WebhookDelivery]:
        async with db.cross_tenant() as s:
            return list(
                await s.scalars(
                    select(WebhookDelivery)
                    .where(WebhookDelivery.webhook_id == hook["id"])
                    .order_by(WebhookDelivery.id)
                )
            )

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


def reap(api: Any, broker: Any, **kw: Any) -> webhooks.ReapReport:
    return run_db(api, lambda db: webhooks.reap(db, enqueuer(broker), CONFIG, **kw))  # type: ignore[no-any-return]


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


@pytest.fixture(scope="module")
def wapi(api: Api) -> Iterator[Api]:
    """The same database behind an app whose operator admits 127.0.0.1 for webhooks."""
    settings = load_settings({"DATABASE_URL": api.url, "TOUSU_WEBHOOK_ALLOW_NETS": LOCAL})
    with TestClient(create_app(settings)) as client:
        yield Api(client, api.backend, api.url)


@pytest.fixture
def broker(api) -> Iterator[StubBroker]:
    """The worker module's embedded broker, with every earlier unsent event relayed and the
    queues emptied, so a test sees only its own messages."""
    b = tasks.broker
    assert isinstance(b, StubBroker), (
        f"core.jobs.worker.broker is {type(b).__name__}: these tests need the embedded "
        "broker (REDIS_URL unset)"
    )
    relay(api, b)
    b.flush_all()
    yield b
    b.flush_all()


class Sink:
    """A local HTTP server recording every POST; per path, a list of statuses to answer in
    turn (then 200), and a delay before answering."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.plans: dict[str, collections.deque[int]] = {}
        self.delay = 0.0
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
                    delay = sink.delay
                time.sleep(delay)
                with contextlib.suppress(OSError):
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
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
    wapi: Any, hooks: list[tuple[str, int]], url: str, topics: list[str], slug: str = TENANT
) -> dict[str, Any]:
    r = wapi.post(slug, "admin", "/api/webhooks", json={"url": url, "topics": topics})
    assert r.status_code == 201, r.text
    hook = r.json()
    hooks.append((slug, hook["id"]))
    return hook  # type: ignore[no-any-return]


def deliveries(api: Any, hook: dict[str, Any], slug: str = TENANT) -> list[dict[str, Any]]:
    r = api.get(slug, "admin", f"/api/webhooks/{hook['id']}/deliveries")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def audits(api: Any, entity: str, key: int) -> list[AuditEvent]:
    async def go(db: Database) -> list[AuditEvent]:
        async with db.cross_tenant() as s:
            return list(
                await s.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.entity == entity, AuditEvent.entity_key == str(key))
                    .order_by(AuditEvent.id)
                )
            )

    return run_db(api, go)  # type: ignore[no-any-return]


@pytest.fixture
def run_worker(api, broker, monkeypatch) -> Iterator[Any]:
    """Start a dramatiq Worker on the embedded broker with the worker module's Database and
    delivery config on the test's; ``run_worker()`` waits until the queues are drained."""
    db = Database(api.url)
    monkeypatch.setattr(tasks, "_db", db)
    monkeypatch.setattr(tasks, "_config", CONFIG)
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


def deliver(api: Any, tid: int, delivery_id: int, config: DeliveryConfig = CONFIG) -> Any:
    return run_db(api, lambda db: webhooks.deliver(db, tid, delivery_id, config))


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
    from core.flow import service

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


def test_relay_fans_out_to_durable_deliveries_then_enqueues(wapi, broker, sink, hooks):
    """An event is stamped sent in the transaction that writes its delivery rows; one
    ``send_webhook`` message per delivery follows; a second pass sends nothing more."""
    hook = register(wapi, hooks, sink.url(f"/hook-{next(_paths)}"), [])
    t = walk(wapi, upto="register")
    mine = outbox_of(wapi, t)
    assert len(mine) == 3 and all(r.sent_at is None for r in mine)
    reports = relay(wapi, broker)
    assert reports[0].sent >= 3 and reports[-1].sent == 0
    assert all(r.sent_at is not None for r in outbox_of(wapi, t))
    rows = delivery_rows(wapi, hook)
    assert sorted(d.outbox_id for d in rows) == [r.id for r in mine]
    assert all(d.status == "pending" and d.queued_at is not None for d in rows)
    tid = tenant_id(wapi)
    messages = [m for m in queued(broker) if m.actor_name == "send_webhook"]
    for d in rows:
        assert [list(m.args) for m in messages].count([d.id, tid]) == 1
    count = len(queued(broker))
    assert relay(wapi, broker)[0].sent == 0
    assert len(queued(broker)) == count


def test_a_broker_outage_loses_no_event(wapi, broker, sink, hooks):
    """Redis down at relay time: the events are fanned out all the same (their deliveries
    are rows), the enqueue failure is reported and the deliveries marked as having no
    message; the reaper enqueues them once the broker answers again."""

    class Down:
        def enqueue(self, message: Any, **kw: Any) -> Any:
            raise ConnectionError("redis is down")

    hook = register(wapi, hooks, sink.url(f"/hook-{next(_paths)}"), ["ticket.triage_valid"])
    t = walk(wapi, upto="triage_valid")
    report = run_db(wapi, lambda db: relay_once(db, Down()))
    assert report.sent >= 2 and report.enqueued == 0 and report.failed == 1
    assert "redis is down" in report.error
    assert all(r.sent_at is not None for r in outbox_of(wapi, t))
    (d,) = delivery_rows(wapi, hook)
    assert d.status == "pending" and d.queued_at is None
    assert queued(broker) == []

    down = run_db(wapi, lambda db: webhooks.reap(db, lambda *_: Down().enqueue(None), CONFIG))
    assert down.enqueued == 0 and down.failed >= 1 and "redis is down" in down.error
    up = reap(wapi, broker)
    assert up.enqueued == 1 and up.error == ""
    assert [list(m.args) for m in queued(broker)] == [[d.id, tenant_id(wapi)]]
    assert reap(wapi, broker).enqueued == 0  # enqueued now: not again before a lease


# ---------------------------------------------------------------- webhooks through the worker


def test_webhook_receives_the_signed_event(wapi, broker, sink, hooks, run_worker):
    """A tenant admin registers a URL (the secret is shown once); the worker fans the event
    out and POSTs it signed ``sha256=HMAC(secret, body)`` with the delivery and event ids a
    receiver dedupes on; the delivery log shows it."""
    path = f"/hook-{next(_paths)}"
    r = wapi.post(TENANT, "manager", "/api/webhooks", json={"url": sink.url(path), "topics": []})
    assert r.status_code == 403, r.text
    hook = register(wapi, hooks, sink.url(path), ["ticket.dispatch"])
    assert hook["secret"] and len(hook["secret"]) >= 32
    listed = wapi.get(TENANT, "admin", "/api/webhooks").json()
    assert [h.get("secret") for h in listed if h["id"] == hook["id"]] == [None]
    other_path = f"/hook-{next(_paths)}"  # another tenant's webhook hears nothing of greenwood
    register(wapi, hooks, sink.url(other_path), [], slug="citybus")

    t = walk(wapi, upto="dispatch")
    event = outbox_of(wapi, t)[-1]
    assert event.topic == "ticket.dispatch"
    relay(wapi, broker)
    run_worker()

    got = sink.to(path)
    assert len(got) == 1, got  # intake, triage... are not among the webhook's topics
    req = got[0]
    expected = (
        "sha256=" + hmac.new(hook["secret"].encode(), req["body"], hashlib.sha256).hexdigest()
    )
    assert hmac.compare_digest(req["headers"]["x-tousu-signature"], expected)
    assert req["headers"]["x-tousu-event"] == "ticket.dispatch"
    assert req["headers"]["x-tousu-event-id"] == str(event.id)
    assert req["headers"]["x-tousu-attempt"] == "1"
    body = json.loads(req["body"])
    assert (body["id"], body["topic"]) == (event.id, "ticket.dispatch")
    assert (body["data"]["ticket_id"], body["data"]["action"], body["data"]["to"]) == (
        t["id"],
        "dispatch",
        "dispatched",
    )
    assert "张三丰" not in req["body"].decode() and "13812345678" not in req["body"].decode()
    assert sink.to(other_path) == []

    log = [d for d in deliveries(wapi, hook) if d["outbox_id"] == event.id]
    assert len(log) == 1
    assert (log[0]["status"], log[0]["attempts"], log[0]["response_code"]) == ("delivered", 1, 200)
    assert log[0]["delivered_at"] is not None
    assert str(log[0]["id"]) == req["headers"]["x-tousu-delivery"]


def test_deliveries_are_signed_the_standard_webhooks_way(
    wapi, broker, sink, hooks, run_worker, monkeypatch
):
    """Issue 18 item 3: the old HMAC covered no timestamp, so a captured delivery could be
    replayed at will. A receiver using the Standard Webhooks verifier accepts the delivery
    and refuses the same bytes replayed ten minutes later, or with a fresher timestamp."""
    import standardwebhooks.webhooks as sw

    from core.tasks.webhooks import standard_secret

    path = f"/hook-{next(_paths)}"
    hook = register(wapi, hooks, sink.url(path), ["ticket.dispatch"])
    walk(wapi, upto="dispatch")
    relay(wapi, broker)
    run_worker()
    (req,) = sink.to(path)
    headers = dict(req["headers"])
    assert headers["webhook-id"] == f"delivery-{headers['x-tousu-delivery']}"
    for secret in (hook["secret"].encode(), standard_secret(hook["secret"])):
        body = sw.Webhook(secret).verify(req["body"], headers)
        assert body["topic"] == "ticket.dispatch"
    assert headers["x-tousu-signature"].startswith("sha256=")  # kept during the transition

    fresher = headers | {"webhook-timestamp": str(int(time.time()) + 1)}
    with pytest.raises(sw.WebhookVerificationError):
        sw.Webhook(hook["secret"].encode()).verify(req["body"], fresher)

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return dt.datetime.now(tz) + dt.timedelta(minutes=10)

    monkeypatch.setattr(sw, "datetime", Later)
    with pytest.raises(sw.WebhookVerificationError, match="too old"):
        sw.Webhook(hook["secret"].encode()).verify(req["body"], headers)


def test_failed_deliveries_are_retried_until_delivered(
    wapi, broker, sink, hooks, run_worker, monkeypatch
):
    """A receiver answering 500 twice then 200: the failure is recorded and the actor sends
    itself again after the backoff (shortened here), three POSTs, then delivered."""
    monkeypatch.setattr(webhooks, "RETRY_BASE_SECONDS", 0.05)
    path = f"/hook-{next(_paths)}"
    sink.plans[path] = collections.deque([500, 500])
    hook = register(wapi, hooks, sink.url(path), ["ticket.triage_valid"])
    t = walk(wapi, upto="triage_valid")
    event = outbox_of(wapi, t)[-1]
    relay(wapi, broker)
    run_worker()

    got = sink.to(path)
    assert [r["status"] for r in got] == [500, 500, 200]
    assert len({r["headers"]["x-tousu-delivery"] for r in got}) == 1
    assert [r["headers"]["x-tousu-attempt"] for r in got] == ["1", "2", "3"]
    assert len({r["body"] for r in got}) == 1  # the same signed body every time
    log = [d for d in deliveries(wapi, hook) if d["outbox_id"] == event.id]
    assert len(log) == 1
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 3
    assert log[0]["response_code"] == 200 and log[0]["error"] == ""


def test_the_same_event_twice_is_delivered_once(wapi, broker, sink, hooks, run_worker):
    """Fanning an event out again, or sending the actors' messages twice, makes no second
    delivery row and no second POST once it is delivered."""
    path = f"/hook-{next(_paths)}"
    hook = register(wapi, hooks, sink.url(path), ["ticket.register"])
    t = walk(wapi, upto="register")
    event = outbox_of(wapi, t)[-1]
    relay(wapi, broker)
    run_worker()
    assert len(sink.to(path)) == 1
    (d,) = [d for d in deliveries(wapi, hook) if d["outbox_id"] == event.id]
    tid = tenant_id(wapi)
    tasks.deliver_outbox.send(event.id, tid)
    tasks.deliver_outbox.send(event.id, tid)
    tasks.send_webhook.send(d["id"], tid)
    tasks.send_webhook.send(d["id"], tid)
    run_worker()
    assert len(sink.to(path)) == 1
    log = [d for d in deliveries(wapi, hook) if d["outbox_id"] == event.id]
    assert len(log) == 1 and log[0]["status"] == "delivered" and log[0]["attempts"] == 1
    assert deliver(wapi, tid, d["id"]).status == "done"
    assert len(sink.to(path)) == 1


def test_concurrent_fan_out_makes_one_delivery_row(wapi, broker, sink, hooks):
    """Several workers fanning out the same event at once still make one delivery row."""
    hook = register(wapi, hooks, sink.url(f"/hook-{next(_paths)}"), ["ticket.review"])
    t = walk(wapi, upto="review")
    event = outbox_of(wapi, t)[-1]
    tid = tenant_id(wapi)

    async def four(db: Database) -> list[list[int]]:
        return list(await asyncio.gather(*(webhooks.fan_out(db, tid, event.id) for _ in range(4))))

    pending = run_db(wapi, four)
    assert all(len(p) == 1 for p in pending) and len({p[0] for p in pending}) == 1
    assert len([d for d in deliveries(wapi, hook) if d["outbox_id"] == event.id]) == 1


def test_a_delivery_in_flight_is_not_posted_again(wapi, broker, sink, hooks):
    """The issue's double POST: a redelivered message runs while the first POST is still in
    flight. The lease makes the second call a no-op — one POST, one attempt."""
    path = f"/hook-{next(_paths)}"
    hook = register(wapi, hooks, sink.url(path), ["ticket.review"])
    t = walk(wapi, upto="review")
    event = outbox_of(wapi, t)[-1]
    tid = tenant_id(wapi)
    (delivery_id,) = run_db(wapi, lambda db: webhooks.fan_out(db, tid, event.id))
    sink.delay = 1.0

    async def both(db: Database) -> list[Any]:
        first = asyncio.create_task(webhooks.deliver(db, tid, delivery_id, CONFIG))
        await until(lambda: sink.to(path), 10, "the first POST")  # in flight: held for 1 s
        second = await webhooks.deliver(db, tid, delivery_id, CONFIG)
        return [await first, second]

    first, second = run_db(wapi, both)
    assert (first.status, second.status) == ("delivered", "leased")
    assert len(sink.to(path)) == 1
    (log,) = [d for d in deliveries(wapi, hook) if d["id"] == delivery_id]
    assert (log["status"], log["attempts"]) == ("delivered", 1)


def test_a_dead_receiver_is_given_up_after_max_attempts(wapi, sink, hooks):
    """Each failure is logged and scheduled with a growing backoff; the delivery is not
    tried before it is due; after MAX_ATTEMPTS it is failed and nothing more is POSTed."""
    path = f"/hook-{next(_paths)}"
    sink.plans[path] = collections.deque([503] * 50)
    hook = register(wapi, hooks, sink.url(path), ["ticket.settle"])
    t = wapi.create(TENANT, accused_staff=C["staff"], accused_department=C["dept"])
    t = wapi.act(
        TENANT,
        "clerk",
        t,
        "triage_valid",
        category=C["category"],
        severity=C["severity"],
        facets=C["facets"],
    )
    t = wapi.act(TENANT, "clerk", t, "settle", explanation="explained on the phone")
    event = outbox_of(wapi, t)[-1]
    tid = tenant_id(wapi)
    (delivery_id,) = run_db(wapi, lambda db: webhooks.fan_out(db, tid, event.id))

    outcomes, waits = [], []
    try:
        for _ in range(webhooks.MAX_ATTEMPTS + 2):
            out = deliver(wapi, tid, delivery_id)
            outcomes.append(out.status)
            if out.retry_in is not None:
                waits.append(out.retry_in)
                assert deliver(wapi, tid, delivery_id).status == "not_due"
                clock.travel_to(clock.now() + dt.timedelta(seconds=out.retry_in + 1))
    finally:
        clock.reset()
    assert outcomes == ["retry"] * (webhooks.MAX_ATTEMPTS - 1) + ["failed", "done", "done"]
    assert all(b > a for a, b in itertools.pairwise(waits))  # exponential
    assert len(sink.to(path)) == webhooks.MAX_ATTEMPTS
    (log,) = [d for d in deliveries(wapi, hook) if d["id"] == delivery_id]
    assert (log["status"], log["attempts"], log["response_code"], log["error"]) == (
        "failed",
        webhooks.MAX_ATTEMPTS,
        503,
        "HTTP 503",
    )
    assert log["delivered_at"] is None


# ---------------------------------------------------------------- the reaper


def test_the_reaper_re_enqueues_lost_messages_only(wapi, broker, sink, hooks):
    """Messages lost after the relay (the broker flushed: Redis killed, the server stopped):
    a lease later the reaper enqueues each pending delivery once more — not earlier, not
    one another worker holds, not one of a disabled webhook, not one delivered."""
    hook = register(wapi, hooks, sink.url(f"/hook-{next(_paths)}"), [])
    off = register(wapi, hooks, sink.url(f"/hook-{next(_paths)}"), [])
    t = walk(wapi, upto="triage_valid")
    relay(wapi, broker)
    broker.flush_all()  # the queued messages are gone
    ids = [d.id for d in delivery_rows(wapi, hook)]
    assert len(ids) == 2
    r = wapi.post(TENANT, "admin", f"/api/webhooks/{off['id']}/disable")
    assert r.status_code == 200 and r.json()["active"] is False

    assert reap(wapi, broker).enqueued == 0  # their messages may still be on their way
    tid = tenant_id(wapi)
    later = clock.now() + CONFIG.lease + dt.timedelta(seconds=1)
    try:
        clock.travel_to(later)

        async def hold(db: Database) -> None:  # another worker is POSTing the first one
            async with db.tenant(tid) as scope:
                await scope.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == ids[0])
                    .values(lease_until=later + dt.timedelta(seconds=30), lease_token="other")
                )

        run_db(wapi, hold)
        report = reap(wapi, broker)
    finally:
        clock.reset()
    assert report.enqueued == 1
    assert [list(m.args) for m in queued(broker)] == [[ids[1], tid]]
    assert outbox_of(wapi, t)[0].sent_at is not None


def test_the_embedded_server_delivers_what_its_last_run_lost(wapi, broker, sink, hooks):
    """The embedded default keeps its queue in memory: a server stopped after relaying loses
    those messages, not the deliveries — the next start's first reap sends them."""
    path = f"/hook-{next(_paths)}"
    hook = register(wapi, hooks, sink.url(path), ["ticket.review"])
    t = walk(wapi, upto="review")
    relay(wapi, broker)
    broker.flush_all()  # the server stopped: its in-memory queue is gone
    (d,) = delivery_rows(wapi, hook)
    assert d.status == "pending" and sink.to(path) == []

    settings = load_settings({"DATABASE_URL": wapi.url, "TOUSU_WEBHOOK_ALLOW_NETS": LOCAL})
    saved = (tasks._db, tasks._config, tasks.settings)
    try:
        with TestClient(create_app(settings, background=True)):
            deadline = time.monotonic() + 30
            while not sink.to(path) and time.monotonic() < deadline:
                time.sleep(0.1)
            while time.monotonic() < deadline:
                if [x["status"] for x in deliveries(wapi, hook)] == ["delivered"]:
                    break
                time.sleep(0.1)
    finally:
        tasks._db, tasks._config, tasks.settings = saved
    got = sink.to(path)
    assert len(got) == 1, got
    assert json.loads(got[0]["body"])["id"] == outbox_of(wapi, t)[-1].id
    assert [x["status"] for x in deliveries(wapi, hook)] == ["delivered"]


# ---------------------------------------------------------------- redeliver, disable, delete


def test_redeliver_disable_enable_and_delete(wapi, broker, sink, hooks, run_worker):
    """Tenant admins only; every change audited; another tenant's webhook is a 404."""
    path = f"/hook-{next(_paths)}"
    hook = register(wapi, hooks, sink.url(path), ["ticket.triage_valid", "ticket.register"])
    base = f"/api/webhooks/{hook['id']}"
    walk(wapi, upto="triage_valid")
    relay(wapi, broker)
    run_worker()
    (d,) = deliveries(wapi, hook)
    assert d["status"] == "delivered" and len(sink.to(path)) == 1

    # redeliver: pending again, the reaper sends it, the receiver sees the same ids
    for who, slug, status in (("manager", TENANT, 403), ("admin", "citybus", 404)):
        r = wapi.post(slug, who, f"{base}/deliveries/{d['id']}/redeliver")
        assert r.status_code == status, r.text
    r = wapi.post(TENANT, "admin", f"{base}/deliveries/999999/redeliver")
    assert r.status_code == 404 and r.json()["error"]["field"] == "delivery_id"
    r = wapi.post(TENANT, "admin", f"{base}/deliveries/{d['id']}/redeliver")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["delivered_at"]) == ("pending", None)
    assert reap(wapi, broker).enqueued == 1
    run_worker()
    got = sink.to(path)
    assert len(got) == 2 and got[0]["headers"]["x-tousu-delivery"] == got[1]["headers"][
        "x-tousu-delivery"
    ]
    (d2,) = deliveries(wapi, hook)
    assert (d2["status"], d2["attempts"]) == ("delivered", 2)
    (a,) = audits(wapi, "webhook_delivery", d["id"])
    assert (a.action, a.payload["previous_status"]) == ("redeliver", "delivered")

    # disable: new events make no delivery; enable: they do again
    assert wapi.post("citybus", "admin", f"{base}/disable").status_code == 404
    assert wapi.post(TENANT, "clerk", f"{base}/disable").status_code == 403
    r = wapi.post(TENANT, "admin", f"{base}/disable")
    assert r.status_code == 200 and r.json()["active"] is False
    t = walk(wapi, upto="register")
    relay(wapi, broker)
    run_worker()
    assert len(deliveries(wapi, hook)) == 1 and len(sink.to(path)) == 2
    r = wapi.post(TENANT, "admin", f"{base}/enable")
    assert r.status_code == 200 and r.json()["active"] is True
    assert [x.action for x in audits(wapi, "webhook", hook["id"])] == ["create", "disable", "enable"]

    # delete: gone from the list, its log 404, audited, nothing more is sent to it
    assert wapi.client.delete(base, headers=wapi.headers("citybus", "admin")).status_code == 404
    assert wapi.client.delete(base, headers=wapi.headers(TENANT, "manager")).status_code == 403
    r = wapi.client.delete(base, headers=wapi.headers(TENANT, "admin"))
    assert r.status_code == 204, r.text
    assert hook["id"] not in [h["id"] for h in wapi.get(TENANT, "admin", "/api/webhooks").json()]
    assert wapi.get(TENANT, "admin", f"{base}/deliveries").status_code == 404
    assert audits(wapi, "webhook", hook["id"])[-1].action == "delete"
    wapi.act(TENANT, "supervisor", t, "review")
    relay(wapi, broker)
    run_worker()
    assert len(sink.to(path)) == 2


def test_redeliver_is_refused_while_a_worker_posts_it(wapi, broker, sink, hooks):
    path = f"/hook-{next(_paths)}"
    hook = register(wapi, hooks, sink.url(path), ["ticket.review"])
    t = walk(wapi, upto="review")
    tid = tenant_id(wapi)
    event_id = outbox_of(wapi, t)[-1].id
    (delivery_id,) = run_db(wapi, lambda db: webhooks.fan_out(db, tid, event_id))
    sink.delay = 1.5
    url = f"/api/webhooks/{hook['id']}/deliveries/{delivery_id}/redeliver"

    async def during(db: Database) -> int:
        task = asyncio.create_task(webhooks.deliver(db, tid, delivery_id, CONFIG))
        await until(lambda: sink.to(path), 10, "the POST")  # in flight: held for 1.5 s
        status = await asyncio.to_thread(lambda: wapi.post(TENANT, "admin", url).status_code)
        await task
        return status

    assert run_db(wapi, during) == 409
    assert len(sink.to(path)) == 1


# ---------------------------------------------------------------- SSRF


INTERNAL = [
    "http://127.0.0.1:8000/api/tenants",
    "http://localhost:8000/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.10:8080/hook",
    "http://100.64.1.1/hook",  # CGNAT
    "http://224.0.0.1/hook",  # multicast
    "http://240.0.0.1/hook",  # reserved
    "http://0.0.0.0:8000/",
    "http://[::1]:8000/",
    "http://[fd12:3456::1]/hook",  # IPv6 ULA
    "http://[fe80::1]/hook",  # IPv6 link-local
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "http://[::ffff:a9fe:a9fe]/hook",  # IPv4-mapped 169.254.169.254
    "http://2130706433/hook",  # decimal 127.0.0.1
    "http://0x7f000001/hook",  # hex
    "http://0177.0.0.1/hook",  # octal
    "http://127.1/hook",  # short form
    "https://127.0.0.1.nip.invalid/hook",  # does not resolve
]


@pytest.mark.parametrize("url", INTERNAL)
def test_webhooks_to_internal_addresses_are_refused(api, url):
    r = api.post(TENANT, "admin", "/api/webhooks", json={"url": url, "topics": []})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    # the field's label, not its code, in the Chinese message (the wire's field stays "url")
    assert err["field"] == "url" and err["message"].startswith("接收地址"), err


def test_the_operator_allow_list_admits_only_its_networks(wapi):
    r = wapi.post(TENANT, "admin", "/api/webhooks", json={"url": "http://127.0.0.1:9/x"})
    assert r.status_code == 201, r.text
    wapi.client.delete(f"/api/webhooks/{r.json()['id']}", headers=wapi.headers(TENANT, "admin"))
    for url in ("http://127.0.0.2/x", "http://10.0.0.1/x", "http://169.254.169.254/x"):
        r = wapi.post(TENANT, "admin", "/api/webhooks", json={"url": url})
        assert r.status_code == 422, (url, r.text)


def test_delivery_checks_the_address_again_and_shows_a_generic_error(wapi, sink, hooks):
    """A webhook admitted by one configuration (the allow-list) is refused at delivery by a
    worker without it: no request leaves, the log says why in general terms. A refused
    connection to an allowed address is logged as a generic failure, never the raw error."""
    path = f"/hook-{next(_paths)}"
    hook = register(wapi, hooks, sink.url(path), ["ticket.intake"])
    closed = free_port()  # a port nobody listens on
    dead = register(wapi, hooks, f"http://127.0.0.1:{closed}/x", ["ticket.intake"])
    t = wapi.create(TENANT)
    tid = tenant_id(wapi)
    event_id = outbox_of(wapi, t)[0].id
    ids = run_db(wapi, lambda db: webhooks.fan_out(db, tid, event_id))
    by_hook = {d.webhook_id: d.id for d in delivery_rows(wapi, hook) + delivery_rows(wapi, dead)}
    assert sorted(ids) == sorted(by_hook.values())

    strict = DeliveryConfig(policy=EgressPolicy(), lease_seconds=30)
    out = deliver(wapi, tid, by_hook[hook["id"]], strict)
    assert out.status == "retry" and sink.to(path) == []
    (log,) = deliveries(wapi, hook)
    assert log["error"].startswith("地址不允许") and "loopback" in log["error"], log

    out = deliver(wapi, tid, by_hook[dead["id"]])
    assert out.status == "retry"
    (log,) = deliveries(wapi, dead)
    assert log["error"] == "连接失败：无法连接到接收方", log
    assert "Errno" not in log["error"] and "refused" not in log["error"].lower()


def test_delivery_connects_to_the_address_it_checked(monkeypatch, sink):
    """DNS is resolved once per connection and the socket goes to that checked address: a
    second answer (DNS rebinding to an internal address) is never asked for. The resolver
    is the outside world here, so it is replaced by one that answers differently each time."""
    answers = [["127.0.0.1"], ["169.254.169.254"]]
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[Any]:
        calls.append(host)
        import ipaddress

        return [ipaddress.ip_address(a) for a in answers[min(len(calls) - 1, 1)]]

    monkeypatch.setattr(egress, "resolve", rebinding)
    policy = EgressPolicy.from_text(LOCAL)
    port = sink.server.server_address[1]

    async def go() -> tuple[int, list[str]]:
        transport = egress.PinnedTransport(policy)
        async with egress.httpx.AsyncClient(transport=transport, trust_env=False) as c:
            r = await c.post(f"http://rebind.example:{port}/pinned", content=b"{}")
        return r.status_code, transport.backend.connected

    status, connected = asyncio.run(go())
    assert status == 200 and connected == ["127.0.0.1"] and calls == ["rebind.example"]
    (req,) = sink.to("/pinned")
    assert req["headers"]["host"] == f"rebind.example:{port}"  # the original Host header

    calls.clear()  # the next connection asks again and is refused on the new answer
    answers[0] = ["169.254.169.254"]
    with pytest.raises(egress.EgressRefused):
        asyncio.run(go())
