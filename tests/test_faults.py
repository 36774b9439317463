"""Fault tests in the production shape: PostgreSQL, Redis, a ``tousu scheduler`` and real
``dramatiq core.jobs.worker`` processes, with faults injected under load (issue 9, "Prove
it"): Redis killed during intake, PostgreSQL stopped during intake, a worker killed in the
middle of its deliveries. After recovery every test checks: tickets lost 0, events lost 0,
every delivery made, and every duplicate POST counted and explained.

PostgreSQL and Redis are private instances this module starts on free ports
(:mod:`faultkit`); the machine's shared servers are never touched. The API runs in-process
(it never touches Redis); a client posts complaints with an ``Idempotency-Key`` and, on a
503, sends the same request again — the behaviour the 503's ``Retry-After`` asks for.

Each test prints one ``FAULT-FIGURES {json}`` line (run with ``-s`` to see them); those are
the figures in ``docs/reliability-faults.md``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from conftest import DEMO_KEYS, prepare
from faultkit import (
    PrivatePostgres,
    PrivateRedis,
    Processes,
    Sink,
    private_postgres,
    private_redis,
    wait_for,
)
from litestar.testing import TestClient

from core.app import create_app
from core.settings import load_settings

TENANT = "greenwood"
LEASE = 8.0  # seconds; a POST may take LEASE / 3
SETTINGS = {
    "TOUSU_WEBHOOK_ALLOW_NETS": "127.0.0.1/32",  # the receiver is local
    "TOUSU_WEBHOOK_LEASE_SECONDS": str(LEASE),
    "TOUSU_REAPER_SECONDS": "1",
    "TOUSU_RELAY_SECONDS": "0.3",
    "TOUSU_SWEEP_SECONDS": "3600",
    "TOUSU_REDIS_HEARTBEAT_MS": "5000",
    "TOUSU_REDIS_NAMESPACE": "tousu-faults",
}


@dataclass
class Env:
    pg: PrivatePostgres
    redis: PrivateRedis
    url: str
    client: TestClient[Any]

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {DEMO_KEYS[(TENANT, user)]}"}


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    with private_postgres() as pg, private_redis() as redis:
        url = pg.create_database("faults")
        url = prepare(url) or url  # the app role's URL where the suite has one
        settings = load_settings({"DATABASE_URL": url, "REDIS_URL": redis.url, **SETTINGS})
        with TestClient(create_app(settings)) as client:
            yield Env(pg, redis, url, client)


@pytest.fixture
def procs(env: Env, tmp_path: Any) -> Iterator[Processes]:
    penv = dict(os.environ)
    penv.update(SETTINGS)
    penv.update(
        DATABASE_URL=env.url,
        REDIS_URL=env.redis.url,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    p = Processes(tmp_path, penv)
    try:
        yield p
    finally:
        p.stop_all()


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def hook(env: Env, sink: Sink) -> Iterator[dict[str, Any]]:
    r = env.client.post(
        "/api/webhooks", json={"url": sink.url, "topics": ["ticket.intake"]}, headers=env.headers("admin")
    )
    assert r.status_code == 201, r.text
    made = r.json()
    yield made
    # the next test's events are not for this receiver
    for _ in range(20):
        r = env.client.delete(f"/api/webhooks/{made['id']}", headers=env.headers("admin"))
        if r.status_code in (204, 404):
            break
        time.sleep(0.5)


def sql(env: Env, query: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(env.pg.dsn("faults"))
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


@dataclass
class Intake:
    """What the complaint desk saw: acknowledged tickets and every answer's status."""

    acked: dict[str, int] = field(default_factory=dict)
    """Idempotency-Key → ticket id, for every 201."""
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    retries: int = 0


def intake(
    env: Env, run: str, count: int, fault_at: int, fault: Callable[[], None], pause: float = 0.05
) -> tuple[Intake, threading.Thread]:
    """Post ``count`` complaints one after another; when ``fault_at`` are acknowledged,
    start ``fault`` in a thread (intake goes on meanwhile). A 503 is retried with the same
    key; any other 5xx fails the test."""
    out = Intake()
    injector = threading.Thread(target=fault, name=f"fault-{run}", daemon=True)
    for i in range(count):
        key = f"{run}-{i}"
        body = {
            "channel": "phone",
            "description": f"{run} complaint {i}",
            "complainant": {"name": "王五", "contact": "13700001111"},
        }
        deadline = time.monotonic() + 60
        while True:
            r = env.client.post(
                "/api/tickets", json=body, headers=env.headers("clerk") | {"Idempotency-Key": key}
            )
            out.statuses[r.status_code] += 1
            if r.status_code in (200, 201):
                out.acked[key] = r.json()["id"]
                break
            assert r.status_code == 503, (r.status_code, r.text)
            assert int(r.headers["retry-after"]) > 0
            assert time.monotonic() < deadline, "the API did not recover within 60 s"
            out.retries += 1
            time.sleep(0.25)  # the client's own choice; Retry-After is the upper bound
        if len(out.acked) == fault_at:
            injector.start()
        time.sleep(pause)
    return out, injector


