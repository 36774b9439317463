"""The property plugin's rules, through its hooks only (``hooks_for("property")`` calls this
plugin alone): the penalty schedule of 000 §篇7 六, grade checks, proposals, classification by
000 §篇1 1(1) and 4(4)2, and the approvers of 000 §篇1 4(4)9 and 5(5)2."""

from __future__ import annotations

import datetime as dt

import pytest

from core.plugins import hooks_for
from core.rules import GradeFacts, PenaltyRule, TicketFacts, yuan
from core.tickets.classification import check_facts

CHINA = dt.timezone(dt.timedelta(hours=8))
CREATED = dt.datetime(2026, 1, 10, 9, 30, tzinfo=CHINA)
TIERS = ("tier_1", "tier_2", "tier_3", "tier_4", "tier_5")


@pytest.fixture(scope="module")
def hooks():
    return hooks_for("property")


def ticket(
    *,
    state: str = "in_progress",
    valid: bool | None = True,
    nature: str | None = "valid",
    facts: dict | None = None,
    created_at: dt.datetime = CREATED,
    now: dt.datetime | None = None,
    severity: str | None = None,
) -> TicketFacts:
    return TicketFacts(
        number="GW-2026-0001",
        state=state,
        channel="phone",
        category="repair_quality",
        severity=severity,
        facets={"nature": nature} if nature else {},
        facts=facts or {},
        created_at=created_at,
        valid=valid,
        now=now or created_at + dt.timedelta(days=1),
    )


def grade(
    grade: str = "main", offence: str | None = "tier_2", capacity: str = "direct", staff="S1"
) -> GradeFacts:
    return GradeFacts(
        staff=staff, department="engineering", grade=grade, capacity=capacity, offence=offence
    )


def defaults(hooks) -> dict[str, int | None]:
    return {r.code: r.default_fen for r in hooks.penalty_schedule().rules}


# --- the schedule — 000 §篇7 六 -----------------------------------------------------------


def rule(hooks, code: str) -> PenaltyRule:
    found = hooks.penalty_schedule().rule(code)
    assert found is not None, code
    return found


def test_schedule_has_the_five_pickable_tiers_per_person_without_carry_over(hooks):
    """000 §篇7 六1–5: five tiers, picked by the grader (domain §4); fines are per person (元/次);
    the seed writes no carry-over, so it is off by default (domain §5)."""
    schedule = hooks.penalty_schedule()
    assert tuple(r.code for r in schedule.rules) == TIERS
    assert all(r.pickable and r.per == "person" for r in schedule.rules)
    assert all(r.seed.startswith("000 §篇7 六") for r in schedule.rules)
    assert schedule.carry_over is False
    assert "000 §篇7 六" in schedule.seed


def test_tier_1_fine_30_to_100_yuan(hooks):
    """000 §篇7 六1: 处以30—100元/次的经济处罚 (服务态度不佳, 服务效率低下; 对业务工作不熟悉;
    不尊重客户, 讥笑, 议论客户…). No further sanction."""
    r = rule(hooks, "tier_1")
    assert (r.min_fen, r.max_fen) == (yuan(30), yuan(100))
    assert r.default_fen is not None and r.in_range(r.default_fen)
    assert r.sanctions == ()
    assert r.appraisal_points == 0 and not r.whole_month_pay
    assert "服务态度不佳" in r.label_zh and "讥笑" in r.label_zh
    assert not r.in_range(yuan(29)) and not r.in_range(yuan(101))


def test_tier_2_warning_200_yuan_5_points_notice(hooks):
    """000 §篇7 六2: 警告处分, 200元/次, 扣除月度绩效考评5分, 通报全公司 (态度冷淡, 擅自减少服务
    流程; 故意刁难客户; 与客户发生争执)."""
    r = rule(hooks, "tier_2")
    assert r.min_fen == r.max_fen == r.default_fen == yuan(200)
    assert r.sanctions == ("警告处分", "通报全公司")
    assert r.appraisal_points == 5 and not r.whole_month_pay
    assert "擅自减少服务流程" in r.label_zh and "争执" in r.label_zh


