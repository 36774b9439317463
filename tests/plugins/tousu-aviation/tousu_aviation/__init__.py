"""Civil aviation (民航) — an example tousu industry plugin, registered by entry point.

Complaints by air passengers to an airport (or airline), the CAAC's service-quality hotline
12326 among the channels. Source: seed 003 §篇1 (a medium-sized airport's plan for handling
passenger complaints):

- intro: in 2019 the department received complaints "from the CAAC (民航局), the city
  government (市政府), airlines (航空公司), the quality and safety department (质量安全部) and other
  channels", about check-in (值机手续办理), service attitude (服务态度), terminal facilities and
  signs (候机楼设施标牌), flight-information updates (航班信息更新), baggage service (行李服务),
  VIP service (贵宾服务) and flight delays (航班延误) → categories and the ``source`` facet;
- 一: 12326 is the CAAC's service-quality supervision hotline, a public commitment of the
  CAAC → complaints through it are regulator-supervised (a flag);
- 二: handle within the industry's time limits (《公共航空运输服务消费者投诉管理办法》), closed
  loop, analyse complaints as typical cases;
- 三: complaints caused by staff "服务不规范、未有效沟通或处置不到位" → the staff-service
  categories; the remedy is service-skills training → the ``retraining`` consequence; help
  special passengers (特殊旅客) → a flag;
- 四: dispute-prone points (check-in, baggage, missing terminal signs, facilities out of order);
  put problems found into the service-shortfall register (服务短板库) and hold the area's
  management responsible (落实区域管理、服务提供环节的主体责任) → a per-unit rectification.

The seed defines no severity, no responsibility grade and no penalty amount: those are product
defaults, marked as such in their ``seed=``. Everything here imports only from ``core``.
"""

from __future__ import annotations

from core import Facet, Taxonomy, Term, hookimpl
from core.rules import (
    Classification,
    FactSpec,
    Flag,
    GradeFacts,
    PenaltyProposal,
    PenaltyRule,
    PenaltySchedule,
    Problem,
    TicketFacts,
)

__version__ = "0.1.0"

S1 = "003 §篇1"
PRODUCT = "product default; 003 silent"

# --- taxonomy ------------------------------------------------------------------------------

CATEGORY_GROUPS: tuple[Term, ...] = (
    Term(
        code="ground_service",
        label="Ground service",
        label_zh="地面服务",
        definition="值机手续办理、贵宾服务等旅客地面服务环节。",
        seed=f"{S1} (intro), 四",
    ),
    Term(
        code="staff_service",
        label="Staff attitude and conduct",
        label_zh="服务态度与规范",
        definition="工作人员服务态度,服务不规范、未有效沟通或处置不到位。",
        seed=f"{S1} (intro), 三",
    ),
    Term(
        code="terminal",
        label="Terminal facilities and signs",
        label_zh="候机楼设施标牌",
        definition="候机楼设施标牌,候机楼标识缺失,设备设施无法正常使用。",
        seed=f"{S1} (intro), 四",
    ),
    Term(
        code="flights",
        label="Flights",
        label_zh="航班",
        definition="航班延误,航班信息更新。",
        seed=f"{S1} (intro)",
    ),
    Term(
        code="baggage",
        label="Baggage",
        label_zh="行李服务",
        definition="行李服务。",
        seed=f"{S1} (intro), 四",
    ),
    Term(
        code="ticketing",
        label="Tickets and refunds",
        label_zh="客票与退改签",
        definition="购票、退票、改签、超售等客票问题(原文未列,产品补充)。",
        seed="product addition; 003 silent (《公共航空运输服务消费者投诉管理办法》 named in 003 §篇1 二)",
    ),
    Term(
        code="other_matters",
        label="Other",
        label_zh="其他",
        definition="以上未列明的服务投诉。",
        seed="product addition; 003 §篇1 intro (等多个服务环节)",
    ),
)

