"""Penalties proposed from grades, per demo tenant, and decided by a manager (issue 4,
done-when 1 and 2).

Proposals follow the plugin's schedule and the tenant's amounts in force at grading time:

- greenwood (property) — the grader picks an offence tier [000 §篇7 六];
- riverside-power (utility) — general tiers picked by the grader, major minima, doubling for an
  outside escalation, a 500-yuan unit charge for a falsified reply
  [002 《客户投诉管理考核办法》第二十四条–第二十六条];
- citybus (transit) — consequences per grade, the fine amount set by the tenant file
  (fine_main = 100 yuan) [000 §篇8 3(3)].

Nothing is applied silently: every penalty stays ``proposed`` until a manager confirms, adjusts
(with a reason) or waives (with a reason), and every decision is a ticket history event.

Tenant fine settings: a tenant admin versions the amounts; earlier penalties keep theirs;
out-of-range amounts need a reason; a future ``effective_from`` does not apply to an earlier
grade. These tests restore the amounts they change, so the shared database keeps the demo
amounts for the other tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core import clock

# tenant: (channel, category, severity, facets, department, head)
SETUP: dict[str, tuple[str, str, str, dict[str, str], str, str]] = {
    "greenwood": ("phone", "repair_quality", "important", {"nature": "valid"}, "engineering",
                  "head-engineering"),
    "riverside-power": ("hotline_95598", "meter_reading", "general",
                        {"commitment_breach": "other", "verified_responsibility": "verified"},
                        "station-chengguan", "head-chengguan"),
    "citybus": ("government_transfer", "skip_stop", "general",
                {"direction": "government", "mode": "phone"}, "fleet-1", "head-fleet1"),
}  # fmt: skip
VIOLATION = "boarded by the rear door without paying"


@pytest.fixture
def frozen_clock():
    """Reset the application's clock whatever the test does with it."""
    clock.reset()
    yield clock
    clock.reset()


# ---------------------------------------------------------------- helpers


def to_in_progress(
    api: Any,
    tenant: str,
    staff: list[str],
    *,
    severity: str | None = None,
    facts: dict[str, Any] | None = None,
    dept: str | None = None,
    head: str | None = None,
) -> dict[str, Any]:
    channel, category, default_severity, facets, default_dept, default_head = SETUP[tenant]
    dept, head = dept or default_dept, head or default_head
    extra = {"facts": facts} if facts is not None else {}
    t = api.create(tenant, channel=channel, accused_staff=staff, accused_department=dept, **extra)
    t = api.act(
        tenant,
        "clerk",
        t,
        "triage_valid",
        category=category,
        severity=severity or default_severity,
        facets=facets,
    )
    t = api.act(tenant, "clerk", t, "register", reason="on_site")
    t = api.act(tenant, "supervisor", t, "review")
    t = api.act(tenant, "clerk", t, "dispatch", department=dept)
    t = api.act(tenant, head, t, "first_contact", note="called the complainant")
    assert t["state"] == "in_progress"
    return t


def grade(
    api: Any, tenant: str, t: dict[str, Any], lines: list[dict[str, Any]], head: str | None = None
) -> dict[str, Any]:
    head = head or SETUP[tenant][5]
    lines = [{"findings": "established on site"} | line for line in lines]
    t = api.act(tenant, head, t, "grade", findings="investigated", grades=lines)
    assert t["state"] == "graded"
    return t


def penalties(api: Any, tenant: str, t: dict[str, Any], user: str = "manager") -> list[Any]:
    r = api.get(tenant, user, f"/api/tickets/{t['id']}/penalties")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def history(api: Any, tenant: str, t: dict[str, Any]) -> list[Any]:
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def fines(api: Any, tenant: str, user: str = "manager") -> dict[str, Any]:
    r = api.get(tenant, user, "/api/config/fines")
    assert r.status_code == 200, r.text
    return {x["rule"]: x for x in r.json()}


def decide(
    api: Any, tenant: str, user: str, penalty: dict[str, Any], action: str, **body: Any
) -> Any:
    return api.post(tenant, user, f"/api/penalties/{penalty['id']}/{action}", json=body)


