"""The half-yearly appraisal of units [002 《客户投诉管理考核办法》第二十七条].

"公司市场营销部根据各单位半年内投诉统计情况,按本办法规定提出考核意见,报公司优质服务领导小组批准
后执行": riverside-power's manager (市场营销部主任) proposes from the half-year report, the
general manager (for the leading group) approves; both are audited. Shared database: this
file's fines are RP-S007's, its half-year is 2039-H1.
"""

from __future__ import annotations

import datetime as dt

from test_ledger import graded

from core import clock

TENANT = "riverside-power"


def test_half_year_report_then_marketing_proposes_and_leading_group_approves(api):
    """A fine decided on RP-S007 (运维检修部) in February 2039 shows in 2039-H1's report for
    ops-maintenance; the general manager may not propose (utility names marketing), the
    manager proposes, a second live proposal is refused, the proposer may not approve, the
    general manager approves once; both steps are in the audit log."""
    clock.travel_to(dt.datetime(2039, 2, 10, 2, tzinfo=dt.UTC))
    _, fine = graded(
        api, TENANT, "ops-maintenance", "head-ops",
        {"staff": "RP-S007", "grade": "main", "offence": "general_poor_attitude"},
    )  # fmt: skip
    r = api.post(TENANT, "manager", f"/api/penalties/{fine['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    amount = r.json()["final_yuan"]

    clock.travel_to(dt.datetime(2039, 7, 2, 2, tzinfo=dt.UTC))
    r = api.get(TENANT, "clerk", "/api/reports/appraisal", params={"half": "2039-H1"})
    assert r.status_code == 403, r.text
    r = api.get(TENANT, "manager", "/api/reports/appraisal", params={"half": "2039-H1"})
    assert r.status_code == 200, r.text
    ops = next(u for u in r.json()["units"] if u["unit"] == "ops-maintenance")
    assert (ops["penalties"], ops["fines_yuan"]) == (1, amount)
    assert ops["complaints"] >= 1
    r = api.get(TENANT, "manager", "/api/reports/appraisal", params={"half": "2039-H3"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "half", r.text

    body = {
        "half": "2039-H1",
        "opinion": "半年投诉考核意见",
        "units": [{"unit": "ops-maintenance", "opinion": "通报批评,扣减半年考核分"}],
    }
    r = api.post(TENANT, "gm", "/api/appraisals", json=body)
    assert r.status_code == 403, r.text
    r = api.post(TENANT, "manager", "/api/appraisals",
                 json=body | {"units": [{"unit": "nowhere", "opinion": "x"}]})  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["field"] == "units[0].unit", r.text
    r = api.post(TENANT, "manager", "/api/appraisals", json=body | {"half": "2039-H2"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "half", r.text
    r = api.post(TENANT, "manager", "/api/appraisals", json=body)
    assert r.status_code == 201, r.text
    proposal = r.json()
    assert (proposal["status"], proposal["proposed_by"]) == ("proposed", "manager")
    frozen = next(u for u in proposal["units"] if u["unit"] == "ops-maintenance")
    assert (frozen["fines_yuan"], frozen["opinion"]) == (amount, "通报批评,扣减半年考核分")
    r = api.post(TENANT, "manager", "/api/appraisals", json=body)
    assert r.status_code == 409, r.text

    path = f"/api/appraisals/{proposal['id']}"
    r = api.post(TENANT, "manager", f"{path}/approve", json={})
    assert r.status_code == 403, r.text
    r = api.post(TENANT, "gm", f"{path}/reject", json={})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason", r.text
    r = api.post(TENANT, "gm", f"{path}/approve", json={"reason": "同意"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decided_by"]) == ("approved", "gm")
    r = api.post(TENANT, "gm", f"{path}/approve", json={})
    assert r.status_code == 409, r.text

    r = api.get(TENANT, "admin", "/api/audit", params={"entity": "unit_appraisal"})
    mine = [a for a in r.json() if a["entity_key"] == f"{proposal['id']}:2039-H1"]
    assert [(a["action"], a["actor"]) for a in mine] == [
        ("appraisal_approved", "gm"), ("appraisal_proposed", "manager"),
    ]  # fmt: skip
    r = api.get(TENANT, "manager", "/api/appraisals", params={"half": "2039-H1"})
    assert [a["status"] for a in r.json()] == ["approved"]


def test_the_list_refuses_a_half_year_that_is_none(api):
    """``GET /api/appraisals?half=2026-H3`` is a 422 naming ``half``, not an empty list."""
    for bad in ("2026-H3", "2026", "abc"):
        r = api.get(TENANT, "manager", "/api/appraisals", params={"half": bad})
        assert r.status_code == 422 and r.json()["error"]["field"] == "half", (bad, r.text)
    r = api.get(TENANT, "manager", "/api/appraisals", params={"half": "2026-H2"})
    assert r.status_code == 200, r.text
