"""Acceptance scenarios for what issue 23 left open (the seeds, third pass): recurring duties
reminded for every period — the half-year appraisal [002 第二十七条], the monthly ledger run
[002 第二十八条], each unit's monthly 《投诉事件通报》 [002 第二十二条] —, the appraisal points of
a penalty superseded after its month was run [000 §篇7 六2–3], and the duties that hang on a
severity the deadline sweep raised [000 §篇1 4(4)2①c; 004 §篇3 二1]. Through the HTTP API,
the sweep and the ``tousu`` command the product uses, on both backends.

Each test names the seed it reads; docs/seed-duties.md lists what the code does for each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from conftest import cst, run_db
from dutykit import TENANTS

from core import clock
from core.jobs.sweep import sweep

P, U, B = "greenwood", "riverside-power", "citybus"


def history(api: Any, tenant: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def notes(api: Any, tenant: str, user: str, kind: str) -> list[dict[str, Any]]:
    r = api.get(tenant, user, "/api/notifications")
    assert r.status_code == 200, r.text
    return [n for n in r.json() if n["kind"] == kind]


def sweep_at(api: Any, now: dt.datetime) -> None:
    clock.travel_to(now)
    run_db(api, lambda db: sweep(db, now))


# ---------------------------------------------------------------- §1 a severity the sweep raised


def test_a_letter_the_sweep_makes_major_owes_what_a_major_letter_owes(api):
    """有效投诉在一个月内得不到合理解决的投诉 is major [000 §篇1 4(4)2①c]; a major complaint is
    reported to the general manager the same day [4(4)3②], and a major written one to the
    head of the management office [004 §篇3 二1 书面投诉]. A minor letter still open after a
    month is made major by the sweep: both duties fire then, recorded on the upgrade's own
    event, and the office head is told — as when a clerk reclassifies it."""
    c = TENANTS[P]
    clock.travel_to(cst(2046, 5, 6, 10, 0))
    t = api.create(P, channel="letter")
    t = api.act(P, "clerk", t, "triage_valid", category=c["category"], severity="minor",
                facets=c["facets"])  # fmt: skip
    t = api.act(P, "clerk", t, "register", reason="needs_follow_up")
    t = api.act(P, "supervisor", t, "review", note="checked")
    t = api.act(P, "clerk", t, "dispatch", department=c["dept"])
    assert not [d for e in history(api, P, t) for d in e["payload"].get("seed_duties", [])]
    before = {n["id"] for n in notes(api, P, "manager", "seed_duty")}
    sweep_at(api, cst(2046, 6, 7, 0, 5))
    sweep_at(api, cst(2046, 6, 7, 0, 6))
    (up,) = [e for e in history(api, P, t) if e["action"] == "auto_upgrade"]
    assert up["payload"]["severity"] == "major"
    fired = {d["duty"]: d for d in up["payload"].get("seed_duties", [])}
    assert {"report_major", "written_serious_to_office_head"} <= set(fired), up["payload"]
    assert fired["written_serious_to_office_head"]["notified"] >= 1
    told = [n for n in notes(api, P, "manager", "seed_duty")
            if n["id"] not in before and n["ticket_id"] == t["id"]]  # fmt: skip
    assert len(told) == 1 and "物管中心" in told[0]["message"], told
    assert [n for n in notes(api, P, "gm", "escalation") if n["ticket_id"] == t["id"]]
    sweep_at(api, cst(2046, 6, 8, 0, 5))  # nothing fires twice
    assert sum(len(e["payload"].get("seed_duties", [])) for e in history(api, P, t)) == len(fired)


# ---------------------------------------------------------------- points of a superseded penalty


def _tier2_confirmed(api: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from dutykit import walk

    t = walk(api, P, "graded")
    r = api.get(P, "manager", f"/api/tickets/{t['id']}/penalties")
    assert r.status_code == 200, r.text
    (p,) = [p for p in r.json() if p["status"] == "proposed"]
    assert (p["rule"], p["appraisal_points"]) == ("tier_2", 5), p
    r = api.post(P, "manager", f"/api/penalties/{p['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    return t, p


def test_points_of_a_penalty_superseded_after_its_month_was_run_are_given_back(api):
    """扣除月度绩效考评5分 [000 §篇7 六2]: a tier-2 penalty of GW-S001 confirmed in March 2047
    is 5 points on March's line. In April his appeal is overturned (no responsibility): the
    penalty is superseded, and April's line gives the 5 points back (its fine too, as money
    is), the ledger export shows it, March's line is unchanged, and May gives nothing more."""
    staff = TENANTS[P]["staff"]
    clock.travel_to(cst(2047, 3, 10, 10, 0))
    t, p = _tier2_confirmed(api)
    clock.travel_to(cst(2047, 4, 2, 10, 0))
    r = api.post(P, "manager", "/api/ledger/runs", json={"period": "2047-03"})
    assert r.status_code == 201, r.text
    (march,) = [s for s in r.json()["statements"] if s["staff"] == staff]
    assert (march["appraisal_points"], march["appraisal_points_credited"]) == (5, 0), march

    r = api.post(P, "staff-wang", f"/api/tickets/{t['id']}/appeals", json={"reason": "not me"})
    assert r.status_code == 201, r.text
    r = api.post(P, "gm", f"/api/appeals/{r.json()['id']}/decide",
                 json={"decision": "overturned", "reason": "the leak was the builder's",
                       "grade": "none"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = api.get(P, "manager", f"/api/tickets/{t['id']}/penalties")
    assert {x["id"]: x["status"] for x in r.json()}[p["id"]] == "superseded"

    clock.travel_to(cst(2047, 5, 2, 10, 0))
    r = api.post(P, "manager", "/api/ledger/runs", json={"period": "2047-04"})
    assert r.status_code == 201, r.text
    (april,) = [s for s in r.json()["statements"] if s["staff"] == staff]
    assert (april["appraisal_points"], april["appraisal_points_credited"]) == (0, 5), april
    r = api.get(P, "manager", "/api/ledger/statements",
                params={"period": "2047-03", "staff": staff})  # fmt: skip
    assert r.json() == [march]
    r = api.get(P, "manager", "/api/reports/export/ledger.csv", params={"period": "2047-04"})
    assert r.status_code == 200, r.text
    header, *rows = [row.split(",") for row in r.content.decode("utf-8-sig").strip().splitlines()]
    col = header.index("退还绩效考评分")
    assert [row[col] for row in rows if staff in row] == ["5"], rows
    clock.travel_to(cst(2047, 6, 2, 10, 0))
    r = api.post(P, "manager", "/api/ledger/runs", json={"period": "2047-05"})
    assert r.status_code == 201, r.text
    assert [s for s in r.json()["statements"] if s["staff"] == staff] == []