def deliveries(env: Env, hook: dict[str, Any]) -> list[dict[str, Any]]:
    r = env.client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=env.headers("admin"))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def intake_events(env: Env, ticket_ids: set[int]) -> dict[int, int]:
    """outbox id → ticket id of these tickets' intake events."""
    rows = sql(env, "SELECT id, payload FROM outbox WHERE topic = 'ticket.intake'")
    out = {}
    for row in rows:
        payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
        if payload["ticket_id"] in ticket_ids:
            out[int(row["id"])] = int(payload["ticket_id"])
    return out


def all_delivered(env: Env, hook: dict[str, Any], events: set[int]) -> bool:
    rows = deliveries(env, hook)
    return {d["outbox_id"] for d in rows} >= events and all(
        d["status"] == "delivered" for d in rows if d["outbox_id"] in events
    )


def settle(env: Env, hook: dict[str, Any], sink: Sink, acked: Intake, procs: Processes) -> dict[str, Any]:
    """Wait for every delivery, then check nothing was lost; returns the figures, duplicates
    included (a POST of the same delivery id more than once)."""
    tickets = set(acked.acked.values())
    # tickets lost: every acknowledged ticket is there, once per Idempotency-Key
    stored = sql(env, "SELECT id FROM tickets WHERE id = ANY($1::int[])", list(tickets))
    assert {r["id"] for r in stored} == tickets
    events = intake_events(env, tickets)
    assert sorted(events.values()) == sorted(tickets), "a ticket has no intake event"

    started = time.monotonic()
    wait_for(
        lambda: all_delivered(env, hook, set(events)), 120, "every delivery to be made", procs.logs
    )
    settle_seconds = time.monotonic() - started
    time.sleep(LEASE / 2)  # let any straggling duplicate arrive before counting

    rows = {d["id"]: d for d in deliveries(env, hook) if d["outbox_id"] in events}
    assert len(rows) == len(events), "one delivery per event"
    per_delivery = collections.Counter(
        r.delivery for r in sink.requests() if r.delivery in rows
    )
    received_events = {r.event["id"] for r in sink.requests() if r.delivery in rows}
    assert received_events == set(events), f"events never POSTed: {set(events) - received_events}"
    duplicates = {d: n for d, n in per_delivery.items() if n > 1}
    # every duplicate is explained by the log: its delivery was claimed again (attempts
    # counts every POST begun) after a claim whose outcome was never recorded
    for d, n in duplicates.items():
        assert rows[d]["attempts"] >= n, (rows[d], n)
    for d in rows.values():
        assert d["status"] == "delivered" and d["response_code"] == 200, d
    return {
        "tickets_acknowledged": len(tickets),
        "tickets_lost": len(tickets) - len(stored),
        "events": len(events),
        "events_lost": len(set(events) - received_events),
        "deliveries_made": sum(1 for d in rows.values() if d["status"] == "delivered"),
        "posts": sum(per_delivery.values()),
        "duplicate_posts": sum(n - 1 for n in duplicates.values()),
        "duplicated_deliveries": sorted(duplicates),
        "http_statuses": dict(acked.statuses),
        "client_retries_after_503": acked.retries,
        "seconds_to_deliver_all_after_load": round(settle_seconds, 1),
    }


def figures(name: str, data: dict[str, Any]) -> None:
    print(f"\nFAULT-FIGURES {json.dumps({'fault': name, **data}, ensure_ascii=False)}")


# --------------------------------------------------------------------------- the faults


def queued_in_redis(env: Env) -> int:
    """Messages waiting in the private Redis (dramatiq keeps each in ``<queue>.msgs``)."""
    import redis

    ns = SETTINGS["TOUSU_REDIS_NAMESPACE"]
    with contextlib.closing(redis.Redis(port=env.redis.port, socket_timeout=2)) as r:
        return sum(int(r.hlen(f"{ns}:{q}.msgs")) for q in ("default", "default.DQ"))


