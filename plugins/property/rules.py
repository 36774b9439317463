"""The property industry's rules: classification, grade checks and penalty proposals.

Pure functions over values (:mod:`core.rules`); the hookimpls in :mod:`plugins.property` only
call them. The data they read — facts (:data:`plugins.property.taxonomy.FACTS`), severity
definitions (:data:`SEVERITY_RULES`) and the penalty schedule
(:data:`plugins.property.penalties.SCHEDULE`) — carry their seed next to them.

Severity [000 §篇1 4(4)2 投诉界定]:

- 重大 major: ①a promised/contracted service not delivered or obviously wrong, and the
  complainant raised it without getting it resolved; ①b serious economic loss or personal
  injury through the company's fault; ①c a valid complaint not reasonably resolved within
  one month (read from the ticket's age, :func:`month_ends`).
- 重要 important: ② caused by failings or faults in the management or service work.
- 轻微 minor: ③ slight inconvenience from limited facilities, equipment or management, not
  caused by people, fairly easily fixed.

The highest severity whose definition the facts meet is suggested; every definition met is
given as a reason. Facts left unset are unknown and meet nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import msgspec

from core.rules import (
    Classification,
    Flag,
    GradeFacts,
    PenaltyProposal,
    Problem,
    TicketFacts,
)
from plugins.property.penalties import HEADINGS_ZH, PICKABLE, SCHEDULE
from plugins.property.taxonomy import GRADES

GRADE_ZH = {g.code: g.label_zh for g in GRADES}
"""A grade's Chinese (全责, 主责, 次责) for a penalty's reason."""

# --- validity — 000 §篇1 1(1) -------------------------------------------------------------

COMMUNICATIVE: frozenset[str] = frozenset({"help", "inquiry", "venting"})
"""沟通性投诉: 求助型, 咨询型, 发泄型 [000 §篇1 1(1)2)] — not valid complaints."""

# --- severity — 000 §篇1 4(4)2 -------------------------------------------------------------

SEVERITY_ORDER: tuple[str, ...] = ("major", "important", "minor")
"""重大 > 重要 > 轻微 [000 §篇1 4(4)2] (domain §9: the order is property's own)."""


class SeverityRule(msgspec.Struct, frozen=True, kw_only=True):
    """One clause of the seed's severity definitions: met when every listed fact has the
    listed value (an unset fact is unknown and meets nothing)."""

    code: str
    severity: str
    when: dict[str, bool]
    reason: str
    seed: str
    definitional: bool = False
    """A definition of 重大 the core may apply (also raised as a flag)."""


SEVERITY_RULES: tuple[SeverityRule, ...] = (
    SeverityRule(
        code="major_undelivered_unresolved",
        severity="major",
        when={"promised_service_undelivered": True, "raised_before_unresolved": True},
        reason=(
            "重大投诉: 公司承诺或合同规定提供的服务没有实施或实施效果有明显差错,"
            "经客户提出而得不到解决"
        ),
        seed="000 §篇1 4(4)2①a",
        definitional=True,
    ),
    SeverityRule(
        code="major_serious_economic_loss",
        severity="major",
        when={"serious_economic_loss": True},
        reason="重大投诉: 由于公司责任给客户造成重大经济损失",
        seed="000 §篇1 4(4)2①b",
        definitional=True,
    ),
    SeverityRule(
        code="major_personal_injury",
        severity="major",
        when={"personal_injury": True},
        reason="重大投诉: 由于公司责任给客户造成人身伤害",
        seed="000 §篇1 4(4)2①b",
        definitional=True,
    ),
    SeverityRule(
        code="important_service_failing",
        severity="important",
        when={"service_failing": True},
        reason="重要投诉: 因公司的管理服务工作不到位、有过失而引起",
        seed="000 §篇1 4(4)2②",
    ),
    SeverityRule(
        # Interpretation: ③ excludes what people caused (非人为因素); a complaint caused by
        # people is a failing of the service work (②), so it is at least important.
        code="important_caused_by_people",
        severity="important",
        when={"caused_by_people": True},
        reason=(
            "重要投诉: 人为因素造成,不属轻微投诉(轻微投诉须非人为因素造成),"
            "属管理服务工作不到位、有过失"
        ),
        seed="000 §篇1 4(4)2②③",
    ),
    SeverityRule(
        code="minor_slight_inconvenience",
        severity="minor",
        when={"slight_inconvenience": True, "caused_by_people": False, "easily_fixed": True},
        reason=(
            "轻微投诉: 因公司的设施、设备和管理水平有限给客户造成的生活、工作轻微不便"
            "而非人为因素造成的影响,可以通过改进而较易得到解决或改进"
        ),
        seed="000 §篇1 4(4)2③",
    ),
)

# --- the one-month rule — 000 §篇1 4(4)2①c --------------------------------------------------

CHINA = dt.timezone(dt.timedelta(hours=8), "UTC+08:00")
"""China Standard Time (no daylight saving): calendar days are counted in China."""

RESOLVED_STATES: frozenset[str] = frozenset({"closed", "followed_up"})
"""States in which a complaint counts as resolved: 销项 (closed), and 回访 done with the
complainant satisfied (followed_up, waiting only for the close). A suspended ticket
(recorded as unresolvable) is not resolved."""

ONE_MONTH_SEED = "000 §篇1 4(4)2①c"


def _in_china(t: dt.datetime) -> dt.datetime:
    """An aware time in China; a naive time is taken as already in China time."""
    return t.replace(tzinfo=CHINA) if t.tzinfo is None else t.astimezone(CHINA)


def month_ends(created_at: dt.datetime) -> dt.datetime:
    """The end of the one month a valid complaint has to be resolved in [000 §篇1 4(4)2①c].

    Counted as the Civil Code counts a period in months (《民法典》第二百零一条、第二百零二条、
    第二百零三条第二款): the day of intake is not counted; the month's last day is the day of the
    next month with the same number, or that month's last day when it has no such day; the
    period ends at 24:00 of that day. Days are China calendar days (UTC+8). So a complaint
    taken on 15 January may be resolved until 15 February 24:00 and is major from 16 February
    00:00; one taken on 31 January (or 28–30 January in a common year) has until 28 February
    24:00 and is major from 1 March 00:00.

    Not applied: 第二百零三条第一款 (a last day on a public holiday moves to the next working
    day): this is the seed's definition of a major complaint, not a procedural deadline.

    Returns the first instant (aware, UTC+8) at which the complaint is overdue.
    """
    day = _in_china(created_at).date()
    year, month = (day.year, day.month + 1) if day.month < 12 else (day.year + 1, 1)
    last = dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=CHINA)