CATEGORIES: tuple[Term, ...] = (
    Term(
        code="check_in",
        label="Check-in",
        label_zh="值机手续办理",
        group="ground_service",
        definition="办理值机手续时的问题(易产生纠纷的服务环节)。",
        seed=f"{S1} (intro), 四",
    ),
    Term(
        code="vip_service",
        label="VIP service",
        label_zh="贵宾服务",
        group="ground_service",
        definition="贵宾服务。",
        seed=f"{S1} (intro)",
    ),
    Term(
        code="service_attitude",
        label="Service attitude",
        label_zh="服务态度",
        group="staff_service",
        definition="工作人员服务态度。",
        seed=f"{S1} (intro)",
    ),
    Term(
        code="nonstandard_service",
        label="Service not to standard",
        label_zh="服务不规范",
        group="staff_service",
        definition="工作人员服务不规范。",
        seed=f"{S1} 三",
    ),
    Term(
        code="poor_communication",
        label="No effective communication",
        label_zh="未有效沟通",
        group="staff_service",
        definition="工作人员未与旅客有效沟通。",
        seed=f"{S1} 三",
    ),
    Term(
        code="improper_handling",
        label="Improper handling",
        label_zh="处置不到位",
        group="staff_service",
        definition="现场服务问题或突发事件处置不到位。",
        seed=f"{S1} 三",
    ),
    Term(
        code="signage",
        label="Terminal signs missing or unclear",
        label_zh="候机楼设施标牌、标识缺失",
        group="terminal",
        definition="候机楼设施标牌问题,候机楼标识缺失。",
        seed=f"{S1} (intro), 四",
    ),
    Term(
        code="facility_out_of_order",
        label="Facilities out of order",
        label_zh="设备设施无法正常使用",
        group="terminal",
        definition="候机楼设备设施无法正常使用。",
        seed=f"{S1} 四",
    ),
    Term(
        code="flight_delay",
        label="Flight delay",
        label_zh="航班延误",
        group="flights",
        definition="航班延误。",
        seed=f"{S1} (intro)",
    ),
    Term(
        code="flight_information",
        label="Flight information not updated",
        label_zh="航班信息更新",
        group="flights",
        definition="航班信息未及时更新或不准确。",
        seed=f"{S1} (intro)",
    ),
    Term(
        code="baggage_service",
        label="Baggage service",
        label_zh="行李服务",
        group="baggage",
        definition="行李服务(托运、提取、延误、破损、丢失等)。",
        seed=f"{S1} (intro), 四",
    ),
    Term(
        code="ticket_refund",
        label="Tickets, refunds and changes",
        label_zh="客票与退改签",
        group="ticketing",
        definition="购票、退票、改签、超售等(原文未列,产品补充)。",
        seed="product addition; 003 silent",
    ),
    Term(
        code="other",
        label="Other",
        label_zh="其他",
        group="other_matters",
        definition="以上未列明的服务投诉。",
        seed="product addition; 003 silent",
    ),
)

SEVERITIES: tuple[Term, ...] = (
    Term(
        code="general",
        label="General",
        label_zh="一般投诉",
        definition="An ordinary complaint from one passenger, resolved at the desk.",
        seed=PRODUCT,
    ),
    Term(
        code="serious",
        label="Serious",
        label_zh="严重投诉",
        definition=(
            "Supervised by the regulator (through 12326 or the CAAC) or the city government, "
            "or a problem many passengers complain about (投诉集中、具有普遍性, 003 §篇1 四)."
        ),
        seed=f"{PRODUCT} (echoes 003 §篇1 一, 四)",
    ),
    Term(
        code="major",
        label="Major",
        label_zh="重大投诉",
        definition="Injury, serious loss, a group complaint, or exposure in the media.",
        seed=PRODUCT,
    ),
)

