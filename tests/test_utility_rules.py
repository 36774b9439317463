"""The power-supply (utility, 95598) rules, through the plugin's hooks.

Seeds: 002 《投诉举报管理办法》第四条 受理范围 (thresholds); 002 《客户投诉管理考核办法》
第九条 (counting), 第二十四条 (tiers), 第二十五条 (double), 第二十六条 (falsified reply),
第二十八条 (carry-over), 第十五条 (extension).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.plugins import hooks_for
from core.rules import GradeFacts, TicketFacts, yuan
from core.tickets.classification import check_facts


@pytest.fixture(scope="module")
def hooks():
    return hooks_for("utility")


def _ticket(severity=None, facts=None, facets=None, **kw):
    base = dict(
        number="RP-1",
        state="investigating",
        channel="phone",
        category=None,
        severity=severity,
        facets=facets or {},
        facts=facts or {},
        created_at=dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC),
    )
    return TicketFacts(**(base | kw))


def _grade(staff, grade, capacity="direct", offence=None, department="D1"):
    return GradeFacts(
        staff=staff, department=department, grade=grade, capacity=capacity, offence=offence
    )


def _flags(hooks, **facts):
    return {f.code: f for f in hooks.classify(_ticket(facts=facts)).flags}


def _amounts(hooks, **overrides):
    """What the core passes: every rule's default unless the tenant set one."""
    return {r.code: r.default_fen for r in hooks.penalty_schedule().rules} | overrides


# ------------------------------------------------------------------ taxonomy


def test_taxonomy_declares_facts_and_capacities(hooks):
    tax = hooks.taxonomy()
    codes = {f.code for f in tax.facts}
    assert {
        "area",
        "repair_arrival_minutes",
        "customer_type",
        "supply_plan_answer_working_days",
        "connection_working_days",
        "outage_notice_days",
        "disconnection_notice_days",
        "fault_service_24h",
        "verified_supplier_responsibility",
        "external_escalation",
        "customer_loss",
        "falsified_reply",
    } <= codes
    assert tax.fact("area").values == ("urban", "rural", "remote")
    assert all(f.seed.startswith("002 《") for f in tax.facts)
    # 第二十四条(四): workshop leader, department head, unit head or deputy.
    assert {c.code for c in tax.capacities} == {"workshop_leader", "department_head", "unit_leader"}
    assert all("第二十四条(四)" in c.seed for c in tax.capacities)
    # no "full" responsibility in the seed
    assert {g.code for g in tax.grades} == {"main", "secondary", "none"}
    # the core validates facts against these specs before any rule sees them
    assert check_facts(tax, {"area": "urban", "repair_arrival_minutes": 46}) == {
        "area": "urban",
        "repair_arrival_minutes": 46,
    }


def test_every_flag_code_is_a_commitment_breach_value(hooks):
    tax = hooks.taxonomy()
    values = {v.code for v in tax.facet("commitment_breach").values}
    flags = _flags(
        hooks,
        area="urban",
        repair_arrival_minutes=999,
        customer_type="residential",
        supply_plan_answer_working_days=99,
        connection_working_days=99,
        outage_notice_days=0,
        disconnection_notice_days=0,
        fault_service_24h=False,
    )
    assert set(flags) <= values
    assert len(flags) == 6  # one of the two connection items applies per customer


# ------------------------------------------------------------------ thresholds, both sides
# 002 《投诉举报管理办法》第四条: "超过" N is a breach, N itself is not.


@pytest.mark.parametrize(("area", "limit"), [("urban", 45), ("rural", 90), ("remote", 120)])
def test_repair_arrival(hooks, area, limit):
    assert "repair_crew_late" not in _flags(hooks, area=area, repair_arrival_minutes=limit)
    flag = _flags(hooks, area=area, repair_arrival_minutes=limit + 1)["repair_crew_late"]
    assert str(limit + 1) in flag.detail and str(limit) in flag.detail
    assert flag.seed == "002 《投诉举报管理办法》第四条第15项"


def test_repair_arrival_suggests_fault_repair(hooks):
    c = hooks.classify(_ticket(facts={"area": "urban", "repair_arrival_minutes": 46}))
    assert c.category == "fault_repair"
    # without the area nothing can be judged
    c = hooks.classify(_ticket(facts={"repair_arrival_minutes": 500}))
    assert not c.flags and any("area" in r for r in c.reasons)