def by(rows: list[dict[str, Any]], **where: Any) -> list[dict[str, Any]]:
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def one(rows: list[dict[str, Any]], **where: Any) -> dict[str, Any]:
    found = by(rows, **where)
    assert len(found) == 1, (where, rows)
    return found[0]


def put_fine(api: Any, tenant: str, rule: str, user: str = "admin", **body: Any) -> Any:
    return api.client.put(f"/api/config/fines/{rule}", json=body, headers=api.headers(tenant, user))


# ---------------------------------------------------------------- proposals per tenant


def test_property_tiers_main_and_secondary(api):
    """[000 §篇7 六] The grader picks the tier: main at tier_2 → 200 yuan + 警告处分 + 5 appraisal
    points + 通报全公司; secondary at tier_1 → the tenant's tier-1 amount (30–100 range). The
    grade does not change the amount; nothing is charged to a unit."""
    amounts = fines(api, "greenwood")
    assert amounts["tier_2"]["current_yuan"] == "200.00"
    assert amounts["tier_1"]["range"] == "30.00–100.00 yuan"
    tier_1 = amounts["tier_1"]["current_yuan"]
    t = to_in_progress(api, "greenwood", ["GW-S001", "GW-S002"])
    t = grade(
        api,
        "greenwood",
        t,
        [
            {"staff": "GW-S001", "grade": "main", "offence": "tier_2"},
            {"staff": "GW-S002", "grade": "secondary", "offence": "tier_1"},
        ],
    )
    rows = penalties(api, "greenwood", t)
    assert len(rows) == 2
    main = one(rows, staff="GW-S001")
    assert main["rule"] == "tier_2"
    assert main["status"] == "proposed"
    assert main["proposed_yuan"] == "200.00"
    assert main["final_yuan"] is None and main["decided_at"] is None
    assert main["sanctions"] == ["警告处分", "通报全公司"]
    assert main["appraisal_points"] == 5
    assert main["whole_month_pay"] is False
    assert main["unit"] is None and main["multiplier"] == 1
    assert "000 §篇7 六" in main["reason"] and t["number"] in main["reason"]
    sec = one(rows, staff="GW-S002")
    assert (sec["rule"], sec["status"], sec["proposed_yuan"]) == ("tier_1", "proposed", tier_1)
    assert sec["sanctions"] == [] and sec["appraisal_points"] == 0
    # The grade recorded no penalty by itself: nothing decided, nothing in the history yet.
    assert not [e for e in history(api, "greenwood", t) if e["action"].startswith("penalty_")]


def test_property_tier_4_and_5_and_none(api):
    """[000 §篇7 六4, 六5] tier_4 = 1,000 yuan + the month's performance pay + 记大过处分; tier_5
    has no fine (the manager sets an amount, if any, by adjusting); grade none → no penalty."""
    t = to_in_progress(api, "greenwood", ["GW-S001", "GW-S002", "GW-S003"])
    t = grade(
        api,
        "greenwood",
        t,
        [
            {"staff": "GW-S001", "grade": "main", "offence": "tier_4"},
            {"staff": "GW-S002", "grade": "secondary", "offence": "tier_5"},
            {"staff": "GW-S003", "grade": "none"},
        ],
    )
    rows = penalties(api, "greenwood", t)
    assert sorted(r["staff"] for r in rows) == ["GW-S001", "GW-S002"]  # none → nothing
    t4 = one(rows, staff="GW-S001")
    assert (t4["rule"], t4["proposed_yuan"], t4["whole_month_pay"]) == ("tier_4", "1000.00", True)
    assert "记大过处分" in t4["sanctions"]
    t5 = one(rows, staff="GW-S002")
    assert (t5["rule"], t5["proposed_yuan"]) == ("tier_5", None)
    assert "辞退或开除" in t5["sanctions"]
    # No amount to confirm: the manager must adjust it with an amount and a reason.
    r = decide(api, "greenwood", "manager", t5, "confirm")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "amount_yuan"
    r = decide(api, "greenwood", "manager", t5, "adjust", amount_yuan="0", reason="dismissed")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["final_yuan"]) == ("adjusted", "0.00")


