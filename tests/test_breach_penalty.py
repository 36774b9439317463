"""A step's clock that runs out in the handler's hands proposes a penalty (issue 12 §5).

[002 《客户投诉管理考核办法》第二十四条(一)] "负责受理投诉或处理投诉的人员发生推诿、处理不及时" is a
breach of the 十个不准, assessed under provincial rules the seeds do not contain: the utility
plugin proposes ``ten_prohibitions`` with the tenant's amount, else none, for the manager to
decide. The clock is moved past the deadline and the sweep run as the deadline tests do.
Times are of March 2038 (no other test's clocks are due then).
"""

from __future__ import annotations

from typing import Any

from conftest import cst
from test_sweep import dispatched, history, new_ticket, sweep_at

from core import clock

TENANT = "riverside-power"


def breach_rows(api: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(TENANT, "manager", f"/api/tickets/{t['id']}/penalties")
    assert r.status_code == 200, r.text
    return [p for p in r.json() if p["source"] == "breach"]


def test_late_dispatch_proposes_ten_prohibitions_for_the_clerk(api):
    """The 95598 clerk (RP-S009) took the complaint in and held the dispatch step past its
    one hour [第十四条]: the sweep proposes ten_prohibitions for RP-S009 with no amount (the
    provincial schedule is not in the seeds); confirming without an amount is refused, the
    manager adjusts with one; the history records the proposal once (a second sweep adds
    nothing)."""
    clock.travel_to(cst(2038, 3, 2, 9, 0))
    t = new_ticket(api, TENANT)
    sweep_at(api, cst(2038, 3, 2, 9, 30))
    assert breach_rows(api, t) == []  # not yet due
    sweep_at(api, cst(2038, 3, 2, 11, 30), times=2)
    rows = breach_rows(api, t)
    assert [(p["rule"], p["staff"], p["unit"], p["proposed_yuan"], p["status"]) for p in rows] == [
        ("ten_prohibitions", "RP-S009", None, None, "proposed")
    ]
    # the reason is stored as the desk reads it: Chinese, the step by its name
    assert "第二十四条(一)" in rows[0]["reason"] and rows[0]["reason"].startswith("派单环节")
    events = [e for e in history(api, TENANT, t) if e["action"] == "penalty_proposed"]
    assert len(events) == 1 and events[0]["payload"]["penalty_id"] == rows[0]["id"]
    assert events[0]["payload"]["step"] == "dispatch"

    r = api.post(TENANT, "manager", f"/api/penalties/{rows[0]['id']}/confirm", json={})
    assert r.status_code == 422 and r.json()["error"]["field"] == "amount_yuan", r.text
    r = api.post(TENANT, "manager", f"/api/penalties/{rows[0]['id']}/adjust",
                 json={"amount_yuan": "100", "reason": "provincial rules, first time"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["final_yuan"]) == ("adjusted", "100.00")


def test_late_first_contact_proposes_for_the_station(api):
    """Nobody at the station took the dispatched ticket: its first contact (one working day,
    [第十五条]) ran out with the unit. The proposal goes to station-chengguan for the manager
    to name the person; the desk's dispatch, done on time, and the lapsed return window
    propose nothing."""
    t = dispatched(api, TENANT, at=cst(2038, 3, 9, 9, 0))
    sweep_at(api, cst(2038, 3, 12, 10, 0))
    rows = breach_rows(api, t)
    firsts = [p for p in rows if p["reason"].startswith("首日联系环节")]
    assert [(p["rule"], p["staff"], p["unit"]) for p in firsts] == [
        ("ten_prohibitions", None, "station-chengguan")
    ]
    # The dispatch was on time; the return window passing is no delay (第十七条).
    assert not [p for p in rows if p["reason"].startswith(("派单环节", "return环节"))]
