"""The monthly fine ledger (issue 4, done-when 3).

After the handling result, HR deducts the decided fines from the month's performance pay; what
does not fit carries over to the next months until paid in full
[002 《客户投诉管理考核办法》第二十八条] — utility by the plugin's default, greenwood because its
tenant file sets ``carry_over = true`` (a tenant choice, domain §5).

The database is shared with other tests: each test fines staff members no other test fines
(riverside-power RP-S006, greenwood GW-S005), runs months no other test runs (2031, 2032) and
reads only its own staff member's statements.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from core import clock

PERIOD_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

# tenant: (channel, category, severity, facets)
SETUP: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "greenwood": ("phone", "repair_quality", "important", {"nature": "valid"}),
    "riverside-power": ("hotline_95598", "meter_reading", "general",
                        {"commitment_breach": "other", "verified_responsibility": "verified"}),
}  # fmt: skip


def graded(
    api: Any, tenant: str, dept: str, head: str, line: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ticket walked to graded with one grade line; returns (ticket, its one penalty)."""
    channel, category, severity, facets = SETUP[tenant]
    t = api.create(tenant, channel=channel, accused_staff=[line["staff"]], accused_department=dept)
    t = api.act(
        tenant, "clerk", t, "triage_valid", category=category, severity=severity, facets=facets
    )
    t = api.act(tenant, "clerk", t, "register", reason="on_site")
    t = api.act(tenant, "supervisor", t, "review")
    t = api.act(tenant, "clerk", t, "dispatch", department=dept)
    t = api.act(tenant, head, t, "first_contact", note="called")
    t = api.act(
        tenant, head, t, "grade", findings="established",
        grades=[{"findings": "at fault"} | line],
    )  # fmt: skip
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}/penalties")
    assert r.status_code == 200, r.text
    rows = r.json()
    assert len(rows) == 1 and rows[0]["status"] == "proposed", rows
    return t, rows[0]