SOURCE = Facet(
    code="source",
    label="Source",
    label_zh="投诉来源",
    seed=f"{S1} (intro), 一",
    values=(
        Term(
            code="caac_12326",
            label="CAAC / 12326 hotline",
            label_zh="民航局(12326民航服务质量监督电话)",
            definition="民航局转来的投诉,含12326民航服务质量监督电话。",
            seed=f"{S1} (intro), 一",
        ),
        Term(
            code="city_government",
            label="City government",
            label_zh="市政府",
            seed=f"{S1} (intro)",
        ),
        Term(
            code="airline",
            label="Airline",
            label_zh="航空公司",
            seed=f"{S1} (intro)",
        ),
        Term(
            code="quality_safety",
            label="Quality and safety department",
            label_zh="质量安全部",
            seed=f"{S1} (intro)",
        ),
        Term(
            code="direct",
            label="Directly from the passenger",
            label_zh="旅客直接投诉",
            definition="旅客在现场或通过本单位电话、网站直接投诉。",
            seed=f"{S1} (intro: 各类渠道); product addition",
        ),
    ),
)

GRADES: tuple[Term, ...] = (
    Term(
        code="main",
        label="Mainly responsible",
        label_zh="主要责任",
        definition=(
            "The complaint arose from the staff member's own non-standard service, failure to "
            "communicate effectively or improper handling (服务不规范、未有效沟通或处置不到位)."
        ),
        seed=f"{PRODUCT} (criterion from 003 §篇1 三)",
    ),
    Term(
        code="secondary",
        label="Secondarily responsible",
        label_zh="次要责任",
        definition=(
            "The cause lay mainly elsewhere (weather, air traffic control, an airline's "
            "decision, facilities) but the staff member's handling made it worse."
        ),
        seed=PRODUCT,
    ),
    Term(
        code="none",
        label="Not responsible",
        label_zh="无责任",
        definition="The staff member served to standard; the findings say why.",
        seed=PRODUCT,
    ),
)

FACTS: tuple[FactSpec, ...] = (
    FactSpec(
        code="delay_minutes",
        label="Flight delay",
        label_zh="航班延误时长",
        kind="int",
        unit="minutes",
        seed=f"{S1} (intro: 航班延误)",
    ),
    FactSpec(
        code="special_passenger",
        label="Special passenger (elderly, disabled, unaccompanied minor…)",
        label_zh="特殊旅客",
        kind="bool",
        seed=f"{S1} 三 (帮扶特殊旅客和遇到实际困难的旅客)",
    ),
)

TAXONOMY = Taxonomy(
    industry="aviation",
    label="Civil aviation",
    label_zh="民航",
    category_groups=CATEGORY_GROUPS,
    categories=CATEGORIES,
    severities=SEVERITIES,
    facets=(SOURCE,),
    grades=GRADES,
    facts=FACTS,
)

# --- penalty schedule ----------------------------------------------------------------------

FINE_MAIN = PenaltyRule(
    code="fine_main",
    label="Fine for main responsibility (amount set by the tenant)",
    label_zh="主要责任:经济处罚(金额由企业设定)",
    seed=f"{PRODUCT}; 003 §篇1 gives no amount",
)
RETRAINING = PenaltyRule(
    code="retraining",
    label="Service-skills retraining and case review",
    label_zh="服务技能培训、服务案例分析",
    min_fen=0,
    max_fen=0,
    default_fen=0,
    sanctions=("服务技能培训", "服务案例分析"),
    seed=f"{S1} 三",
)
SHORTFALL = PenaltyRule(
    code="shortfall_rectification",
    label="Service shortfall registered and rectified by the area's unit",
    label_zh="纳入服务短板库,落实区域管理主体责任,限期整改",
    min_fen=0,
    max_fen=0,
    default_fen=0,
    sanctions=("纳入服务短板库", "限期整改"),
    per="unit",
    seed=f"{S1} 四",
)

SCHEDULE = PenaltySchedule(
    rules=(FINE_MAIN, RETRAINING, SHORTFALL),
    seed=f"{S1} 三, 四; amounts are tenant settings ({PRODUCT})",
)

