"""The bus-operator (公交公司) industry plugin.

Covers passengers' complaints about bus staff and service [000 §篇8]: categories drawn from
what the seed says passengers complain about (溜站甩客, 带客过站, 服务态度, 票款与证卡,
乘车规则劝阻, 营运秩序与班次) [000 §篇8 1, 3(2)]; facets direction (company / government /
media) [000 §篇8 2(1)] and mode (phone / letter / web / in person) [000 §篇8 2(2)]; the four
responsibility grades 全责 / 主责 / 次责 / 无责 with the seed's criteria [000 §篇8 3(2)],
checked by :func:`plugins.transit.rules.check_grade`; the consequences of each grade
[000 §篇8 3(3)] as a penalty schedule (:mod:`plugins.transit.penalties`) whose fines the tenant
sets (the seed gives no amount). Severities (general / serious / major) are a product
default: the seed defines none, so :func:`tousu_classify` suggests none.
"""

from __future__ import annotations

from core import Taxonomy, hookimpl
from core.rules import (
    Classification,
    DeadlineTable,
    Duties,
    GradeFacts,
    PenaltyProposal,
    PenaltySchedule,
    Problem,
    TicketFacts,
)
from plugins.transit import rules
from plugins.transit.deadlines import TABLE
from plugins.transit.penalties import SCHEDULE
from plugins.transit.taxonomy import TAXONOMY

__all__ = [
    "DUTIES",
    "SCHEDULE",
    "TAXONOMY",
    "tousu_approvers",
    "tousu_check_grade",
    "tousu_classify",
    "tousu_deadlines",
    "tousu_duties",
    "tousu_penalty_schedule",
    "tousu_propose_penalties",
    "tousu_taxonomy",
]

MAJOR_CLOSE_ROLES: tuple[str, ...] = ("manager", "general_manager")
"""A major complaint (问题严重、社会影响大, handled strictly [000 §篇8 4(1)3]) is closed only by
a manager or the general manager (product default; the seed names no approver)."""


@hookimpl
def tousu_taxonomy() -> Taxonomy:
    return TAXONOMY


@hookimpl
def tousu_classify(ticket: TicketFacts) -> Classification:
    return rules.classify(ticket)


@hookimpl
def tousu_check_grade(ticket: TicketFacts, grade: GradeFacts) -> list[Problem]:
    return rules.check_grade(ticket, grade)


@hookimpl
def tousu_penalty_schedule() -> PenaltySchedule:
    return SCHEDULE


@hookimpl
def tousu_propose_penalties(
    ticket: TicketFacts, grades: list[GradeFacts], amounts: dict[str, int | None]
) -> list[PenaltyProposal]:
    return rules.propose(ticket, grades, amounts)


@hookimpl
def tousu_deadlines() -> DeadlineTable:
    return TABLE


DUTIES = Duties(
    # 向投诉人通报处理结果…二是管理干部代表企业向有责投诉的乘客诚恳道歉 [000 §篇8 3(4)]: when
    # any staff member was found at fault (全责/主责/次责), the reply carries the company's
    # apology. The other property and utility seeds ask for an apology at intake, not here.
    apology_when_at_fault=True,
    seeds=("000 §篇8 3(4)",),
)


@hookimpl
def tousu_duties() -> Duties:
    return DUTIES


@hookimpl
def tousu_approvers(step: str, ticket: TicketFacts) -> list[str] | None:
    """Only a manager or the general manager closes a major ticket; every other step and
    severity keeps the core default (staff disagreeing with a grade [000 §篇8 4(3)1] appeal to
    management, the core default for ``appeal``)."""
    if step == "close" and ticket.severity == "major":
        return list(MAJOR_CLOSE_ROLES)
    return None
