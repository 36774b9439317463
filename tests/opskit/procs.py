"""Real processes for the operations tests: a private Redis, ``tousu serve`` servers.

Every server binds 127.0.0.1 on a free port; Redis is a private ``redis-server`` on a free
port in the test's folder (both from :mod:`serverkit`), so nothing here touches the shared
instances.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import serverkit
from serverkit import free_port, wait_port  # noqa: F401  (the operations tests import them here)

TOUSU = str(Path(sys.executable).with_name("tousu"))


@contextmanager
def private_redis(folder: Path) -> Iterator[str]:
    """A private ``redis-server`` (see :mod:`serverkit`) in ``folder``; yields its URL."""
    with serverkit.private_redis(folder) as server:
        yield server.url


def env_with(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("REDIS_URL", "TOUSU_PORT", "TOUSU_HOST"):
        env.pop(name, None)
    env.update(extra)
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


class Server:
    """``tousu serve --no-sync`` in its own process group, logging to a file."""

    def __init__(self, folder: Path, env: dict[str, str], name: str = "server") -> None:
        self.port = free_port()
        self.log = folder / f"{name}-{self.port}.log"
        with self.log.open("wb") as sink:
            self.proc = subprocess.Popen(
                [TOUSU, "serve", "--no-sync", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=folder,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 90) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not up:\n{self.log.read_text()}")

    def get(self, path: str, token: str | None = None, **kw: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=10, **kw)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
