"""Background work in the production shape: PostgreSQL, Redis and real dramatiq workers.

Every test here runs the API in-process (it never touches Redis), relays the outbox to a
real Redis broker from the test with :func:`core.tasks.relay.relay_once`, and runs the
actors in real ``dramatiq core.jobs.worker`` subprocesses — the command production uses.
Webhooks land on a local HTTP sink that records every request (and can be told to be slow,
to catch a worker in the middle of a delivery).

Isolation: a fresh PostgreSQL database per test (dropped at the end) and a Redis namespace
per test (``TOUSU_REDIS_NAMESPACE``, its keys deleted at the end), so parallel runs on one
Redis never share queues. PostgreSQL and Redis are required: when either is unreachable the
tests fail with a message saying so, they are never skipped.

No test here stops the machine's Redis: the fault tests (``tests/test_faults.py``) kill and
restart private Redis and PostgreSQL instances of their own.
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
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import dramatiq
import pytest
import redis
from conftest import ROOT, Api, database_url, drop_database, prepare
from litestar.testing import TestClient
from serverkit import wait_for

from core import clock
from core.app import create_app
from core.db import Database
from core.jobs.worker import make_broker
from core.settings import load_settings
from core.tasks.relay import RelayReport, relay_once

REDIS_URL = "redis://127.0.0.1:6379/0"
# This machine's own command to start Redis (nothing kept on disk), used verbatim.
REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
WORKER_CMD = [".venv/bin/dramatiq", "core.jobs.worker", "--processes", "1", "--threads", "2"]
QUEUES = ("default", "default.DQ")
LOCAL = "127.0.0.1/32"  # the operator's allow-list admits the test's receiver
_ns_counter = itertools.count(1)


# --------------------------------------------------------------------------- helpers


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def redis_up() -> bool:
    try:
        with contextlib.closing(redis_client()) as r:
            return bool(r.ping())
    except redis.RedisError:
        return False


def sql(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """Read the database directly (tables the API does not expose, e.g. the outbox)."""

    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


def relay(url: str) -> RelayReport:
    """One pass of the outbox relay against the real Redis broker (the scheduler's job)."""

    async def run() -> RelayReport:
        db = Database(url)
        broker = make_broker(REDIS_URL)  # namespace from TOUSU_REDIS_NAMESPACE
        try:
            return await relay_once(db, broker)
        finally:
            await db.dispose()
            broker.client.close()

    return asyncio.run(run())


def sign(secret: str, body: bytes) -> str:
    """The signature computed independently of core.tasks.webhooks."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


class Sink:
    """A webhook receiver on 127.0.0.1:<free port> that records every request as it arrives
    (before answering), then sleeps ``delay`` seconds and answers 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.delay = 0.0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink._lock:
                    sink.received.append(
                        Received(
                            time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body
                        )
                    )
                    delay = sink.delay
                time.sleep(delay)
                # the caller may be gone (killed worker)
                with contextlib.suppress(OSError):
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def event_counts(self) -> collections.Counter[int]:
        return collections.Counter(r.event["id"] for r in self.requests())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Workers:
    """``dramatiq core.jobs.worker`` subprocesses, each in its own process group so the
    whole group (the dramatiq parent and its worker process) can be stopped or killed."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.env = env
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"worker-{name}.log").open("wb")
        proc = subprocess.Popen(
            WORKER_CMD,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs.append((name, proc))
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker's process group: no shutdown, no requeue, no acks."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            # SIGTERM to the dramatiq parent only: it forwards it to its worker process,
            # which finishes its messages and shuts down (a second SIGTERM would make it
            # kill the worker hard)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):  # anything of the group left over
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for _, proc in self.procs:
            self.stop(proc)

    def logs(self) -> str:
        out = []
        for name, _ in self.procs:
            text = (self.tmp / f"worker-{name}.log").read_text(errors="replace")
            out.append(f"--- worker {name} log (last 3000 chars) ---\n{text[-3000:]}")
        return "\n".join(out)


class Redis:
    """The test's view of its own namespace in Redis."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def pending(self) -> int:
        """Messages not yet acked, on the queue and its delay queue (acked ones leave the
        ``.msgs`` hash)."""
        with contextlib.closing(redis_client()) as r:
            return sum(int(r.hlen(f"{self.ns}:{q}.msgs")) for q in QUEUES)

    def dead_lettered(self) -> int:
        with contextlib.closing(redis_client()) as r:
            return int(r.zcard(f"{self.ns}:default.XQ"))

    def unacked_by_workers(self) -> dict[str, set[bytes]]:
        with contextlib.closing(redis_client()) as r:
            return {k.decode(): set(r.smembers(k)) for k in r.scan_iter(f"{self.ns}:__acks__.*")}

    def drained(self) -> bool:
        return self.pending() == 0


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def namespace(settings_in_force: Any) -> Iterator[Redis]:
    if not redis_up():
        pytest.fail(
            f"Redis is required for tests/test_redis_worker.py and does not answer PING at "
            f"{REDIS_URL}; start it with: {REDIS_START}"
        )
    ns = f"tousu-test-{os.getpid()}-{next(_ns_counter)}"
    settings_in_force(redis_namespace=ns)  # read by make_broker in this process
    yield Redis(ns)
    if redis_up():
        with contextlib.closing(redis_client()) as r:
            keys = list(r.scan_iter(f"{ns}:*"))
            if keys:
                r.delete(*keys)


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    # database_url fails with a clear message when PostgreSQL is unreachable
    url = database_url("postgres", tmp_path, name="redis_worker")
    try:
        prepare(url)
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    app = create_app(
        load_settings(
            {"DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "TOUSU_WEBHOOK_ALLOW_NETS": LOCAL}
        )
    )
    with TestClient(app) as client:
        yield Api(client, "postgres", db_url)


@pytest.fixture
def workers(tmp_path: Path, db_url: str, namespace: Redis) -> Iterator[Workers]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        REDIS_URL=REDIS_URL,
        TOUSU_REDIS_NAMESPACE=namespace.ns,
        TOUSU_WEBHOOK_ALLOW_NETS=LOCAL,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    pool = Workers(tmp_path, env)
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    try:
        yield s
    finally:
        s.close()


def make_webhook(api: Api, sink: Sink) -> dict[str, Any]:
    r = api.post("greenwood", "admin", "/api/webhooks", json={"url": sink.url})
    assert r.status_code == 201, r.text
    hook = r.json()
    assert hook["secret"], hook
    return hook  # type: ignore[no-any-return]


def deliveries(api: Api, hook: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get("greenwood", "admin", f"/api/webhooks/{hook['id']}/deliveries")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def unsent_events(url: str) -> list[asyncpg.Record]:
    return sql(
        url, "SELECT id, topic, payload, sent_at FROM outbox WHERE sent_at IS NULL ORDER BY id"
    )


def intake_events(url: str, ticket_ids: list[int]) -> dict[int, int]:
    """outbox id -> ticket id of the tickets' intake events."""
    rows = sql(url, "SELECT id, payload FROM outbox WHERE topic = 'ticket.intake' ORDER BY id")
    out = {}
    for row in rows:
        payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
        if payload["ticket_id"] in ticket_ids:
            out[row["id"]] = payload["ticket_id"]
    assert sorted(out.values()) == sorted(ticket_ids), (out, ticket_ids)
    return out


def assert_signed(requests: list[Received], hook: dict[str, Any]) -> None:
    for req in requests:
        assert req.headers.get("x-tousu-signature") == sign(hook["secret"], req.body), req.headers
        assert req.headers.get("x-tousu-event") == req.event["topic"]


def all_delivered(api: Api, hook: dict[str, Any], events: set[int]) -> bool:
    rows = deliveries(api, hook)
    return {d["outbox_id"] for d in rows} == events and all(
        d["status"] == "delivered" for d in rows
    )


def assert_delivery_log(api: Api, hook: dict[str, Any], events: set[int]) -> None:
    """One row per (webhook, event), every one delivered, and recorded once (one attempt)."""
    rows = deliveries(api, hook)
    per_event = collections.Counter(d["outbox_id"] for d in rows)
    assert set(per_event) == events, (
        f"missing {events - set(per_event)}, extra {set(per_event) - events}"
    )
    assert all(n == 1 for n in per_event.values()), f"duplicated rows in the log: {per_event}"
    for d in rows:
        assert d["status"] == "delivered", d
        assert d["response_code"] == 200, d
        assert d["delivered_at"] is not None, d
        assert d["attempts"] == 1, f"a delivery was recorded more than once: {d}"
    dup = sql(
        api.url,
        "SELECT webhook_id, outbox_id, count(*) FROM webhook_deliveries "
        "GROUP BY webhook_id, outbox_id HAVING count(*) > 1",
    )
    assert dup == [], dup


# --------------------------------------------------------------------------- tests


def test_actors_run_through_redis_and_deliver_signed_webhooks_once(
    api: Api, sink: Sink, workers: Workers, namespace: Redis
) -> None:
    hook = make_webhook(api, sink)
    tickets = [api.create("greenwood")["id"] for _ in range(3)]
    events = intake_events(api.url, tickets)
    assert {r["id"] for r in unsent_events(api.url)} == set(events)

    report = relay(api.url)
    assert (report.sent, report.enqueued, report.failed, report.error) == (
        len(events),
        len(events),
        0,
        "",
    )
    assert unsent_events(api.url) == []
    assert namespace.pending() == len(events)  # waiting in Redis, no worker yet

    workers.start("a")
    wait_for(
        lambda: all_delivered(api, hook, set(events)) and namespace.drained(),
        30,
        "every delivery to be recorded delivered and the queue drained",
        workers.logs,
    )

    received = sink.requests()
    counts = sink.event_counts()
    assert counts == dict.fromkeys(events, 1), f"each event exactly once, got {counts}"
    assert_signed(received, hook)
    for req in received:
        body = req.event
        assert body["topic"] == "ticket.intake"
        assert body["data"]["ticket_id"] == events[body["id"]]
        assert req.headers["content-type"] == "application/json"
    assert {int(r.headers["x-tousu-delivery"]) for r in received} == {
        d["id"] for d in deliveries(api, hook)
    }
    assert_delivery_log(api, hook, set(events))
    assert namespace.dead_lettered() == 0


def test_sweep_actor_on_redis_breaches_once_and_notifies_once(
    api: Api, workers: Workers, namespace: Redis
) -> None:
    tenant = "riverside-power"
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    try:
        clock.travel_to(past)
        # Pin the dispatch limit to the 1 hour of 002 第十四条 (95598 dispatches within 1 hour)
        # as a tenant setting in force since "then", so the test does not depend on which
        # table the utility plugin ships.
        r = api.client.put(
            "/api/config/deadlines",
            json={"step": "dispatch", "amount": 1, "unit": "hours"},
            headers=api.headers(tenant, "admin"),
        )
        assert r.status_code in (200, 201), r.text
        ticket = api.create(tenant)
    finally:
        clock.reset()

    def dispatch_clock() -> dict[str, Any]:
        r = api.get(tenant, "supervisor", f"/api/tickets/{ticket['id']}/deadlines")
        assert r.status_code == 200, r.text
        clocks = [c for c in r.json() if c["step"] == "dispatch"]
        assert len(clocks) == 1, r.json()
        return clocks[0]  # type: ignore[no-any-return]

    before = dispatch_clock()
    assert before["state"] == "running" and before["breached_at"] is None, before
    assert dt.datetime.fromisoformat(before["due_at"]) < dt.datetime.now(dt.UTC) - dt.timedelta(
        hours=1
    ), before

    broker = make_broker(REDIS_URL)
    try:
        for _ in range(2):  # two sweeps (two schedulers): both run, one breach
            broker.enqueue(
                dramatiq.Message(
                    queue_name="default",
                    actor_name="sweep_deadlines",
                    args=(),
                    kwargs={},
                    options={},
                )
            )
    finally:
        broker.client.close()
    assert namespace.pending() == 2

    workers.start("a")
    wait_for(namespace.drained, 30, "both sweep messages to be processed", workers.logs)
    assert namespace.dead_lettered() == 0, workers.logs()

    after = dispatch_clock()
    assert after["breached_at"] is not None, after
    assert after["overdue"] is True, after

    def breach_notes(username: str) -> list[dict[str, Any]]:
        r = api.get(tenant, username, "/api/notifications")
        assert r.status_code == 200, r.text
        return [
            n
            for n in r.json()
            if n["kind"] == "deadline_breached" and n["ticket_id"] == ticket["id"]
        ]

    assert len(breach_notes("supervisor")) == 1
    assert len(breach_notes("manager")) == 1
    assert breach_notes("clerk") == []
    per_user = sql(
        api.url,
        "SELECT user_id, count(*) FROM notifications WHERE kind = 'deadline_breached' "
        "GROUP BY user_id HAVING count(*) > 1",
    )
    assert per_user == [], per_user
    audits = sql(api.url, "SELECT id FROM audit_events WHERE action = 'deadline_breached'")
    assert len(audits) == 1, audits
    outbox = sql(api.url, "SELECT id FROM outbox WHERE topic = 'deadline.breached'")
    assert len(outbox) == 1, outbox
