"""The power-supply penalty schedule: 002 《客户投诉管理考核办法》第二十四条–第二十八条.

Data, and :func:`breach_proposals`; :mod:`plugins.utility.rules` decides which line of a
grading applies to whom.

- 第二十四条(一)(二): breaches of the staff "Ten Prohibitions" (十个不准) and the supply
  "Ten Commitments" (十项承诺) are assessed under two provincial documents that the seeds do
  not contain (渝电监察[2005]7号, 渝电营[2005]15号). Those lines carry **no amount**: the
  tenant supplies one, or the manager sets it when confirming.
- 第二十四条(三): general complaints (一般性质投诉事件), four tiers the grader picks.
- 第二十四条(四)1: major events (重大投诉事件); (四)2: severe events (严重投诉事件). They are
  two separate schedules and no order is derived between them (严重 has the higher fines,
  重大 the harsher sanctions; domain notes §9). "不少于 N 元" is a minimum with no ceiling.
- 第二十五条: a complaint confirmed through an outside supervision channel is assessed
  double (applied by the rules as a multiplier, not a separate line).
- 第二十六条: a falsified or concealing reply costs the responsible **unit** 500 yuan per case.
- 第二十八条: fines that do not fit the month's performance pay carry over to the next
  months until paid in full.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.rules import PenaltyProposal, PenaltyRule, PenaltySchedule, yuan

_ASSESS = "002 《客户投诉管理考核办法》"
_ART24 = f"{_ASSESS}第二十四条"
_ART26 = f"{_ASSESS}第二十六条"
_ART28 = f"{_ASSESS}第二十八条"


def _at_least(
    code: str, label: str, label_zh: str, n: int, seed: str, sanctions: tuple[str, ...] = ()
) -> PenaltyRule:
    """A "不少于 N 元" line: minimum N, no ceiling, default N."""
    return PenaltyRule(
        code=code,
        label=label,
        label_zh=label_zh,
        min_fen=yuan(n),
        max_fen=None,
        default_fen=yuan(n),
        sanctions=sanctions,
        seed=seed,
    )


def _range(
    code: str,
    label: str,
    label_zh: str,
    low: int,
    high: int,
    seed: str,
    sanctions: tuple[str, ...] = (),
) -> PenaltyRule:
    """A "low~high 元" general tier, picked by the grader. Default: the seed's low end."""
    return PenaltyRule(
        code=code,
        label=label,
        label_zh=label_zh,
        min_fen=yuan(low),
        max_fen=yuan(high),
        default_fen=yuan(low),
        sanctions=sanctions,
        pickable=True,
        seed=seed,
    )


# ---------------------------------------------------------------- 第二十四条(一)(二)

TEN_PROHIBITIONS = PenaltyRule(
    code="ten_prohibitions",
    label=(
        'Breach of the staff "Ten Prohibitions" (e.g. 三指定, passing the buck, slow handling): '
        "assessed under the provincial rules, amount set by the tenant"
    ),
    label_zh="违反员工服务“十个不准”的投诉事件,按《关于违反国家电网公司员工服务“十个不准”的处理实施细则(试行)》(渝电监察[2005]7号)考核",
    pickable=True,
    seed=f"{_ART24}(一) (the provincial rules it refers to are not in the seeds)",
)

TEN_COMMITMENTS = PenaltyRule(
    code="ten_commitments",
    label=(
        'Breach of the supply "Ten Commitments": assessed under the provincial rules, '
        "amount set by the tenant"
    ),
    label_zh="违反供电服务“十项承诺”的投诉事件,按《重庆市电力公司供电服务“十项承诺”考核办法》(渝电营[2005]15号)考核",
    pickable=True,
    seed=f"{_ART24}(二) (the provincial rules it refers to are not in the seeds)",
)

# ---------------------------------------------------------------- 第二十四条(三) general

GENERAL_WORK_QUALITY_NO_LOSS = _range(
    "general_work_quality_no_loss",
    "Work-quality fault (unskilled, mistake, oversight), no loss to the customer",
    "因业务技能不熟、工作失误、工作疏漏等工作质量问题引发投诉,未造成客户利益损失",
    100,
    200,
    f"{_ART24}(三)1(1)",
)
GENERAL_WORK_QUALITY_LOSS = _range(
    "general_work_quality_loss",
    "Work-quality fault (unskilled, mistake, oversight) that caused the customer a loss",
    "因业务技能不熟、工作失误、工作疏漏等工作质量问题引发投诉,造成客户利益损失",
    200,
    300,
    f"{_ART24}(三)1(2)",
)
GENERAL_POOR_ATTITUDE = _range(
    "general_poor_attitude",
    "Poor attitude (cold, curt) causing the complaint",
    "因态度冷淡、语言生硬等态度欠佳引发客户不满造成投诉",
    200,
    500,
    f"{_ART24}(三)2(1)",
)
GENERAL_ABUSIVE_ATTITUDE = _range(
    "general_abusive_attitude",
    "Abusive attitude (rude language, aggressive behaviour, quarrel with the customer)",
    "因语言粗暴、行为过激、与客户发生争吵等态度恶劣引发客户不满造成投诉",
    300,
    600,
    f"{_ART24}(三)2(2)",
    sanctions=(
        "待岗学习1个月 (one month off duty for retraining)",
        "待岗期满经公司考试合格后方可上岗 (returns to duty only after passing the company's exam)",
    ),
)

