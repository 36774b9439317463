"""A revoked key stops working at once in every server process (issue 14 item 6).

Two real ``tousu serve`` processes share one database. With Redis, each caches principals
and a revoke from the CLI (a third process) reaches their caches through pub/sub; without
Redis nothing is cached across requests, so the next request reads the revocation.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from conftest import prepare
from opskit.procs import Server, env_with, private_redis

from core.cli import main


def _new_key(capsys: pytest.CaptureFixture[str], name: str) -> str:
    assert main(["users", "create", name, "--tenant", "greenwood", "--role", "clerk"]) == 0
    assert main(["users", "key", name, "--tenant", "greenwood"]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis", "no-redis"])
def test_revoke_reaches_every_server_at_once(
    with_redis: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db_file = tmp_path / "shared.db"
    url = f"sqlite+aiosqlite:///{db_file}"
    prepare(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    namespace = f"tousu-rev-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TOUSU_REDIS_NAMESPACE", namespace)
    cached_key = _new_key(capsys, "rev-cached")
    key = _new_key(capsys, "rev-cli")

    with private_redis(tmp_path) as redis_url:
        extra = {"REDIS_URL": redis_url} if with_redis else {}
        env = env_with(DATABASE_URL=url, TOUSU_REDIS_NAMESPACE=namespace, **extra)
        servers = [Server(tmp_path, env, f"s{i}") for i in (1, 2)]
        try:
            for server in servers:
                server.wait()
            for server in servers:
                for token in (key, cached_key, key):  # the second call may be a cache hit
                    assert server.get("/api/me", token).status_code == 200

            # Revoked behind the servers' back (no CLI, no message): only a cache serves it.
            with sqlite3.connect(db_file) as conn:
                conn.execute(
                    "UPDATE api_keys SET revoked_at = '2026-01-01 00:00:00' WHERE user_id = "
                    "(SELECT id FROM users WHERE username = 'rev-cached')"
                )
            stale = [s.get("/api/me", cached_key).status_code for s in servers]
            assert stale == ([200, 200] if with_redis else [401, 401])

            if with_redis:
                monkeypatch.setenv("REDIS_URL", redis_url)
            assert main(["users", "revoke", "rev-cli", "--tenant", "greenwood"]) == 0
            assert "revoked 1 key(s)" in capsys.readouterr().out
            for server in servers:
                r = server.get("/api/me", key)
                assert r.status_code == 401, (server.url, r.text)
        finally:
            for server in servers:
                server.stop()
