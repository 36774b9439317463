"""The bus operator's rules: grade checks, penalty proposals, classification.

Pure functions over values (:mod:`core.rules`); the hookimpls in :mod:`plugins.transit` only
call them.

Grading [000 §篇8 3(2)]. Each grade's criterion starts from what the **passenger** did:

- 一 全责 full: "在乘客遵守乘车规则的情况下" — the passenger kept the rules, so a recorded
  passenger violation contradicts the grade;
- 二 主责 main: "在乘客轻微违反乘车规则的情况下" — a slight violation;
- 三 次责 secondary: "在乘客违反乘车规则、挑剔、错怪等情况下" — a violation, nitpicking or
  blaming wrongly;
- 四 无责 none: "乘客严重违反乘车规则,或符合禁止乘车的条件,拒绝公交员工的劝阻" — a serious
  violation (or a case for refusing carriage) and advice refused.

So main, secondary and none all rest on the passenger's part, which the grader records in
``complainant_violation`` (for secondary, nitpicking or wrong blame counts: the field holds
the passenger's part, whatever it was); full rests on its absence. The seed grades the staff
member complained about (当事的公交员工) and names no further accountable capacity: only
``direct``. Consequences follow from the grade [000 §篇8 3(3)]: the grader picks no offence.

Consequences [000 §篇8 3(3)]: :data:`GRADE_RULES`, amounts from the tenant's settings at
grading time.

Classification: §篇8 defines no severity (general / serious / major are a product default,
see :mod:`plugins.transit.taxonomy`) and no measurable fact that makes one; 4(1)3 says that
complaints "问题严重、社会影响大" are handled strictly, without a criterion a rule could test.
The direction facet (2(1)) says what the complainant hopes for (government: "加大处理力度";
media: "曝光监督"), not how serious the matter is. So :func:`classify` suggests nothing.
"""

from __future__ import annotations

from core.rules import Classification, GradeFacts, PenaltyProposal, Problem, TicketFacts
from plugins.transit.penalties import SCHEDULE

GRADE_SEED = "000 §篇8 3(2)"
PENALTY_SEED = "000 §篇8 3(3)"

GRADE_RULES: dict[str, tuple[str, ...]] = {
    # 3(3)1) 全责: 经济处罚、停工待岗、降级降星; 批评教育; 检讨通报; 向乘客道歉
    "full": (
        "fine_full",
        "suspension",
        "demotion",
        "criticism",
        "self_criticism_notice",
        "apology",
    ),
    # 3(3)2) 主责: 适当的经济处罚; 批评教育; 向乘客道歉
    "main": ("fine_main", "criticism", "apology"),
    # 3(3)3) 次责: 批评教育并总结经验; 向乘客道歉 — no fine
    "secondary": ("criticism_lesson", "apology"),
    # 3(3)4) 无责: 帮助当事人总结经验; 向乘客作适当的解释. Nothing is proposed: a person not
    # responsible (不承担责任, 2(3)2) is not penalised, and a proposal would put a "penalty"
    # on the record of someone the company cleared (4(2)3 杜绝错误处理, 防止冤枉员工). Helping
    # the employee draw a lesson is the manager's follow-up talk (4(3)1-2), and explaining
    # to the passenger is the reply to the complainant (3(4)三) — neither is a penalty.
    "none": (),
}

GRADE_LABEL_ZH: dict[str, str] = {
    "full": "全责",
    "main": "主责",
    "secondary": "次责",
    "none": "无责",
}

# --- grading — 000 §篇8 3(2) -------------------------------------------------------------