# ---------------------------------------------------------------- 第二十四条(四)1 major (重大)

_MAJOR = f"{_ART24}(四)1"

MAJOR_MAIN = _at_least(
    "major_main",
    "Major event: main responsibility",
    "重大投诉事件:负主要责任者",
    800,
    f"{_MAJOR}(1)",
    ("行政记大过至开除处分 (major demerit up to dismissal)",),
)
MAJOR_SECONDARY = _at_least(
    "major_secondary",
    "Major event: secondary responsibility",
    "重大投诉事件:负次要责任者",
    600,
    f"{_MAJOR}(2)",
    ("行政记过至开除处分 (demerit up to dismissal)",),
)
MAJOR_WORKSHOP_LEADER = _at_least(
    "major_workshop_leader",
    "Major event: workshop leader of the directly responsible person",
    "重大投诉事件:负有直接责任者所在车间领导、有关人员",
    500,
    f"{_MAJOR}(3)",
    ("行政警告至撤职处分 (warning up to removal from post)",),
)
MAJOR_DEPARTMENT_HEAD = _at_least(
    "major_department_head",
    "Major event: head of the department with management responsibility",
    "重大投诉事件:负有管理责任的有关部门负责人、有关人员",
    300,
    f"{_MAJOR}(4)",
    ("行政记过处分至降职处分 (demerit up to demotion)",),
)
MAJOR_UNIT_LEADER = _at_least(
    "major_unit_leader",
    "Major event: unit head or deputy in charge with leadership responsibility",
    "重大投诉事件:负有领导责任的单位正职、分管副职",
    300,
    f"{_MAJOR}(5)",
    ("行政警告至降职处分 (warning up to demotion)",),
)

# ---------------------------------------------------------------- 第二十四条(四)2 severe (严重)

_SEVERE = f"{_ART24}(四)2"

SEVERE_MAIN = _at_least(
    "severe_main",
    "Severe event: main responsibility",
    "严重投诉事件:负主要责任者",
    1000,
    f"{_SEVERE}(1)",
    ("不高于行政留用察看一年处分 (a sanction no heavier than one year's probation)",),
)
SEVERE_SECONDARY = _at_least(
    "severe_secondary",
    "Severe event: secondary responsibility",
    "严重投诉事件:负次要责任者",
    800,
    f"{_SEVERE}(2)",
    ("不高于行政记大过处分 (a sanction no heavier than a major demerit)",),
)
SEVERE_WORKSHOP_LEADER = _at_least(
    "severe_workshop_leader",
    "Severe event: workshop leader of the directly responsible person (fine only)",
    "严重投诉事件:负有管理的直接责任者所在车间领导、有关人员",
    600,
    f"{_SEVERE}(3)",
)
SEVERE_DEPARTMENT_HEAD = _at_least(
    "severe_department_head",
    "Severe event: head of the department with management responsibility (fine only)",
    "严重投诉事件:负有管理责任的有关部门负责人、有关人员",
    400,
    f"{_SEVERE}(4)",
)
SEVERE_UNIT_LEADER = _at_least(
    "severe_unit_leader",
    "Severe event: deputy in charge of the unit with leadership responsibility (fine only)",
    "严重投诉事件:负有领导责任的单位分管副职",
    400,
    f"{_SEVERE}(5)",
)

# ---------------------------------------------------------------- 第二十六条 falsified reply

FALSIFIED_REPLY = PenaltyRule(
    code="falsified_reply",
    label="Falsified, concealing or untruthful reply: charged to the responsible unit per case",
    label_zh="回复中出现弄虚作假、隐瞒真相、不如实上报,给予责任单位每件500元考核",
    min_fen=yuan(500),
    max_fen=yuan(500),
    default_fen=yuan(500),
    sanctions=(
        "对该单位及相关负责人予以通报批评 (notice of criticism to the unit and those in charge)",
    ),
    per="unit",
    seed=_ART26,
)