def test_utility_general_main_and_secondary(api):
    """[002 《客户投诉管理考核办法》第二十四条(三)] A general event: the grader picks the tier;
    main for poor attitude (200–500) and secondary for a work-quality fault without loss
    (100–200) take the tenant's amounts (riverside-power sets none: the seed's low ends)."""
    amounts = fines(api, "riverside-power")
    assert amounts["general_poor_attitude"]["current_yuan"] == "200.00"
    assert amounts["general_work_quality_no_loss"]["current_yuan"] == "100.00"
    t = to_in_progress(api, "riverside-power", ["RP-S001", "RP-S002"])
    t = grade(
        api,
        "riverside-power",
        t,
        [
            {"staff": "RP-S001", "grade": "main", "offence": "general_poor_attitude"},
            {"staff": "RP-S002", "grade": "secondary", "offence": "general_work_quality_no_loss"},
        ],
    )
    rows = penalties(api, "riverside-power", t)
    assert len(rows) == 2
    main = one(rows, staff="RP-S001")
    assert (main["rule"], main["status"], main["proposed_yuan"]) == (
        "general_poor_attitude",
        "proposed",
        "200.00",
    )
    assert main["minimum_yuan"] is None and main["multiplier"] == 1
    assert "第二十四条(三)" in main["reason"]
    sec = one(rows, staff="RP-S002")
    assert (sec["rule"], sec["status"], sec["proposed_yuan"]) == (
        "general_work_quality_no_loss",
        "proposed",
        "100.00",
    )