def decide(api: Any, tenant: str, penalty: dict[str, Any], action: str, **body: Any) -> Any:
    r = api.post(tenant, "manager", f"/api/penalties/{penalty['id']}/{action}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def set_pay(api: Any, tenant: str, staff: str, period: str, amount: str, user: str = "admin"):
    return api.client.put(
        f"/api/staff/{staff}/pay/{period}",
        json={"amount_yuan": amount},
        headers=api.headers(tenant, user),
    )


def run(api: Any, tenant: str, period: str, user: str = "manager") -> Any:
    """Run a month, first moving the clock past its end (only an ended month is run)."""
    if PERIOD_RE.fullmatch(period):
        year, month = int(period[:4]), int(period[5:])
        after = dt.datetime(year + month // 12, month % 12 + 1, 2, tzinfo=dt.UTC)
        if clock.now() < after:
            clock.travel_to(after)
    return api.post(tenant, user, "/api/ledger/runs", json={"period": period})


def line_of(statements: list[dict[str, Any]], staff: str) -> dict[str, Any] | None:
    found = [s for s in statements if s["staff"] == staff]
    assert len(found) <= 1, found
    return found[0] if found else None


def statement(period: str, staff: str, owed: str, pay: str, deducted: str, carried: str) -> dict:
    return {
        "period": period,
        "staff": staff,
        "owed_yuan": owed,
        "pay_yuan": pay,
        "deducted_yuan": deducted,
        "carried_yuan": carried,
        "written_off_yuan": "0.00",
        "forfeited_yuan": "0.00",
        "credited_yuan": "0.00",
        "appraisal_points": 0,  # points of penalties decided in the month (issue 23 §4)
        "appraisal_points_credited": 0,  # given back for penalties superseded since
    }


def test_utility_1500_owed_600_pay_deducted_over_three_months(api):
    """[002 《客户投诉管理考核办法》第二十八条] 1,500 yuan of decided fines (one confirmed, one
    adjusted with a reason), 600 yuan of monthly performance pay: 600, 600, 300 over three
    runs (owed/deducted/carried 1500/600/900, 900/600/300, 300/300/0). Rerunning a month
    changes nothing (200, created false, same statements); a month with nothing owed has no
    line; proposed and waived penalties are never deducted."""
    tenant, staff, dept, head = "riverside-power", "RP-S006", "ops-maintenance", "head-ops"

    _, confirmed = graded(
        api, tenant, dept, head,
        {"staff": staff, "grade": "main", "offence": "general_abusive_attitude"},
    )  # fmt: skip
    confirmed = decide(api, tenant, confirmed, "confirm")
    assert confirmed["status"] == "confirmed"
    first = int(float(confirmed["final_yuan"]))
    assert 0 < first < 1500
    _, adjusted = graded(
        api, tenant, dept, head,
        {"staff": staff, "grade": "main", "offence": "general_poor_attitude"},
    )  # fmt: skip
    adjusted = decide(
        api, tenant, adjusted, "adjust", amount_yuan=str(1500 - first),
        reason="repeated abuse of the same customer; HR assessment",
    )  # fmt: skip
    assert adjusted["status"] == "adjusted"
    assert float(adjusted["final_yuan"]) + float(confirmed["final_yuan"]) == 1500
    _, waived = graded(
        api, tenant, dept, head,
        {"staff": staff, "grade": "secondary", "offence": "general_work_quality_no_loss"},
    )  # fmt: skip
    assert decide(api, tenant, waived, "waive", reason="not proven")["status"] == "waived"
    _, pending = graded(
        api, tenant, dept, head,
        {"staff": staff, "grade": "secondary", "offence": "general_work_quality_loss"},
    )  # fmt: skip

    # The month's performance pay, set by the tenant admin (HR) only.
    r = set_pay(api, tenant, staff, "2031-01", "600", user="manager")
    assert r.status_code == 403, r.text
    for month in ("2031-01", "2031-02", "2031-03", "2031-04"):
        r = set_pay(api, tenant, staff, month, "600")
        assert r.status_code == 200, r.text
        assert r.json() == {"staff": staff, "period": month, "amount_yuan": "600.00"}

    r = run(api, tenant, "2031-01", user="clerk")
    assert r.status_code == 403, r.text

    expected = {
        "2031-01": statement("2031-01", staff, "1500.00", "600.00", "600.00", "900.00"),
        "2031-02": statement("2031-02", staff, "900.00", "600.00", "600.00", "300.00"),
        "2031-03": statement("2031-03", staff, "300.00", "600.00", "300.00", "0.00"),
    }
    for period, want in expected.items():
        r = run(api, tenant, period)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["period"], body["created"], body["carry_over"]) == (period, True, True)
        assert line_of(body["statements"], staff) == want

        again = run(api, tenant, period)
        assert again.status_code == 200, again.text
        assert again.json()["created"] is False
        assert again.json()["statements"] == body["statements"]
        # Pay is fixed once the month is run.
        r = set_pay(api, tenant, staff, period, "1000")
        assert r.status_code == 409, r.text

    r = run(api, tenant, "2031-04")
    assert r.status_code == 201, r.text
    assert line_of(r.json()["statements"], staff) is None

    r = api.get(tenant, "manager", "/api/ledger/statements", params={"staff": staff})
    assert r.status_code == 200, r.text
    mine = [s for s in r.json() if s["period"].startswith("2031-")]
    assert mine == list(expected.values())
    r = api.get(tenant, "admin", "/api/ledger/statements", params={"period": "2031-02"})
    assert line_of(r.json(), staff) == expected["2031-02"]
    # A staff member reads only their own statements.
    r = api.get(tenant, "staff-chen", "/api/ledger/statements", params={"staff": staff})
    assert r.status_code == 200 and r.json() == [], r.text
    r = api.get(tenant, "staff-chen", "/api/ledger/statements")
    assert r.status_code == 200 and {s["staff"] for s in r.json()} <= {"RP-S001"}, r.text

    # The still-proposed penalty is owed only once a manager decides it.
    pending = decide(api, tenant, pending, "confirm")
    r = set_pay(api, tenant, staff, "2031-05", "600")
    assert r.status_code == 200, r.text
    r = run(api, tenant, "2031-05")
    assert r.status_code == 201, r.text
    owed = pending["final_yuan"]
    assert line_of(r.json()["statements"], staff) == statement(
        "2031-05", staff, owed, "600.00", owed, "0.00"
    )


def test_greenwood_carry_over_from_its_tenant_file(api):
    """greenwood's tenant file sets carry_over = true (property's seed writes none, domain §5):
    a confirmed tier-3 fine (300 yuan, 000 §篇7 六3) larger than the month's pay is deducted
    over the following months instead of being written off."""
    tenant, staff = "greenwood", "GW-S005"
    _, p = graded(
        api, tenant, "security", "head-security",
        {"staff": staff, "grade": "main", "offence": "tier_3"},
    )  # fmt: skip
    assert p["proposed_yuan"] == "300.00"
    p = decide(api, tenant, p, "confirm")
    assert (p["status"], p["final_yuan"]) == ("confirmed", "300.00")
    for month in ("2032-01", "2032-02", "2032-03"):
        assert set_pay(api, tenant, staff, month, "120").status_code == 200

    expected = [
        statement("2032-01", staff, "300.00", "120.00", "120.00", "180.00"),
        statement("2032-02", staff, "180.00", "120.00", "120.00", "60.00"),
        statement("2032-03", staff, "60.00", "120.00", "60.00", "0.00"),
    ]
    for want in expected:
        r = run(api, tenant, want["period"])
        assert r.status_code == 201, r.text
        assert r.json()["carry_over"] is True
        assert line_of(r.json()["statements"], staff) == want
    r = run(api, tenant, "2032-04")
    assert r.status_code == 201, r.text
    assert line_of(r.json()["statements"], staff) is None


def test_ledger_inputs_are_checked(api):
    """Bad periods and unknown staff are refused naming the field; runs are for HR and
    management only."""
    r = run(api, "riverside-power", "2031-13")
    assert r.status_code == 422 and r.json()["error"]["field"] == "period", r.text
    r = run(api, "riverside-power", "31-01")
    assert r.status_code == 422, r.text
    r = set_pay(api, "riverside-power", "RP-S999", "2033-01", "600")
    assert r.status_code == 404 and r.json()["error"]["field"] == "staff", r.text
    r = set_pay(api, "riverside-power", "RP-S006", "2033-01", "-1")
    assert r.status_code == 422 and r.json()["error"]["field"] == "amount_yuan", r.text
    r = set_pay(api, "riverside-power", "RP-S006", "2033-1", "600")
    assert r.status_code == 422 and r.json()["error"]["field"] == "period", r.text
    # Another tenant's staff code is unknown here.
    r = set_pay(api, "riverside-power", "GW-S005", "2033-01", "600")
    assert r.status_code == 404, r.text
    for user in ("clerk", "supervisor", "head-ops", "staff-chen"):
        assert run(api, "riverside-power", "2033-01", user=user).status_code == 403, user
    r = api.get("riverside-power", "manager", "/api/ledger/statements", params={"staff": "X-1"})
    assert r.status_code == 404, r.text


def test_statements_refuse_a_month_that_is_no_month(api):
    """``?period=2026-13`` is a 422 naming ``period`` in Chinese, never an empty list that
    reads as "nothing was deducted"."""
    for bad in ("2026-13", "2026-00", "abc", "2026-1"):
        r = api.client.get("/api/ledger/statements", params={"period": bad}, headers={
            **api.headers("riverside-power", "manager"), "Accept-Language": "zh-CN",
        })  # fmt: skip
        assert r.status_code == 422, (bad, r.text)
        error = r.json()["error"]
        assert error["field"] == "period" and "期间" in error["message"], error
    r = api.get("riverside-power", "manager", "/api/ledger/statements",
                params={"period": "2026-12"})  # fmt: skip
    assert r.status_code == 200, r.text
