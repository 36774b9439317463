"""The property-management (物业公司) industry plugin.

Covers complaints to a property-management company about office and residential buildings:
classification by nature (有效投诉 / 沟通性投诉: 求助型, 咨询型, 发泄型) [000 §篇1 1(1)], by
content (设备, 服务态度, 服务质量, 突发性事件) [000 §篇1 1(2)] and by the service areas
complaints concentrate on (工程设施检修维护和运行, 停车场管理, 安防控制, 园艺绿化及环境卫生,
财务管理) [004 §篇1 3]; severity 重大 > 重要 > 轻微 [000 §篇1 4(4)2]; who may close a major
complaint [000 §篇1 5(5)2]; who approves an overrun [000 §篇1 4(4)9]. Grades: the seeds
penalise by offence tier [000 §篇7 六], so the grade only records whether the person was
responsible (see :mod:`plugins.property.taxonomy`) and the grader picks the tier.

Data: :mod:`plugins.property.taxonomy` (taxonomy and facts), :mod:`plugins.property.penalties`
(the schedule). Logic: :mod:`plugins.property.rules`. The hookimpls below only delegate.
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
    SeedDuty,
    TicketFacts,
)
from plugins.property import rules
from plugins.property.deadlines import TABLE
from plugins.property.penalties import SCHEDULE
from plugins.property.roles import (
    DESK_CLERK,
    DESK_SUPERVISOR,
    GENERAL_MANAGER,
    OFFICE_HEAD,
    PROPERTY_MANAGER,
)
from plugins.property.taxonomy import TAXONOMY

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

CLOSE_ROLES: tuple[str, ...] = (DESK_CLERK, DESK_SUPERVISOR, OFFICE_HEAD, GENERAL_MANAGER)
"""Who closes (销项) a handled ticket that is not major: the desk. "经立项的投诉事项…处理完毕后
再反馈回管理处客户部人员处,按规定在原立项案件记录处理的完成情况和时间,并由客户部人员签名…称作
销项" [000 §篇1 5(3)2)]; the reception clerk "问题解决后也要了解清楚情况,予以记录和销项"
[000 §篇1 5(4)1)]. The core's default leaves the clerk out; the property seed names him. The
supervisor and the office head above him keep the step."""

MAJOR_CLOSE_ROLES: tuple[str, ...] = (OFFICE_HEAD, GENERAL_MANAGER)
"""重大事项在处理完毕后, 经请示管理处负责人同意后才可以销项 [000 §篇1 5(5)2①e]: the head of
the management office (管理处负责人, :data:`plugins.property.roles.OFFICE_HEAD`); the general
manager, who receives major complaints the same day [000 §篇1 4(4)3②], may close them too."""

UNRESOLVABLE_CLOSE_ROLES: tuple[str, ...] = (OFFICE_HEAD, GENERAL_MANAGER)
"""无法处理(或暂时无法处理)下去,可作好记录,每季度一次经管理处负责人协调同意后才能销项
[000 §篇1 5(5)2②c]: the head of the management office, at the quarterly review
(:data:`DUTIES`); the general manager above him too, as for a major ticket — never the desk
supervisor."""

EXTENSION_ROLES: dict[str, tuple[str, ...]] = {
    # 轻微投诉一般在2日内处理完毕,超时需经物业部经理批准 [000 §篇1 4(4)9]: the property
    # manager (物业部经理 → PROPERTY_MANAGER, one mapping: plugins.property.roles), or the
    # general manager above him; never the head of the department that overran.
    "minor": (PROPERTY_MANAGER, GENERAL_MANAGER),
    # 重要投诉一般在3日内处置完毕,超时需经公司总经理批准 [000 §篇1 4(4)9].
    "important": (GENERAL_MANAGER,),
    # 重大投诉…解决时间不宜超过10日 [000 §篇1 4(4)9]: the seed names no approver; major
    # complaints go to the general manager the same day [000 §篇1 4(4)3②], so he approves.
    "major": (GENERAL_MANAGER,),
}
"""Who approves more time for a step, by severity."""


WRITTEN_CHANNELS = ("letter", "email", "government_transfer")
"""书面投诉包括信函、电子邮件、客户意见调查中表达的不满意信息 [004 §篇3 二1]: the core's
written intake channels (a survey remark arrives as a letter or an e-mail)."""

DUTIES = Duties(
    # 客户服务中心接待员根据投诉内容10分钟内将《客户投诉意见表》发送到被投诉部门
    # [000 §篇1 4(4)4]: desk A sends the form straight on; no supervisor review in between
    # (the 客户服务中心主管 forwards major and important ones to management, which the
    # escalations do). The review stays available to a desk that wants it.
    review_before_dispatch=False,
    # 每季度一次经管理处负责人协调同意后才能销项 [000 §篇1 5(5)2②c].
    unresolvable_close="quarterly",
    # 非标准工作时间,接投诉人第一时间将信息反应到中控室,由值班人员填写客户信息登记表。当班最高
    # 管理人员进行接待/处理 [004 §篇3 二1]: a property desk's rule. The utility and transit seeds
    # name no duty room (95598 answers round the clock), so only property keeps it.
    duty_room=True,
    # 书面投诉 (信函、电子邮件…): 重大、重要投诉、如属政府机关转来的投诉信件,应报告物管中心(处)
    # 负责人 [004 §篇3 二1]: the head of the management office (OFFICE_HEAD) is told by the
    # system the first time a written ticket is (or becomes) major or important, and at once
    # for one forwarded by a government office — whatever its severity. Passing it to the
    # responsible department is the dispatch (10-minute clock, 000 §篇1 4(4)4).
    seed_duties=(
        SeedDuty(
            code="written_serious_to_office_head",
            label_zh="重大、重要书面投诉报告物管中心(处)负责人",
            channels=WRITTEN_CHANNELS,
            severities=("major", "important"),
            notify_roles=(OFFICE_HEAD,),
            seed="004 §篇3 二1 书面投诉",
        ),
        SeedDuty(
            code="government_letter_to_office_head",
            label_zh="政府机关转来的投诉报告物管中心(处)负责人",
            channels=("government_transfer",),
            notify_roles=(OFFICE_HEAD,),
            seed="004 §篇3 二1 书面投诉",
        ),
    ),
    seeds=("000 §篇1 4(4)4", "000 §篇1 5(5)2②c", "004 §篇3 二1"),
)


@hookimpl
def tousu_duties() -> Duties:
    return DUTIES


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
    """Desk A's limits [000 §篇1 4(4)9] with the month upgrade [000 §篇1 4(4)2①c]
    (:mod:`plugins.property.deadlines`; desk B's profile is ``DESK_B_RULES`` there)."""
    return TABLE


@hookimpl
def tousu_approvers(step: str, ticket: TicketFacts) -> list[str] | None:
    """close: the desk (clerk, supervisor) or the office head closes a handled ticket
    (:data:`CLOSE_ROLES`); only the head of the management office (or the general manager)
    closes a major one; close_unresolvable: the head of the management office; extension:
    by severity (:data:`EXTENSION_ROLES`); penalty and appeal: the core default (manager,
    general manager) — the property seeds name nobody else."""
    severity = ticket.severity
    if step == "close":
        return list(MAJOR_CLOSE_ROLES if severity == "major" else CLOSE_ROLES)
    if step == "extension" and severity in EXTENSION_ROLES:
        return list(EXTENSION_ROLES[severity])
    if step == "close_unresolvable":
        return list(UNRESOLVABLE_CLOSE_ROLES)
    return None