def test_utility_general_offence_must_be_picked(api):
    """[第二十四条(一)–(三)] A general event without an offence is refused, naming the field."""
    t = to_in_progress(api, "riverside-power", ["RP-S003"])
    r = api.post(
        "riverside-power",
        "head-chengguan",
        f"/api/tickets/{t['id']}/grade",
        json={
            "version": t["version"],
            "findings": "x",
            "grades": [{"staff": "RP-S003", "grade": "main", "findings": "x"}],
        },
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "grades[0].offence"
    assert penalties(api, "riverside-power", t) == []


def test_utility_major_minima(api):
    """[第二十四条(四)1] A major event: ≥ 800 yuan for the main responsible, ≥ 600 for the
    secondary, with the seed's sanctions; the grader picks no offence."""
    t = to_in_progress(api, "riverside-power", ["RP-S001", "RP-S002"], severity="major")
    t = grade(
        api,
        "riverside-power",
        t,
        [
            {"staff": "RP-S001", "grade": "main"},
            {"staff": "RP-S002", "grade": "secondary"},
        ],
    )
    rows = penalties(api, "riverside-power", t)
    assert len(rows) == 2
    main = one(rows, staff="RP-S001")
    assert (main["rule"], main["proposed_yuan"], main["minimum_yuan"], main["multiplier"]) == (
        "major_main",
        "800.00",
        "800.00",
        1,
    )
    assert main["sanctions"] and "记大过" in main["sanctions"][0]
    sec = one(rows, staff="RP-S002")
    assert (sec["rule"], sec["proposed_yuan"], sec["minimum_yuan"]) == (
        "major_secondary",
        "600.00",
        "600.00",
    )
    assert all(x["status"] == "proposed" for x in rows)
    # Going below the floor is a manager's adjustment with a reason (never a confirmation).
    r = decide(api, "riverside-power", "manager", main, "adjust", amount_yuan="700")
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason", r.text
    r = decide(
        api, "riverside-power", "manager", main, "adjust", amount_yuan="700.00",
        reason="first offence in 20 years; the grid company agreed",
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["final_yuan"], r.json()["minimum_yuan"]) == (
        "adjusted",
        "700.00",
        "800.00",
    )


def test_utility_external_escalation_doubles_major_at_intake(api):
    """[第二十五条] Confirmed through an outside supervision channel (facts.external_escalation
    true, recorded at intake): amounts and minima doubled, multiplier 2."""
    t = to_in_progress(
        api,
        "riverside-power",
        ["RP-S001", "RP-S002"],
        severity="major",
        facts={"external_escalation": True},
    )
    t = grade(
        api,
        "riverside-power",
        t,
        [
            {"staff": "RP-S001", "grade": "main"},
            {"staff": "RP-S002", "grade": "secondary"},
        ],
    )
    rows = penalties(api, "riverside-power", t)
    main = one(rows, staff="RP-S001")
    assert (main["rule"], main["proposed_yuan"], main["minimum_yuan"], main["multiplier"]) == (
        "major_main",
        "1600.00",
        "1600.00",
        2,
    )
    assert "第二十五条" in main["reason"]
    sec = one(rows, staff="RP-S002")
    assert (sec["rule"], sec["proposed_yuan"], sec["minimum_yuan"], sec["multiplier"]) == (
        "major_secondary",
        "1200.00",
        "1200.00",
        2,
    )


def test_utility_external_escalation_doubles_general_via_reclassify(api):
    """[第二十五条] The escalation fact recorded later by reclassifying (facts) doubles a
    general event's tenant amounts too."""
    amounts = fines(api, "riverside-power")
    attitude = amounts["general_poor_attitude"]["current_yuan"]
    quality = amounts["general_work_quality_no_loss"]["current_yuan"]
    t = to_in_progress(api, "riverside-power", ["RP-S001", "RP-S002"])
    t = api.act(
        "riverside-power",
        "supervisor",
        t,
        "reclassify",
        reason="the regulator forwarded it and found it true",
        facts={"external_escalation": True},
    )
    assert t["facts"]["external_escalation"] is True
    t = grade(
        api,
        "riverside-power",
        t,
        [
            {"staff": "RP-S001", "grade": "main", "offence": "general_poor_attitude"},
            {"staff": "RP-S002", "grade": "secondary", "offence": "general_work_quality_no_loss"},
        ],
    )
    rows = penalties(api, "riverside-power", t)
    main = one(rows, staff="RP-S001")
    assert main["multiplier"] == 2
    assert float(main["proposed_yuan"]) == 2 * float(attitude) == 400
    assert main["minimum_yuan"] is None  # a range, not a floor
    sec = one(rows, staff="RP-S002")
    assert sec["multiplier"] == 2
    assert float(sec["proposed_yuan"]) == 2 * float(quality) == 200


def test_utility_falsified_reply_charges_the_unit(api):
    """[第二十六条] A falsified or concealing reply: 500 yuan per case charged to the
    responsible unit (the department of the person graded main), not to a person."""
    t = to_in_progress(api, "riverside-power", ["RP-S001"], facts={"external_escalation": True})
    t = api.act(
        "riverside-power",
        "manager",
        t,
        "reclassify",
        reason="the station's first reply hid the estimated bill",
        facts={"falsified_reply": True},
    )
    assert t["facts"] == {"external_escalation": True, "falsified_reply": True}
    t = grade(
        api,
        "riverside-power",
        t,
        [{"staff": "RP-S001", "grade": "main", "offence": "general_poor_attitude"}],
    )
    rows = penalties(api, "riverside-power", t)
    assert len(rows) == 2
    unit = one(rows, rule="falsified_reply")
    assert unit["staff"] is None
    assert unit["unit"] == "station-chengguan"
    assert unit["proposed_yuan"] == "500.00"  # a fixed charge per case: not doubled
    assert unit["multiplier"] == 1
    assert unit["status"] == "proposed"
    assert "第二十六条" in unit["reason"]
    assert any("通报批评" in s for s in unit["sanctions"])
    r = decide(api, "riverside-power", "manager", unit, "confirm")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["final_yuan"], r.json()["unit"]) == (
        "confirmed",
        "500.00",
        "station-chengguan",
    )


