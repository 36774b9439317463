"""Every decision is taken once, under real concurrency (issue 9 item 4).

Ten requests, released together from ten threads against the running app, try to decide the
same penalty (five confirm, five waive), appeal (upheld / overturned), extension (approve /
reject) or ledger month: exactly one answers 200 (201 for the ledger run), every other one
answers 409 with the Chinese "decided once" message (the ledger rerun: 200 and nothing new,
as documented), and exactly one history event is written. Each scenario runs ``ROUNDS``
rounds on both backends.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from typing import Any

from conftest import graded_citybus, make_operator, small_tenant

ROUNDS = 20
RACERS = 10

CB = "citybus"


def race(api: Any, tenant: str, requests: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    """POST (user, path, body) from one thread each, released together by a barrier."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def go(i: int, user: str, path: str, body: dict[str, Any]) -> None:
        barrier.wait()
        try:
            results[i] = api.post(tenant, user, path, json=body)
        except Exception as exc:  # surfaces in the assertion below
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i, *r)) for i, r in enumerate(requests)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    return results


def codes(results: list[Any]) -> Counter[Any]:
    return Counter(getattr(r, "status_code", repr(r)) for r in results)


def check_one_winner(results: list[Any], win: int = 200) -> Any:
    c = codes(results)
    assert c == Counter({win: 1, 409: len(results) - 1}), [
        getattr(r, "text", repr(r)) for r in results
    ]
    for r in results:
        if r.status_code == 409:
            err = r.json()["error"]
            assert err["rule"] == "decided once", err
            assert "不能重复决定" in err["message"], err
    return next(r for r in results if r.status_code == win)


def history_actions(api: Any, tenant: str, ticket_id: int) -> list[str]:
    r = api.get(tenant, "manager", f"/api/tickets/{ticket_id}/history")
    assert r.status_code == 200, r.text
    return [e["action"] for e in r.json()]


def test_penalty_confirm_and_waive_at_once_one_wins(api):
    for _ in range(ROUNDS):
        t = graded_citybus(api)
        rows = api.get(CB, "manager", f"/api/tickets/{t['id']}/penalties").json()
        p = next(x for x in rows if x["status"] == "proposed" and x["staff"] == "CB-S001")
        path = "/api/penalties/{}/{}".format
        reqs = [("manager", path(p["id"], "confirm"), {}) for _ in range(RACERS // 2)]
        reqs += [("manager", path(p["id"], "waive"), {"reason": "first offence"})
                 for _ in range(RACERS // 2)]  # fmt: skip
        winner = check_one_winner(race(api, CB, reqs)).json()
        stored = next(
            x
            for x in api.get(CB, "manager", f"/api/tickets/{t['id']}/penalties").json()
            if x["id"] == p["id"]
        )
        assert stored["status"] == winner["status"] in ("confirmed", "waived")
        decisions = [a for a in history_actions(api, CB, t["id"]) if a.startswith("penalty_")]
        assert decisions == [{"confirmed": "penalty_confirm", "waived": "penalty_waive"}[
            winner["status"]]], decisions  # fmt: skip


def test_appeal_upheld_and_overturned_at_once_one_wins(api):
    for _ in range(ROUNDS):
        t = graded_citybus(api)
        r = api.post(CB, "staff-wang", f"/api/tickets/{t['id']}/appeals", json={"reason": "no"})
        assert r.status_code == 201, r.text
        path = f"/api/appeals/{r.json()['id']}/decide"
        reqs = [("manager", path, {"decision": "upheld", "reason": "stands"})
                for _ in range(RACERS // 2)]  # fmt: skip
        reqs += [("manager", path, {"decision": "overturned", "reason": "shared",
                                    "grade": "secondary"}) for _ in range(RACERS // 2)]  # fmt: skip
        winner = check_one_winner(race(api, CB, reqs)).json()
        assert winner["status"] in ("upheld", "overturned")
        actions = history_actions(api, CB, t["id"])
        assert actions.count("appeal_decided") == 1, actions
        grades = api.get(CB, "manager", f"/api/tickets/{t['id']}/grades").json()
        current = [g["grade"] for g in grades if g["current"] and g["staff"]["code"] == "CB-S001"]
        assert current == (["main"] if winner["status"] == "upheld" else ["secondary"])


GW = "greenwood"


def test_extension_approve_and_reject_at_once_one_wins(api):
    for _ in range(ROUNDS):
        t = api.create(GW, channel="phone", accused_staff=["GW-S001"],
                       accused_department="engineering")  # fmt: skip
        t = api.act(GW, "clerk", t, "triage_valid", category="repair_quality",
                    severity="minor", facets={"nature": "valid"})  # fmt: skip
        t = api.act(GW, "clerk", t, "register", reason="needs_follow_up")
        t = api.act(GW, "supervisor", t, "review", note="checked")
        t = api.act(GW, "clerk", t, "dispatch", department="engineering")
        r = api.post(
            GW,
            "head-engineering",
            f"/api/tickets/{t['id']}/deadlines/reply/extensions",
            json={"amount": 2, "unit": "working_days", "reason": "spare part on order"},
        )
        assert r.status_code == 201, r.text
        ext = r.json()["id"]
        reqs = [("head-engineering", f"/api/extensions/{ext}/approve", {"reason": "ok"})
                for _ in range(RACERS // 2)]  # fmt: skip
        reqs += [("head-engineering", f"/api/extensions/{ext}/reject", {"reason": "no"})
                 for _ in range(RACERS // 2)]  # fmt: skip
        winner = check_one_winner(race(api, GW, reqs)).json()
        actions = history_actions(api, GW, t["id"])
        decided = [a for a in actions if a in ("extension_approved", "extension_rejected")]
        assert decided == [f"extension_{winner['status']}"], decided


def test_ledger_run_at_once_runs_the_month_once(api):
    """The monthly run is idempotent by contract (rerunning a month changes nothing, 200):
    of ten concurrent runs of one month exactly one creates it (201), every other one gets
    the same run back (200, created false). A tenant of its own, months in order."""
    op = make_operator(api)
    slug = f"ledger-{secrets.token_hex(3)}"
    prefix = "L" + "".join(chr(65 + int(c, 16) % 26) for c in secrets.token_hex(2))
    r = api.client.post("/api/tenants", json=small_tenant(slug, prefix), headers=op)
    assert r.status_code == 201, r.text
    manager = {"Authorization": f"Bearer {slug}-manager-test-key-0001"}
    for i in range(ROUNDS):
        period = f"{2020 + i // 12}-{i % 12 + 1:02d}"
        barrier = threading.Barrier(RACERS)
        results: list[Any] = [None] * RACERS

        def go(
            k: int, period: str = period, barrier: Any = barrier, results: Any = results
        ) -> None:
            barrier.wait()
            results[k] = api.client.post(
                "/api/ledger/runs", json={"period": period}, headers=manager
            )

        threads = [threading.Thread(target=go, args=(k,)) for k in range(RACERS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        c = codes(results)
        assert c == Counter({201: 1, 200: RACERS - 1}), [
            getattr(r, "text", repr(r)) for r in results
        ]
        created = next(r.json() for r in results if r.status_code == 201)
        assert created["created"] is True
        for r in results:
            if r.status_code == 200:
                assert r.json()["created"] is False
                assert r.json()["statements"] == created["statements"]