def unresolved_for_a_month(ticket: TicketFacts) -> dt.datetime | None:
    """When the ticket meets 000 §篇1 4(4)2①c, the instant its month ended; else None.

    A valid complaint (``ticket.valid is True``) that is not resolved
    (:data:`RESOLVED_STATES`) when the core asks (``ticket.now``) after its month ended.
    """
    if ticket.valid is not True or ticket.state in RESOLVED_STATES:
        return None
    now = ticket.now if ticket.now is not None else dt.datetime.now(dt.UTC)
    end = month_ends(ticket.created_at)
    return end if _in_china(now) >= end else None


# --- classify ------------------------------------------------------------------------------


def _suggest_validity(ticket: TicketFacts) -> tuple[bool | None, bool | None, list[str]]:
    """(valid, counts_as_complaint, reasons) from the nature facet [000 §篇1 1(1)].

    The clerk's triage decides: a ticket triaged invalid never counts as a complaint, whatever
    its nature facet says."""
    nature = ticket.facets.get("nature")
    if nature == "valid":
        counts = ticket.valid is not False
        return True, counts, ["有效投诉 (nature: valid) [000 §篇1 1(1)1)]"]
    if nature in COMMUNICATIVE:
        return (
            False,
            False,
            [
                f"沟通性投诉 (nature: {nature}) is not a valid complaint; handle it carefully, "
                "mishandled it becomes a valid one [000 §篇1 1(1)2)]"
            ],
        )
    if ticket.valid is False:
        return None, False, []
    return None, None, []


def _meets(rule: SeverityRule, facts: dict[str, Any]) -> bool:
    return all(facts.get(code) is value for code, value in rule.when.items())