def test_transit_main_fine_secondary_no_fine(api):
    """[000 §篇8 3(3)2)、3)] main → the tenant's fine (citybus: fine_main = 100 yuan) +
    批评教育 + 向乘客道歉; secondary → 批评教育并总结经验 + apology, no fine."""
    assert fines(api, "citybus")["fine_main"]["current_yuan"] == "100.00"
    t = to_in_progress(api, "citybus", ["CB-S001", "CB-S002"])
    t = grade(
        api,
        "citybus",
        t,
        [
            {"staff": "CB-S001", "grade": "main", "complainant_violation": VIOLATION},
            {"staff": "CB-S002", "grade": "secondary", "complainant_violation": VIOLATION},
        ],
    )
    rows = penalties(api, "citybus", t)
    assert [(r["staff"], r["rule"], r["proposed_yuan"]) for r in rows] == [
        ("CB-S001", "fine_main", "100.00"),
        ("CB-S001", "criticism", "0.00"),
        ("CB-S001", "apology", "0.00"),
        ("CB-S002", "criticism_lesson", "0.00"),
        ("CB-S002", "apology", "0.00"),
    ]
    assert all(r["status"] == "proposed" for r in rows)
    assert one(rows, staff="CB-S001", rule="apology")["sanctions"] == ["向乘客道歉"]
    assert not [r for r in by(rows, staff="CB-S002") if r["rule"].startswith("fine")]


# ---------------------------------------------------------------- decisions