NEEDS_VIOLATION: dict[str, str] = {
    "main": (
        "grade main (主责) needs the passenger's slight violation of the riding rules recorded: "
        "主责 is staff failing to stay calm 在乘客轻微违反乘车规则的情况下 [000 §篇8 3(2)二]"
    ),
    "secondary": (
        "grade secondary (次责) needs the passenger's part recorded (a violation of the riding "
        "rules, nitpicking or wrong blame): 次责 applies 在乘客违反乘车规则、挑剔、错怪等情况下 "
        "[000 §篇8 3(2)三]"
    ),
    "none": (
        "grade none (无责) needs the complainant's violation recorded: the passenger broke the "
        "riding rules seriously (no or short fare, someone else's card, prohibited luggage, "
        "pets…) and refused the staff's advice [000 §篇8 3(2)四]"
    ),
}

FULL_WITHOUT_VIOLATION = (
    "grade full (全责) presumes the passenger kept the riding rules (在乘客遵守乘车规则的情况下 "
    "[000 §篇8 3(2)一]); with a passenger's violation recorded the grade is main, secondary or "
    "none — change the grade or clear the field"
)


def check_grade(ticket: TicketFacts, grade: GradeFacts) -> list[Problem]:
    """The rules a grading line breaks under the criteria of 000 §篇8 3(2)."""
    problems: list[Problem] = []
    if grade.capacity != "direct":
        problems.append(
            Problem(
                field="capacity",
                rule="transit grades only the staff member complained about (direct): "
                "000 §篇8 3(2)-(3) names no further accountable capacity",
            )
        )
    if grade.offence is not None:
        problems.append(
            Problem(
                field="offence",
                rule="transit derives the consequences from the grade [000 §篇8 3(3)]; "
                "no offence is picked",
            )
        )
    violation = grade.complainant_violation.strip()
    if grade.grade == "full" and violation:
        problems.append(Problem(field="complainant_violation", rule=FULL_WITHOUT_VIOLATION))
    elif grade.grade in NEEDS_VIOLATION and not violation:
        problems.append(Problem(field="complainant_violation", rule=NEEDS_VIOLATION[grade.grade]))
    return problems


# --- proposals — 000 §篇8 3(3) ------------------------------------------------------------

STRICT_NOTE = (
    "问题严重、社会影响大的服务投诉应当从严处理 [000 §篇8 4(1)3]; 处罚有据, 避免不当处理 "
    "[000 §篇8 4(2)2]"
)


def propose(
    ticket: TicketFacts, grades: list[GradeFacts], amounts: dict[str, int | None]
) -> list[PenaltyProposal]:
    """Every consequence the grade gives, per staff member, in :data:`GRADE_RULES` order.

    Fines take the tenant's amount at grading time (``amounts``; None when the tenant has set
    none — the seed gives no amount — and the manager sets it when confirming); non-monetary
    consequences carry 0 fen. Severity does not change the amount: the seed has no scale.
    A major ticket's reasons remind the manager that serious cases are handled strictly.
    """
    proposals: list[PenaltyProposal] = []
    for grade in grades:
        for code in GRADE_RULES.get(grade.grade, ()):
            rule = SCHEDULE.rule(code)
            if rule is None:  # pragma: no cover - GRADE_RULES names schedule rules only
                continue
            reason = (
                f"{ticket.number}: {GRADE_LABEL_ZH[grade.grade]} ({grade.grade}) → "
                f"{rule.label_zh} [{rule.seed}]"
            )
            if ticket.severity == "major":
                reason += f"; {STRICT_NOTE}"
            proposals.append(
                PenaltyProposal(
                    rule=rule.code,
                    staff=grade.staff,
                    amount_fen=amounts.get(rule.code, rule.default_fen),
                    sanctions=rule.sanctions,
                    reason=reason,
                )
            )
    return proposals


# --- classification ------------------------------------------------------------------------


def classify(ticket: TicketFacts) -> Classification:
    """No suggestion: 000 §篇8 defines no severity or measurable fact (module docstring)."""
    return Classification()


__all__ = [
    "FULL_WITHOUT_VIOLATION",
    "GRADE_RULES",
    "NEEDS_VIOLATION",
    "check_grade",
    "classify",
    "propose",
]
