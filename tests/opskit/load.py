"""Concurrent clients for the deployment tests: each creates a complaint, lists its tenant's
queue and triages what it created, and every answer is counted by status.

Two tenants take turns (greenwood and citybus), so a list that shows another tenant's
ticket — the tenant setting of a pooled connection leaking — is caught too.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from conftest import DEMO_KEYS

CLERKS = {
    "greenwood": DEMO_KEYS[("greenwood", "clerk")],
    "citybus": DEMO_KEYS[("citybus", "clerk")],
}
TRIAGE = {
    "greenwood": {"category": "lift", "severity": "minor", "facets": {"nature": "valid"}},
}


def intake_body(n: int) -> dict[str, Any]:
    return {
        "channel": "phone",
        "description": f"电梯停运 第{n}次",
        "complainant": {"name": "张三", "contact": "13812345678", "address": "3栋"},
    }


@dataclass
class Tally:
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    errors: list[str] = field(default_factory=list)
    acknowledged: dict[str, set[int]] = field(default_factory=lambda: collections.defaultdict(set))
    leaks: list[str] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    """Ids acknowledged twice: one id given to two callers (a lost write, reused)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    created: list[float] = field(default_factory=list)
    """When (monotonic) each 201 came back."""

    def note(self, what: str, r: httpx.Response) -> None:
        with self.lock:
            self.statuses[r.status_code] += 1
            if r.status_code == 201:
                self.created.append(time.monotonic())
            if r.status_code >= 500 and r.status_code != 503:
                self.errors.append(f"{what}: {r.status_code} {r.text[:300]}")
            if r.status_code == 503 and not r.headers.get("retry-after"):
                self.errors.append(f"{what}: 503 without Retry-After")

    def fivexx_other_than_503(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500 and s != 503)


def client_loop(
    base: str, tenant: str, n: int, tally: Tally, stop: threading.Event | None = None,
    triage: bool = True, deadline: float | None = None,
) -> None:  # fmt: skip
    """``n`` rounds of create → list → triage (greenwood) as the tenant's clerk; stops early
    at ``stop`` or ``deadline`` (monotonic)."""
    headers = {"Authorization": f"Bearer {CLERKS[tenant]}"}
    with httpx.Client(base_url=base, headers=headers, timeout=15, trust_env=False) as c:
        for i in range(n):
            if (stop is not None and stop.is_set()) or (
                deadline is not None and time.monotonic() > deadline
            ):
                return
            try:
                r = c.post("/api/tickets", json=intake_body(i))
            except httpx.HTTPError as exc:  # the connection itself: not acknowledged
                with tally.lock:
                    tally.statuses[0] += 1
                del exc
                continue
            tally.note("create", r)
            if r.status_code != 201:
                continue
            ticket = r.json()
            with tally.lock:
                if any(ticket["id"] in ids for ids in tally.acknowledged.values()):
                    tally.duplicates.append(ticket["id"])
                tally.acknowledged[tenant].add(ticket["id"])
            try:
                listed = c.get("/api/tickets", params={"limit": 20})
                tally.note("list", listed)
                if listed.status_code == 200:
                    mine = tally.acknowledged[tenant]
                    others = {t: ids for t, ids in tally.acknowledged.items() if t != tenant}
                    for item in listed.json()["items"]:
                        if item["id"] not in mine and any(
                            item["id"] in ids for ids in others.values()
                        ):
                            with tally.lock:
                                tally.leaks.append(f"{tenant} saw ticket {item['id']}")
                if triage and tenant in TRIAGE:
                    t = c.post(
                        f"/api/tickets/{ticket['id']}/triage-valid",
                        json={"version": ticket["version"], **TRIAGE[tenant]},
                    )
                    tally.note("triage", t)
            except httpx.HTTPError:
                with tally.lock:
                    tally.statuses[0] += 1


def run_clients(
    base: str, clients: int, rounds: int, triage: bool = True, seconds: float | None = None,
    stop: threading.Event | None = None,
) -> Tally:  # fmt: skip
    """``clients`` threads (tenants alternating), each ``rounds`` rounds; bounded by
    ``seconds`` when given."""
    tally = Tally()
    deadline = time.monotonic() + seconds if seconds else None
    threads = [
        threading.Thread(
            target=client_loop,
            args=(base, list(CLERKS)[i % len(CLERKS)], rounds, tally, stop, triage, deadline),
            daemon=True,
        )
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=(seconds or 120) + 60)
    return tally
