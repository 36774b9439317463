"""An appeal that changes a grade re-derives what was keyed to it (issue 12 §5).

- A unit penalty is keyed to the grades: [002 《客户投诉管理考核办法》第二十六条] charges the
  responsible unit, which the utility plugin takes from who is graded main (else
  secondary). Overturning the main grade moves the charge: the old unit's row is superseded
  (kept, append-only, with a ``penalties_superseded`` event giving the reason), the new
  unit's row is proposed.
- A fine already deducted and then superseded by an overturned appeal is credited back in
  the next ledger run as a negative line; the earlier run is not changed.

Shared database: riverside-power RP-S005 fines and months of 2037 are this file's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from test_ledger import line_of, run, set_pay
from test_penalties_api import grade, penalties, to_in_progress

from core import clock

TENANT = "riverside-power"


def history(api: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(TENANT, "manager", f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def appeal_and_overturn(api: Any, t: dict[str, Any], user: str, reason: str) -> dict[str, Any]:
    r = api.post(TENANT, user, f"/api/tickets/{t['id']}/appeals", json={"reason": "not me"})
    assert r.status_code == 201, r.text
    appeal = r.json()
    r = api.post(
        TENANT, "manager", f"/api/appeals/{appeal['id']}/decide",
        json={"decision": "overturned", "reason": reason, "grade": "none"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return appeal


def test_overturned_main_grade_moves_the_unit_charge(api):
    """RP-S001 (城关所) main, RP-S005 (河西所) secondary, falsified reply → 500 yuan to 城关所.
    RP-S001's appeal is overturned to none: 城关所's charge is superseded with the reason,
    河西所 (now the only one responsible) is proposed the charge; RP-S005's own penalty stands."""
    t = to_in_progress(api, TENANT, ["RP-S001", "RP-S005"], facts={"falsified_reply": True})
    t = grade(api, TENANT, t, [
        {"staff": "RP-S001", "grade": "main", "offence": "general_poor_attitude"},
        {"staff": "RP-S005", "grade": "secondary", "offence": "general_work_quality_no_loss"},
    ])  # fmt: skip
    before = penalties(api, TENANT, t)
    unit = [p for p in before if p["rule"] == "falsified_reply"]
    assert [(p["unit"], p["status"]) for p in unit] == [("station-chengguan", "proposed")]
    r = api.post(TENANT, "manager", f"/api/penalties/{unit[0]['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    zhou = next(p for p in before if p["staff"] == "RP-S005")

    appeal = appeal_and_overturn(api, t, "staff-chen", "the meter photo shows a misread by 河西")

    after = {p["id"]: p for p in penalties(api, TENANT, t)}
    assert after[unit[0]["id"]]["status"] == "superseded"
    assert after[unit[0]["id"]]["final_yuan"] == "500.00"  # the decided row is kept as it was
    moved = [p for p in after.values() if p["rule"] == "falsified_reply" and p["id"] not in
             {unit[0]["id"]}]  # fmt: skip
    assert [(p["unit"], p["status"], p["proposed_yuan"]) for p in moved] == [
        ("station-hexi", "proposed", "500.00")
    ]
    assert after[zhou["id"]]["status"] == "proposed"  # not re-graded: stands
    event = history(api, t)[-1]
    assert event["action"] == "penalties_superseded"
    assert unit[0]["id"] in event["payload"]["penalty_ids"]
    assert moved[0]["id"] in event["payload"]["proposed_ids"]
    assert event["payload"]["reason"].startswith(f"申诉 {appeal['id']} 改判")


def test_deducted_fine_superseded_by_appeal_is_credited_next_run(api):
    """RP-S005's fine is deducted in February's run; in March the appeal is overturned (grade
    none, the penalty superseded); March's run credits the fine back. February's statement
    is unchanged and a third run credits nothing more."""
    staff = "RP-S005"
    clock.travel_to(dt.datetime(2037, 2, 10, 2, tzinfo=dt.UTC))
    t = to_in_progress(api, TENANT, [staff], dept="station-hexi", head="head-hexi")
    t = grade(api, TENANT, t, [{"staff": staff, "grade": "main",
                                "offence": "general_poor_attitude"}], head="head-hexi")  # fmt: skip
    (fine,) = [p for p in penalties(api, TENANT, t) if p["staff"] == staff]
    r = api.post(TENANT, "manager", f"/api/penalties/{fine['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    amount = r.json()["final_yuan"]
    for month in ("2037-02", "2037-03", "2037-04"):
        assert set_pay(api, TENANT, staff, month, "100000").status_code == 200
    r = run(api, TENANT, "2037-02")
    assert r.status_code == 201, r.text
    february = line_of(r.json()["statements"], staff)
    assert february is not None and float(february["deducted_yuan"]) >= float(amount)
    assert february["carried_yuan"] == "0.00"

    clock.travel_to(dt.datetime(2037, 3, 5, 2, tzinfo=dt.UTC))
    appeal_and_overturn(api, t, "staff-zhou", "the customer withdrew the account of the call")
    assert {p["id"]: p["status"] for p in penalties(api, TENANT, t)}[fine["id"]] == "superseded"

    r = run(api, TENANT, "2037-03")
    assert r.status_code == 201, r.text
    march = line_of(r.json()["statements"], staff)
    assert march is not None
    assert (march["credited_yuan"], march["deducted_yuan"]) == (amount, "0.00")
    r = api.get(TENANT, "manager", "/api/ledger/statements",
                params={"staff": staff, "period": "2037-02"})  # fmt: skip
    assert r.json() == [february]
    r = run(api, TENANT, "2037-04")
    assert r.status_code == 201, r.text
    assert line_of(r.json()["statements"], staff) is None
