"""The bus operator's grading rules and consequences, through the tenant's hooks.

Grading criteria [000 §篇8 3(2)]; consequences per grade [000 §篇8 3(3)]:
全责 → 经济处罚、停工待岗、降级降星, 批评教育, 检讨通报, 向乘客道歉; 主责 → 适当的经济处罚,
批评教育, 向乘客道歉; 次责 → 批评教育并总结经验, 向乘客道歉; 无责 → 帮助当事人总结经验,
向乘客作适当的解释 (nothing proposed). The seed gives no amounts: fines are tenant settings.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.plugins import hooks_for
from core.rules import Classification, GradeFacts, PenaltyProposal, TicketFacts, yuan

T0 = dt.datetime(2024, 5, 6, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def transit():
    return hooks_for("transit")


def ticket(**kw) -> TicketFacts:
    base = dict(
        number="GJ-2024-0042",
        state="in_progress",
        channel="phone",
        category="verbal_abuse",
        severity="general",
        facets={"direction": "company", "mode": "phone"},
        facts={},
        created_at=T0,
        valid=True,
        now=T0,
    )
    return TicketFacts(**(base | kw))


def grade(staff: str, g: str, violation: str = "", **kw) -> GradeFacts:
    return GradeFacts(
        staff=staff,
        department="line_12",
        grade=g,  # type: ignore[arg-type]
        complainant_violation=violation,
        **kw,
    )


def amounts(transit, **set_by_tenant: int) -> dict[str, int | None]:
    """What the core passes: each rule's default, overridden by the tenant's settings."""
    return {r.code: r.default_fen for r in transit.penalty_schedule().rules} | set_by_tenant


def by_staff(proposals: list[PenaltyProposal]) -> dict[str, list[tuple[str, int | None]]]:
    out: dict[str, list[tuple[str, int | None]]] = {}
    for p in proposals:
        out.setdefault(p.staff, []).append((p.rule, p.amount_fen))
    return out


# --- the schedule — 000 §篇8 3(3) ------------------------------------------------------------


def test_schedule_fines_have_no_seed_amount_and_measures_carry_no_money(transit):
    """000 §篇8 3(3) names 经济处罚 / 适当的经济处罚 without an amount: the tenant sets it;
    the other consequences are non-monetary; every line is derived from the grade."""
    schedule = transit.penalty_schedule()
    rules = {r.code: r for r in schedule.rules}
    assert set(rules) == {
        "fine_full",
        "suspension",
        "demotion",
        "criticism",
        "self_criticism_notice",
        "apology",
        "fine_main",
        "criticism_lesson",
    }
    for code in ("fine_full", "fine_main"):
        r = rules[code]
        assert (r.min_fen, r.max_fen, r.default_fen) == (None, None, None)
    for code in set(rules) - {"fine_full", "fine_main"}:
        r = rules[code]
        assert (r.min_fen, r.max_fen, r.default_fen) == (0, 0, 0)
        assert r.sanctions
    assert not any(r.pickable for r in schedule.rules)
    assert all(r.per == "person" and r.seed.startswith("000 §篇8 3(3)") for r in schedule.rules)
    assert schedule.carry_over is False
    assert rules["suspension"].sanctions == ("停工待岗",)
    assert rules["demotion"].sanctions == ("降级降星",)


# --- proposals — 000 §篇8 3(3) ---------------------------------------------------------------


def test_main_and_secondary_on_one_ticket(transit):
    """Driver A 主责, conductor B 次责 [000 §篇8 3(3)2), 3)]: A gets the fine at the tenant's
    amount, criticism and an apology; B criticism with a lesson drawn and an apology, no fine."""
    grades = [
        grade("driver_a", "main", "乘客未刷卡(轻微违规)"),
        grade("conductor_b", "secondary", "乘客挑剔、错怪"),
    ]
    proposals = transit.propose_penalties(ticket(), grades, amounts(transit, fine_main=yuan(200)))
    assert by_staff(proposals) == {
        "driver_a": [("fine_main", 20000), ("criticism", 0), ("apology", 0)],
        "conductor_b": [("criticism_lesson", 0), ("apology", 0)],
    }
    a_fine = proposals[0]
    assert a_fine.unit is None and a_fine.multiplier == 1
    assert "主责" in a_fine.reason and "000 §篇8 3(3)2)" in a_fine.reason
    apology = next(p for p in proposals if p.staff == "conductor_b" and p.rule == "apology")
    assert apology.sanctions == ("向乘客道歉",)


def test_main_fine_without_a_tenant_amount_is_left_to_the_manager(transit):
    """The appropriate fine (适当的经济处罚) [000 §篇8 3(3)2)一] has no amount: None until
    the tenant sets one, and the manager sets it when confirming."""
    proposals = transit.propose_penalties(
        ticket(), [grade("driver_a", "main", "乘客少投币")], amounts(transit)
    )
    assert [(p.rule, p.amount_fen) for p in proposals] == [
        ("fine_main", None),
        ("criticism", 0),
        ("apology", 0),
    ]


def test_full_responsibility_gets_every_consequence(transit):
    """全责 [000 §篇8 3(3)1)]: 经济处罚、停工待岗、降级降星; 批评教育; 检讨通报; 向乘客道歉."""
    proposals = transit.propose_penalties(
        ticket(category="skip_stop"),
        [grade("driver_c", "full")],
        amounts(transit, fine_full=yuan(500), fine_main=yuan(200)),
    )
    assert [(p.rule, p.amount_fen) for p in proposals] == [
        ("fine_full", 50000),
        ("suspension", 0),
        ("demotion", 0),
        ("criticism", 0),
        ("self_criticism_notice", 0),
        ("apology", 0),
    ]
    assert {p.staff for p in proposals} == {"driver_c"}


def test_none_proposes_nothing(transit):
    """无责 [000 §篇8 3(3)4)]: help the employee draw a lesson and explain to the passenger —
    follow-up and reply, not penalties: nothing is proposed."""
    g = grade("driver_d", "none", "乘客携带宠物乘车,拒绝劝阻,恶人先告状")
    assert transit.propose_penalties(ticket(), [g], amounts(transit, fine_main=yuan(200))) == []


def test_major_ticket_reminds_to_handle_strictly_without_changing_amounts(transit):
    """问题严重、社会影响大的服务投诉应当从严处理 [000 §篇8 4(1)3]; the seed has no scale, so
    the amount stays the tenant's."""
    proposals = transit.propose_penalties(
        ticket(severity="major"),
        [grade("driver_a", "main", "乘客未刷卡")],
        amounts(transit, fine_main=yuan(300)),
    )
    assert proposals[0].amount_fen == 30000
    assert all("4(1)3" in p.reason for p in proposals)