def test_decisions_manager_only_reasons_required_and_in_history(api):
    """Proposed until a manager decides [domain §5]: clerk, staff and department head get 403;
    adjust and waive need a reason (422 naming reason); each decision is decided once (409)
    and is a ticket history event (penalty_confirm / penalty_adjust / penalty_waive)."""
    t = to_in_progress(api, "greenwood", ["GW-S001", "GW-S002", "GW-S003"])
    t = grade(
        api,
        "greenwood",
        t,
        [
            {"staff": "GW-S001", "grade": "main", "offence": "tier_2"},
            {"staff": "GW-S002", "grade": "secondary", "offence": "tier_1"},
            {"staff": "GW-S003", "grade": "secondary", "offence": "tier_3"},
        ],
    )
    rows = penalties(api, "greenwood", t)
    p_main, p_sec, p_third = (one(rows, staff=c) for c in ("GW-S001", "GW-S002", "GW-S003"))

    # The staff member sees only their own penalty.
    own = penalties(api, "greenwood", t, user="staff-wang")
    assert [(x["staff"], x["rule"]) for x in own] == [("GW-S001", "tier_2")]

    for user in ("clerk", "supervisor", "staff-wang", "head-engineering", "admin"):
        for action, body in (
            ("confirm", {}),
            ("adjust", {"amount_yuan": "10", "reason": "x"}),
            ("waive", {"reason": "x"}),
        ):
            r = decide(api, "greenwood", user, p_main, action, **body)
            assert r.status_code == 403, f"{user} {action}: {r.status_code} {r.text}"
            if user == "staff-wang":  # complained about: refused as named (issue 9 #12)
                assert r.json()["error"]["rule"] == "conflict of interest"
                continue
            assert "manager" in r.json()["error"]["allowed_roles"]
    # Another tenant's manager does not even see it.
    r = decide(api, "riverside-power", "manager", p_main, "confirm")
    assert r.status_code == 404, r.text
    assert all(x["status"] == "proposed" for x in penalties(api, "greenwood", t))

    # Reasons are required for adjust and waive; the amount for adjust.
    for action, body in (
        ("adjust", {"amount_yuan": "80"}),
        ("adjust", {"amount_yuan": "80", "reason": "   "}),
        ("waive", {}),
        ("waive", {"reason": ""}),
    ):
        r = decide(api, "greenwood", "manager", p_sec, action, **body)
        assert r.status_code == 422, f"{action} {body}: {r.status_code} {r.text}"
        assert r.json()["error"]["field"] == "reason", r.text
    r = decide(api, "greenwood", "manager", p_sec, "adjust", reason="no amount")
    assert r.status_code == 422 and r.json()["error"]["field"] == "amount_yuan", r.text
    r = decide(api, "greenwood", "manager", p_sec, "adjust", amount_yuan="-5", reason="x")
    assert r.status_code == 422 and r.json()["error"]["field"] == "amount_yuan", r.text
    assert one(penalties(api, "greenwood", t), staff="GW-S002")["status"] == "proposed"

    # The manager decides: confirm, adjust, waive (the general manager may too).
    r = decide(api, "greenwood", "manager", p_main, "confirm")
    assert r.status_code == 200, r.text
    confirmed = r.json()
    assert (confirmed["status"], confirmed["final_yuan"]) == ("confirmed", "200.00")
    assert confirmed["decided_at"] is not None
    r = decide(api, "greenwood", "manager", p_sec, "adjust", amount_yuan="80.50",
               reason="repeat of last month's complaint")  # fmt: skip
    assert r.status_code == 200, r.text
    adjusted = r.json()
    assert (adjusted["status"], adjusted["final_yuan"]) == ("adjusted", "80.50")
    assert adjusted["proposed_yuan"] == p_sec["proposed_yuan"]  # the proposal is kept
    assert adjusted["decision_reason"] == "repeat of last month's complaint"
    r = decide(api, "greenwood", "gm", p_third, "waive", reason="the tenant admitted a mistake")
    assert r.status_code == 200, r.text
    waived = r.json()
    assert (waived["status"], waived["final_yuan"]) == ("waived", "0.00")

    # Decided once.
    for p in (p_main, p_sec, p_third):
        r = decide(api, "greenwood", "manager", p, "confirm")
        assert r.status_code == 409, r.text
    assert [(x["staff"], x["status"]) for x in penalties(api, "greenwood", t)] == [
        ("GW-S001", "confirmed"),
        ("GW-S002", "adjusted"),
        ("GW-S003", "waived"),
    ]

    decisions = [e for e in history(api, "greenwood", t) if e["action"].startswith("penalty_")]
    assert [(e["action"], e["actor"], e["actor_role"]) for e in decisions] == [
        ("penalty_confirm", "manager", "manager"),
        ("penalty_adjust", "manager", "manager"),
        ("penalty_waive", "gm", "general_manager"),
    ]
    assert [e["payload"]["penalty_id"] for e in decisions] == [
        p_main["id"],
        p_sec["id"],
        p_third["id"],
    ]
    assert decisions[0]["payload"]["final_fen"] == 20000
    assert decisions[1]["payload"]["final_fen"] == 8050
    assert decisions[1]["payload"]["reason"] == "repeat of last month's complaint"
    assert decisions[2]["payload"]["final_fen"] == 0
    assert decisions[2]["payload"]["reason"] == "the tenant admitted a mistake"
    # The decisions leave the ticket where it was.
    assert {(e["from_state"], e["to_state"]) for e in decisions} == {("graded", "graded")}


@pytest.mark.parametrize("tenant", sorted(SETUP))
def test_clerk_and_staff_cannot_decide(api, tenant):
    """Every demo tenant: a clerk or the graded staff member cannot decide a penalty (403);
    the manager can."""
    staff_user, code = {
        "greenwood": ("staff-wang", "GW-S001"),
        "riverside-power": ("staff-chen", "RP-S001"),
        "citybus": ("staff-wang", "CB-S001"),
    }[tenant]
    line = {"staff": code, "grade": "main"} | {
        "greenwood": {"offence": "tier_3"},
        "riverside-power": {"offence": "general_abusive_attitude"},
        "citybus": {"complainant_violation": VIOLATION},
    }[tenant]
    t = grade(api, tenant, to_in_progress(api, tenant, [code]), [line])
    rows = penalties(api, tenant, t)
    assert rows and all(r["status"] == "proposed" for r in rows)
    first = rows[0]
    for user in ("clerk", staff_user):
        for action, body in (("confirm", {}), ("waive", {"reason": "x"})):
            r = decide(api, tenant, user, first, action, **body)
            assert r.status_code == 403, f"{user} {action}: {r.status_code} {r.text}"
            assert r.json()["error"]["code"] == "forbidden"
    r = decide(api, tenant, "manager", first, "confirm")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    assert r.json()["final_yuan"] == first["proposed_yuan"]
    hist = history(api, tenant, t)
    assert hist[-1]["action"] == "penalty_confirm" and hist[-1]["actor"] == "manager"