GRADE_RULES: dict[str, tuple[PenaltyRule, ...]] = {
    "main": (FINE_MAIN, RETRAINING),
    "secondary": (RETRAINING,),
    "none": (),
}

# --- hooks ---------------------------------------------------------------------------------

REGULATOR_SOURCES = frozenset({"caac_12326", "city_government"})


@hookimpl
def tousu_taxonomy() -> Taxonomy:
    return TAXONOMY


@hookimpl
def tousu_classify(ticket: TicketFacts) -> Classification:
    flags: list[Flag] = []
    reasons: list[str] = []
    category = None
    severity = None
    delay = ticket.facts.get("delay_minutes")
    if ticket.category is None and isinstance(delay, int) and delay > 0:
        category = "flight_delay"
        reasons.append(f"flight delayed {delay} minutes → 航班延误 [{S1}]")
    if ticket.facets.get("source") in REGULATOR_SOURCES:
        severity = None if ticket.severity == "major" else "serious"
        flags.append(
            Flag(
                code="regulator_supervised",
                label="Forwarded by the regulator or the city government",
                detail="12326 民航服务质量监督电话 / 民航局 / 市政府: answer within the time limits",
                seed=f"{S1} 一, 二",
            )
        )
        reasons.append(f"supervised complaint → at least serious ({PRODUCT})")
    if ticket.facts.get("special_passenger") is True:
        flags.append(Flag(code="special_passenger", label="特殊旅客: help first", seed=f"{S1} 三"))
    return Classification(
        category=category, severity=severity, flags=tuple(flags), reasons=tuple(reasons)
    )


@hookimpl
def tousu_check_grade(ticket: TicketFacts, grade: GradeFacts) -> list[Problem]:
    problems: list[Problem] = []
    if grade.capacity != "direct":
        problems.append(Problem(field="capacity", rule="aviation grades the staff member only"))
    if grade.offence is not None:
        problems.append(Problem(field="offence", rule="consequences follow from the grade"))
    if grade.grade == "none" and not grade.findings.strip():
        problems.append(Problem(field="findings", rule="grade none needs the findings saying why"))
    return problems


@hookimpl
def tousu_penalty_schedule() -> PenaltySchedule:
    return SCHEDULE


@hookimpl
def tousu_propose_penalties(
    ticket: TicketFacts, grades: list[GradeFacts], amounts: dict[str, int | None]
) -> list[PenaltyProposal]:
    out: list[PenaltyProposal] = []
    for g in grades:
        for rule in GRADE_RULES.get(g.grade, ()):
            out.append(
                PenaltyProposal(
                    rule=rule.code,
                    staff=g.staff,
                    amount_fen=amounts.get(rule.code, rule.default_fen),
                    sanctions=rule.sanctions,
                    reason=f"{ticket.number}: {g.grade} → {rule.label_zh} [{rule.seed}]",
                )
            )
    units = sorted({g.department for g in grades if g.grade == "main" and g.department})
    for unit in units:
        out.append(
            PenaltyProposal(
                rule=SHORTFALL.code,
                unit=unit,
                amount_fen=amounts.get(SHORTFALL.code, SHORTFALL.default_fen),
                sanctions=SHORTFALL.sanctions,
                reason=f"{ticket.number}: {SHORTFALL.label_zh} [{SHORTFALL.seed}]",
            )
        )
    return out


@hookimpl
def tousu_approvers(step: str, ticket: TicketFacts) -> list[str] | None:
    if step == "close" and ticket.severity in ("serious", "major"):
        return ["manager", "general_manager"]
    return None


__all__ = [
    "SCHEDULE",
    "TAXONOMY",
    "tousu_approvers",
    "tousu_check_grade",
    "tousu_classify",
    "tousu_penalty_schedule",
    "tousu_propose_penalties",
    "tousu_taxonomy",
]
