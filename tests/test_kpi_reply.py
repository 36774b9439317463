"""The reply clock as its own KPI: ``replied_on_time`` in ``GET /api/reports/kpis``.

[002 《客户投诉管理考核办法》第二十一条] the company watches 处理情况答复客户 (the reply to the
complainant) on its own; 第十五条 gives 4 working days from dispatch. riverside-power tickets
received in April 2040 (no other test's): one replied on the 2nd working day, one on the 7th.
"""

from __future__ import annotations

from typing import Any

from conftest import cst
from test_sweep import dispatched

from core import clock

TENANT = "riverside-power"
HEAD = "head-chengguan"


def replied(api: Any, t: dict[str, Any], at: Any) -> dict[str, Any]:
    clock.travel_to(at)
    t = api.act(TENANT, HEAD, t, "first_contact", note="called")
    t = api.act(TENANT, HEAD, t, "grade", findings="misread meter", grades=[
        {"staff": "RP-S002", "grade": "none", "findings": "no fault"}])  # fmt: skip
    return api.act(TENANT, HEAD, t, "reply", reply="corrected the bill", apology=True)


def rate(api: Any, code: str) -> dict[str, Any]:
    r = api.get(TENANT, "manager", "/api/reports/kpis", params={"period": "2040-04"})
    assert r.status_code == 200, r.text
    (found,) = [x for x in r.json()["rates"] if x["code"] == code]
    return found  # type: ignore[no-any-return]


def test_replied_on_time_counts_the_reply_clock(api):
    """Dispatched Monday 2040-04-09: the reply on Wednesday meets the 4-working-day clock,
    the one on Tuesday of the next week misses it → replied_on_time 1 of 2 (50.0 %),
    reported apart from resolved_on_time."""
    fast = dispatched(api, TENANT, at=cst(2040, 4, 9, 9, 0))
    slow = dispatched(api, TENANT, at=cst(2040, 4, 9, 9, 30))
    replied(api, fast, cst(2040, 4, 11, 10, 0))
    clock.travel_to(cst(2040, 4, 12, 10, 0))
    mid = rate(api, "replied_on_time")
    assert (mid["numerator"], mid["denominator"]) == (1, 1)  # slow's clock not yet due
    replied(api, slow, cst(2040, 4, 17, 16, 0))
    got = rate(api, "replied_on_time")
    assert (got["numerator"], got["denominator"], got["percent"]) == (1, 2, 50.0)
    assert "答复" in got["label"]
