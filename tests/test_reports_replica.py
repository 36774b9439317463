"""Reports read the reports database (issue 22 §5): with ``TOUSU_REPORTS_DATABASE_URL``
pointing at a hot standby (``pg_basebackup -R`` of a private primary), every report, export,
chart, the pack-issue record and ``tousu reports pack`` read the standby, with its lag in
``X-Replica-Lag``; intake and decisions stay on the primary.

The proof that reports read the standby: its replay is paused, a complaint is taken on the
primary, and the statistics do not count it until replay resumes — while the ticket list,
read on the primary, shows it at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_KEYS, prepare
from faultkit import wait_for
from litestar.testing import TestClient
from opskit.servers import Postgres, Standby, postgres, standby_of

from core.app import create_app
from core.settings import load_settings

MANAGER = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'manager')]}"}
CLERK = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'clerk')]}"}
BODY = {
    "channel": "phone",
    "description": "电梯停运",
    "complainant": {"name": "李四", "contact": "13900001111"},
}
READS = [
    "/api/reports/stats",
    "/api/reports/kpis",
    "/api/reports/bulletin",
    "/api/reports/bulletin?format=markdown",
    "/api/reports/export/stats.csv",
    "/api/reports/export/tickets.xlsx",
    "/api/reports/export/ledger.csv",
    "/api/reports/charts/trend.png",
    "/api/reports/charts/category.svg",
    "/api/reports/pack-issue",
]


@pytest.fixture(scope="module")
def replica() -> Iterator[tuple[Postgres, Standby, str]]:
    with postgres() as primary:
        owner = primary.create_database("rep")
        prepare(owner)
        with standby_of(primary) as standby:
            yield primary, standby, owner


def _url(server: Postgres) -> str:
    return f"postgresql+asyncpg://tousu_app@127.0.0.1:{server.port}/rep"


@pytest.fixture
def client(replica: tuple[Postgres, Standby, str]) -> Iterator[TestClient[Any]]:
    primary, standby, _ = replica
    settings = load_settings(
        {"DATABASE_URL": _url(primary), "TOUSU_REPORTS_DATABASE_URL": _url(standby)}
    )
    with TestClient(create_app(settings)) as c:
        yield c


def _received(client: TestClient[Any]) -> int:
    r = client.get("/api/reports/stats", headers=MANAGER)
    assert r.status_code == 200, r.text
    return int(r.json()["totals"]["received"])


def test_every_report_reads_the_replica_with_its_lag(client: TestClient[Any]) -> None:
    for path in READS:
        r = client.get(path, headers=MANAGER)
        assert r.status_code == 200, (path, r.text[:300])
        assert float(r.headers["x-replica-lag"]) >= 0, (path, r.headers)
    # intake, the queue and decisions do not say it: they are on the primary
    made = client.post("/api/tickets", json=BODY, headers=CLERK)
    assert made.status_code == 201, made.text
    assert "x-replica-lag" not in made.headers
    assert "x-replica-lag" not in client.get("/api/tickets", headers=CLERK).headers
    ready = client.get("/ready")
    assert ready.json()["checks"]["reports_database"] == "ok", ready.text


def test_reports_lag_behind_while_intake_is_on_the_primary(
    replica: tuple[Postgres, Standby, str], client: TestClient[Any]
) -> None:
    primary, standby, _ = replica
    wait_for(lambda: standby.caught_up(primary), 20, "the standby to catch up")
    before = _received(client)
    standby.sql("SELECT pg_wal_replay_pause()")
    try:
        made = client.post("/api/tickets", json=BODY, headers=CLERK)
        assert made.status_code == 201, made.text
        listed = client.get("/api/tickets", headers=CLERK).json()["items"]
        assert made.json()["id"] in [t["id"] for t in listed]  # the primary has it
        r = client.get("/api/reports/stats", headers=MANAGER)
        assert r.json()["totals"]["received"] == before  # the replica does not yet
        assert float(r.headers["x-replica-lag"]) > 0, r.headers
    finally:
        standby.sql("SELECT pg_wal_replay_resume()")
    wait_for(lambda: _received(client) == before + 1, 20, "the replica to count the ticket")


def test_the_report_pack_reads_the_replica_and_records_its_issue_on_the_primary(
    replica: tuple[Postgres, Standby, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.cli import main

    primary, standby, _ = replica
    monkeypatch.setenv("DATABASE_URL", _url(primary))
    monkeypatch.setenv("TOUSU_REPORTS_DATABASE_URL", _url(standby))
    out = tmp_path / "pack"
    period = primary.sql("SELECT to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')")
    code = main(["reports", "pack", "--tenant", "greenwood", "--period", period, "--out", str(out)])
    assert code == 0
    assert any(p.name.endswith("_stats.csv") for p in out.iterdir())
    issued = primary.sql(f"SELECT count(*) FROM report_issues WHERE period = '{period}'", db="rep")
    assert issued == "1"  # written on the primary (the standby refuses writes)