# ---------------------------------------------------------------- tenant fine settings


def test_fine_change_versions_and_keeps_earlier_penalties(api, frozen_clock):
    """[domain §5] A tenant admin changes tier_1 (30–100 yuan, 000 §篇7 六1): a penalty proposed
    earlier keeps its amount, a later grade uses the new one; out of range needs a reason
    (422 naming amount_yuan and the range), with one it is flagged out_of_range; the history
    lists the versions; a future effective_from does not price a grade given before it."""
    tenant = "greenwood"
    before = fines(api, tenant)["tier_1"]
    old = before["current_yuan"]
    assert (before["min_yuan"], before["max_yuan"]) == ("30.00", "100.00")
    mine: list[int] = []
    future: str | None = None

    def grade_one(code: str) -> dict[str, Any]:
        t = to_in_progress(api, tenant, [code], dept="environment", head="head-environment")
        t = grade(
            api,
            tenant,
            t,
            [{"staff": code, "grade": "main", "offence": "tier_1"}],
            head="head-environment",
        )
        return one(penalties(api, tenant, t), staff=code) | {"ticket": t}

    try:
        first = grade_one("GW-S006")
        assert first["proposed_yuan"] == old

        new = "80.00" if old != "80.00" else "70.00"
        r = put_fine(api, tenant, "tier_1", amount_yuan=new)
        assert r.status_code == 200, r.text
        v1 = r.json()
        mine.append(v1["id"])
        assert (v1["rule"], v1["amount_yuan"], v1["out_of_range"]) == ("tier_1", new, False)
        assert v1["set_by"].startswith("user:")
        assert fines(api, tenant)["tier_1"]["current_yuan"] == new

        second = grade_one("GW-S007")
        assert second["proposed_yuan"] == new
        assert one(penalties(api, tenant, first["ticket"]), staff="GW-S006")["proposed_yuan"] == old

        # Out of range without a reason: refused, naming the field and the range.
        r = put_fine(api, tenant, "tier_1", amount_yuan="150")
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["field"] == "amount_yuan"
        assert "30.00–100.00" in err["message"] and "150.00" in err["message"]
        assert "30.00–100.00 元" in err["message"] and "yuan" not in err["message"], err
        assert "30.00–100.00" in err["rule"]
        r = put_fine(api, tenant, "tier_1", amount_yuan="150", reason="   ")
        assert r.status_code == 422, r.text
        assert fines(api, tenant)["tier_1"]["current_yuan"] == new  # nothing changed

        # With a reason: accepted and flagged.
        r = put_fine(api, tenant, "tier_1", amount_yuan="150", reason="board decision 2026-11")
        assert r.status_code == 200, r.text
        v2 = r.json()
        mine.append(v2["id"])
        assert (v2["amount_yuan"], v2["out_of_range"], v2["reason"]) == (
            "150.00",
            True,
            "board decision 2026-11",
        )
        assert fines(api, tenant)["tier_1"]["current_yuan"] == "150.00"

        # A future amount does not apply to a grade given before it takes effect.
        start = clock.now() + dt.timedelta(days=10)
        r = put_fine(api, tenant, "tier_1", amount_yuan="90", effective_from=start.isoformat())
        assert r.status_code == 200, r.text
        v3 = r.json()
        mine.append(v3["id"])
        future = v3["effective_from"]
        assert dt.datetime.fromisoformat(v3["effective_from"]) == start
        assert fines(api, tenant)["tier_1"]["current_yuan"] == "150.00"
        third = grade_one("GW-S008")
        assert third["proposed_yuan"] == "150.00"

        history_rows = api.get(tenant, "manager", "/api/config/fines/history").json()
        versions = [x for x in history_rows if x["id"] in mine]
        assert [(x["rule"], x["amount_yuan"], x["out_of_range"]) for x in versions] == [
            ("tier_1", new, False),
            ("tier_1", "150.00", True),
            ("tier_1", "90.00", False),
        ]
        assert [x["id"] for x in history_rows] == sorted(x["id"] for x in history_rows)

        # Once the day comes, the future amount is in force and prices new grades only.
        clock.travel_to(start + dt.timedelta(hours=1))
        assert fines(api, tenant)["tier_1"]["current_yuan"] == "90.00"
        assert one(penalties(api, tenant, third["ticket"]), staff="GW-S008")["proposed_yuan"] == (
            "150.00"
        )
    finally:
        clock.reset()
        # Put the amount in force back, now and from the future version's start (a later
        # version with the same effective_from wins), so other tests see the demo amount.
        r = put_fine(api, tenant, "tier_1", amount_yuan=old, reason="test cleanup")
        assert r.status_code == 200, r.text
        if future is not None:
            r = put_fine(
                api, tenant, "tier_1", amount_yuan=old, reason="test cleanup",
                effective_from=future,
            )  # fmt: skip
            assert r.status_code == 200, r.text
    assert fines(api, tenant)["tier_1"]["current_yuan"] == old


