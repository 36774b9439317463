"""The embedded default (SQLite) never fails a write under concurrency (issue 10): many
intakes at once through HTTP all succeed, with consecutive ticket numbers. Write
transactions begin IMMEDIATE (they take SQLite's write lock before their first read, so none
has to upgrade a read snapshot that another writer has moved on), and wait their turn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import DEMO_KEYS, prepare
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.settings import load_settings

INTAKES = 32


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite-writes') / 'w.db'}"
    prepare(url)
    return url


def test_concurrent_intakes_on_sqlite_all_succeed_with_consecutive_numbers(
    sqlite_url: str,
) -> None:
    headers = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'clerk')]}"}
    reader = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'manager')]}"}

    async def go() -> tuple[list[Any], list[Any]]:
        app = create_app(load_settings({"DATABASE_URL": sqlite_url}))
        async with AsyncTestClient(app) as client:

            async def intake(i: int) -> Any:
                return await client.post(
                    "/api/tickets",
                    headers=headers | ({"Idempotency-Key": f"k-{i}"} if i % 2 else {}),
                    json={"channel": "phone", "description": f"并发受理 {i}",
                          "complainant": {"name": "张三", "contact": "13812345678"},
                          "accused_department": "engineering",
                          "accused_staff": ["GW-S001"]},
                )  # fmt: skip

            async def read(i: int) -> Any:
                return await client.get("/api/tickets?limit=5", headers=reader)

            jobs = [intake(i) for i in range(INTAKES)] + [read(i) for i in range(8)]
            done = await asyncio.gather(*jobs)
            return done[:INTAKES], done[INTAKES:]

    writes, reads = asyncio.run(go())
    assert [r.status_code for r in writes] == [201] * INTAKES, [
        r.text for r in writes if r.status_code != 201
    ]
    assert [r.status_code for r in reads] == [200] * len(reads)
    numbers = sorted(int(r.json()["number"].rsplit("-", 1)[1]) for r in writes)
    assert numbers == list(range(numbers[0], numbers[0] + INTAKES)), numbers


def test_sqlite_database_file_is_wal_with_a_patient_busy_timeout(sqlite_url: str) -> None:
    from sqlalchemy import text

    from core.db import Database

    async def go() -> tuple[str, int]:
        db = Database(sqlite_url)
        try:
            async with db.engine.connect() as conn:
                mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
                busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
                return str(mode), int(busy)
        finally:
            await db.dispose()

    mode, busy = asyncio.run(go())
    assert mode == "wal" and busy >= 30_000
