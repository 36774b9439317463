"""The console's page timings beside the API call each page makes (issue 20 §7).

``bench/console_pages.py [--database-url URL] [--tickets N] [--loads 20]``

Without ``--database-url`` it makes a fresh SQLite file with the demo tenants and ``N``
greenwood tickets (default 200) through the API; with one (e.g. the 1M-ticket PostgreSQL
database ``bench/run`` leaves, as its app role) it reads what is there. It logs the demo
manager in through ``/login`` and times, in one run and alternating so both see the same
load, ``--loads`` loads of each page and of the API call behind it, and prints the medians:

- queue ``/`` ↔ ``GET /api/tickets?sort=due&limit=50&offset=0&total=true`` and
  ``/api/departments``;
- ticket page ``/tickets/{id}`` ↔ ``GET /api/tickets/{id}`` and its history, grades,
  deadlines, penalties, appeals, departments and staff (the eight calls the page makes);
- reports ``/reports`` ↔ ``GET /api/reports/stats`` + ``GET /api/reports/kpis`` (the page's
  charts are their own URLs, drawn once per distinct statistics: see ``core/reports/charts``),
  and one chart's second load.

In process (Litestar's TestClient, no network), so a figure is the server's own time.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _median_ms(client: Any, path: str, headers: dict[str, str] | None, loads: int) -> float:
    times = []
    for _ in range(loads):
        t0 = time.perf_counter()
        r = client.get(path, headers=headers or {})
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url")
    p.add_argument("--tickets", type=int, default=200)
    p.add_argument("--loads", type=int, default=20)
    p.add_argument("--period", default=None, help="reports month, YYYY-MM (default: this one)")
    args = p.parse_args(argv)

    from conftest import DEMO_KEYS, prepare  # the tests' own setup: migrate + tenant files
    from litestar.testing import TestClient
    from test_console_auth import login

    from core.app import create_app
    from core.settings import load_settings

    manager_key = DEMO_KEYS[("greenwood", "manager")]
    headers = {"Authorization": f"Bearer {manager_key}"}
    url = args.database_url
    if url is None:
        work = Path(tempfile.mkdtemp(prefix="tousu-bench-"))
        url = prepare(f"sqlite+aiosqlite:///{work}/bench.db")
    app = create_app(load_settings({"DATABASE_URL": url}))
    with TestClient(app) as client:
        if args.database_url is None:
            clerk = {"Authorization": f"Bearer {DEMO_KEYS[('greenwood', 'clerk')]}"}
            for i in range(args.tickets):
                body = {
                    "channel": "phone" if i % 3 else "letter",
                    "complainant": {"name": "张三", "contact": "13812345678"},
                    "description": f"电梯停运 #{i}",
                }
                assert client.post("/api/tickets", json=body, headers=clerk).status_code == 201
        assert login(client, "manager").status_code == 303
        first = client.get("/api/tickets?limit=1", headers=headers).json()["items"][0]["id"]
        period = args.period or ""
        q = f"?period={period}" if period else ""
        cases = [
            (
                "queue",
                "/",
                ["/api/tickets?sort=due&limit=50&offset=0&total=true", "/api/departments"],
            ),
            (
                "ticket page",
                f"/tickets/{first}",
                [
                    f"/api/tickets/{first}",
                    f"/api/tickets/{first}/history",
                    f"/api/tickets/{first}/grades",
                    f"/api/tickets/{first}/deadlines",
                    f"/api/tickets/{first}/penalties",
                    f"/api/tickets/{first}/appeals",
                    "/api/departments",
                    "/api/staff",
                ],
            ),
            ("reports", f"/reports{q}", [f"/api/reports/stats{q}", f"/api/reports/kpis{q}"]),
        ]
        page_html = client.get(f"/reports{q}").text
        chart = re.search(r'src="(/api/reports/charts/[^"]+)"', page_html)
        print(f"| page ({args.loads} loads, median) | page ms | API call(s) ms | ratio |")
        print("|---|---:|---:|---:|")
        for name, page, calls in cases:
            _median_ms(client, page, None, 2)  # warm the per-process caches
            page_ms = _median_ms(client, page, None, args.loads)
            api_ms = sum(_median_ms(client, c, headers, args.loads) for c in calls)
            print(f"| {name} | {page_ms:.0f} | {api_ms:.0f} | {page_ms / api_ms:.1f}× |")
        if chart:
            path = chart.group(1).replace("&amp;", "&")
            t0 = time.perf_counter()
            client.get(path)
            first_ms = (time.perf_counter() - t0) * 1000
            again = _median_ms(client, path, None, args.loads)
            print(f"| one chart (SVG): first draw {first_ms:.0f} ms, then | {again:.0f} | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
