"""The broker chosen by setting, and Redis Sentinel URLs (issue 22 §6).

* Jobs go through RabbitMQ (``TOUSU_BROKER_URL=amqp://…``, a vhost of the test's own on
  the machine's RabbitMQ) as through Redis — here Redis behind Sentinel
  (``redis+sentinel://…``): the commands production runs (``tousu scheduler``,
  ``dramatiq core.jobs.worker``) relay the outbox and deliver each signed webhook once.
* ``REDIS_URL=redis+sentinel://…`` serves console sessions (cached under the namespace),
  the readiness check and the cache-invalidation pub/sub.

Servers are private (a redis-server and a redis-sentinel on free ports) or private to the
test (the vhost, deleted after).
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from conftest import ROOT, Api, database_url, drop_database, prepare
from faultkit import private_redis, wait_for
from litestar.testing import TestClient
from opskit.servers import rabbitmq_vhost, sentinel
from test_console_auth import login
from test_redis_worker import (
    LOCAL,
    Sink,
    all_delivered,
    assert_signed,
    intake_events,
    make_webhook,
)

from core.app import create_app
from core.redis_clients import parse_sentinel
from core.settings import load_settings

VENV = ROOT / ".venv" / "bin"


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    url = database_url("postgres", tmp_path, name="brokers")
    try:
        prepare(url)
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    try:
        yield s
    finally:
        s.close()


@contextlib.contextmanager
def broker_url(kind: str) -> Iterator[str]:
    """A broker of the test's own: a RabbitMQ vhost, or a private Redis behind Sentinel."""
    if kind == "rabbitmq":
        with rabbitmq_vhost() as url:
            yield url
    else:
        with private_redis() as server, sentinel(server, "jobs") as watch:
            yield watch.url()


def _spawn(tmp: Path, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = (tmp / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    log.close()
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.mark.parametrize("kind", ["rabbitmq", "redis-sentinel"])
def test_jobs_are_delivered_through_the_chosen_broker(
    kind: str, db_url: str, sink: Sink, tmp_path: Path
) -> None:
    with broker_url(kind) as url:
        app = create_app(load_settings({"DATABASE_URL": db_url, "TOUSU_WEBHOOK_ALLOW_NETS": LOCAL}))
        with TestClient(app) as client:
            api = Api(client, "postgres", db_url)
            hook = make_webhook(api, sink)
            tickets = [api.create("greenwood")["id"] for _ in range(3)]
            events = intake_events(db_url, tickets)
            env = dict(os.environ)
            for name in ("REDIS_URL", "TOUSU_BROKER_URL"):
                env.pop(name, None)
            env.update(
                DATABASE_URL=db_url,
                TOUSU_BROKER_URL=url,
                TOUSU_WEBHOOK_ALLOW_NETS=LOCAL,
                TOUSU_RELAY_SECONDS="0.5",
                NO_PROXY="127.0.0.1,localhost",
                no_proxy="127.0.0.1,localhost",
            )
            procs = [
                _spawn(tmp_path, "scheduler", [str(VENV / "tousu"), "scheduler"], env),
                _spawn(
                    tmp_path,
                    "worker",
                    [
                        str(VENV / "dramatiq"),
                        "core.jobs.worker",
                        "--processes",
                        "1",
                        "--threads",
                        "2",
                    ],
                    env,
                ),
            ]

            def logs() -> str:
                return "\n".join(
                    f"--- {n} ---\n{(tmp_path / f'{n}.log').read_text(errors='replace')[-2500:]}"
                    for n in ("scheduler", "worker")
                )

            try:
                wait_for(
                    lambda: all_delivered(api, hook, set(events)),
                    60,
                    f"every webhook delivered through {kind}",
                    logs,
                )
            finally:
                for proc in procs:
                    _stop(proc)
    counts = collections.Counter(r.event["id"] for r in sink.requests())
    assert counts == dict.fromkeys(events, 1), counts  # each event once
    assert_signed(sink.requests(), hook)


def _throttle_takes_sentinel() -> bool:
    """Whether the throttle (core/people/throttle.py, rewritten on the ``limits`` library
    on another branch) accepts a Sentinel URL yet."""
    from core.people.throttle import Throttle

    try:
        Throttle.for_settings("redis+sentinel://127.0.0.1:1/x")
        return True
    except ValueError:
        return False


@pytest.mark.xfail(
    not _throttle_takes_sentinel(),
    reason="the throttle's own Redis client does not take redis+sentinel:// yet",
    strict=True,
)
def test_sentinel_urls_serve_sessions_readiness_and_pubsub(db_url: str) -> None:
    with private_redis() as server, sentinel(server, "cache") as watch:
        url = watch.url()
        assert parse_sentinel(url).service == "cache"
        settings = load_settings(
            {"DATABASE_URL": db_url, "REDIS_URL": url, "TOUSU_REDIS_NAMESPACE": "sentinel-ns"}
        )
        with TestClient(create_app(settings)) as client:
            ready = client.get("/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["redis"] == "ok"
            assert login(client, "clerk").status_code == 303
            assert client.get("/").status_code == 200
            sid = client.cookies.get("tousu_session")
            direct = redis.Redis(port=server.port)
            assert direct.exists(f"sentinel-ns:sessions:{sid}")  # reached through Sentinel
            # the invalidation listener subscribed through Sentinel
            wait_for(
                lambda: direct.pubsub_numsub("sentinel-ns:auth:forget")[0][1] >= 1,
                10,
                "the invalidation listener to subscribe",
            )