@pytest.mark.parametrize(
    ("ctype", "limit"),
    [
        ("residential", 3),
        ("low_voltage", 7),
        ("high_voltage_single", 15),
        ("high_voltage_dual", 30),
    ],
)
def test_supply_plan(hooks, ctype, limit):
    ok = _flags(hooks, customer_type=ctype, supply_plan_answer_working_days=limit)
    assert "supply_plan_late" not in ok
    late = _flags(hooks, customer_type=ctype, supply_plan_answer_working_days=limit + 1)
    assert "第10项" in late["supply_plan_late"].seed
    assert f"{limit} working days" in late["supply_plan_late"].detail


@pytest.mark.parametrize(
    ("ctype", "code", "limit"),
    [
        ("residential", "residential_connection_late", 3),
        ("non_residential", "non_residential_connection_late", 5),
        ("low_voltage", "non_residential_connection_late", 5),
        ("high_voltage_dual", "non_residential_connection_late", 5),
    ],
)
def test_connection(hooks, ctype, code, limit):
    assert not _flags(hooks, customer_type=ctype, connection_working_days=limit)
    flags = _flags(hooks, customer_type=ctype, connection_working_days=limit + 1)
    assert set(flags) == {code}
    c = hooks.classify(_ticket(facts={"customer_type": ctype, "connection_working_days": 9}))
    assert c.category == "new_connection"


def test_planned_outage_notice(hooks):
    assert not _flags(hooks, outage_notice_days=7)
    flag = _flags(hooks, outage_notice_days=6)["planned_outage_not_announced"]
    assert flag.seed.endswith("第13项")


def test_arrears_disconnection_notice(hooks):
    assert not _flags(hooks, disconnection_notice_days=7)
    flag = _flags(hooks, disconnection_notice_days=6)["arrears_disconnection_without_notice"]
    assert flag.seed.endswith("第16项")


def test_24h_fault_service(hooks):
    assert not _flags(hooks, fault_service_24h=True)
    assert "no_24h_fault_service" in _flags(hooks, fault_service_24h=False)


def test_clerk_pick_of_an_unmeasured_item_is_flagged(hooks):
    c = hooks.classify(_ticket(facets={"commitment_breach": "gifts_accepted"}))
    assert [f.code for f in c.flags] == ["gifts_accepted"]
    # a measured pick the facts contradict is not flagged, only noted
    c = hooks.classify(
        _ticket(
            facets={"commitment_breach": "repair_crew_late"},
            facts={"area": "rural", "repair_arrival_minutes": 60},
        )
    )
    assert not c.flags and any("show no breach" in r for r in c.reasons)


# ------------------------------------------------------------------ 第九条 counting


def test_counts_as_complaint_only_once_verified(hooks):
    # 第九条: not counted until verified as the supplier's responsibility
    assert hooks.classify(_ticket()).counts_as_complaint is False
    yes = hooks.classify(_ticket(facts={"verified_supplier_responsibility": True}))
    no = hooks.classify(_ticket(facts={"verified_supplier_responsibility": False}))
    assert yes.counts_as_complaint is True
    assert no.counts_as_complaint is False
    assert any("第九条" in r for r in yes.reasons)


# ------------------------------------------------------------------ grading


def test_full_grade_is_rejected(hooks):
    assert "full" not in {g.code for g in hooks.taxonomy().grades}
    problems = hooks.check_grade(_ticket("general"), _grade("S1", "full"))
    assert problems and problems[0].field == "grade"


def test_general_direct_grade_needs_an_offence(hooks):
    t = _ticket("general")
    problems = hooks.check_grade(t, _grade("S1", "main"))
    assert [pr.field for pr in problems] == ["offence"]
    assert hooks.check_grade(t, _grade("S1", "main", offence="general_poor_attitude")) == []
    assert hooks.check_grade(t, _grade("S1", "none")) == []


def test_general_offence_must_match_the_loss_fact(hooks):
    t = _ticket("general", facts={"customer_loss": True})
    assert hooks.check_grade(t, _grade("S1", "secondary", offence="general_work_quality_no_loss"))
    assert not hooks.check_grade(t, _grade("S1", "secondary", offence="general_work_quality_loss"))