def test_tier_3_serious_warning_300_yuan_10_points_notice(hooks):
    """000 §篇7 六3: 申诫处分 (printed 申诚), 300元/次, 扣除月度绩效考评10分, 通报全公司 (对投诉
    事实拒不承认; 主管管理不力)."""
    r = rule(hooks, "tier_3")
    assert r.min_fen == r.max_fen == r.default_fen == yuan(300)
    assert r.sanctions == ("申诫处分", "通报全公司")
    assert r.appraisal_points == 10 and not r.whole_month_pay
    assert "拒不承认" in r.label_zh and "主管管理不力" in r.label_zh


def test_tier_4_major_demerit_1000_yuan_month_pay_notice(hooks):
    """000 §篇7 六4: 记大过处分, 1000元/次, 扣除当月度绩[效]工资, 通报全公司 (隐瞒不报; 不配合
    解决客户投诉)."""
    r = rule(hooks, "tier_4")
    assert r.min_fen == r.max_fen == r.default_fen == yuan(1000)
    assert r.sanctions == ("记大过处分", "通报全公司")
    assert r.whole_month_pay is True and r.appraisal_points == 0
    assert "隐瞒不报" in r.label_zh and "不配合" in r.label_zh


def test_tier_5_dismissal_no_fine(hooks):
    """000 §篇7 六5: 予以辞退或开除, 情节严重的追究其经济责任及法律责任 (辱骂, 殴打客户; 打击报复;
    声誉造成重大损失; 不实之承诺). No fine amount."""
    r = rule(hooks, "tier_5")
    assert (r.min_fen, r.max_fen, r.default_fen) == (None, None, None)
    assert r.sanctions[0] == "辞退或开除"
    assert any("法律责任" in s for s in r.sanctions)
    for offence in ("辱骂", "打击报复", "声誉", "不实之承诺"):
        assert offence in r.label_zh


# --- proposals ---------------------------------------------------------------------------


def test_main_grade_tier_2_uses_the_tenants_amount(hooks):
    """The amount is the tenant's at grading time (250 yuan, set with a reason outside the
    seed's 200); sanctions and points come from 000 §篇7 六2."""
    amounts = defaults(hooks) | {"tier_2": yuan(250)}
    [p] = hooks.propose_penalties(ticket(), [grade("main", "tier_2")], amounts)
    assert p.rule == "tier_2" and p.staff == "S1" and p.unit is None
    assert p.amount_fen == 25000
    assert p.sanctions == ("警告处分", "通报全公司") and p.appraisal_points == 5
    assert not p.whole_month_pay
    assert "000 §篇7 六(2)" in p.reason


def test_grade_none_gets_no_proposal(hooks):
    assert hooks.propose_penalties(ticket(), [grade("none", None)], defaults(hooks)) == []


def test_secondary_grade_tier_1_uses_the_tier_1_amount(hooks):
    """000 §篇7 六1 fines per offence, not per grade: a secondary grade pays the tier's amount."""
    amounts = defaults(hooks) | {"tier_1": yuan(80)}
    [p] = hooks.propose_penalties(ticket(), [grade("secondary", "tier_1")], amounts)
    assert (p.rule, p.amount_fen) == ("tier_1", yuan(80))


def test_tier_4_and_tier_5_proposals(hooks):
    """000 §篇7 六4 forfeits the month's performance pay; 六5 has no fine (the manager decides)."""
    grades = [grade("full", "tier_4", staff="S1"), grade("main", "tier_5", staff="S2")]
    p4, p5 = hooks.propose_penalties(ticket(), grades, defaults(hooks))
    assert (p4.staff, p4.amount_fen, p4.whole_month_pay) == ("S1", yuan(1000), True)
    assert p4.sanctions == ("记大过处分", "通报全公司")
    assert (p5.staff, p5.amount_fen) == ("S2", None)
    assert p5.sanctions[0] == "辞退或开除"


