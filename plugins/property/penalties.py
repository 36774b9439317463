"""The property penalty schedule: the five offence tiers of 000 §篇7 六.

000 §篇7 is a generic company's 《服务投诉管理制度》 (the HR/admin manager receives complaints);
the property seeds have no schedule of their own, so **this generic company's system serves as
the property penalty schedule** (domain §5, §9). The seed numbers the tiers 1–5 under
"六,客户投诉处罚与处分" and names each by its sanction; it does not call them 一级…五级.

Tiers (code — seed 000 §篇7 六 item — fine per person per time — appraisal points — sanctions):

- ``tier_1`` — 六1 经济处罚 — 30–100 yuan (default 50) — 0 — none
- ``tier_2`` — 六2 警告处分 — 200 yuan — 5 — 警告处分, 通报全公司
- ``tier_3`` — 六3 申诫处分 (the seed prints 申诚) — 300 yuan — 10 — 申诫处分, 通报全公司
- ``tier_4`` — 六4 记大过处分 — 1,000 yuan + 扣除当月绩效工资 (``whole_month_pay``) — 0 —
  记大过处分, 通报全公司
- ``tier_5`` — 六5 辞退或开除 — no fine — 0 — 辞退或开除; 情节严重的追究其经济责任及法律责任,
  并视情况移交司法机关处理

The offences of each tier, in the seed's words, are in :data:`OFFENCES`. The grader picks
the tier (every rule is ``pickable``, domain §4); the grade only says whether the person was
responsible. Fines are per person and per time (元/次). Tiers 2–4 give one amount: the range
is that amount (min = max = default); a tenant may still set another with a recorded reason.
Tier 5 has no fine. The seed writes no carry-over of fines that exceed a month's pay: it is a
tenant option for property (domain §5), off by default.
"""

from __future__ import annotations

from core.rules import PenaltyRule, PenaltySchedule, yuan

SEED = "000 §篇7 六"

# --- the offences of each tier, in the seed's words (000 §篇7 六1–5) --------------------------

OFFENCES: dict[str, tuple[str, ...]] = {
    # 000 §篇7 六1: 处以30—100元/次的经济处罚
    "tier_1": (
        "A. 服务态度不佳,服务效率低下",
        "B. 对业务工作不熟悉,无法提供专业服务",
        "C. 不尊重客户,讥笑,议论客户,在客户面前指手画脚,交头接耳",
    ),
    # 000 §篇7 六2: 警告处分 + 200元/次 + 扣除月度绩效考评5分 + 通报全公司
    "tier_2": (
        "A. 接待客户态度冷淡,擅自减少服务流程",
        "B. 利用职务之便,故意刁难客户者",
        "C. 不尊重客户,与客户发生争执者",
    ),
    # 000 §篇7 六3: 申诫处分 + 300元/次 + 扣除月度绩效考评10分 + 通报全公司
    "tier_3": (
        "A. 对投诉事实拒不承认者",
        "B. 主管管理不力,不能有效监督服务工作及解决投诉者",
    ),
    # 000 §篇7 六4: 记大过处分 + 1000元/次 + 扣除当月度绩[效]工资 + 通报全公司
    "tier_4": (
        "A. 接到投诉或预见可能发生的投诉,隐瞒不报者",
        "B. 不配合解决客户投诉,延误处理时机,使投诉进一步恶化者",
    ),
    # 000 §篇7 六5: 辞退或开除,情节严重的追究其经济责任及法律责任,并视情况移交司法机关处理
    "tier_5": (
        "A. 辱骂,殴打客户者",
        "B. 对投诉客户进行打击报复者",
        "C. 因未能妥善处理客户投诉,对公司或发展商声誉造成重大损失者",
        "D. 对客户给予不实之承诺,导致公司或发展商受损失者",
    ),
}

OFFENCES_EN: dict[str, str] = {
    "tier_1": (
        "poor service attitude or efficiency; unfamiliar with the work, cannot serve "
        "professionally; disrespecting, mocking or gossiping about customers"
    ),
    "tier_2": (
        "cold reception or skipping service steps; abusing the position to make things "
        "difficult for a customer; arguing with a customer"
    ),
    "tier_3": (
        "denying the facts of a complaint; a supervisor failing to supervise the service "
        "or resolve complaints"
    ),
    "tier_4": (
        "hiding a complaint received or foreseen; not cooperating in resolving a complaint, "
        "delaying it until it worsens"
    ),
    "tier_5": (
        "insulting or hitting a customer; retaliating against a complainant; major damage to "
        "the company's or developer's reputation through mishandling; false promises causing "
        "the company or developer a loss"
    ),
}


