"""Private servers for the deployment tests (issue 22): a PostgreSQL primary with its
settings, a hot standby made from it with ``pg_basebackup -R``, pgbouncer in front of
either, Redis Sentinel watching a private Redis, a RabbitMQ vhost of the test's own.

Every server binds 127.0.0.1 on a free port in a folder of its own and is stopped by its
context manager; nothing here touches the machine's shared PostgreSQL, Redis or RabbitMQ
(the vhost is created on the shared RabbitMQ and deleted after).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from serverkit import PG_BIN, PrivatePostgres, PrivateRedis, _as_postgres, free_port, wait_for

FAST = "-c fsync=off -c full_page_writes=off"


def _own_folder(prefix: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    return root


class Postgres(PrivatePostgres):
    """A private cluster started with ``settings`` (``-c name=value``) on top of the fault
    kit's; unlike it, ``synchronous_commit`` is left at its default (on) unless given."""

    def __init__(self, **settings: str) -> None:
        super().__init__()
        self.settings = settings

    def start(self) -> None:
        extra = " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 {FAST} "
            f"-c max_connections=100 {extra}"
        )
        self._ctl("-o", opts, "-l", str(self.root / "log"), "-w", "-t", "60", "start")

    def sql(self, statement: str, db: str = "postgres") -> str:
        """One statement through psql; its first result row, fields separated by '|'."""
        out = subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", db, "-qtA", "-v", "ON_ERROR_STOP=1", "-c", statement],
            check=True, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return out.stdout.strip()

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: the server's machine died (no shutdown checkpoint,
        connections cut); its folder stays."""
        self._ctl("-m", "immediate", "-w", "-t", "60", "stop")

    def log_text(self) -> str:
        path = self.root / "log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


class Standby(Postgres):
    """A hot standby of ``primary`` (``pg_basebackup -R``: streaming, read-only until
    :meth:`promote`). Name it in the primary's ``synchronous_standby_names`` by
    ``application_name`` (default ``standby``)."""

    def __init__(self, primary: Postgres, name: str = "standby", **settings: str) -> None:
        # not PrivatePostgres.__init__: the data directory is a copy, not an initdb
        self.root = _own_folder("tousu-pg-standby-")
        self.data = self.root / "data"
        self.port = free_port()
        self.settings = {"cluster_name": name, **settings}
        subprocess.run(
            _as_postgres([
                str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                "-U", "postgres", "-D", str(self.data), "-R", "-X", "stream",
                "--checkpoint=fast", "--no-sync",
            ]),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def promote(self) -> None:
        self._ctl("-w", "-t", "60", "promote")

    def caught_up(self, primary: Postgres) -> bool:
        lsn = primary.sql("SELECT pg_current_wal_lsn()")
        return self.sql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn") == "t"


@contextlib.contextmanager
def postgres(**settings: str) -> Iterator[Postgres]:
    pg = Postgres(**settings)
    try:
        pg.start()
        yield pg
    finally:
        pg.close()


@contextlib.contextmanager
def standby_of(primary: Postgres, name: str = "standby", **settings: str) -> Iterator[Standby]:
    sb = Standby(primary, name, **settings)
    try:
        sb.start()
        wait_for(lambda: sb.caught_up(primary), 60, "the standby to catch up")
        yield sb
    finally:
        sb.close()


class PgBouncer:
    """Debian's pgbouncer in front of ``pg`` (every database), ``pool_mode`` as given,
    trust auth for ``postgres`` and the app role."""

    def __init__(self, pg: PrivatePostgres, pool_mode: str = "transaction", pool: int = 8):
        self.root = _own_folder("tousu-pgbouncer-")
        self.port = free_port()
        role = os.environ.get("TOUSU_APP_ROLE", "tousu_app")
        (self.root / "users.txt").write_text(f'"postgres" ""\n"{role}" ""\n')
        self.ini = self.root / "pgbouncer.ini"
        self.ini.write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={pg.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.root / 'users.txt'}\n"
            f"pool_mode = {pool_mode}\ndefault_pool_size = {pool}\nmax_client_conn = 500\n"
            f"logfile = {self.root / 'pgbouncer.log'}\npidfile = {self.root / 'pgbouncer.pid'}\n"
            "admin_users = postgres\n"
        )
        for f in self.root.iterdir():
            if os.geteuid() == 0:
                shutil.chown(f, "postgres")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        self.proc = subprocess.Popen(
            _as_postgres([binary, str(self.ini)]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_for(self._listening, 20, f"pgbouncer on port {self.port}", self.log_text)

    def _listening(self) -> bool:
        import socket

        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def url(self, db: str, user: str = "postgres") -> str:
        return f"postgresql+asyncpg://{user}@127.0.0.1:{self.port}/{db}"

    def log_text(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def pgbouncer(
    pg: PrivatePostgres, pool_mode: str = "transaction", pool: int = 8
) -> Iterator[PgBouncer]:
    bouncer = PgBouncer(pg, pool_mode, pool)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.close()


class Sentinel:
    """``redis-sentinel`` watching ``redis`` as service ``name``."""

    def __init__(self, redis: PrivateRedis, name: str = "tousu") -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tousu-sentinel-"))
        self.port = free_port()
        self.name = name
        self.conf = self.root / "sentinel.conf"
        self.conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.root}\n"
            f"sentinel monitor {name} 127.0.0.1 {redis.port} 1\n"
            f"sentinel down-after-milliseconds {name} 1000\n"
            f"sentinel failover-timeout {name} 5000\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
        log = (self.root / "sentinel.log").open("ab")
        self.proc = subprocess.Popen(
            [binary, str(self.conf)], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        wait_for(self._knows_master, 20, f"sentinel on port {self.port}")

    def _knows_master(self) -> bool:
        import redis

        try:
            with contextlib.closing(redis.Redis(port=self.port, socket_timeout=1)) as r:
                return bool(r.sentinel_get_master_addr_by_name(self.name))
        except redis.RedisError:
            return False

    def url(self, db: int | None = None) -> str:
        """``redis+sentinel://127.0.0.1:<port>/<service>[/<db>]`` (the form the ``limits``
        library reads too, without the database)."""
        tail = "" if db is None else f"/{db}"
        return f"redis+sentinel://127.0.0.1:{self.port}/{self.name}{tail}"

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def sentinel(redis: PrivateRedis, name: str = "tousu") -> Iterator[Sentinel]:
    s = Sentinel(redis, name)
    try:
        s.start()
        yield s
    finally:
        s.close()


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=True
    )


@contextlib.contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A vhost of the test's own on the machine's RabbitMQ (guest may use it); deleted after.
    Yields its ``amqp://`` URL."""
    if shutil.which("rabbitmqctl") is None:
        import pytest

        pytest.fail("rabbitmqctl is needed (Debian's rabbitmq-server)")
    vhost = f"tousu-test-{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        for _ in range(3):
            try:
                _rabbitmqctl("delete_vhost", vhost)
                break
            except subprocess.CalledProcessError:
                time.sleep(1)