def test_one_proposal_per_responsible_person(hooks):
    grades = [
        grade("full", "tier_3", staff="S1"),
        grade("none", None, staff="S2"),
        grade("secondary", "tier_1", staff="S3"),
    ]
    proposals = hooks.propose_penalties(ticket(), grades, defaults(hooks))
    assert [(p.staff, p.rule, p.amount_fen) for p in proposals] == [
        ("S1", "tier_3", yuan(300)),
        ("S3", "tier_1", yuan(50)),
    ]


# --- check_grade -------------------------------------------------------------------------


def test_responsible_grade_needs_an_offence_tier(hooks):
    problems = hooks.check_grade(ticket(), grade("main", None))
    assert [(p.field, p.rule) for p in problems] == [
        ("offence", "pick the offence tier of 000 §篇7 六")
    ]


def test_offence_must_be_a_tier_of_the_schedule(hooks):
    problems = hooks.check_grade(ticket(), grade("full", "tier_9"))
    assert [p.field for p in problems] == ["offence"]
    assert "pick the offence tier of 000 §篇7 六" in problems[0].rule


def test_grade_none_takes_no_offence(hooks):
    assert hooks.check_grade(ticket(), grade("none", None)) == []
    problems = hooks.check_grade(ticket(), grade("none", "tier_1"))
    assert [p.field for p in problems] == ["offence"]


def test_only_direct_capacity(hooks):
    problems = hooks.check_grade(ticket(), grade("main", "tier_1", capacity="department_head"))
    assert [p.field for p in problems] == ["capacity"]


@pytest.mark.parametrize("g", ["full", "main", "secondary"])
@pytest.mark.parametrize("tier", TIERS)
def test_every_tier_is_accepted_for_a_responsible_grade(hooks, g, tier):
    assert hooks.check_grade(ticket(), grade(g, tier)) == []


# --- classify: validity — 000 §篇1 1(1) ----------------------------------------------------


@pytest.mark.parametrize("nature", ["help", "inquiry", "venting"])
def test_communicative_nature_is_not_valid(hooks, nature):
    """000 §篇1 1(1)2): 求助型, 咨询型, 发泄型 are 沟通性投诉, not valid complaints."""
    c = hooks.classify(ticket(valid=None, nature=nature))
    assert c.valid is False and c.counts_as_complaint is False
    assert c.severity is None
    assert any("000 §篇1 1(1)" in r for r in c.reasons)


def test_triage_decides_over_the_nature_facet(hooks):
    """A ticket triaged valid is held to the one-month rule even if its facet says venting."""
    late = CREATED + dt.timedelta(days=60)
    c = hooks.classify(ticket(valid=True, nature="venting", now=late))
    assert c.valid is False and c.severity == "major"


def test_valid_nature_is_valid_and_counts(hooks):
    """000 §篇1 1(1)1): 有效投诉 counts as a complaint."""
    c = hooks.classify(ticket(valid=None, nature="valid"))
    assert c.valid is True and c.counts_as_complaint is True


def test_no_nature_no_opinion(hooks):
    c = hooks.classify(ticket(valid=None, nature=None))
    assert (c.valid, c.counts_as_complaint, c.severity) == (None, None, None)


# --- classify: severity — 000 §篇1 4(4)2 ---------------------------------------------------


