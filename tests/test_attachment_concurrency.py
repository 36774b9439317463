"""Reading or attaching does not conflict with itself (issue 21 item 5).

Found by attack: 24 parallel uploads to one ticket → 19 × 409; 12 parallel downloads of one
file → 7 × 409 (a GET that sent no version). A real ``tousu serve`` process on each backend,
requests from 24 threads at once: every upload is a 201, every download a 200, and the
ticket's history holds each of them once, numbered without a gap.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import DEMO_KEYS, database_url, drop_database, prepare
from opskit.procs import Server, env_with
from PIL import Image

T = "greenwood"


def _jpeg(i: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (i * 9 % 256, 40, 90)).save(out, format="JPEG")
    return out.getvalue()


def _h(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_KEYS[(T, user)]}"}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_parallel_uploads_and_downloads_never_conflict(backend: str, tmp_path: Path) -> None:
    url = database_url(backend, tmp_path, "attach_race")
    app_db = prepare(url)
    env = env_with(DATABASE_URL=app_db, TOUSU_STORAGE_URL=str(tmp_path / "store"))
    server = Server(tmp_path, env, "race")
    try:
        server.wait()
        base = server.url
        with httpx.Client(base_url=base, timeout=30) as c:
            r = c.post("/api/tickets", headers=_h("clerk"), json={
                "channel": "phone", "description": "楼道漏水",
                "complainant": {"name": "张三丰", "contact": "13812345678"},
            })  # fmt: skip
            assert r.status_code == 201, r.text
            ticket = r.json()
        tid = ticket["id"]
        gate = threading.Barrier(24, timeout=30)

        def up(i: int) -> int:
            with httpx.Client(base_url=base, timeout=60) as c:
                gate.wait()
                r = c.post(f"/api/tickets/{tid}/attachments", headers=_h("clerk"),
                           data={"kind": "photo"},
                           files={"file": (f"p{i}.jpg", _jpeg(i), "image/jpeg")})  # fmt: skip
                return r.status_code

        with ThreadPoolExecutor(24) as pool:
            ups = list(pool.map(up, range(24)))
        print(f"parallel uploads [{backend}]: {Counter(ups)}")
        assert ups == [201] * 24, ups

        with httpx.Client(base_url=base, timeout=30) as c:
            files = c.get(f"/api/tickets/{tid}/attachments", headers=_h("clerk")).json()
        assert len(files) == 24
        gate = threading.Barrier(12, timeout=30)
        first = files[0]["id"]

        def down(i: int) -> int:
            user = ("clerk", "manager", "supervisor", "admin")[i % 4]  # admin: cleaned copy
            with httpx.Client(base_url=base, timeout=60) as c:
                gate.wait()
                r = c.get(f"/api/tickets/{tid}/attachments/{first}", headers=_h(user))
                return r.status_code

        with ThreadPoolExecutor(12) as pool:
            downs = list(pool.map(down, range(12)))
        print(f"parallel downloads [{backend}]: {Counter(downs)}")
        assert downs == [200] * 12, downs

        with httpx.Client(base_url=base, timeout=30) as c:
            events = c.get(f"/api/tickets/{tid}/history", headers=_h("manager")).json()
            seqs = [e["seq"] for e in events]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap, no repeat
            actions = [e["action"] for e in events]
            assert actions.count("attach") == 24
            assert actions.count("download_attachment") == 12
            # an edit checked against the version read before all this still answers 409:
            # the ticket did change
            r = c.post(f"/api/tickets/{tid}/triage-valid", headers=_h("clerk"), json={
                "version": ticket["version"], "category": "repair_quality",
                "severity": "minor", "facets": {"nature": "valid"},
            })  # fmt: skip
            assert r.status_code == 409, r.text
            now = c.get(f"/api/tickets/{tid}", headers=_h("clerk")).json()
            assert now["version"] == ticket["version"] + 24 + 12
    finally:
        server.stop()
        drop_database(url)
