"""The bus operator's consequences per responsibility grade.

Source: 000 §篇8 3(3) 根据责任认定,依据制度处理.

Data only; :mod:`plugins.transit.rules` decides which lines apply to whom.

The seed gives the consequences of each grade, never an amount ("适当的经济处罚"): every fine
is a tenant setting with **no seed default** (min, max and default None; the manager sets the
amount when confirming until the tenant sets one). The non-monetary consequences are lines of
their own, so that a manager confirms or waives each one (with a reason) and the record says
which were applied; they carry no money (min = max = default = 0 fen).

- full (全责) — 1)一 经济处罚 (``fine_full``), 停工待岗 (``suspension``), 降级降星
  (``demotion``, 星级员工管理); 1)二 批评教育 (``criticism``); 1)三 检讨通报
  (``self_criticism_notice``: 线路会议、班组会议检讨, 或在一定范围内通报); 1)四 向乘客道歉
  (``apology``);
- main (主责) — 2)一 适当的经济处罚 (``fine_main``); 2)二 批评教育 (``criticism``); 2)三
  向乘客道歉 (``apology``);
- secondary (次责) — 3)一 批评教育并总结经验 (``criticism_lesson``); 3)二 向乘客道歉
  (``apology``); no fine;
- none (无责) — 4) 帮助当事人总结经验, 向乘客作适当的解释: **nothing is proposed** (see
  :data:`plugins.transit.rules.GRADE_RULES`).

The full-responsibility sanctions are the seed's list of what the company's system may impose
("按照制度给予相应的处罚,包括经济处罚、停工待岗、降级降星"); each is proposed and the manager
waives, with a reason, those the company's system does not call for in the case. Every line is
derived from the grade (``pickable=False``): the grader picks no offence. All are charged to the
person (``per="person"``); the seed charges nothing to a unit. The seed writes no carry-over of
fines: a tenant option, off by default (domain §5).
"""

from __future__ import annotations

from core.rules import PenaltyRule, PenaltySchedule

SEED = "000 §篇8 3(3)"


def _fine(code: str, label: str, label_zh: str, seed: str) -> PenaltyRule:
    """A fine the seed names without an amount: the tenant sets it (no range, no default)."""
    return PenaltyRule(
        code=code,
        label=label,
        label_zh=label_zh,
        min_fen=None,
        max_fen=None,
        default_fen=None,
        seed=seed,
    )


def _measure(code: str, label: str, label_zh: str, sanction: str, seed: str) -> PenaltyRule:
    """A non-monetary consequence: no money (0 fen), the seed's words as the sanction."""
    return PenaltyRule(
        code=code,
        label=label,
        label_zh=label_zh,
        min_fen=0,
        max_fen=0,
        default_fen=0,
        sanctions=(sanction,),
        seed=seed,
    )


FINE_FULL = _fine(
    "fine_full",
    "Fine for full responsibility (amount set by the tenant)",
    "全责投诉:按照制度给予经济处罚",
    f"{SEED}1)一",
)
SUSPENSION = _measure(
    "suspension",
    "Suspension pending reassignment",
    "全责投诉:停工待岗",
    "停工待岗",
    f"{SEED}1)一",
)
DEMOTION = _measure(
    "demotion",
    "Demotion of grade or star level (star-rated staff)",
    "全责投诉:降级降星(星级员工管理)",
    "降级降星",
    f"{SEED}1)一",
)
CRITICISM = _measure(
    "criticism",
    "Criticism and education (for full responsibility sometimes repeated, long-term help)",
    "批评教育(全责投诉有时是多次的、长期的帮助教育)",
    "批评教育",
    f"{SEED}1)二, 2)二",
)
SELF_CRITICISM_NOTICE = _measure(
    "self_criticism_notice",
    "Self-criticism at the line or team meeting, or a notice within a set scope",
    "检讨通报:当事人在线路会议、班组会议检讨,或者在一定范围内通报",
    "在线路会议、班组会议检讨或在一定范围内通报",
    f"{SEED}1)三",
)
APOLOGY = _measure(
    "apology",
    "Apology to the passenger by the staff member",
    "要求当事人向乘客道歉",
    "向乘客道歉",
    f"{SEED}1)四, 2)三, 3)二",
)
FINE_MAIN = _fine(
    "fine_main",
    "Appropriate fine for main responsibility (amount set by the tenant)",
    "主责投诉:适当的经济处罚",
    f"{SEED}2)一",
)
CRITICISM_LESSON = _measure(
    "criticism_lesson",
    "Criticism and education, and drawing a lesson",
    "次责投诉:对当事人批评教育并总结经验",
    "批评教育并总结经验",
    f"{SEED}3)一",
)

RULES: tuple[PenaltyRule, ...] = (
    FINE_FULL,
    SUSPENSION,
    DEMOTION,
    CRITICISM,
    SELF_CRITICISM_NOTICE,
    APOLOGY,
    FINE_MAIN,
    CRITICISM_LESSON,
)

SCHEDULE: PenaltySchedule = PenaltySchedule(
    rules=RULES,
    carry_over=False,
    seed=(
        f"{SEED} (consequences per grade; no amounts in the seed, fines are tenant settings; "
        "carry-over is a tenant option, domain §5)"
    ),
)

__all__ = [
    "APOLOGY",
    "CRITICISM",
    "CRITICISM_LESSON",
    "DEMOTION",
    "FINE_FULL",
    "FINE_MAIN",
    "RULES",
    "SCHEDULE",
    "SELF_CRITICISM_NOTICE",
    "SUSPENSION",
]
