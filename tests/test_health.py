"""``/health`` (alive, no I/O) and ``/ready`` (database, migrations at head, Redis)."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from litestar.testing import TestClient
from opskit.procs import free_port, private_redis

from core.app import create_app
from core.health import migration_heads
from core.migrate import alembic_config, upgrade
from core.settings import load_settings


def test_ready_on_both_backends(api):
    r = api.client.get("/ready")
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: body[k] for k in ("status", "checks")} == {
        "status": "ready",
        "checks": {"database": "ok"},
    }
    # the suite's PostgreSQL has no standby: the full report says a failover could lose
    # acknowledged writes (a warning, not a failure); SQLite has no replication to judge
    if api.backend == "postgres":
        assert any("synchronous" in w for w in body["warnings"]), body
    else:
        assert "warnings" not in body
    # the load balancer's check: this host's database only
    host = api.client.get("/ready?scope=host")
    assert host.json() == {"status": "ready", "checks": {"database": "ok"}}
    assert api.client.get("/health").json()["status"] == "ok"


def _client(url: str, **env: str) -> TestClient:
    return TestClient(create_app(load_settings({"DATABASE_URL": url, **env})))


def test_ready_refuses_a_database_behind_the_migrations(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    script = ScriptDirectory.from_config(alembic_config(url))
    (head,) = migration_heads()
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    upgrade(url, previous)
    with _client(url) as client:
        assert client.get("/health").status_code == 200  # alive all the same
        r = client.get("/ready")
        assert r.status_code == 503
        assert r.json()["status"] == "unavailable"
        assert "run `tousu migrate`" in r.json()["checks"]["database"]
    upgrade(url)
    with _client(url) as client:
        assert client.get("/ready").status_code == 200


def test_ready_refuses_an_unreachable_database(tmp_path: Path):
    with _client(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}") as client:
        r = client.get("/ready")
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("failed:")


def test_ready_checks_redis_when_configured(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    with private_redis(tmp_path) as redis_url, _client(url, REDIS_URL=redis_url) as client:
        r = client.get("/ready")
        assert r.status_code == 200, r.text
        assert r.json()["checks"] == {"database": "ok", "redis": "ok"}
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with _client(url, REDIS_URL=dead) as client:
        r = client.get("/ready")
        assert r.status_code == 503
        assert r.json()["checks"]["database"] == "ok"
        assert r.json()["checks"]["redis"].startswith("failed:")