SCHEDULE: PenaltySchedule = PenaltySchedule(
    rules=(
        TEN_PROHIBITIONS,
        TEN_COMMITMENTS,
        GENERAL_WORK_QUALITY_NO_LOSS,
        GENERAL_WORK_QUALITY_LOSS,
        GENERAL_POOR_ATTITUDE,
        GENERAL_ABUSIVE_ATTITUDE,
        MAJOR_MAIN,
        MAJOR_SECONDARY,
        MAJOR_WORKSHOP_LEADER,
        MAJOR_DEPARTMENT_HEAD,
        MAJOR_UNIT_LEADER,
        SEVERE_MAIN,
        SEVERE_SECONDARY,
        SEVERE_WORKSHOP_LEADER,
        SEVERE_DEPARTMENT_HEAD,
        SEVERE_UNIT_LEADER,
        FALSIFIED_REPLY,
    ),
    carry_over=True,
    seed=f"{_ART24}–{_ART28.removeprefix(_ASSESS)} (carry-over: {_ART28})",
)


# The rule for (severity, grade-or-capacity) in major and severe events. Two separate tables:
# 重大 and 严重 are never compared (domain notes §9).
MAJOR_BY_ROLE: dict[str, PenaltyRule] = {
    "main": MAJOR_MAIN,
    "secondary": MAJOR_SECONDARY,
    "workshop_leader": MAJOR_WORKSHOP_LEADER,
    "department_head": MAJOR_DEPARTMENT_HEAD,
    "unit_leader": MAJOR_UNIT_LEADER,
}
SEVERE_BY_ROLE: dict[str, PenaltyRule] = {
    "main": SEVERE_MAIN,
    "secondary": SEVERE_SECONDARY,
    "workshop_leader": SEVERE_WORKSHOP_LEADER,
    "department_head": SEVERE_DEPARTMENT_HEAD,
    "unit_leader": SEVERE_UNIT_LEADER,
}
BY_SEVERITY: dict[str, dict[str, PenaltyRule]] = {
    "major": MAJOR_BY_ROLE,
    "severe": SEVERE_BY_ROLE,
}

# The offences a grader picks for a general event (第二十四条(一)–(三)).
PICKABLE: frozenset[str] = frozenset(r.code for r in SCHEDULE.rules if r.pickable)

# 第二十五条: confirmed through an outside supervision channel → assessed double.
EXTERNAL_ESCALATION_MULTIPLIER = 2


# ---------------------------------------------------------------- a late step is itself a breach


STEP_ZH = {
    "dispatch": "派单",  # 将投诉工单传递到相关职能部门或单位 [第十四条]
    "first_contact": "首日联系",  # 1个工作日内与客户联系 [第十五条]
    "reply": "答复客户",  # 查处完毕并答复客户 [第十五条]
    "resolution": "查处",  # 4个工作日内查处完毕 [第十五条]
    "follow_up": "回访",  # 24小时内对客户进行回访 [第十六条]
    "invalid_notice": "无效告知",
}
"""A step of the table as a breach's reason names it (the seed's words)."""


def breach_proposals(
    step: str, staff: str | None, unit: str | None, amounts: Mapping[str, int | None]
) -> list[PenaltyProposal]:
    """A step's clock ran out in its owner's hands: "负责受理投诉或处理投诉的人员发生推诿、处理
    不及时" is a breach of the 十个不准, assessed on the person responsible under the
    provincial rules [第二十四条(一)] — which are not in the seeds, so the amount is the
    tenant's ``ten_prohibitions`` setting, else None (the manager sets it when deciding).

    Decision (domain §9: propose, never apply): every step of the table counts — receiving
    and dispatching (第十四条), first contact and reply (第十五条), the follow-up call
    (第十六条) are all 受理 or 处理 — except the
    ``return`` clock, which is a window (a misrouted ticket may be sent back within one
    working day, 第十七条), not a task: letting it pass means keeping the ticket. The person
    who held
    the step is proposed; where nobody held it, the owning unit is, for the manager to name
    the person (a unit proposal never reaches the fine ledger)."""
    if step == "return" or (staff is None and unit is None):
        return []
    who = f"员工 {staff}" if staff else f"单位 {unit}（无人接手该环节）"
    return [
        PenaltyProposal(
            rule=TEN_PROHIBITIONS.code,
            staff=staff,
            unit=None if staff else unit,
            amount_fen=amounts.get(TEN_PROHIBITIONS.code),
            reason=(  # stored as the desk reads it: the seed's words, in Chinese
                f"{STEP_ZH.get(step, step)}环节超过时限，当时负责的是{who}：处理不及时，属违反员工"
                f"服务“十个不准” [{_ART24}(一)]；省公司的考核细则不在种子材料中：按租户设定的金额，"
                "或由经理确定"
            ),
        )
    ]
