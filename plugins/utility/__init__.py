"""Power-supply industry plugin (供电公司/供电局, customer hotline 95598).

Covers complaints about a power-supply company's service conduct, marketing management
(meter reading, charges, tariffs, collection, metering, new connections), operation and
maintenance (faults, supply quality, outages, damaged appliances, hazards, construction,
environment, grid upgrade) and publicity.

Seeds:

- 002 《客户投诉管理考核办法》 (供电公司客户投诉管理考核办法): 第九条 a ticket counts as a
  complaint only once verified as the supplier's responsibility; 第十条 four classes and
  seventeen items; 第六条/第十九条 major and severe events go to the marketing department;
  第二十四条 general, major (重大) and severe (严重) events, main and secondary responsibility.
- 002 《投诉举报管理办法》 (供电局客户投诉举报管理办法) 第四条 受理范围: the nineteen
  acceptance-scope items (the ``commitment_breach`` facet), with their thresholds.
- 002 《客户投诉管理考核办法》第二十四条–第二十八条: the penalty schedule (penalties.py);
  第二十五条 doubles on a confirmed outside complaint, 第二十六条 charges a falsified reply to
  the unit, 第二十八条 carries unpaid fines over.
- 001 (analyses of power-customer complaints): reporting tags only, no second taxonomy.

The rules live in rules.py (classification flags, grade checks, proposals) and penalties.py
(the schedule, as data); the hookimpls below only hand them over.
"""

from __future__ import annotations

from core import hookimpl
from core.rules import Duties, SeedDuty
from plugins.utility import rules
from plugins.utility.deadlines import TABLE
from plugins.utility.penalties import SCHEDULE, breach_proposals
from plugins.utility.taxonomy import TAXONOMY

# Severities whose closing is restricted. 重大 and 严重 are unordered labels (see taxonomy.py);
# both are restricted alike.
_RESTRICTED = frozenset({"major", "severe"})


@hookimpl
def tousu_taxonomy():
    return TAXONOMY


@hookimpl
def tousu_classify(ticket):
    # 《投诉举报管理办法》第四条 breaches from the facts; 《客户投诉管理考核办法》第九条 counting.
    return rules.classify(ticket)


@hookimpl
def tousu_check_grade(ticket, grade):
    # 《客户投诉管理考核办法》第二十四条: main / secondary / none; capacities of 第二十四条(四).
    return rules.check_grade(ticket, grade)


@hookimpl
def tousu_penalty_schedule():
    # 《客户投诉管理考核办法》第二十四条–第二十八条 (carry-over: 第二十八条).
    return SCHEDULE


@hookimpl
def tousu_propose_penalties(ticket, grades, amounts):
    # 《客户投诉管理考核办法》第二十四条 tiers, ×2 under 第二十五条, unit charge of 第二十六条.
    return rules.propose(ticket, grades, amounts)


@hookimpl
def tousu_breach_penalties(ticket, step, staff, unit, amounts):
    # 《客户投诉管理考核办法》第二十四条(一): 推诿 or 处理不及时 breaches the 十个不准.
    return breach_proposals(step, staff, unit, amounts)


@hookimpl
def tousu_deadlines():
    # 《客户投诉管理考核办法》第十四条–第十七条 limits; 第十九条 same-day report of major/severe.
    return TABLE


MARKETING_ROLE = "manager"
DISCIPLINE_ITEMS = (
    "favours_for_relatives", "customer_secrets_leaked", "gifts_accepted", "banquets_accepted",
)  # fmt: skip
"""Items of 《投诉举报管理办法》第四条 (the ``commitment_breach`` facet) that are breaches of
discipline (违纪: private gain, secrets, gifts, banquets) rather than of service rules."""

