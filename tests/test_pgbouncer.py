"""tousu behind pgbouncer in transaction mode (issue 22 §1): 16 concurrent clients creating,
listing and triaging through a served app answer 0 errors, and no list shows another
tenant's ticket (row-level security holds under pooling).

Before the fix every connection was refused (``unsupported startup parameter: jit``) and,
with that ignored, most requests were 500 (asyncpg's prepared statements do not survive
transaction pooling). The servers are private: a PostgreSQL cluster, pgbouncer in front of
it, ``tousu serve`` — all on free ports, stopped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import prepare
from opskit.load import run_clients
from opskit.procs import Server, env_with
from opskit.servers import PgBouncer, Postgres, pgbouncer, postgres

from core.settings import SettingsError, load_settings

CLIENTS = 16
ROUNDS = 12


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Postgres, PgBouncer, str]]:
    with postgres() as pg, pgbouncer(pg, "transaction", pool=6) as bouncer:
        direct = pg.create_database("pooled")
        prepare(direct)  # migrate as the owner, load the demo tenants as the app
        yield pg, bouncer, direct


def _serve(tmp_path: Path, database_url: str, owner_url: str, **extra: str) -> Server:
    env = env_with(
        DATABASE_URL=database_url,
        TOUSU_MIGRATE_DATABASE_URL=owner_url,  # migrations go straight to PostgreSQL
        TOUSU_LOG_LEVEL="warning",
        **extra,
    )
    return Server(tmp_path, env, "pgbouncer").wait()


def test_sixteen_clients_through_pgbouncer_transaction_mode_get_no_error(
    cluster: tuple[Postgres, PgBouncer, str], tmp_path: Path
) -> None:
    pg, bouncer, direct = cluster
    server = _serve(
        tmp_path,
        bouncer.url("pooled", user="tousu_app"),
        direct,
        TOUSU_DB_POOLER="transaction",
        TOUSU_DB_POOL_SIZE="4",
    )
    try:
        tally = run_clients(server.url, CLIENTS, ROUNDS)
    finally:
        server.stop()
    print("through pgbouncer:", dict(tally.statuses))
    assert not tally.errors, tally.errors[:5]
    assert not tally.leaks, tally.leaks[:5]
    total = sum(tally.statuses.values())
    assert tally.statuses[201] == CLIENTS * ROUNDS, tally.statuses
    assert tally.statuses[200] + tally.statuses[201] == total, tally.statuses  # 0 errors
    # every acknowledged ticket is a row, seen by the owner directly
    rows = int(pg.sql("SELECT count(*) FROM tickets", db="pooled"))
    assert rows >= CLIENTS * ROUNDS
    # pgbouncer really pooled: it holds at most its pool's server connections
    assert "unsupported startup parameter" not in bouncer.log_text()


def test_no_pool_of_our_own_behind_the_pooler(
    cluster: tuple[Postgres, PgBouncer, str], tmp_path: Path
) -> None:
    """``TOUSU_DB_POOL_SIZE=0``: a connection per unit of work (NullPool), as SQLAlchemy
    advises behind pgbouncer; still no error."""
    _, bouncer, direct = cluster
    server = _serve(
        tmp_path,
        bouncer.url("pooled", user="tousu_app"),
        direct,
        TOUSU_DB_POOLER="transaction",
        TOUSU_DB_POOL_SIZE="0",
    )
    try:
        tally = run_clients(server.url, 8, 4)
    finally:
        server.stop()
    assert not tally.errors, tally.errors[:5]
    assert tally.statuses[201] == 32, tally.statuses


def test_the_libpq_multi_host_url_is_accepted(
    cluster: tuple[Postgres, PgBouncer, str], tmp_path: Path
) -> None:
    """pg_auto_failover's URL form: the first host is down, the second is the primary."""
    pg, _, direct = cluster
    from opskit.procs import free_port

    dead = free_port()
    url = (
        f"postgres://tousu_app@127.0.0.1:{dead},127.0.0.1:{pg.port}/pooled"
        "?target_session_attrs=read-write"
    )
    settings = load_settings({"DATABASE_URL": url})
    assert settings.database_url == (
        f"postgresql+asyncpg://tousu_app@/pooled?host=127.0.0.1:{dead}"
        f"&host=127.0.0.1:{pg.port}&target_session_attrs=primary"  # what asyncpg checks right
    )
    server = _serve(tmp_path, url, direct)
    try:
        r = httpx.get(f"{server.url}/ready?scope=host", timeout=10)
        assert r.status_code == 200, r.text
        tally = run_clients(server.url, 2, 2)
    finally:
        server.stop()
    assert tally.statuses[201] == 4 and not tally.errors, tally.statuses


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DATABASE_URL", "postgres://u@h1:5432,h2:fivefour/db", "port 'fivefour'"),
        ("DATABASE_URL", "postgresql://u@db:abc/tousu", "not a database URL"),
        ("TOUSU_REPORTS_DATABASE_URL", "postgres://u@r:x/db", "not a database URL"),
        ("TOUSU_MIGRATE_DATABASE_URL", "postgres://u@a:1,b:99999/db", "port '99999'"),
        ("TOUSU_DB_POOLER", "session", "expected one of none, transaction"),
        ("TOUSU_DB_POOL_SIZE", "-1", "from 0 to 1000"),
        ("REDIS_URL", "http://cache:6379", "redis+sentinel://"),
        ("REDIS_URL", "redis+sentinel://:pw@/mymaster", "at least one sentinel"),
        ("TOUSU_BROKER_URL", "kafka://k:9092", "amqp://"),
    ],
)
def test_a_bad_url_or_setting_names_its_variable(variable: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}: "), message
    assert named in message, message
    assert "\n" not in message


def test_tousu_serve_refuses_a_bad_database_url_naming_it(tmp_path: Path) -> None:
    import subprocess

    from opskit.procs import TOUSU

    out = subprocess.run(
        [TOUSU, "migrate"],
        env=env_with(DATABASE_URL="postgres://u@h1:5432,h2:x/db"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr
    assert "DATABASE_URL: port 'x'" in out.stderr + out.stdout
    assert "Traceback" not in out.stderr