def test_facts_are_declared_in_the_taxonomy(hooks):
    tax = hooks.taxonomy()
    codes = {f.code for f in tax.facts}
    assert codes >= {
        "promised_service_undelivered",
        "raised_before_unresolved",
        "serious_economic_loss",
        "personal_injury",
        "service_failing",
        "caused_by_people",
        "slight_inconvenience",
        "easily_fixed",
    }
    # The classification facts come from 投诉界定; the escalation flags (group complaint,
    # crisis) from 004 §篇3 二1 (core.flow.duty).
    assert all(
        f.kind == "bool"
        and f.seed.startswith("000 §篇1 4(4)2" if not f.escalate else "004 §篇3 二1")
        for f in tax.facts
    )
    assert {f.code for f in tax.facts if f.escalate} == {"group_complaint", "crisis"}
    check_facts(tax, {"personal_injury": True, "caused_by_people": False})


@pytest.mark.parametrize(
    ("facts", "severity", "seed"),
    [
        (
            {"promised_service_undelivered": True, "raised_before_unresolved": True},
            "major",
            "4(4)2①a",
        ),
        ({"serious_economic_loss": True}, "major", "4(4)2①b"),
        ({"personal_injury": True}, "major", "4(4)2①b"),
        ({"service_failing": True}, "important", "4(4)2②"),
        ({"caused_by_people": True}, "important", "4(4)2②"),
        (
            {"slight_inconvenience": True, "caused_by_people": False, "easily_fixed": True},
            "minor",
            "4(4)2③",
        ),
    ],
)
def test_severity_definitions(hooks, facts, severity, seed):
    """000 §篇1 4(4)2: 重大 ①a/①b, 重要 ②, 轻微 ③."""
    c = hooks.classify(ticket(facts=facts))
    assert c.severity == severity
    assert any(seed in r for r in c.reasons)


def test_undelivered_but_not_yet_raised_is_not_major(hooks):
    """000 §篇1 4(4)2①a needs both: not delivered, and 经客户提出而得不到解决."""
    c = hooks.classify(ticket(facts={"promised_service_undelivered": True}))
    assert c.severity is None


def test_minor_needs_no_human_cause(hooks):
    """000 §篇1 4(4)2③: 非人为因素; a person-caused inconvenience is not minor."""
    facts = {"slight_inconvenience": True, "caused_by_people": True, "easily_fixed": True}
    assert hooks.classify(ticket(facts=facts)).severity == "important"


def test_highest_severity_wins_and_major_is_flagged(hooks):
    facts = {"service_failing": True, "personal_injury": True}
    c = hooks.classify(ticket(facts=facts))
    assert c.severity == "major"
    assert [f.code for f in c.flags] == ["major_personal_injury"]
    assert len(c.reasons) == 3  # validity, ①b, ②


# --- classify: the one-month rule — 000 §篇1 4(4)2①c ---------------------------------------


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=CHINA)


def months_rule(hooks, created: dt.datetime, now: dt.datetime, **kw) -> str | None:
    return hooks.classify(ticket(created_at=created, now=now, **kw)).severity


def test_valid_unresolved_for_a_month_is_major(hooks):
    """000 §篇1 4(4)2①c: 有效投诉在一个月内得不到合理解决 → 重大. Taken 15 January: the month runs
    16 January – 15 February 24:00 (《民法典》第二百零一、二百零二条), major from 16 February."""
    created = at(2026, 1, 15, 10)
    assert months_rule(hooks, created, at(2026, 2, 15, 23, 59)) is None
    c = hooks.classify(ticket(created_at=created, now=at(2026, 2, 16, 0, 0)))
    assert c.severity == "major"
    [flag] = c.flags
    assert flag.code == "major_unresolved_one_month" and flag.seed == "000 §篇1 4(4)2①c"
    assert any("000 §篇1 4(4)2①c" in r for r in c.reasons)


def test_month_end_edge_31_january(hooks):
    """Taken 31 January 2026: February has no 31st, so the month's last day is 28 February
    (《民法典》第二百零二条); still not major on 27 or 28 February, major from 1 March 00:00."""
    created = at(2026, 1, 31, 16)
    assert months_rule(hooks, created, at(2026, 2, 27, 23, 59)) is None
    assert months_rule(hooks, created, at(2026, 2, 28, 23, 59)) is None
    assert months_rule(hooks, created, at(2026, 3, 1, 0, 0)) == "major"