def test_fine_settings_admin_only(api):
    """Only the tenant admin sets amounts (403 for others); management and the admin read the
    schedule and the history; unknown rules are 404; amounts are whole fen >= 0."""
    for user in ("manager", "gm", "clerk", "supervisor", "head-engineering", "staff-wang"):
        r = put_fine(api, "greenwood", "tier_1", user=user, amount_yuan="60")
        assert r.status_code == 403, f"{user}: {r.status_code} {r.text}"
    for user in ("clerk", "staff-wang", "head-engineering"):
        assert api.get("greenwood", user, "/api/config/fines").status_code == 403, user
        assert api.get("greenwood", user, "/api/config/fines/history").status_code == 403, user
    for user in ("admin", "manager", "gm"):
        assert api.get("greenwood", user, "/api/config/fines").status_code == 200, user
        assert api.get("greenwood", user, "/api/config/fines/history").status_code == 200, user

    r = put_fine(api, "greenwood", "no_such_rule", amount_yuan="60")
    assert r.status_code == 404, r.text
    assert r.json()["error"]["field"] == "rule"
    r = put_fine(api, "greenwood", "tier_1", amount_yuan="60.001")
    assert r.status_code == 422 and r.json()["error"]["field"] == "amount_yuan", r.text
    r = put_fine(api, "greenwood", "tier_1", amount_yuan="-1", reason="x")
    assert r.status_code == 422 and r.json()["error"]["field"] == "amount_yuan", r.text
    # Another plugin's rule is not in this tenant's schedule.
    r = put_fine(api, "greenwood", "fine_main", amount_yuan="60")
    assert r.status_code == 404, r.text


def test_fine_change_is_audited(api):
    """[domain §5] "every change is audited": a fine set through the API appears in the audit
    log (GET /api/audit), as a tenant-file sync's fine change does (entity "fine")."""
    tenant = "riverside-power"
    rule = "general_abusive_attitude"
    old = fines(api, tenant)[rule]["current_yuan"]
    r = put_fine(api, tenant, rule, amount_yuan="450")
    assert r.status_code == 200, r.text
    try:
        r = api.get(tenant, "admin", "/api/audit")
        assert r.status_code == 200, r.text
        mentions = [
            a
            for a in r.json()
            if a["entity"] in ("fine", "fine_setting") and a["entity_key"].startswith(rule)
        ]
        assert mentions, "setting a fine through PUT /api/config/fines/{rule} left no audit event"
        assert mentions[0]["payload"].get("amount_fen") == 45000
    finally:
        r = put_fine(api, tenant, rule, amount_yuan=old, reason="test cleanup")
        assert r.status_code == 200, r.text
