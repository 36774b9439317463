"""The power-supply rules: classification flags, grade checks and penalty proposals.

Seeds (002 is a bundle; every citation names the document):

- 《投诉举报管理办法》第四条 受理范围, items 10-16: the measurable commitments a rule can
  check from the ticket's facts (thresholds below, as data).
- 《客户投诉管理考核办法》第九条: counted as a complaint only once verified as the supply
  unit's responsibility.
- 《客户投诉管理考核办法》第二十四条: who is assessed how (general tiers picked by the grader;
  major and severe tiers derived from severity and grade or capacity).
- 《客户投诉管理考核办法》第二十五条: confirmed through an outside supervision channel →
  double; 第二十六条: falsified reply → 500 yuan per case to the unit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core.rules import (
    Classification,
    Flag,
    GradeFacts,
    PenaltyProposal,
    PenaltyRule,
    Problem,
    TicketFacts,
)
from plugins.utility import penalties as p
from plugins.utility.taxonomy import COMMITMENT_BREACHES, TAXONOMY

_ASSESS = "002 《客户投诉管理考核办法》"
_SCOPE = "002 《投诉举报管理办法》第四条"
_ART9 = f"{_ASSESS}第九条"
_ART24 = f"{_ASSESS}第二十四条"
_ART25 = f"{_ASSESS}第二十五条"
_ART26 = f"{_ASSESS}第二十六条"

# -------------------------------------------------------------------------
# Thresholds of the acceptance scope, 《投诉举报管理办法》第四条. A value strictly beyond the
# limit is a breach ("超过" N; "未提前7天" = announced fewer than 7 days ahead).
# -------------------------------------------------------------------------

# 第15项: 城区范围超过45分钟;农村地区超过90分钟;特殊边远地区超过2小时.
REPAIR_ARRIVAL_LIMIT_MINUTES: Mapping[str, int] = {"urban": 45, "rural": 90, "remote": 120}

# 第10项: 居民客户超过3个工作日,低压电力客户超过7个工作日,高压单电源客户超过15个工作日,
# 高压双电源客户超过30个工作日. (A bare "non_residential" does not say which limit applies.)
SUPPLY_PLAN_LIMIT_WORKING_DAYS: Mapping[str, int] = {
    "residential": 3,
    "low_voltage": 7,
    "high_voltage_single": 15,
    "high_voltage_dual": 30,
}

# 第11项: 城乡居民客户 … 超过3个工作日未送电; 第12项: 非居民客户 … 超过5个工作日未送电.
# Every customer type other than residential is non-residential (低压电力/高压客户 included).
RESIDENTIAL_CONNECTION_LIMIT_WORKING_DAYS = 3
NON_RESIDENTIAL_CONNECTION_LIMIT_WORKING_DAYS = 5

# 第13项: 计划检修停电,未提前7天向社会公告; 第16项: 欠费停电,未提前7天送达停电通知书.
OUTAGE_NOTICE_MIN_DAYS = 7
DISCONNECTION_NOTICE_MIN_DAYS = 7

# The 第十条 item a breach obviously belongs to (suggested category); absent → no suggestion.
BREACH_CATEGORY: Mapping[str, str] = {
    "repair_crew_late": "fault_repair",
    "no_24h_fault_service": "fault_repair",
    "supply_plan_late": "new_connection",
    "residential_connection_late": "new_connection",
    "non_residential_connection_late": "new_connection",
    "planned_outage_not_announced": "outage_notice",
    "abusive_attitude": "service_attitude",
    "self_invented_charges": "business_charges",
}

# The scope items a timer rule measures (the rest only the clerk can record, via the facet).
MEASURED_BREACHES = frozenset(
    {
        "supply_plan_late",
        "residential_connection_late",
        "non_residential_connection_late",
        "planned_outage_not_announced",
        "no_24h_fault_service",
        "repair_crew_late",
        "arrears_disconnection_without_notice",
    }
)

_BREACH_TERMS = {t.code: t for t in COMMITMENT_BREACHES}
_GRADES = frozenset(g.code for g in TAXONOMY.grades)
_SEVERITIES = frozenset(s.code for s in TAXONOMY.severities)


def _flag(code: str, detail: str) -> Flag:
    term = _BREACH_TERMS[code]
    return Flag(code=code, label=term.label, detail=detail, seed=term.seed)


def _int(facts: Mapping[str, Any], key: str) -> int | None:
    value = facts.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -------------------------------------------------------------------------
# Detectors: each reads the facts and returns (flags, reasons).
# -------------------------------------------------------------------------

_Found = tuple[list[Flag], list[str]]


def _repair_arrival(facts: Mapping[str, Any]) -> _Found:
    minutes = _int(facts, "repair_arrival_minutes")
    if minutes is None:
        return [], []
    area = facts.get("area")
    limit = REPAIR_ARRIVAL_LIMIT_MINUTES.get(area) if isinstance(area, str) else None
    if limit is None:
        return [], [f"repair arrival time recorded without the area: cannot judge [{_SCOPE}第15项]"]
    if minutes <= limit:
        return [], []
    detail = f"repair crew arrived after {minutes} minutes; the {area} limit is {limit} minutes"
    return [_flag("repair_crew_late", detail)], []


def _supply_plan(facts: Mapping[str, Any]) -> _Found:
    days = _int(facts, "supply_plan_answer_working_days")
    if days is None:
        return [], []
    ctype = facts.get("customer_type")
    limit = SUPPLY_PLAN_LIMIT_WORKING_DAYS.get(ctype) if isinstance(ctype, str) else None
    if limit is None:
        return [], [
            "supply-plan answer time recorded without a customer type the limit depends on "
            "(residential, low_voltage, high_voltage_single, high_voltage_dual) "
            f"[{_SCOPE}第10项]"
        ]
    if days <= limit:
        return [], []
    detail = (
        f"supply plan answered after {days} working days; the {ctype} limit is {limit} working days"
    )
    return [_flag("supply_plan_late", detail)], []


def _connection(facts: Mapping[str, Any]) -> _Found:
    days = _int(facts, "connection_working_days")
    if days is None:
        return [], []
    ctype = facts.get("customer_type")
    if not isinstance(ctype, str):
        return [], [
            "connection time recorded without the customer type (residential or not) "
            f"[{_SCOPE}第11项、第12项]"
        ]
    if ctype == "residential":
        code, limit = "residential_connection_late", RESIDENTIAL_CONNECTION_LIMIT_WORKING_DAYS
    else:
        code, limit = (
            "non_residential_connection_late",
            NON_RESIDENTIAL_CONNECTION_LIMIT_WORKING_DAYS,
        )
    if days <= limit:
        return [], []
    kind = "residential" if ctype == "residential" else "non-residential"
    detail = (
        f"power not connected {days} working days after inspection and formalities; the "
        f"{kind} limit is {limit} working days"
    )
    return [_flag(code, detail)], []


def _outage_notice(facts: Mapping[str, Any]) -> _Found:
    days = _int(facts, "outage_notice_days")
    if days is None or days >= OUTAGE_NOTICE_MIN_DAYS:
        return [], []
    detail = (
        f"planned maintenance outage announced {days} days ahead; at least "
        f"{OUTAGE_NOTICE_MIN_DAYS} days required"
    )
    return [_flag("planned_outage_not_announced", detail)], []


def _disconnection_notice(facts: Mapping[str, Any]) -> _Found:
    days = _int(facts, "disconnection_notice_days")
    if days is None or days >= DISCONNECTION_NOTICE_MIN_DAYS:
        return [], []
    detail = (
        f"disconnection notice for arrears served {days} days ahead; at least "
        f"{DISCONNECTION_NOTICE_MIN_DAYS} days required"
    )
    return [_flag("arrears_disconnection_without_notice", detail)], []


def _fault_service(facts: Mapping[str, Any]) -> _Found:
    if facts.get("fault_service_24h") is not False:
        return [], []
    return [_flag("no_24h_fault_service", "no 24-hour fault-report service was provided")], []


DETECTORS: tuple[Callable[[Mapping[str, Any]], _Found], ...] = (
    _supply_plan,
    _connection,
    _outage_notice,
    _fault_service,
    _repair_arrival,
    _disconnection_notice,
)


def _counts_as_complaint(ticket: TicketFacts) -> bool:
    """第九条: 未核实前不统计为投诉,经核实属于供电单位责任的,列入投诉类统计."""
    verified = (ticket.facts or {}).get("verified_supplier_responsibility")
    if isinstance(verified, bool):
        return verified
    facet = (ticket.facets or {}).get("verified_responsibility")
    if facet == "verified":
        return True
    if facet == "not_verified":
        return False
    return False  # 未核实前不统计为投诉: until verified it is not counted


def classify(ticket: TicketFacts) -> Classification:
    facts = ticket.facts or {}
    flags: list[Flag] = []
    reasons: list[str] = []
    for detect in DETECTORS:
        found, why = detect(facts)
        flags.extend(found)
        reasons.extend(why)

    # The clerk's own pick on the acceptance-scope facet: flag the items no timer measures;
    # for a measured item, flag it only while the facts do not settle it.
    picked = (ticket.facets or {}).get("commitment_breach")
    if picked in _BREACH_TERMS and picked not in {f.code for f in flags}:
        if picked not in MEASURED_BREACHES:
            flags.append(_flag(picked, "recorded by the clerk (no measurable threshold)"))
        elif _measured_by_facts(picked, facts):
            reasons.append(
                f"commitment_breach {picked!r} was recorded but the facts show no breach "
                f"[{_BREACH_TERMS[picked].seed}]"
            )
        else:
            flags.append(_flag(picked, "recorded by the clerk; enter the facts to measure it"))

    categories = {BREACH_CATEGORY[f.code] for f in flags if f.code in BREACH_CATEGORY}
    category = categories.pop() if len(categories) == 1 else None
    if len(categories) > 1:
        reasons.append("flags point at different categories: no category suggested")
    if flags:
        reasons.append(
            "breach of the acceptance scope detected; whether it is assessed under the "
            '"Ten Prohibitions" / "Ten Commitments" provincial rules or as a general event is '
            f"the grader's call [{_ART24}(一)–(三)]"
        )

    counts = _counts_as_complaint(ticket)
    if counts:
        reasons.append(f"verified as the supply unit's responsibility: counted [{_ART9}]")
    else:
        reasons.append(
            f"not (yet) verified as the supply unit's responsibility: not counted [{_ART9}]"
        )

    return Classification(
        category=category,
        counts_as_complaint=counts,
        flags=tuple(flags),
        reasons=tuple(reasons),
    )


_FACTS_OF_BREACH: Mapping[str, tuple[str, ...]] = {
    "supply_plan_late": ("supply_plan_answer_working_days", "customer_type"),
    "residential_connection_late": ("connection_working_days", "customer_type"),
    "non_residential_connection_late": ("connection_working_days", "customer_type"),
    "planned_outage_not_announced": ("outage_notice_days",),
    "no_24h_fault_service": ("fault_service_24h",),
    "repair_crew_late": ("repair_arrival_minutes", "area"),
    "arrears_disconnection_without_notice": ("disconnection_notice_days",),
}


def _measured_by_facts(code: str, facts: Mapping[str, Any]) -> bool:
    return all(facts.get(k) is not None for k in _FACTS_OF_BREACH[code])


# -------------------------------------------------------------------------
# Grading: 第二十四条. Grades main / secondary / none; capacities direct or a leader.
# -------------------------------------------------------------------------


def check_grade(ticket: TicketFacts, grade: GradeFacts) -> list[Problem]:
    if grade.grade not in _GRADES:
        return [
            Problem(
                field="grade",
                rule=(
                    "utility grades are main, secondary or none: the seed has no full "
                    f"responsibility [{_ART24}(四)]"
                ),
            )
        ]
    capacities = {"direct"} | {c.code for c in TAXONOMY.capacities}
    if grade.capacity not in capacities:
        return [
            Problem(
                field="capacity",
                rule="capacity must be one of {capacities} [" + _ART24 + "(四)]",
                params={"capacities": ", ".join(sorted(capacities))},
            )
        ]
    if grade.grade == "none":
        if grade.offence is not None:
            return [Problem(field="offence", rule="a person with no responsibility has no offence")]
        return []

    severity = ticket.severity
    if severity not in _SEVERITIES:
        return [
            Problem(
                field="grade",
                rule=(
                    "set the ticket's severity (general, major or severe) before grading anyone "
                    f"responsible: it decides the tier [{_ART24}(三)(四)]"
                ),
            )
        ]

    if severity in p.BY_SEVERITY:
        if grade.offence is not None:
            return [
                Problem(
                    field="offence",
                    rule=(
                        "a {severity} event's tier comes from the severity and the grade or "
                        "capacity; leave the offence empty [" + _ART24 + "(四)]"
                    ),
                    params={"severity": str(severity)},
                )
            ]
        return []

    # General event: the grader picks the offence (第二十四条(一)–(三)); leaders are assessed
    # by reference, level by level (第二十四条(五)), so they need one too.
    if grade.offence is None:
        return [
            Problem(
                field="offence",
                rule="a general event needs the offence picked from {offences} ["
                + _ART24
                + "(一)–(三)]",
                params={"offences": ", ".join(sorted(p.PICKABLE))},
            )
        ]
    if grade.offence not in p.PICKABLE:
        return [
            Problem(
                field="offence",
                rule="offence must be one of {offences} [" + _ART24 + "(三)]",
                params={"offences": ", ".join(sorted(p.PICKABLE))},
            )
        ]
    loss = (ticket.facts or {}).get("customer_loss")
    if loss is True and grade.offence == p.GENERAL_WORK_QUALITY_NO_LOSS.code:
        return [
            Problem(
                field="offence",
                rule=(
                    "the facts record a loss to the customer: pick general_work_quality_loss "
                    f"[{_ART24}(三)1(2)]"
                ),
            )
        ]
    if loss is False and grade.offence == p.GENERAL_WORK_QUALITY_LOSS.code:
        return [
            Problem(
                field="offence",
                rule=(
                    "the facts record no loss to the customer: pick "
                    f"general_work_quality_no_loss [{_ART24}(三)1(1)]"
                ),
            )
        ]
    return []


# -------------------------------------------------------------------------
# Proposals: 第二十四条–第二十六条.
# -------------------------------------------------------------------------


def _rule_for(severity: str | None, grade: GradeFacts) -> PenaltyRule | None:
    if grade.grade not in ("main", "secondary"):
        return None
    table = p.BY_SEVERITY.get(severity or "")
    if table is not None:
        return table.get(grade.grade if grade.capacity == "direct" else grade.capacity)
    if severity == "general" and grade.offence in p.PICKABLE:
        return p.SCHEDULE.rule(grade.offence)
    return None


def _reason(rule: PenaltyRule, grade: GradeFacts, multiplier: int) -> str:
    """Why the rule applies, stored in Chinese as the desk reads it (the seed's words)."""
    parts = [f"{rule.label_zh} [{rule.seed}]"]
    if rule.min_fen is None and rule.max_fen is None:
        parts.append(
            "种子材料未给出金额（省公司细则不在种子材料中）：按租户设定的金额，或由经理确定"
        )
    if rule is p.SEVERE_UNIT_LEADER:
        parts.append(f"严重投诉事件只点名单位分管副职；单位正职参照上述条款逐级考核 [{_ART24}(五)]")
    if grade.capacity != "direct" and rule.pickable:
        capacity = next((c.label_zh for c in TAXONOMY.capacities if c.code == grade.capacity),
                        grade.capacity)  # fmt: skip
        parts.append(f"{capacity}：参照上述条款逐级进行考核 [{_ART24}(五)]")
    if multiplier != 1:
        parts.append(
            f"按 {multiplier} 倍考核：客户投诉到公司以外的服务监督渠道，经查属实 [{_ART25}]；"
            "金额和下限加倍，处分不自动加重，由经理确认"
        )
    return "；".join(parts)


def _responsible_unit(grades: list[GradeFacts]) -> str | None:
    """第二十六条 charges the 责任单位: the department of the directly responsible person graded
    main, else of anyone graded responsible, else of anyone graded."""
    order = (
        [g for g in grades if g.capacity == "direct" and g.grade == "main"],
        [g for g in grades if g.grade in ("main", "secondary")],
        list(grades),
    )
    for group in order:
        for g in group:
            if g.department:
                return g.department
    return None


def propose(
    ticket: TicketFacts, grades: list[GradeFacts], amounts: Mapping[str, int | None]
) -> list[PenaltyProposal]:
    facts = ticket.facts or {}
    multiplier = p.EXTERNAL_ESCALATION_MULTIPLIER if facts.get("external_escalation") is True else 1
    out: list[PenaltyProposal] = []
    for grade in grades:
        rule = _rule_for(ticket.severity, grade)
        if rule is None:
            continue
        amount = amounts.get(rule.code, rule.default_fen)
        minimum = rule.min_fen if rule.max_fen is None else None  # "不少于 N 元" floors only
        out.append(
            PenaltyProposal(
                rule=rule.code,
                staff=grade.staff,
                amount_fen=None if amount is None else amount * multiplier,
                minimum_fen=None if minimum is None else minimum * multiplier,
                multiplier=multiplier,
                sanctions=rule.sanctions,
                reason=_reason(rule, grade, multiplier),
            )
        )

    if facts.get("falsified_reply") is True:
        rule = p.FALSIFIED_REPLY
        unit = _responsible_unit(grades)
        reason = f"{rule.label_zh} [{rule.seed}]"
        if unit is None:
            reason += "；不知道被定责人员所在的单位：由经理指定责任单位"
        if multiplier != 1:
            reason += (
                f"；不加倍：{_ART25} 加倍考核的是责任人，{_ART26} 是每件固定的考核金额"
                "（经理可调整）"
            )
        out.append(
            PenaltyProposal(
                rule=rule.code,
                unit=unit,
                amount_fen=amounts.get(rule.code, rule.default_fen),
                sanctions=rule.sanctions,
                reason=reason,
            )
        )
    return out


__all__ = [
    "BREACH_CATEGORY",
    "DETECTORS",
    "REPAIR_ARRIVAL_LIMIT_MINUTES",
    "SUPPLY_PLAN_LIMIT_WORKING_DAYS",
    "check_grade",
    "classify",
    "propose",
]