@pytest.mark.parametrize("severity", ["major", "severe"])
def test_major_and_severe_need_no_offence(hooks, severity):
    t = _ticket(severity)
    for capacity in ("direct", "workshop_leader", "department_head", "unit_leader"):
        assert hooks.check_grade(t, _grade("S1", "main", capacity=capacity)) == []
    assert hooks.check_grade(t, _grade("S1", "main", offence="general_poor_attitude"))


def test_grading_needs_a_severity_and_a_known_capacity(hooks):
    assert hooks.check_grade(_ticket(None), _grade("S1", "main"))
    problems = hooks.check_grade(_ticket("major"), _grade("S1", "main", capacity="janitor"))
    assert [pr.field for pr in problems] == ["capacity"]


# ------------------------------------------------------------------ schedule


def test_schedule_carries_over_and_has_the_seed_amounts(hooks):
    s = hooks.penalty_schedule()
    assert s.carry_over is True  # 第二十八条
    ranges = {r.code: (r.min_fen, r.max_fen) for r in s.rules}
    assert ranges["general_work_quality_no_loss"] == (yuan(100), yuan(200))
    assert ranges["general_work_quality_loss"] == (yuan(200), yuan(300))
    assert ranges["general_poor_attitude"] == (yuan(200), yuan(500))
    assert ranges["general_abusive_attitude"] == (yuan(300), yuan(600))
    assert ranges["major_main"] == (yuan(800), None)
    assert ranges["severe_main"] == (yuan(1000), None)
    assert ranges["ten_prohibitions"] == (None, None)
    assert ranges["ten_commitments"] == (None, None)
    assert s.rule("ten_prohibitions").default_fen is None
    assert s.rule("general_abusive_attitude").sanctions  # 待岗学习1个月 + exam
    pickable = {r.code for r in s.rules if r.pickable}
    assert {
        "general_work_quality_no_loss",
        "general_work_quality_loss",
        "general_poor_attitude",
        "general_abusive_attitude",
    } <= pickable
    assert not any(r.pickable for r in s.rules if r.code.startswith(("major_", "severe_")))
    assert s.rule("falsified_reply").per == "unit"
    assert all(r.seed.startswith("002 《客户投诉管理考核办法》第二十") for r in s.rules)


# ------------------------------------------------------------------ proposals


def _by_staff(proposals):
    return {pr.staff: pr for pr in proposals if pr.staff}


def test_general_tiers_use_the_tenant_amounts(hooks):
    t = _ticket("general")
    grades = [
        _grade("S1", "main", offence="general_poor_attitude"),
        _grade("S2", "secondary", offence="general_work_quality_no_loss"),
        _grade("S3", "none"),
    ]
    amounts = _amounts(
        hooks, general_poor_attitude=yuan(350), general_work_quality_no_loss=yuan(150)
    )
    props = hooks.propose_penalties(t, grades, amounts)
    got = _by_staff(props)
    assert set(got) == {"S1", "S2"}
    assert (got["S1"].rule, got["S1"].amount_fen) == ("general_poor_attitude", yuan(350))
    assert (got["S2"].rule, got["S2"].amount_fen) == ("general_work_quality_no_loss", yuan(150))
    assert all(pr.multiplier == 1 and pr.minimum_fen is None for pr in props)


def test_ten_prohibitions_offence_has_no_seed_amount(hooks):
    t = _ticket("general")
    props = hooks.propose_penalties(
        t, [_grade("S1", "main", offence="ten_prohibitions")], _amounts(hooks)
    )
    assert len(props) == 1 and props[0].amount_fen is None
    assert "第二十四条(一)" in props[0].reason


