"""Free ports, deadline polling and private servers: the one kit every test uses for them.

A test that needs a port, a Redis of its own or a PostgreSQL cluster of its own takes it
from here, so that parallel workers (pytest-xdist) and other runs on the machine never meet:
ports are the kernel's free ones, data directories are temporary, nothing touches the shared
PostgreSQL (5432) or Redis (6379).

Waits poll against a deadline (:func:`wait_for`, :func:`wait_port`) instead of sleeping a
fixed time: as short as the machine allows, bounded when it is slow.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

PG_BIN = Path(os.environ.get("TOUSU_PG_BIN", "/usr/lib/postgresql/15/bin"))
T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    check: Callable[[], T],
    timeout: float,
    what: str,
    context: Callable[[], str] = lambda: "",
    interval: float = 0.1,
) -> T:
    """Poll ``check`` every ``interval`` seconds until it returns something truthy and
    return that; after ``timeout`` seconds fail the test naming ``what`` (and ``context()``,
    e.g. the logs of the processes involved)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{context()}")
        time.sleep(interval)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
    except OSError:
        return False
    return True


def wait_port(port: int, timeout: float = 10) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    wait_for(lambda: port_open(port), timeout, f"a listener on 127.0.0.1:{port}", interval=0.05)


# --------------------------------------------------------------------------- Redis


class PrivateRedis:
    """``redis-server`` on a free port, nothing kept on disk (``--save ''``, no AOF): a kill
    loses every queued message. ``root``: its directory (a fresh temporary one if None)."""

    def __init__(self, root: Path | None = None) -> None:
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="tousu-redis-")) if root is None else root
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed")
        log = (self.root / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        wait_for(self.up, 20, f"private Redis on port {self.port}")

    def up(self) -> bool:
        import redis

        try:
            with contextlib.closing(
                redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
            ) as r:
                return bool(r.ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL: whatever was queued is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def close(self) -> None:
        self.kill()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_redis(root: Path | None = None) -> Iterator[PrivateRedis]:
    """A started :class:`PrivateRedis`, always stopped at the end."""
    r = PrivateRedis(root)
    try:
        r.start()
        yield r
    finally:
        r.close()


# --------------------------------------------------------------------------- PostgreSQL


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PrivatePostgres:
    """A throw-away cluster: ``initdb`` (trust auth, no fsync) in ``root``, ``pg_ctl``
    start/stop on a free port bound to 127.0.0.1, Unix socket in the same directory."""

    def __init__(self) -> None:
        # its own directory under /tmp: pytest's tmp_path is private to root, and the
        # server runs as ``postgres`` when the tests run as root
        self.root = Path(tempfile.mkdtemp(prefix="tousu-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        if not (PG_BIN / "initdb").exists():
            pytest.fail(f"PostgreSQL server binaries not found in {PG_BIN} (set TOUSU_PG_BIN)")
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                          "--auth=trust", "-E", "UTF8", "--no-sync"]),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._ctl("-o", opts, "-l", str(self.root / "log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: connections are cut, the server is gone until start."""
        self._ctl("-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{db}"

    def dsn(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def psql(self, statement: str, db: str = "postgres") -> None:
        subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", db, "-q", "-v", "ON_ERROR_STOP=1", "-c", statement],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def create_database(self, name: str) -> str:
        """A new database; the app's login role (``TOUSU_APP_ROLE``, which the migrations
        secure the tables for) exists on this cluster too, so the suite's ``prepare`` may
        connect the app as it."""
        role = os.environ.get("TOUSU_APP_ROLE", "tousu_app")
        self.psql(
            f'DO $$ BEGIN CREATE ROLE "{role}" LOGIN NOSUPERUSER; '
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.running():
                self._ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started :class:`PrivatePostgres`, always stopped and removed at the end."""
    pg = PrivatePostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.close()


async def until(
    check: Callable[[], object], seconds: float, what: str, interval: float = 0.05
) -> None:
    """:func:`wait_for` for a coroutine: poll ``check`` without blocking the event loop;
    fail the test naming ``what`` after ``seconds``."""
    import asyncio

    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:.0f}s waiting for {what}")
        await asyncio.sleep(interval)
