"""Where one request's time goes: statements sent and a cProfile of the server side.

Run it as ``bench/run-inprocess [create|transition|get|list] [--requests N] [--profile]``.
It creates a private PostgreSQL database (``BENCH_PG``, as ``bench/run``), loads the demo
tenants, and calls the app in this process (plain ASGI calls, no HTTP client, no server),
with Redis (``BENCH_REDIS``) so principals come from the per-process cache as they do in a
deployment. For the case given it prints the statements one request sends (after a warm-up,
so the per-process caches are filled) and its mean time; with ``--profile`` the share of
cProfile's samples by package (SQLAlchemy, Litestar, asyncpg, each ``core/<area>``, the
builtins) and the top functions. BENCHMARKS.md quotes its shares; they are a picture of
where CPU goes, not a throughput figure (``bench/run`` measures that against the bare twin).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
CLERK = b"Bearer gw-clerk-demo-7521564b74"
INTAKE = {
    "channel": "phone", "description": "电梯维修后仍然停运",
    "complainant": {"name": "张三", "contact": "13812345678", "address": "3栋"},
    "accused_department": "engineering", "accused_staff": ["GW-S001"],
}  # fmt: skip
TRIAGE = {"version": 1, "category": "lift", "severity": "minor", "facets": {"nature": "valid"}}


def _sa(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


class App:
    """The app, driven by ASGI calls in this process (lifespan run by hand)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lifespan: asyncio.Queue[dict[str, str]] = asyncio.Queue()

    async def start(self) -> None:
        started = asyncio.Event()

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete":
                started.set()

        await self._lifespan.put({"type": "lifespan.startup"})
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self.app(scope, self._lifespan.get, send))
        await started.wait()

    async def stop(self) -> None:
        await self._lifespan.put({"type": "lifespan.shutdown"})
        await self._task

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        raw = json.dumps(body).encode() if body is not None else b""
        route, _, query = path.partition("?")
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": route, "raw_path": route.encode(),
            "query_string": query.encode(), "root_path": "", "client": ("127.0.0.1", 5000),
            "server": ("bench", 80), "state": {},
            "headers": [(b"host", b"bench"), (b"authorization", CLERK),
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(raw)).encode())],
        }  # fmt: skip
        out: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            out.append(message)

        await self.app(scope, receive, send)
        payload = b"".join(m.get("body", b"") for m in out[1:])
        return out[0]["status"], (json.loads(payload) if payload else None)


async def _case(app: App, case: str, n: int) -> Callable[[int], Awaitable[tuple[int, Any]]]:
    """The request ``case`` as a function of its index (``n`` + warm-up calls possible)."""
    status, first = await app.call("POST", "/api/tickets", INTAKE)
    assert status == 201, first
    if case == "create":
        return lambda i: app.call("POST", "/api/tickets", INTAKE)
    if case == "transition":  # each ticket triaged once
        ids = [(await app.call("POST", "/api/tickets", INTAKE))[1]["id"] for _ in range(n + 11)]
        return lambda i: app.call("POST", f"/api/tickets/{ids[i]}/triage-valid", TRIAGE)
    if case == "get":
        return lambda i: app.call("GET", f"/api/tickets/{first['id']}")
    return lambda i: app.call("GET", "/api/tickets?limit=50")


def _shares(profile: cProfile.Profile, top: int) -> str:
    """cProfile's own time grouped by package, then the top functions."""
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (filename, _, name), (_, _, own, _, _) in stats.items():
        key = "builtins" if filename == "~" else Path(filename).name
        if "site-packages/" in filename:
            key = filename.split("site-packages/", 1)[1].split("/")[0]
        elif "lib/python3" in filename:  # the standard library: its module
            key = filename.split("lib/python3", 1)[1].split("/")[1]
        if str(ROOT / "core") in filename:
            rel = Path(filename).relative_to(ROOT / "core")
            key = f"core/{rel.parts[0]}" if len(rel.parts) > 1 else f"core/{rel.name}"
        by_package[key] += own
        by_function[f"{key}:{name}"] += own
    total = sum(by_package.values()) or 1.0
    lines = [f"{v / total * 100:5.1f} %  {k}" for k, v in by_package.most_common(top)]
    lines.append("--")
    lines += [f"{v / total * 100:5.1f} %  {k}" for k, v in by_function.most_common(top)]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> None:
    import asyncpg
    from sqlalchemy import event

    dbname = f"tousu_inprocess_{os.getpid()}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    url = _sa(f"{PG}/{dbname}")
    try:
        env = {**os.environ, "DATABASE_URL": url, "TOUSU_TENANTS_DIR": str(ROOT / "tenants")}
        subprocess.run([sys.executable, "-m", "core.cli", "tenants", "sync"], cwd=ROOT,  # noqa: ASYNC221
                       env=env, check=True, capture_output=True)  # fmt: skip
        os.environ.update(DATABASE_URL=url, REDIS_URL=f"{REDIS}/14",
                          TOUSU_REDIS_NAMESPACE=dbname)  # fmt: skip
        sys.path.insert(0, str(ROOT))
        from core.app import create_app
        from core.db import Database
        from core.settings import load_settings

        settings = load_settings()
        db = Database(settings.database_url)
        app = App(create_app(settings, db))
        await app.start()
        try:
            one = await _case(app, args.case, args.requests)
            for i in range(10):  # warm-up: plugins loaded, per-process caches filled
                await one(args.requests + i)
            seen: list[str] = []

            def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
                seen.append(" ".join(statement.split())[:110])

            event.listen(db.engine.sync_engine, "before_cursor_execute", count)
            status, _ = await one(args.requests + 10)
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
            print(f"{args.case}: {len(seen)} statements (status {status})")
            for s in seen:
                print(f"  {s}")
            profile = cProfile.Profile() if args.profile else None
            started = time.perf_counter()
            if profile:
                profile.enable()
            for i in range(args.requests):
                await one(i)
            if profile:
                profile.disable()
            took = (time.perf_counter() - started) / args.requests
            print(f"{args.case}: {took * 1000:.2f} ms per request over {args.requests}"
                  + (" (with cProfile on)" if profile else ""))  # fmt: skip
            if profile:
                print(_shares(profile, args.top))
        finally:
            await app.stop()
            await db.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/run-inprocess", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("case", choices=["create", "transition", "get", "list"])
    p.add_argument("--requests", type=int, default=600)
    p.add_argument("--profile", action="store_true", help="cProfile shares by package")
    p.add_argument("--top", type=int, default=15)
    asyncio.run(run(p.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
