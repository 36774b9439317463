"""``/metrics`` shows the counters moving during a walk (issue 14 item 2); workers serve
dramatiq's metrics on TOUSU_WORKER_METRICS_PORT."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from opskit.procs import TOUSU, env_with, free_port, private_redis
from prometheus_client.parser import text_string_to_metric_families

from core import clock
from core.app import create_app
from core.cli import main
from core.migrate import upgrade
from core.settings import load_settings

TENANT = "greenwood"


def scrape(api: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = api.client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: dict[Any, float], name: str, **labels: str) -> float:
    """Sum over every series of ``name`` whose labels include ``labels``."""
    return sum(
        v
        for (n, ls), v in samples.items()
        if n == name and all((k, w) in ls for k, w in labels.items())
    )


def test_a_walk_moves_the_counters(api, monkeypatch, capsys):
    me = api.get(TENANT, "clerk", "/api/me").json()
    before = scrape(api)
    tid = _tenant_id(api, before, me)
    t = api.create(TENANT, accused_staff=["GW-S001"], accused_department="engineering")
    t = api.act(
        TENANT,
        "clerk",
        t,
        "triage_valid",
        category="repair_quality",
        severity="minor",
        facets={"nature": "valid"},
    )
    t = api.act(TENANT, "clerk", t, "register", reason="on_site")
    api.act(
        TENANT,
        "clerk",
        t,
        "triage_valid",
        expect=409,
        category="repair_quality",
        severity="minor",
        facets={"nature": "valid"},
    )  # refused: not counted
    monkeypatch.setenv("DATABASE_URL", api.url)
    clock.travel_to(dt.datetime(2099, 1, 1, 2, tzinfo=dt.UTC))  # --at stays within a day
    assert main(["sweep", "--at", "2099-01-01T10:00+08:00"]) == 0  # every open clock breaches
    capsys.readouterr()
    after = scrape(api)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("tousu_tickets_created_total", tenant=tid) == 1
    assert moved("tousu_transitions_total", tenant=tid, action="triage_valid") == 1
    assert moved("tousu_transitions_total", tenant=tid, action="register") == 1
    assert moved("tousu_clocks_breached_total", tenant=tid) >= 1
    assert moved("tousu_sweep_duration_seconds_count") == 1
    # Request latency by route template (never one series per ticket id).
    assert (
        moved("tousu_http_request_duration_seconds_count", path="/api/tickets", method="POST") == 1
    )
    routes = {dict(ls).get("path") for (n, ls) in after if n.startswith("tousu_http_")}
    assert not any(str(t["id"]) in (r or "") for r in routes), routes
    # Queues read at scrape time: nothing relays in this app, so the outbox has a backlog.
    assert value(after, "tousu_outbox_depth") >= 3
    assert value(after, "tousu_outbox_lag_seconds") >= 0
    assert ("tousu_webhook_failures_total", ()) not in after  # labelled only, by tenant


def _tenant_id(api: Any, samples: Any, me: dict[str, Any]) -> str:
    from conftest import run_db
    from sqlalchemy import select

    from core.people.models import Tenant

    async def go(db: Any) -> int:
        async with db.cross_tenant() as s:
            return int(await s.scalar(select(Tenant.id).where(Tenant.slug == TENANT)))

    return str(run_db(api, go))


def test_metrics_token_is_required_when_set(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    app = create_app(load_settings({"DATABASE_URL": url, "TOUSU_METRICS_TOKEN": "scrape-me"}))
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        r = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert r.status_code == 200 and "tousu_outbox_depth" in r.text


def test_worker_serves_dramatiq_metrics(tmp_path: Path):
    port = free_port()
    with private_redis(tmp_path) as redis_url:
        upgrade(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
        env = env_with(
            DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}",
            REDIS_URL=redis_url,
            TOUSU_REDIS_NAMESPACE="tousu",
            TOUSU_WORKER_METRICS_PORT=str(port),
        )
        log = tmp_path / "worker.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [TOUSU, "worker", "--processes", "1", "--threads", "1"],
                env=env,
                cwd=tmp_path,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
            )
        try:
            _enqueue_sweep(redis_url)  # dramatiq's series appear once a message is handled
            text = ""
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and "dramatiq_" not in text:
                try:
                    text = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
                except httpx.HTTPError:
                    time.sleep(0.3)
                assert proc.poll() is None, log.read_text()
            assert "dramatiq_" in text, log.read_text()
            assert "tousu_sweep_duration_seconds_count" in text  # ours, from worker processes
        finally:
            # SIGTERM to dramatiq's master only (systemd's KillMode=mixed): a group-wide one
            # reaches the worker process twice and hangs it (see tests/test_cli.py).
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
    for line in log.read_text().splitlines():  # the worker logs JSON lines too
        if line.strip():
            assert line.lstrip().startswith("{"), line


def _enqueue_sweep(redis_url: str) -> None:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=redis_url, namespace="tousu")
    broker.declare_queue("default")
    broker.enqueue(
        dramatiq.Message(
            queue_name="default", actor_name="sweep_deadlines", args=(), kwargs={}, options={}
        )
    )
    broker.close()


@pytest.fixture(autouse=True)
def _no_worker_metrics(monkeypatch):
    monkeypatch.delenv("TOUSU_WORKER_METRICS_PORT", raising=False)
