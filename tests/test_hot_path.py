"""The request hot paths' database round trips, and the per-process caches they rely on.

Issue 10: intake and transitions read per-tenant static data (working calendar, deadline
settings, notification settings, duty roster) from per-process memos (:mod:`core.cache`)
instead of the database, read a ticket's open clocks once per transaction, and number a
ticket in the same statement that bumps the counter (PostgreSQL). The budgets below fail
as soon as a change adds a round trip to these paths; the cross-process test proves a
memo never serves another process's stale settings once Redis carried the change.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
from conftest import Api
from sqlalchemy import event
from test_cli import TOUSU, _wait_for, command_env, free_port, private_redis  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


class Counted:
    """Every statement the app's engine sends while the block runs."""

    def __init__(self, api: Api) -> None:
        self.engine = api.client.app.state.db.engine.sync_engine
        self.seen: list[str] = []

    def _before(self, _c: Any, _cur: Any, statement: str, *_: Any) -> None:
        self.seen.append(" ".join(statement.split()))

    def __enter__(self) -> Counted:
        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)

    def after_auth(self) -> list[str]:
        """The request's own statements: without Redis (this fixture) the principal is read
        in a transaction of its own first (core.people.auth) — that transaction (its
        set_config on PostgreSQL and the read) is not counted; SQLite's BEGIN is not a round
        trip to a server."""
        out = [s for s in self.seen if s != "BEGIN IMMEDIATE"]
        auth = next(i for i, s in enumerate(out) if s.startswith("SELECT users.id"))
        return out[auth + 1 :]


BODY = {
    "channel": "phone",
    "complainant": {"name": "李四", "contact": "13900001111", "address": "5栋"},
    "description": "公交车到站不停",
}


def test_intake_and_a_transition_stay_within_their_round_trips(api: Api) -> None:
    """citybus (transit): no duty room, so the count does not depend on the hour. Warm
    the per-process memos with one intake, then count the next intake and its triage."""
    api.create("citybus", **BODY)
    with Counted(api) as c:
        t = api.create("citybus", **BODY)
    intake = c.after_auth()
    # set_config (PostgreSQL only), ticket, clocks, number (+ counter bump elsewhere),
    # event, outbox — and no read of tenant, calendar, settings or clocks
    assert len(intake) <= (6 if api.backend == "postgres" else 7), intake
    for table in ("tenants", "calendar_days", "deadline_settings", "notification_settings",
                  "step_clocks"):  # fmt: skip
        assert not any(s.startswith(f"SELECT {table}.") for s in intake), (table, intake)
    with Counted(api) as c:
        api.act("citybus", "clerk", t, "triage_valid", category="skip_stop",
                severity="general", facets={"direction": "government", "mode": "phone"})  # fmt: skip
    triage = c.after_auth()
    # set_config (PostgreSQL), the ticket with its people and open clocks (one SELECT), the
    # ticket's conditional UPDATE, the clock writes, event, outbox
    assert len(triage) <= (7 if api.backend == "postgres" else 6), triage
    selects = [s for s in triage if s.startswith("SELECT") and "set_config" not in s]
    assert len(selects) == 1 and "JOIN step_clocks" in selects[0], selects
    assert not any(f"FROM {t}" in s for s in triage for t in ("tenants", "calendar_days")), triage


def test_a_setting_changed_through_one_process_reaches_another_at_once(
    tmp_path: Path, private_redis: str  # noqa: F811
) -> None:
    """Two API processes on one PostgreSQL database and one Redis. Process B reads (and
    caches) the deadline settings with an intake; the tenant admin changes the dispatch
    limit through process A; B's very next intake starts its dispatch clock on the new
    limit — the change travelled through Redis, not through the 30-second expiry."""
    from conftest import database_url, drop_database

    url = database_url("postgres", tmp_path, "memo_two_processes")
    env = command_env(
        DATABASE_URL=url,
        REDIS_URL=private_redis,
        TOUSU_TENANTS_DIR=str(ROOT / "tenants"),
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ports = []
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"{name}.log"
            with log.open("wb") as sink:
                procs.append(subprocess.Popen(
                    [TOUSU, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                    stdout=sink, stderr=sink, start_new_session=True,
                ))  # fmt: skip
            _wait_for(procs[-1], log, "Application startup complete", timeout=120)
            ports.append(port)
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        clerk = {"Authorization": "Bearer gw-clerk-demo-7521564b74"}
        admin = {"Authorization": "Bearer gw-admin-demo-0ee82e3800"}
        body = BODY | {"description": "电梯停运"}
        with httpx.Client(timeout=30) as http:

            def dispatch_clock(base: str) -> dict[str, Any]:
                r = http.post(f"{base}/api/tickets", json=body, headers=clerk)
                assert r.status_code == 201, r.text
                r = http.get(f"{base}/api/tickets/{r.json()['id']}/deadlines", headers=clerk)
                assert r.status_code == 200, r.text
                return next(c for c in r.json() if c["step"] == "dispatch")

            before = dispatch_clock(b)  # B has the settings cached now
            assert before["source"] != "tenant", before
            r = http.put(f"{a}/api/config/deadlines", headers=admin,
                         json={"step": "dispatch", "amount": 777, "unit": "minutes"})  # fmt: skip
            assert r.status_code == 200, r.text
            after = dispatch_clock(b)
            assert after["source"] == "tenant" and "777" in after["limit"], after
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        drop_database(url)


def test_the_sweep_asks_only_plugins_that_price_breaches() -> None:
    """The sweep reads a batch's tickets, owners and amounts for breach penalties only when
    the tenant's plugin answers ``tousu_breach_penalties`` (utility's 十个不准); property and
    transit do not, and a hook a plugin lacks is not reported as implemented."""
    from core.plugins import hooks_for

    assert hooks_for("utility").implements("tousu_breach_penalties")
    assert not hooks_for("property").implements("tousu_breach_penalties")
    assert not hooks_for("transit").implements("tousu_breach_penalties")
    assert hooks_for("property").implements("tousu_taxonomy")
