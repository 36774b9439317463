"""Every decision is taken once, under real concurrency (issue 9 item 4).

Ten requests, released together from ten threads against the running app, try to decide the
same penalty (five confirm, five waive), appeal (upheld / overturned), extension (approve /
reject) or ledger month: exactly one answers 200 (201 for the ledger run), every other one
answers 409 with the Chinese "decided once" message (the ledger rerun: 200 and nothing new,
as documented), and exactly one history event is written. Each scenario runs ``ROUNDS``
rounds on both backends.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import Counter
from typing import Any

from conftest import graded_citybus, make_operator, small_tenant

from core import clock

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
        # the property manager (物业部经理) decides; the head who asked may not [000 §篇1 4(4)9]
        reqs = [("manager", f"/api/extensions/{ext}/approve", {"reason": "ok"})
                for _ in range(RACERS // 2)]  # fmt: skip
        reqs += [("manager", f"/api/extensions/{ext}/reject", {"reason": "no"})
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


def test_pay_change_and_ledger_run_at_once_stay_consistent(api):
    """A month's pay is fixed once its run is done (409 after it). Set at the same moment as
    the run, a pay change either lands before the run — which then deducts from it — or is
    refused: never accepted and then ignored. A fresh utility tenant (carry-over by rule
    [002 第二十八条]) whose staff member owes 500 yuan; months in order."""
    op = make_operator(api)
    slug = f"pay-{secrets.token_hex(3)}"
    prefix = "P" + "".join(chr(65 + int(c, 16) % 26) for c in secrets.token_hex(2))
    r = api.client.post("/api/tenants", json=small_tenant(slug, prefix), headers=op)
    assert r.status_code == 201, r.text

    def h(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {slug}-{user}-test-key-0001"}

    def act(user: str, t: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
        r = api.client.post(f"/api/tickets/{t['id']}/{action}",
                            json={"version": t["version"]} | body, headers=h(user))  # fmt: skip
        assert r.status_code == 200, f"{action}: {r.text}"
        return r.json()  # type: ignore[no-any-return]

    # The fine is decided in January 2020 (the clock moved), so the months run below, in
    # order from then, are all in the past and each has S1's carried-over debt.
    clock.travel_to(dt.datetime(2020, 1, 6, 2, 0, tzinfo=dt.UTC))
    r = api.client.post(
        "/api/tickets",
        json={"channel": "hotline_95598", "description": "抄表员态度差", "accused_staff": ["S1"],
              "accused_department": "desk",
              "complainant": {"name": "钱七", "contact": "13900003333"}},
        headers=h("clerk"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    t = act("clerk", r.json(), "triage-valid", category="meter_reading", severity="general",
            facets={"commitment_breach": "other", "verified_responsibility": "verified"})  # fmt: skip
    t = act("clerk", t, "register", reason="on_site")
    t = act("supervisor", t, "review")
    t = act("clerk", t, "dispatch", department="desk")
    t = act("head", t, "first-contact", note="called")
    t = act("head", t, "grade", findings="established",
            grades=[{"staff": "S1", "grade": "main", "findings": "rude",
                     "offence": "general_poor_attitude"}])  # fmt: skip
    pen = api.client.get(f"/api/tickets/{t['id']}/penalties", headers=h("manager")).json()
    p = next(x for x in pen if x["status"] == "proposed")
    r = api.client.post(f"/api/penalties/{p['id']}/adjust",
                        json={"amount_yuan": "500.00", "reason": "test"},
                        headers=h("manager"))  # fmt: skip
    assert r.status_code == 200, r.text
    clock.reset()

    outcomes = Counter()
    for i in range(ROUNDS // 2):
        period = f"{2020 + i // 12}-{i % 12 + 1:02d}"
        barrier = threading.Barrier(RACERS)
        results: list[Any] = [None] * RACERS

        def go(
            k: int, period: str = period, barrier: Any = barrier, results: Any = results
        ) -> None:
            barrier.wait()
            if k % 2:
                results[k] = api.client.post(
                    "/api/ledger/runs", json={"period": period}, headers=h("manager")
                )
            else:
                results[k] = api.client.put(
                    f"/api/staff/S1/pay/{period}", json={"amount_yuan": "10.00"}, headers=h("admin")
                )

        threads = [threading.Thread(target=go, args=(k,)) for k in range(RACERS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        runs = [r for k, r in enumerate(results) if k % 2]
        pays = [r for k, r in enumerate(results) if not k % 2]
        assert sorted(r.status_code for r in runs) == [200] * (RACERS // 2 - 1) + [201]
        assert {r.status_code for r in pays} <= {200, 409}, [r.text for r in pays]
        line = next(r.json() for r in runs if r.status_code == 201)["statements"]
        s1 = next(x for x in line if x["staff"] == "S1")
        accepted = any(r.status_code == 200 for r in pays)
        assert s1["pay_yuan"] == ("10.00" if accepted else "0.00"), (s1, [r.text for r in pays])
        outcomes[accepted] += 1
        # After the run the month's pay is fixed.
        r = api.client.put(f"/api/staff/S1/pay/{period}", json={"amount_yuan": "1.00"},
                           headers=h("admin"))  # fmt: skip
        assert r.status_code == 409, r.text