HEADINGS_ZH: dict[str, str] = {
    "tier_1": "第1档 经济处罚30—100元/次",
    "tier_2": "第2档 警告处分,200元/次,扣月度绩效考评5分,通报全公司",
    "tier_3": "第3档 申诫处分,300元/次,扣月度绩效考评10分,通报全公司",
    "tier_4": "第4档 记大过处分,1000元/次,扣除当月绩效工资,通报全公司",
    "tier_5": "第5档 辞退或开除,情节严重的追究经济责任及法律责任",
}
"""Each tier's consequences, short (the seed numbers the tiers 1–5 of 六)."""

HEADINGS: dict[str, str] = {
    "tier_1": "Tier 1, fine 30–100 yuan per time",
    "tier_2": "Tier 2, warning + 200 yuan + 5 appraisal points + company notice",
    "tier_3": "Tier 3, serious warning (申诫) + 300 yuan + 10 appraisal points + company notice",
    "tier_4": "Tier 4, major demerit + 1,000 yuan + that month's performance pay + company notice",
    "tier_5": "Tier 5, dismissal; economic and legal liability if serious",
}


def _label_zh(code: str) -> str:
    return f"{HEADINGS_ZH[code]}:" + ";".join(OFFENCES[code])


def _label(code: str) -> str:
    return f"{HEADINGS[code]}: {OFFENCES_EN[code]}"


_NOTICE = "通报全公司"

RULES: tuple[PenaltyRule, ...] = (
    PenaltyRule(
        code="tier_1",
        label=_label("tier_1"),
        label_zh=_label_zh("tier_1"),
        min_fen=yuan(30),
        max_fen=yuan(100),
        default_fen=yuan(50),  # the seed gives a range only; 50 is the product default
        pickable=True,
        seed=f"{SEED}(1)",
    ),
    PenaltyRule(
        code="tier_2",
        label=_label("tier_2"),
        label_zh=_label_zh("tier_2"),
        min_fen=yuan(200),
        max_fen=yuan(200),
        default_fen=yuan(200),
        sanctions=("警告处分", _NOTICE),
        appraisal_points=5,
        pickable=True,
        seed=f"{SEED}(2)",
    ),
    PenaltyRule(
        code="tier_3",
        label=_label("tier_3"),
        label_zh=_label_zh("tier_3"),
        min_fen=yuan(300),
        max_fen=yuan(300),
        default_fen=yuan(300),
        # the seed prints 申诚处分, a typo for 申诫处分
        sanctions=("申诫处分", _NOTICE),
        appraisal_points=10,
        pickable=True,
        seed=f"{SEED}(3)",
    ),
    PenaltyRule(
        code="tier_4",
        label=_label("tier_4"),
        label_zh=_label_zh("tier_4"),
        min_fen=yuan(1000),
        max_fen=yuan(1000),
        default_fen=yuan(1000),
        sanctions=("记大过处分", _NOTICE),
        whole_month_pay=True,
        pickable=True,
        seed=f"{SEED}(4)",
    ),
    PenaltyRule(
        code="tier_5",
        label=_label("tier_5"),
        label_zh=_label_zh("tier_5"),
        # no fine in the seed: 经济责任 is liability for the loss, assessed case by case
        min_fen=None,
        max_fen=None,
        default_fen=None,
        sanctions=(
            "辞退或开除",
            "情节严重的追究其经济责任及法律责任,并视情况移交司法机关处理",
        ),
        pickable=True,
        seed=f"{SEED}(5)",
    ),
)

SCHEDULE: PenaltySchedule = PenaltySchedule(
    rules=RULES,
    carry_over=False,
    seed=(
        f"{SEED} (《服务投诉管理制度》 of a generic company, serving as the property schedule; "
        "carry-over is a tenant option, domain §5)"
    ),
)

PICKABLE: frozenset[str] = frozenset(r.code for r in RULES if r.pickable)

__all__ = [
    "HEADINGS",
    "HEADINGS_ZH",
    "OFFENCES",
    "OFFENCES_EN",
    "PICKABLE",
    "RULES",
    "SCHEDULE",
]
