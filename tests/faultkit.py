"""Private services for the fault tests: a PostgreSQL cluster and a Redis server of the test's
own, on free ports under a temporary directory, that a test may stop, kill and restart —
never the machine's shared PostgreSQL (5432) or Redis (6379), which other runs use.

Also: a webhook receiver that records every POST, and ``dramatiq``/``tousu scheduler``
subprocesses (the commands production runs), each in its own process group.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("TOUSU_PG_BIN", "/usr/lib/postgresql/15/bin"))
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    check: Callable[[], Any], timeout: float, what: str, context: Callable[[], str] = lambda: ""
) -> Any:
    """Poll ``check`` until truthy; on timeout fail naming ``what`` (and ``context()``)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{context()}")
        time.sleep(0.1)


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
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )

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
            [
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                db,
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def create_database(self, name: str) -> str:
        """A new database; the app's login role (``TOUSU_APP_ROLE``, which the migrations
        secure the tables for) exists on this cluster too, so the suite's ``prepare`` may
        connect the app as it."""
        role = os.environ.get("TOUSU_APP_ROLE", "tousu_app")
        self.psql(
            f"DO $$ BEGIN CREATE ROLE \"{role}\" LOGIN NOSUPERUSER; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.running():
                self._ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """``redis-server`` on a free port, nothing kept on disk (``--save ''``, no AOF): a kill
    loses every queued message, as the issue's Redis did."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tousu-redis-"))
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
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
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

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    @property
    def delivery(self) -> int:
        return int(self.headers["x-tousu-delivery"])


class Sink:
    """A webhook receiver on 127.0.0.1:<free port>: records each POST as it arrives, then
    waits ``delay`` seconds and answers 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.delay = 0.0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink._lock:
                    sink.received.append(
                        Received(
                            time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body
                        )
                    )
                    delay = sink.delay
                time.sleep(delay)
                with contextlib.suppress(OSError):  # the caller may be gone (killed worker)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def per_delivery(self) -> collections.Counter[int]:
        return collections.Counter(r.delivery for r in self.requests())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Processes:
    """Background commands (``dramatiq core.jobs.worker``, ``tousu scheduler``), each in its
    own process group so the whole group can be killed; logs kept under ``tmp``."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.env = env
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs.append((name, proc))
        return proc

    def worker(self, name: str, threads: int = 4) -> subprocess.Popen[bytes]:
        return self.start(
            name,
            [str(VENV_BIN / "dramatiq"), "core.jobs.worker", "--processes", "1",
             "--threads", str(threads)],
        )

    def scheduler(self, name: str = "scheduler") -> subprocess.Popen[bytes]:
        return self.start(name, [str(VENV_BIN / "tousu"), "scheduler"])

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process group: no shutdown, no requeue, no acks."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        self.kill(proc)

    def stop_all(self) -> None:
        for _, proc in self.procs:
            self.stop(proc)

    def logs(self) -> str:
        out = []
        for name, _ in self.procs:
            text = (self.tmp / f"{name}.log").read_text(errors="replace")
            out.append(f"--- {name} (last 3000 chars) ---\n{text[-3000:]}")
        return "\n".join(out)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.close()


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    r = PrivateRedis()
    try:
        r.start()
        yield r
    finally:
        r.close()