def test_month_end_edge_leap_year(hooks):
    """2028 is a leap year: taken 31 January, the month ends 29 February 24:00."""
    created = at(2028, 1, 31, 9)
    assert months_rule(hooks, created, at(2028, 2, 29, 12)) is None
    assert months_rule(hooks, created, at(2028, 3, 1, 0, 0)) == "major"


def test_month_counts_china_calendar_days(hooks):
    """Intake at 17:00 UTC on 30 April is 01:00 on 1 May in China: the China date counts, so
    the month ends 1 June 24:00 (counted from the UTC date it would end 30 May)."""
    created_utc = dt.datetime(2026, 4, 30, 17, 0, tzinfo=dt.UTC)
    assert months_rule(hooks, created_utc, at(2026, 6, 1, 23, 0)) is None
    assert months_rule(hooks, created_utc, at(2026, 6, 2, 0, 0)) == "major"


def test_december_rolls_into_january(hooks):
    created = at(2026, 12, 31, 8)
    assert months_rule(hooks, created, at(2027, 1, 31, 23, 59)) is None
    assert months_rule(hooks, created, at(2027, 2, 1, 0, 0)) == "major"


@pytest.mark.parametrize("state", ["closed", "followed_up"])
def test_a_resolved_ticket_is_never_upgraded(hooks, state):
    """Closed (销项), or followed up with the complainant satisfied: resolved, not ①c."""
    assert months_rule(hooks, CREATED, CREATED + dt.timedelta(days=400), state=state) is None


def test_suspended_ticket_is_still_unresolved(hooks):
    assert months_rule(hooks, CREATED, at(2026, 3, 1), state="suspended") == "major"


def test_only_valid_complaints_are_upgraded(hooks):
    """①c speaks of 有效投诉: an untriaged or invalid ticket is not upgraded."""
    late = CREATED + dt.timedelta(days=60)
    assert months_rule(hooks, CREATED, late, valid=None) is None
    c = hooks.classify(ticket(created_at=CREATED, now=late, valid=False))
    assert c.severity is None and c.counts_as_complaint is False


# --- approvers — 000 §篇1 4(4)9, 5(5)2 -------------------------------------------------------


def test_approvers(hooks):
    """Close a major: 管理处负责人 [000 §篇1 5(5)2①e]; another: the desk clerk who registered
    it, or those above [000 §篇1 5(3)2), 5(4)1)]; an unresolvable one: 管理处负责人 at the
    quarterly review [000 §篇1 5(5)2②c]. Overruns: 轻微 by 物业部经理 (``manager``, never the
    head of the department that overran), 重要 by 总经理 [000 §篇1 4(4)9]; 重大 by the general
    manager who holds it [000 §篇1 4(4)3②]."""
    t = {s: ticket(severity=s) for s in ("major", "important", "minor")}
    assert hooks.approvers("close", t["major"]) == ["manager", "general_manager"]
    # the desk's 客户部人员 closes the others [000 §篇1 5(3)2), 5(4)1)] (acceptance, issue 12)
    for s in ("minor", "important"):
        assert hooks.approvers("close", t[s]) == [
            "clerk",
            "supervisor",
            "manager",
            "general_manager",
        ]
    assert hooks.approvers("close_unresolvable", t["minor"]) == ["manager", "general_manager"]
    assert hooks.approvers("extension", t["minor"]) == ["manager", "general_manager"]
    assert hooks.approvers("extension", t["important"]) == ["general_manager"]
    assert hooks.approvers("extension", t["major"]) == ["general_manager"]
    assert hooks.approvers("extension", ticket(severity=None)) is None
    assert hooks.approvers("penalty", t["major"]) is None
    assert hooks.approvers("appeal", t["major"]) is None
