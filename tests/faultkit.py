"""The fault tests' kit. Private services (a PostgreSQL cluster and a Redis server of the
test's own, on free ports, that a test may stop, kill and restart) come from
:mod:`serverkit`, re-exported here.

Also: a webhook receiver that records every POST, and ``dramatiq``/``tousu scheduler``
subprocesses (the commands production runs), each in its own process group.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from serverkit import (  # noqa: F401  (the fault tests import these from here)
    PrivatePostgres,
    PrivateRedis,
    free_port,
    private_postgres,
    private_redis,
    wait_for,
)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


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
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs.append((name, proc))
        return proc

    def worker(self, name: str, threads: int = 4) -> subprocess.Popen[bytes]:
        return self.start(
            name,
            [
                str(VENV_BIN / "dramatiq"),
                "core.jobs.worker",
                "--processes",
                "1",
                "--threads",
                str(threads),
            ],
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