def classify(ticket: TicketFacts) -> Classification:
    """Suggest validity, severity and statistics counting from the ticket's facts."""
    valid, counts, reasons = _suggest_validity(ticket)
    effective = ticket.valid if ticket.valid is not None else valid  # the triage decides
    if effective is False:
        # The severity definitions apply to valid complaints [000 §篇1 4(2) 适用范围].
        return Classification(valid=valid, counts_as_complaint=counts, reasons=tuple(reasons))

    flags: list[Flag] = []
    met: list[str] = []
    for rule in SEVERITY_RULES:
        if _meets(rule, ticket.facts):
            met.append(rule.severity)
            reasons.append(f"{rule.reason} [{rule.seed}]")
            if rule.definitional:
                flags.append(Flag(code=rule.code, label=rule.reason, seed=rule.seed))

    overdue_since = unresolved_for_a_month(ticket)
    if overdue_since is not None:
        month_end = (overdue_since - dt.timedelta(days=1)).date().isoformat()
        detail = (
            f"valid since intake {_in_china(ticket.created_at):%Y-%m-%d %H:%M} (UTC+8), "
            f"not resolved by the end of {month_end} (UTC+8)"
        )
        met.append("major")
        reasons.append(f"重大投诉: 有效投诉在一个月内得不到合理解决 — {detail} [{ONE_MONTH_SEED}]")
        flags.append(
            Flag(
                code="major_unresolved_one_month",
                label="有效投诉在一个月内得不到合理解决",
                detail=detail,
                seed=ONE_MONTH_SEED,
            )
        )

    severity = next((s for s in SEVERITY_ORDER if s in met), None)
    # Definitions (①a, ①b, ①c) make a complaint major whatever the clerk suggests; the core
    # applies them at triage [000 §篇1 4(4)2①, 4(4)3②].
    defined = "major" if flags else None
    return Classification(
        severity=severity,
        defined_severity=defined,
        valid=valid,
        counts_as_complaint=counts,
        flags=tuple(flags),
        reasons=tuple(reasons),
    )


# --- grading — 000 §篇7 六 -----------------------------------------------------------------

PICK_TIER = "pick the offence tier of 000 §篇7 六"


def check_grade(ticket: TicketFacts, grade: GradeFacts) -> list[Problem]:
    """The property seeds penalise by offence tier, which the grader picks [000 §篇7 六];
    the grade says only whether the person was responsible (domain §4)."""
    problems: list[Problem] = []
    if grade.capacity != "direct":
        problems.append(
            Problem(
                field="capacity",
                rule="property grades only the staff member directly responsible (direct); "
                "000 §篇7 六 names no further accountable capacity",
            )
        )
    if grade.grade == "none":
        if grade.offence is not None:
            problems.append(
                Problem(
                    field="offence",
                    rule="grade none takes no offence tier: a person not responsible is not "
                    "penalised [000 §篇7 六]",
                )
            )
    elif grade.offence is None:
        problems.append(Problem(field="offence", rule=PICK_TIER))
    elif grade.offence not in PICKABLE:
        problems.append(
            Problem(
                field="offence",
                rule=PICK_TIER + ": one of {tiers}",
                params={"tiers": ", ".join(sorted(PICKABLE))},
            )
        )
    return problems


def propose(
    ticket: TicketFacts, grades: list[GradeFacts], amounts: dict[str, int | None]
) -> list[PenaltyProposal]:
    """One proposal per staff member graded responsible, at the tier the grader picked.

    The amount is the tenant's amount for that tier at grading time (``amounts``; None → the
    manager sets it, as for tier 5 which has no fine). The grade (full/main/secondary) does
    not change the amount: the seed fines by offence, per person and per time. Nothing is
    charged to a unit: 000 §篇7 六 penalises staff (员工) only.
    """
    proposals: list[PenaltyProposal] = []
    for grade in grades:
        if grade.grade == "none" or grade.offence is None:
            continue
        rule = SCHEDULE.rule(grade.offence)
        if rule is None:
            continue
        proposals.append(
            PenaltyProposal(
                rule=rule.code,
                staff=grade.staff,
                amount_fen=amounts.get(rule.code),
                sanctions=rule.sanctions,
                appraisal_points=rule.appraisal_points,
                whole_month_pay=rule.whole_month_pay,
                reason=(  # stored as the desk reads it: Chinese, the seed's heading
                    f"{ticket.number}：定责为{GRADE_ZH.get(grade.grade, grade.grade)}；"
                    f"处罚档次由定责人选定：{HEADINGS_ZH[rule.code]} [{rule.seed}]"
                ),
            )
        )
    return proposals


__all__ = [
    "CHINA",
    "COMMUNICATIVE",
    "RESOLVED_STATES",
    "SEVERITY_ORDER",
    "SEVERITY_RULES",
    "SeverityRule",
    "check_grade",
    "classify",
    "month_ends",
    "propose",
    "unresolved_for_a_month",
]
