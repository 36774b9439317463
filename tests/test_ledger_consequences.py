"""Consequences the ledger carries out (issue 12 §5).

[000 §篇7 六4] property tier 4 (记大过): 1,000 yuan per time **and** that month's whole
performance pay; a ledger run for a month that has not ended is refused.

The database is shared with other tests: this file fines greenwood GW-S008 only and runs
months of 2036 only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from test_ledger import graded, line_of, run, set_pay

from core import clock


def decide(api: Any, tenant: str, penalty: dict[str, Any], action: str, **body: Any) -> Any:
    r = api.post(tenant, "manager", f"/api/penalties/{penalty['id']}/{action}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_tier4_takes_1000_fine_and_the_whole_3000_month_pay(api):
    """[000 §篇7 六4] "记大过处分 + 1000元/次 + 扣除当月绩效工资": pay 3,000, one tier-4 penalty
    decided in March → March's run deducts the 1,000 fine and forfeits the 3,000 pay (not
    only 1,000). An ordinary tier-1 fine decided the same month has no pay left to come
    from (greenwood carries it over); April's run takes it from April's pay."""
    tenant, staff = "greenwood", "GW-S008"
    clock.travel_to(dt.datetime(2036, 3, 10, 2, tzinfo=dt.UTC))
    _, p4 = graded(
        api, tenant, "environment", "head-environment",
        {"staff": staff, "grade": "main", "offence": "tier_4"},
    )  # fmt: skip
    assert (p4["whole_month_pay"], p4["proposed_yuan"]) == (True, "1000.00")
    assert decide(api, tenant, p4, "confirm")["status"] == "confirmed"
    _, p1 = graded(
        api, tenant, "environment", "head-environment",
        {"staff": staff, "grade": "main", "offence": "tier_1"},
    )  # fmt: skip
    decide(api, tenant, p1, "adjust", amount_yuan="80", reason="second complaint this month")
    for month in ("2036-03", "2036-04"):
        assert set_pay(api, tenant, staff, month, "3000").status_code == 200

    r = run(api, tenant, "2036-03")
    assert r.status_code == 201, r.text
    march = line_of(r.json()["statements"], staff)
    assert march is not None
    assert (march["pay_yuan"], march["forfeited_yuan"], march["deducted_yuan"]) == (
        "3000.00", "3000.00", "1000.00",
    )  # fmt: skip
    assert (march["owed_yuan"], march["carried_yuan"]) == ("1080.00", "80.00")
    assert march["credited_yuan"] == "0.00"

    r = run(api, tenant, "2036-04")
    assert r.status_code == 201, r.text
    april = line_of(r.json()["statements"], staff)
    assert april is not None
    # April has no tier-4 penalty: its pay is the budget again; nothing forfeited.
    assert (april["forfeited_yuan"], april["deducted_yuan"], april["carried_yuan"]) == (
        "0.00", "80.00", "0.00",
    )  # fmt: skip


def test_ledger_run_for_a_month_not_ended_is_refused(api):
    """A month still running has fines yet to come: 422 naming the field and the rule, and
    nothing is written (the month can be run once it has ended)."""
    clock.travel_to(dt.datetime(2036, 6, 30, 15, 0, tzinfo=dt.UTC))  # 23:00 in Shanghai
    r = api.post("greenwood", "manager", "/api/ledger/runs", json={"period": "2036-06"})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert (err["field"], err["rule"]) == ("period", "a month that has ended")
    r = api.get("greenwood", "manager", "/api/ledger/statements", params={"period": "2036-06"})
    assert r.json() == []
    clock.travel_to(dt.datetime(2036, 6, 30, 16, 1, tzinfo=dt.UTC))  # July 1st in Shanghai
    r = api.post("greenwood", "manager", "/api/ledger/runs", json={"period": "2036-06"})
    assert r.status_code == 201, r.text