def test_proposals_are_deterministic(transit):
    grades = [grade("a", "full"), grade("b", "main", "x"), grade("c", "secondary", "y")]
    am = amounts(transit, fine_full=yuan(800))
    assert transit.propose_penalties(ticket(), grades, am) == transit.propose_penalties(
        ticket(), list(grades), dict(am)
    )


# --- grading — 000 §篇8 3(2) -----------------------------------------------------------------


def test_none_needs_the_complainants_violation(transit):
    """无责: 乘客严重违反乘车规则 … 拒绝公交员工的劝阻 [000 §篇8 3(2)四]."""
    problems = transit.check_grade(ticket(), grade("driver_d", "none"))
    assert [p.field for p in problems] == ["complainant_violation"]
    assert "3(2)四" in problems[0].rule
    assert transit.check_grade(ticket(), grade("driver_d", "none", "使用他人证卡,拒绝劝阻")) == []


@pytest.mark.parametrize(("g", "clause"), [("main", "3(2)二"), ("secondary", "3(2)三")])
def test_main_and_secondary_need_the_passengers_part(transit, g, clause):
    """主责: 在乘客轻微违反乘车规则的情况下 [3(2)二]; 次责: 在乘客违反乘车规则、挑剔、错怪等
    情况下 [3(2)三] — both rest on what the passenger did."""
    problems = transit.check_grade(ticket(), grade("x", g))
    assert [p.field for p in problems] == ["complainant_violation"]
    assert clause in problems[0].rule
    assert transit.check_grade(ticket(), grade("x", g, "乘客违规从后门上车")) == []


def test_full_presumes_the_passenger_kept_the_rules(transit):
    """全责: 在乘客遵守乘车规则的情况下 [000 §篇8 3(2)一]."""
    assert transit.check_grade(ticket(), grade("x", "full")) == []
    problems = transit.check_grade(ticket(), grade("x", "full", "乘客少投币"))
    assert [p.field for p in problems] == ["complainant_violation"]
    assert "3(2)一" in problems[0].rule


def test_only_the_staff_member_complained_about_and_no_offence(transit):
    """§篇8 grades 当事的公交员工 only, and the consequences follow from the grade."""
    problems = transit.check_grade(
        ticket(), grade("x", "full", capacity="department_head", offence="fine_full")
    )
    assert sorted(p.field for p in problems) == ["capacity", "offence"]


# --- classification and approvals ------------------------------------------------------------


def test_classify_suggests_nothing(transit):
    """§篇8 defines no severity and no measurable fact that makes one."""
    assert transit.classify(ticket(facets={"direction": "media"})) == Classification()


def test_only_management_closes_a_major_ticket(transit):
    assert transit.approvers("close", ticket(severity="major")) == ["manager", "general_manager"]
    assert transit.approvers("close", ticket(severity="general")) is None
    for step in ("penalty", "appeal", "extension"):
        assert transit.approvers(step, ticket(severity="major")) is None