DUTIES = Duties(
    # 各单位回复95598的投诉处理工单应经市场营销部审核后归档 [《客户投诉管理考核办法》第十六条]:
    # the reply passes the marketing department's review, or goes back for rework, before the
    # ticket is archived; a falsified reply found then is charged to the unit (第二十六条).
    reply_review=True,
    # 情况复杂的,在向客户说明原因并报公司同意后,时限可以适当延长 [第十五条]: the customer is told
    # first (who, when, how on the request), then the company approves.
    extension_notice_first=True,
    # 公司市场营销部根据各单位半年内投诉统计情况,按本办法规定提出考核意见,报公司优质服务领导
    # 小组批准后执行 [第二十七条]: marketing owes the appraisal of every half-year.
    half_year_appraisal=True,
    # 各基层单位…每月应按件将投诉事件产生的经过、处理过程、投诉产生原因、责任、改进措施及人员处理
    # 考核意见形成《投诉事件通报》,在本单位组织职工学习 [第二十二条]: each unit with cases, monthly.
    unit_bulletin=True,
    seed_duties=(
        # 受理的投诉凡涉及违纪的,应及时移交纪检监察部门调查处理 [第十八条]: a complaint in a
        # discipline item of 《投诉举报管理办法》第四条 (gifts, banquets, favours for relatives,
        # secrets leaked) or graded under the 十个不准 (whose rules are the inspection office's,
        # 渝电监察[2005]7号, 第二十四条(一)) is referred; it does not close before
        # ``refer_to_inspection`` is in its history. The marketing department (manager) and
        # the handling unit's head are told.
        SeedDuty(
            code="discipline_referral",
            label_zh="涉及违纪的投诉移交纪检监察部门",
            kind="refer",
            facets=tuple(("commitment_breach", item) for item in DISCIPLINE_ITEMS),
            notify_roles=("manager", "department_head"),
            done_by="refer_to_inspection",
            seed="002 《客户投诉管理考核办法》第十八条",
        ),
        SeedDuty(
            code="discipline_referral_graded",
            label_zh="按“十个不准”定责的投诉移交纪检监察部门",
            kind="refer",
            offences=("ten_prohibitions",),
            notify_roles=("manager", "department_head"),
            done_by="refer_to_inspection",
            seed="002 《客户投诉管理考核办法》第十八条, 第二十四条(一)",
        ),
        # 公司总经理工作部、思想政治工作部也要负责作好客户直接来信、来访方式的投诉受理工作,并及时
        # 将…投诉和处理意见转交公司市场营销部 [第十三条]: a letter or a visit taken anywhere
        # reaches the marketing department (manager) by itself.
        SeedDuty(
            code="letter_or_visit_to_marketing",
            label_zh="来信、来访投诉转交市场营销部",
            channels=("letter", "visit"),
            notify_roles=(MARKETING_ROLE,),
            seed="002 《客户投诉管理考核办法》第十三条",
        ),
    ),
    seeds=(
        "002 《客户投诉管理考核办法》第十四条", "002 《客户投诉管理考核办法》第十五条",
        "002 《客户投诉管理考核办法》第十六条", "002 《客户投诉管理考核办法》第十八条",
        "002 《客户投诉管理考核办法》第二十二条", "002 《客户投诉管理考核办法》第二十七条",
    ),
    # 投诉工单传递至班长审核 [第十四条]: the supervisor's review before dispatch stays mandatory.
)  # fmt: skip

MARKETING = "manager"
"""市场营销部, the department that owns complaints and reviews the units' replies
[《客户投诉管理考核办法》第六条, 第十六条]: the core role ``manager`` (core.people.roles)."""


@hookimpl
def tousu_duties():
    return DUTIES


@hookimpl
def tousu_approvers(step, ticket):
    if step == "reply_review":
        # 应经市场营销部审核后归档 [第十六条]: the marketing department reviews, nobody else.
        return [MARKETING]
    if step == "extension":
        # A complex case may take longer only after the complainant is told why and the
        # company agrees (002 《客户投诉管理考核办法》第十五条 "情况复杂的,在向客户说明原因并报
        # 公司同意后,时限可以适当延长"): the company's management, not the desk.
        return ["manager", "general_manager"]
    if step == "appraisal_propose":
        # The marketing department proposes the half-yearly appraisal of units (第二十七条);
        # its head is the tenant's manager (第六条: 归口管理部门).
        return ["manager"]
    if step == "appraisal_approve":
        # 报公司优质服务领导小组批准后执行 (第二十七条); the group is the company leadership's
        # (第三条): the general manager answers for it.
        return ["general_manager"]
    if step != "close":
        return None
    severity = ticket.severity
    # Major and severe events leave the customer-service centres' hands: the units report
    # them to the marketing department the same day (002 《客户投诉管理考核办法》第十九条),
    # the marketing department investigates and handles major events (第六条) while the
    # centres only take part (第八条), the relevant departments lead handling of serious
    # tickets and report the result (第七条), and assessment results are filed with the
    # marketing department (第二十四条). So only a manager (the marketing department's head)
    # or the general manager may close them; the desk supervisor may not.
    if severity in _RESTRICTED:
        return ["manager", "general_manager"]
    return None
