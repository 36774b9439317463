"""No single point in Redis (issue 22 §6, issue 21 §7), on both backends.

A private Redis is killed and started again empty while the app serves:

* the load balancer's check (``/ready?scope=host``) stays 200 — only the full report
  (``/ready``) says Redis is down — so a balancer keeps every host;
* intake goes on;
* a console session made before the outage is still good during it and after Redis comes
  back empty (sessions live in the database; Redis is only their cache);
* a correct console login during the outage works (it was a 500);
* session keys carry ``TOUSU_REDIS_NAMESPACE`` (two deployments on one Redis stay apart).
"""

from __future__ import annotations

import uuid
from typing import Any

import redis
from conftest import DEMO_KEYS, run_db
from faultkit import private_redis, wait_for
from litestar.testing import TestClient
from test_console_auth import login

from core.app import create_app
from core.people.sessions import WebSession
from core.settings import load_settings

CLERK = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'clerk')]}"}
BODY = {
    "channel": "phone",
    "description": "电梯停运",
    "complainant": {"name": "李四", "contact": "13900001111"},
}


def _in_db(api: Any, sid: str) -> bool:
    async def go(db: Any) -> bool:
        async with db.cross_tenant() as s:
            return await s.get(WebSession, sid) is not None

    return bool(run_db(api, go))


def test_redis_killed_and_restarted_empty_takes_no_host_and_no_session(api: Any) -> None:
    namespace = f"ns-{uuid.uuid4().hex[:8]}"
    with private_redis() as server:
        settings = load_settings(
            {"DATABASE_URL": api.url, "REDIS_URL": server.url, "TOUSU_REDIS_NAMESPACE": namespace}
        )
        with TestClient(create_app(settings)) as before, TestClient(create_app(settings)) as during:
            assert login(before, "clerk").status_code == 303
            sid = before.cookies.get("tousu_session")
            assert sid and _in_db(api, sid)  # the database holds the session
            assert before.get("/").status_code == 200
            cached = redis.Redis(port=server.port).keys("*")
            assert cached == [f"{namespace}:sessions:{sid}".encode()] or all(
                k.startswith(f"{namespace}:".encode()) for k in cached
            ), cached  # every key ours, in our namespace
            assert f"{namespace}:sessions:{sid}".encode() in cached

            server.kill()
            assert before.get("/").status_code == 200  # the session holds
            host = before.get("/ready?scope=host")
            assert host.status_code == 200, host.text  # the balancer keeps this host
            full = before.get("/ready")
            assert full.status_code == 503 and full.json()["checks"]["redis"].startswith("failed")
            made = before.post("/api/tickets", json=BODY, headers=CLERK)
            assert made.status_code == 201, made.text  # intake goes on
            r = login(during, "supervisor")  # a correct login with Redis down
            assert r.status_code == 303, r.text
            assert during.get("/").status_code == 200
            assert login(during, "supervisor", "wrong-password").status_code == 401

            server.start()  # back, empty
            wait_for(server.up, 20, "Redis back")
            assert redis.Redis(port=server.port).dbsize() == 0
            assert before.get("/").status_code == 200
            assert during.get("/").status_code == 200
            wait_for(lambda: before.get("/ready").status_code == 200, 20, "/ready again")
            # logging out ends the session everywhere (the table and the cache)
            page = before.get("/")
            assert page.status_code == 200
            import re

            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
            assert token
            out = before.post(
                "/logout", data={"_csrf_token": token.group(1)}, follow_redirects=False
            )
            assert out.status_code == 303
            assert not _in_db(api, sid)
            assert not redis.Redis(port=server.port).exists(f"{namespace}:sessions:{sid}")


def test_two_deployments_on_one_redis_keep_their_sessions_apart(api: Any) -> None:
    with private_redis() as server:
        keys = {}
        for ns in ("east", "west"):
            settings = load_settings(
                {"DATABASE_URL": api.url, "REDIS_URL": server.url, "TOUSU_REDIS_NAMESPACE": ns}
            )
            with TestClient(create_app(settings)) as client:
                assert login(client, "clerk").status_code == 303
                assert client.get("/").status_code == 200
                keys[ns] = client.cookies.get("tousu_session")
        stored = {k.decode() for k in redis.Redis(port=server.port).keys("*:sessions:*")}
        assert stored == {f"east:sessions:{keys['east']}", f"west:sessions:{keys['west']}"}