def _leaders(severity):
    return [
        _grade("S1", "main"),
        _grade("S2", "secondary"),
        _grade("L1", "main", capacity="workshop_leader"),
        _grade("L2", "secondary", capacity="department_head"),
        _grade("L3", "main", capacity="unit_leader", department="D9"),
    ]


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        # 第二十四条(四)1: ≥800 / ≥600 / ≥500 / ≥300 / ≥300
        ("major", {"S1": 800, "S2": 600, "L1": 500, "L2": 300, "L3": 300}),
        # 第二十四条(四)2: ≥1000 / ≥800 / ≥600 / ≥400 / ≥400
        ("severe", {"S1": 1000, "S2": 800, "L1": 600, "L2": 400, "L3": 400}),
    ],
)
def test_major_and_severe_minima(hooks, severity, expected):
    props = _by_staff(
        hooks.propose_penalties(_ticket(severity), _leaders(severity), _amounts(hooks))
    )
    assert {s: pr.minimum_fen for s, pr in props.items()} == {
        s: yuan(n) for s, n in expected.items()
    }
    assert {s: pr.amount_fen for s, pr in props.items()} == {
        s: yuan(n) for s, n in expected.items()
    }
    roles = {
        "S1": "main",
        "S2": "secondary",
        "L1": "workshop_leader",
        "L2": "department_head",
        "L3": "unit_leader",
    }
    assert {s: pr.rule for s, pr in props.items()} == {
        s: f"{severity}_{r}" for s, r in roles.items()
    }
    if severity == "major":
        assert props["S1"].sanctions and props["L3"].sanctions
    else:
        # fine only for workshop, department and deputy leader [第二十四条(四)2(3)-(5)]
        assert props["S1"].sanctions and not props["L1"].sanctions


def test_tenant_amount_above_the_minimum_is_used(hooks):
    props = hooks.propose_penalties(
        _ticket("major"), [_grade("S1", "main")], _amounts(hooks, major_main=yuan(1200))
    )
    assert props[0].amount_fen == yuan(1200) and props[0].minimum_fen == yuan(800)


def test_external_escalation_doubles_amounts_and_minima(hooks):
    # 002 《客户投诉管理考核办法》第二十五条: 投诉到公司以外的服务监督渠道…经查属实的,加倍考核.
    t = _ticket("severe", facts={"external_escalation": True})
    props = _by_staff(hooks.propose_penalties(t, _leaders("severe"), _amounts(hooks)))
    assert props["S1"].multiplier == 2
    assert props["S1"].amount_fen == yuan(2000) and props["S1"].minimum_fen == yuan(2000)
    assert props["L3"].amount_fen == yuan(800) and props["L3"].minimum_fen == yuan(800)
    assert "第二十五条" in props["S1"].reason
    assert "处分不自动加重，由经理确认" in props["S1"].reason
    # sanctions are not raised
    plain = _by_staff(
        hooks.propose_penalties(_ticket("severe"), _leaders("severe"), _amounts(hooks))
    )
    assert props["S1"].sanctions == plain["S1"].sanctions
    # general tiers double too
    g = hooks.propose_penalties(
        _ticket("general", facts={"external_escalation": True}),
        [_grade("S1", "main", offence="general_poor_attitude")],
        _amounts(hooks, general_poor_attitude=yuan(300)),
    )
    assert g[0].amount_fen == yuan(600) and g[0].multiplier == 2


def test_falsified_reply_one_unit_penalty(hooks):
    # 002 《客户投诉管理考核办法》第二十六条: 给予责任单位每件500元考核,并通报批评.
    t = _ticket("general", facts={"falsified_reply": True})
    grades = [
        _grade("S2", "secondary", offence="general_poor_attitude", department="D2"),
        _grade("S1", "main", offence="general_poor_attitude", department="D1"),
    ]
    props = hooks.propose_penalties(t, grades, _amounts(hooks))
    units = [pr for pr in props if pr.rule == "falsified_reply"]
    assert len(units) == 1
    assert units[0].unit == "D1" and units[0].staff is None
    assert units[0].amount_fen == yuan(500)
    assert units[0].sanctions and "第二十六条" in units[0].reason
    # without a main direct grade: any graded person's department
    props = hooks.propose_penalties(t, [_grade("S3", "none", department="D3")], _amounts(hooks))
    assert [(pr.rule, pr.unit) for pr in props] == [("falsified_reply", "D3")]


def test_nobody_responsible_no_penalty(hooks):
    assert hooks.propose_penalties(_ticket("major"), [_grade("S1", "none")], _amounts(hooks)) == []


# ------------------------------------------------------------------ approvers


def test_approvers(hooks):
    assert hooks.approvers("close", _ticket("major")) == ["manager", "general_manager"]
    assert hooks.approvers("close", _ticket("severe")) == ["manager", "general_manager"]
    assert hooks.approvers("close", _ticket("general")) is None
    # 第十五条: 情况复杂的…报公司同意后,时限可以适当延长
    assert hooks.approvers("extension", _ticket("general")) == ["manager", "general_manager"]
    assert hooks.approvers("penalty", _ticket("major")) is None