def test_redis_killed_during_intake(
    env: Env, procs: Processes, sink: Sink, hook: dict[str, Any]
) -> None:
    """Redis is SIGKILLed (nothing on disk: every queued message is gone) a third of the way
    through intake and is back 2 s later. The workers start only after that, so every
    delivery message relayed before the kill dies with Redis — the issue's lost events. The
    API never needed Redis; the relay kept fanning events out to delivery rows; the reaper
    enqueues what the dead Redis lost."""
    procs.scheduler()
    down: dict[str, float] = {}

    def fault() -> None:
        # let the relay enqueue the first events' deliveries (no worker takes them yet)
        deadline = time.monotonic() + 20
        while queued_in_redis(env) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        down["messages_lost_with_redis"] = queued_in_redis(env)
        env.redis.kill()
        down["at"] = time.monotonic()
        time.sleep(2.0)
        env.redis.start()
        down["seconds"] = time.monotonic() - down["at"]

    result, injector = intake(env, "redis", 40, 13, fault)
    injector.join(30)
    assert env.redis.up()
    assert down["messages_lost_with_redis"] > 0, "nothing queued in Redis at the kill\n" + procs.logs()
    assert set(result.statuses) == {201}, result.statuses  # intake never noticed
    procs.worker("worker-a")
    data = settle(env, hook, sink, result, procs)
    assert data["tickets_lost"] == 0 and data["events_lost"] == 0
    data["redis_down_seconds"] = round(down["seconds"], 1)
    data["messages_lost_with_redis"] = int(down["messages_lost_with_redis"])
    figures("redis killed during intake", data)


def test_postgres_stopped_during_intake(
    env: Env, procs: Processes, sink: Sink, hook: dict[str, Any]
) -> None:
    """PostgreSQL is stopped (``pg_ctl stop -m fast``) a third of the way through intake and
    started again 3 s later. The API answers 503 + Retry-After meanwhile (never another
    5xx), the client's retries with the same Idempotency-Key make exactly one ticket each,
    the scheduler and the workers ride it out and deliver everything."""
    procs.scheduler()
    procs.worker("worker-a")
    down: dict[str, float] = {}

    def fault() -> None:
        env.pg.stop()
        down["at"] = time.monotonic()
        time.sleep(3.0)
        env.pg.start()
        down["seconds"] = time.monotonic() - down["at"]

    result, injector = intake(env, "pg", 40, 13, fault)
    injector.join(60)
    assert "seconds" in down, "PostgreSQL was not restarted"
    assert result.statuses[503] > 0, "the outage was not seen by the intake"
    assert set(result.statuses) <= {201, 503}, result.statuses
    # one ticket per key, however many times it was sent
    keys = sql(env, "SELECT count(*) AS n FROM tickets WHERE description LIKE 'pg complaint %'")
    assert keys[0]["n"] == len(result.acked) == 40
    data = settle(env, hook, sink, result, procs)
    assert data["tickets_lost"] == 0 and data["events_lost"] == 0
    data["postgres_down_seconds"] = round(down["seconds"], 1)
    figures("postgres stopped during intake", data)


def test_worker_killed_mid_delivery(
    env: Env, procs: Processes, sink: Sink, hook: dict[str, Any]
) -> None:
    """A worker is SIGKILLed while its POSTs are in flight (the receiver holds each for 2 s).
    Deliveries it POSTed but had not recorded keep their lease until it runs out; then the
    reaper enqueues them and another worker POSTs them again — those, and only those, reach
    the receiver twice, with the same ``X-Tousu-Delivery``."""
    result, _ = intake(env, "kill", 12, -1, lambda: None, pause=0)
    sink.delay = 2.0
    procs.scheduler()
    first = procs.worker("worker-a", threads=4)
    wait_for(lambda: len(sink.requests()) >= 2, 60, "the first POSTs", procs.logs)
    procs.kill(first)
    sink.delay = 0.0
    in_flight = {r.delivery for r in sink.requests()}
    recorded = {d["id"] for d in deliveries(env, hook) if d["status"] == "delivered"}
    cut_off = in_flight - recorded
    assert cut_off, "no POST was in flight at the kill"
    procs.worker("worker-b")
    data = settle(env, hook, sink, result, procs)
    assert data["tickets_lost"] == 0 and data["events_lost"] == 0
    assert set(data["duplicated_deliveries"]) == cut_off, (data, cut_off)
    assert data["duplicate_posts"] == len(cut_off)
    data["posted_but_unrecorded_at_kill"] = len(cut_off)
    figures("worker killed mid-delivery", data)
