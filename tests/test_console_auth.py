"""Password login, server-side sessions, CSRF and throttling of failed authentication
(issue 13 item 1, issue 9 item 10), through HTTP on both backends.

Each test builds its own app over the ``api`` fixture's database, so its in-process
throttle counts start at zero and do not lock the shared client out.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from conftest import DEMO_KEYS, TENANTS, run_db
from litestar.testing import TestClient
from sqlalchemy import select

from core import clock
from core.app import create_app
from core.people.sessions import AuthEvent, WebSession
from core.people.throttle import BEARER_IP, LOGIN_USER, LOGIN_USER_IP
from core.settings import load_settings

PASSWORDS = {
    (tf["slug"], u["username"]): u.get("demo_password")
    for tf in (tomllib.loads(p.read_text()) for p in sorted(TENANTS.glob("*.toml")))
    for u in tf.get("users", [])
}
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    app = create_app(load_settings({"DATABASE_URL": api.url}))
    with TestClient(app) as client:
        yield client


def csrf(client: TestClient[Any], path: str = "/login") -> str:
    r = client.get(path)
    m = re.search(r'name="_csrf_token" value="([^"]+)"', r.text)
    assert m, r.text[:500]
    return m.group(1)


def login(
    client: TestClient[Any], username: str, password: str | None = None, tenant: str = "greenwood"
) -> Any:
    return client.post(
        "/login",
        data={
            "_csrf_token": csrf(client),
            "tenant": tenant,
            "username": username,
            "password": password if password is not None else PASSWORDS[(tenant, username)],
        },
        follow_redirects=False,
    )


def events(api: Any, username: str) -> list[str]:
    async def go(db: Any) -> list[str]:
        async with db.cross_tenant() as s:
            rows = await s.scalars(
                select(AuthEvent.action)
                .where(AuthEvent.username == username)
                .order_by(AuthEvent.id)
            )
            return list(rows)

    return run_db(api, go)


def test_demo_passwords_match_the_hashes_in_the_tenant_files() -> None:
    from core.people.passwords import verify

    for path in sorted(TENANTS.glob("*.toml")):
        tf = tomllib.loads(path.read_text())
        user = tf["users"][0]  # one per tenant: argon2 is slow on purpose
        assert verify(user["demo_password"], user["password_hash"]), path


def test_login_sets_an_httponly_samesite_session_stored_server_side(
    api: Any, web: TestClient[Any]
) -> None:
    assert web.get("/", follow_redirects=False).headers["location"] == "/login"
    r = login(web, "supervisor")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("tousu_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    sid = cookie.split(";")[0].split("=", 1)[1]
    assert len(sid) == 64  # a random id: the data stays on the server

    async def stored(db: Any) -> bytes | None:
        async with db.cross_tenant() as s:
            row = await s.get(WebSession, sid)
            return row.value if row else None

    data = run_db(api, stored)
    assert data is not None and b"uid" in data and b"supervisor" not in data
    assert web.get("/").status_code == 200
    me = web.get("/api/me").json()  # the API accepts the session too (GET)
    assert me["username"] == "supervisor" and me["tenant"] == "greenwood"
    # logout ends it: the row is gone and the cookie no longer opens anything
    r = web.post("/logout", data={"_csrf_token": csrf(web, "/")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert run_db(api, stored) is None
    assert web.get("/api/me").status_code == 401
    assert events(api, "supervisor")[-2:] == ["login", "logout"]


def test_login_gives_a_fresh_session_id(web: TestClient[Any]) -> None:
    planted = "a" * 64  # a session id an attacker made the victim's browser carry
    token = csrf(web)
    r = web.post(
        "/login",
        data={"_csrf_token": token, "tenant": "greenwood", "username": "gm",
              "password": PASSWORDS[("greenwood", "gm")]},
        headers={"Cookie": f"tousu_csrf={web.cookies.get('tousu_csrf')}; tousu_session={planted}"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("tousu_session="))
    sid = cookie.split(";")[0].split("=", 1)[1]
    assert sid != planted and len(sid) == 64
    fresh = web.get("/approvals", headers={"Cookie": f"tousu_session={sid}"})
    assert fresh.status_code == 200
    old = web.get(
        "/approvals", headers={"Cookie": f"tousu_session={planted}"}, follow_redirects=False
    )
    assert old.status_code == 303


def test_wrong_password_and_unknown_user_answer_alike_and_are_audited(
    api: Any, web: TestClient[Any]
) -> None:
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    r1 = login(web, "head-security", "wrong-password")
    r2 = login(web, ghost, "wrong-password")
    assert r1.status_code == r2.status_code == 401
    for r in (r1, r2):
        assert "单位、用户名或密码不正确" in r.text
        assert "tousu_session" not in r.headers.get("set-cookie", "")
    assert events(api, "head-security")[-1] == "login_failed"
    assert events(api, ghost) == ["login_failed"]


def test_repeated_failures_lock_the_account_with_retry_after(
    api: Any, web: TestClient[Any]
) -> None:
    user = "head-environment"
    for _ in range(LOGIN_USER_IP.limit):
        assert login(web, user, "wrong-password").status_code == 401
    r = login(web, user)  # even the right password, while locked (from this address)
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= LOGIN_USER_IP.window
    assert "失败次数过多" in r.text
    log = events(api, user)
    assert log.count("locked") == 1 and "login" not in log[-LOGIN_USER_IP.limit - 1 :]
    # another account from the same address is not locked by this one
    assert login(web, "inspector").status_code == 303


def test_unknown_bearer_tokens_are_throttled_per_address(api: Any, web: TestClient[Any]) -> None:
    for _ in range(BEARER_IP.limit):
        bad = {"Authorization": f"Bearer tsu_{uuid.uuid4().hex}"}
        assert web.get("/api/me", headers=bad).status_code == 401
    r = web.get("/api/me", headers=bad)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "throttled"
    assert 0 < int(r.headers["Retry-After"]) <= BEARER_IP.window
    good = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'clerk')]}"}
    # only unknown tokens are refused there: a valid key behind the same address works
    assert web.get("/api/me", headers=good).status_code == 200

    async def throttled(db: Any) -> int:
        async with db.cross_tenant() as s:
            rows = await s.scalars(select(AuthEvent).where(AuthEvent.action == "token_throttled"))
            return len(list(rows))

    assert run_db(api, throttled) >= 1


def test_forms_need_the_csrf_token_and_bearer_calls_do_not(web: TestClient[Any]) -> None:
    assert login(web, "clerk").status_code == 303
    r = web.post("/tickets/new", data={"channel": "phone"}, follow_redirects=False)
    assert r.status_code == 403 and "表单已过期" in r.text
    # the session cookie alone cannot write through the API either (no CSRF header)
    body = {
        "channel": "phone",
        "complainant": {"name": "甲", "contact": "13800000000"},
        "description": "x",
    }
    assert web.post("/api/tickets", json=body).status_code == 403
    token = web.cookies.get("tousu_csrf")
    assert token
    r = web.post("/api/tickets", json=body, headers={"x-csrftoken": token})
    assert r.status_code == 201, r.text
    # a bearer call is judged by its token, with no CSRF token at all
    h = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'manager')]}"}
    r = web.post("/api/tickets", json=body, headers=h)
    assert r.status_code == 201
    created_by = web.get(f"/api/tickets/{r.json()['id']}/history", headers=h).json()[0]["actor"]
    assert created_by == "manager"  # the token, not the clerk's session cookie


def test_idle_sessions_expire(web: TestClient[Any]) -> None:
    assert login(web, "gm").status_code == 303
    assert web.get("/approvals").status_code == 200
    clock.travel_to(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31))
    r = web.get("/approvals", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_throttle_counts_are_kept_apart_by_the_redis_namespace(api: Any) -> None:
    """Issue 21 item 7: two deployments on one Redis shared lockouts; each namespace now
    counts its own (and a cached principal still works from a locked address)."""
    bad = {"Authorization": "Bearer tsu_not-a-real-token"}
    good = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'clerk')]}"}
    one, two = (f"t-{uuid.uuid4().hex[:8]}" for _ in range(2))
    envs = [{"DATABASE_URL": api.url, "REDIS_URL": REDIS_URL, "TOUSU_REDIS_NAMESPACE": ns}
            for ns in (one, two)]  # fmt: skip
    apps = [create_app(load_settings(env)) for env in envs]
    r = redis.Redis.from_url(REDIS_URL)
    try:
        with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
            assert first.get("/api/me", headers=good).status_code == 200  # now cached
            for _ in range(BEARER_IP.limit):
                bad = {"Authorization": f"Bearer tsu_{uuid.uuid4().hex}"}
                assert first.get("/api/me", headers=bad).status_code == 401
            assert first.get("/api/me", headers=bad).status_code == 429
            assert first.get("/api/me", headers=good).status_code == 200
            assert second.get("/api/me", headers=bad).status_code == 401  # its own count
            assert r.keys(f"{one}:throttle:bearer-ip/*") and r.keys(f"{two}:throttle:bearer-ip/*")
            assert not r.keys("tousu:throttle:bearer-ip/testclient*")
    finally:
        for ns in (one, two):
            for key in r.keys(f"{ns}:throttle:*"):
                r.delete(key)


def test_sessions_and_throttle_counts_live_in_redis_when_configured(api: Any) -> None:
    """Throttle counts live in Redis; a session lives in the database, Redis caching it
    (issue 22: sessions survive a Redis restart; tests/test_redis_outage.py)."""
    app = create_app(load_settings({"DATABASE_URL": api.url, "REDIS_URL": REDIS_URL}))
    r = redis.Redis.from_url(REDIS_URL)
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    with TestClient(app) as client:
        assert login(client, ghost, "wrong-password").status_code == 401
        assert r.get(f"tousu:throttle:{LOGIN_USER.item.key_for('greenwood', ghost)}") == b"1"
        assert login(client, "clerk").status_code == 303
        sid = client.cookies.get("tousu_session")
        assert client.get("/").status_code == 200
        assert sid and r.exists(f"tousu:sessions:{sid}") == 1

        async def in_db(db: Any) -> bool:
            async with db.cross_tenant() as s:
                return await s.get(WebSession, sid) is not None

        assert run_db(api, in_db) is True
    for key in r.keys(f"tousu:throttle:*{ghost}*"):
        r.delete(key)


def test_users_passwd_sets_a_password_that_logs_in_and_ends_sessions(
    api: Any,
    web: TestClient[Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    from core.cli import main

    assert login(web, "head-security").status_code == 303
    assert web.get("/").status_code == 200
    monkeypatch.setenv("DATABASE_URL", api.url)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        main(["users", "passwd", "head-security", "--tenant", "greenwood", "--password-stdin"]) == 2
    )
    assert "8" in capsys.readouterr().err  # the length rule, named
    monkeypatch.setattr("sys.stdin", io.StringIO("a-new-passphrase\n"))
    assert (
        main(["users", "passwd", "head-security", "--tenant", "greenwood", "--password-stdin"]) == 0
    )
    assert web.get("/", follow_redirects=False).status_code == 303  # the old session ended
    assert login(web, "head-security").status_code == 401  # the demo password no longer works
    assert login(web, "head-security", "a-new-passphrase").status_code == 303
    assert "password_changed" in events(api, "head-security")


def test_bearer_calls_keep_working_while_the_throttle_redis_is_down(
    api: Any, tmp_path: Any
) -> None:
    """A private Redis is stopped: the API still answers, and the throttle keeps counting
    in the process (issue 21 item 7: it used to stop counting)."""
    from serverkit import private_redis

    with private_redis(tmp_path) as server:
        url = server.url
        app = create_app(load_settings({"DATABASE_URL": api.url, "REDIS_URL": url}))
        good = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'clerk')]}"}
        with TestClient(app) as client:
            assert (
                client.get("/api/me", headers={"Authorization": "Bearer tsu_nope"}).status_code
                == 401
            )
            key = f"tousu:throttle:{BEARER_IP.item.key_for('testclient')}"
            assert redis.Redis.from_url(url).get(key) == b"1"
            server.stop()
            assert client.get("/api/me", headers=good).status_code == 200
            codes = [
                client.get("/api/me", headers={"Authorization": f"Bearer tsu_{i}x"}).status_code
                for i in range(BEARER_IP.limit + 1)
            ]
            assert codes[: BEARER_IP.limit] == [401] * BEARER_IP.limit  # counted in memory
            assert codes[-1] == 429
            assert client.get("/api/me", headers=good).status_code == 200
            # a wrong password is counted too, not a 500
            assert login(client, "clerk", "wrong-password").status_code == 401


def test_expired_sessions_are_swept_at_the_next_login(api: Any, web: TestClient[Any]) -> None:
    assert login(web, "supervisor").status_code == 303
    sid = web.cookies.get("tousu_session")

    async def exists(db: Any) -> bool:
        async with db.cross_tenant() as s:
            return await s.get(WebSession, sid) is not None

    assert run_db(api, exists)
    clock.travel_to(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    web.cookies.clear()
    assert login(web, "gm").status_code == 303
    assert not run_db(api, exists)
