"""Failover without losing what was acknowledged (issue 22 §2, §3, §4).

* A write on a read-only server (a hot standby, a demoted primary) answers 503 with
  ``Retry-After`` — it was a 500 (``ReadOnlySQLTransactionError``) — while reads go on.
* ``/ready`` warns when the primary has no synchronous standby; ``/ready?scope=host``
  (the load balancer's check) does not look at replication.
* A primary with a synchronous standby is killed under intake load and the standby
  promoted: the app, given libpq's multi-host URL with ``target_session_attrs=read-write``,
  finds the new primary by itself; every acknowledged ticket is there, no id was given
  twice, every error meanwhile was a 503, and the background relay resumes.

Private clusters only (``pg_basebackup -R`` of a private primary), all on free ports.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import DEMO_KEYS, prepare
from faultkit import wait_for
from litestar.testing import TestClient
from opskit.load import run_clients
from opskit.procs import Server, env_with
from opskit.servers import Postgres, Standby, postgres, standby_of

from core.app import create_app
from core.settings import load_settings

CLERK = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'clerk')]}"}
BODY = {
    "channel": "phone",
    "description": "电梯停运",
    "complainant": {"name": "李四", "contact": "13900001111"},
}


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Postgres, Standby, str]]:
    """A primary (database ``ha`` migrated and loaded) and its synchronous standby."""
    with postgres() as primary:
        owner = primary.create_database("ha")
        prepare(owner)
        with standby_of(primary, "standby") as standby:
            primary.sql("ALTER SYSTEM SET synchronous_standby_names = 'standby'")
            primary.sql("SELECT pg_reload_conf()")
            wait_for(
                lambda: (
                    primary.sql(
                        "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"
                    )
                    == "1"
                ),
                30,
                "the standby to become synchronous",
            )
            yield primary, standby, owner


def _app_url(server: Postgres, db: str = "ha") -> str:
    return f"postgresql+asyncpg://tousu_app@127.0.0.1:{server.port}/{db}"


def _client(url: str, **env: str) -> TestClient[Any]:
    return TestClient(create_app(load_settings({"DATABASE_URL": url, **env})))


def test_a_write_on_a_hot_standby_is_503_with_retry_after(
    pair: tuple[Postgres, Standby, str],
) -> None:
    primary, standby, _ = pair
    with _client(_app_url(primary)) as client:
        made = client.post("/api/tickets", json=BODY, headers=CLERK)
        assert made.status_code == 201, made.text
    ticket = made.json()
    wait_for(lambda: standby.caught_up(primary), 20, "the standby to replay the ticket")
    with _client(_app_url(standby)) as client:
        listed = client.get("/api/tickets", headers=CLERK)
        assert listed.status_code == 200, listed.text  # reads go on
        assert ticket["id"] in [t["id"] for t in listed.json()["items"]]
        r = client.post("/api/tickets", json=BODY, headers=CLERK)
        assert r.status_code == 503, r.text
        assert int(r.headers["retry-after"]) > 0
        assert r.json()["error"]["code"] == "unavailable"
        # a transition too: the ticket is read, then its change is refused
        t = client.post(
            f"/api/tickets/{ticket['id']}/triage-valid",
            json={"version": ticket["version"], "category": "lift", "severity": "minor",
                  "facets": {"nature": "valid"}},
            headers=CLERK,
        )  # fmt: skip
        assert t.status_code == 503, t.text
        assert int(t.headers["retry-after"]) > 0
        # the balancer's check: this host can read its database; the full report says
        # why writes fail
        assert client.get("/ready?scope=host").status_code == 200
        full = client.get("/ready").json()
        assert any("standby" in w for w in full.get("warnings", [])), full


def test_ready_warns_without_a_synchronous_standby(
    pair: tuple[Postgres, Standby, str], tmp_path: Path
) -> None:
    primary, _, _ = pair
    with _client(_app_url(primary)) as client:
        synced = client.get("/ready")
        assert synced.status_code == 200, synced.text
        assert "warnings" not in synced.json(), synced.json()
    with postgres() as lone:
        owner = lone.create_database("lone")
        prepare(owner)
        with _client(_app_url(lone, "lone")) as client:
            r = client.get("/ready")
            assert r.status_code == 200, r.text  # a warning, not a failure
            (warning,) = r.json()["warnings"]
            assert "synchronous_standby_names is empty" in warning
            host = client.get("/ready?scope=host")
            assert host.status_code == 200
            assert host.json() == {"status": "ready", "checks": {"database": "ok"}}


def test_the_multi_host_url_finds_the_primary_behind_a_standby_listed_first(
    pair: tuple[Postgres, Standby, str],
) -> None:
    """libpq's ``target_session_attrs=read-write`` means "not a standby": asyncpg's own
    read-write check would settle on the standby (its default_transaction_read_only is
    off) and every write would be 503."""
    primary, standby, _ = pair
    url = (
        f"postgres://tousu_app@127.0.0.1:{standby.port},127.0.0.1:{primary.port}/ha"
        "?target_session_attrs=read-write"
    )
    with _client(load_settings({"DATABASE_URL": url}).database_url) as client:
        for _ in range(3):
            r = client.post("/api/tickets", json=BODY, headers=CLERK)
            assert r.status_code == 201, r.text


def test_standby_promoted_under_intake_load_loses_nothing_acknowledged(
    pair: tuple[Postgres, Standby, str], tmp_path: Path
) -> None:
    primary, standby, owner = pair
    url = (
        f"postgres://tousu_app@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/ha"
        "?target_session_attrs=read-write"
    )
    server = Server(
        tmp_path,
        env_with(
            DATABASE_URL=url,
            TOUSU_MIGRATE_DATABASE_URL=owner,
            TOUSU_LOG_LEVEL="warning",
            TOUSU_RELAY_SECONDS="0.5",
        ),
        "failover",
    ).wait()
    before = int(primary.sql("SELECT count(*) FROM tickets", db="ha"))
    stop = threading.Event()
    result: dict[str, Any] = {}

    def load() -> None:
        result["tally"] = run_clients(server.url, 8, 10_000, triage=False, seconds=24, stop=stop)

    loader = threading.Thread(target=load, daemon=True)
    started = time.monotonic()
    loader.start()
    try:
        time.sleep(6)  # intake running on the primary
        primary.crash()  # the primary's machine dies
        killed = time.monotonic()
        time.sleep(1.0)
        standby.promote()
        promoted = time.monotonic()
        loader.join(timeout=60)
        assert not loader.is_alive(), "the load did not end"
        tally = result["tally"]
        # writes came back on the new primary
        wait_for(
            lambda: (
                httpx.post(
                    f"{server.url}/api/tickets", json=BODY, headers=CLERK, timeout=10
                ).status_code
                == 201
            ),
            15,
            "intake on the promoted standby",
            lambda: server.log.read_text()[-3000:],
        )
        # the embedded relay resumes by itself: the outbox drains on the new primary
        wait_for(
            lambda: (
                standby.sql("SELECT count(*) FROM outbox WHERE sent_at IS NULL", db="ha") == "0"
            ),
            20,
            "the outbox relay to resume",
        )
    finally:
        stop.set()
        server.stop()
    acknowledged = set().union(*tally.acknowledged.values())
    after = [t for t in tally.created if t > promoted]
    assert after, "no intake was acknowledged after the promotion"
    recovered = min(after)
    print(
        f"failover: {dict(tally.statuses)}, {len(acknowledged)} acknowledged, "
        f"killed at {killed - started:.1f}s, promoted after {promoted - killed:.1f}s, "
        f"writing again {recovered - promoted:.1f}s after promotion"
    )
    assert tally.fivexx_other_than_503() == 0, tally.errors[:5]
    assert not tally.errors, tally.errors[:5]  # and every 503 had Retry-After
    assert not tally.duplicates, tally.duplicates[:10]
    assert len(acknowledged) > 20
    present = {
        int(x)
        for x in standby.sql("SELECT string_agg(id::text, ',') FROM tickets", db="ha").split(",")
    }
    lost = acknowledged - present
    assert not lost, f"{len(lost)} acknowledged tickets lost: {sorted(lost)[:10]}"
    assert len(present) >= before + len(acknowledged)
