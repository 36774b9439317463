"""Default time limits for a property-management complaint desk (domain §2, §6).

The property seeds describe several desks with their own limits. The default profile
(:data:`TABLE`, returned by ``tousu_deadlines``) is **desk A**, 000 §篇1 物业投诉接待服务,
completed where desk A is silent by the other property seeds and, last, by product defaults:

=================  ==========================  ===========================================
step               limit                       seed
=================  ==========================  ===========================================
dispatch           10 minutes                  000 §篇1 4(4)4 (the form goes to the
                                               department within 10 minutes)
first_contact      1 working day               000 §篇7 四 (一个工作日内展开调查)
return             1 working day               product default (no property seed sets one)
answer             major 2 days                000 §篇1 4(4)9 (major: 2日内明确答复, the
                                               interim answer: what will happen, by when)
reply              major 10 days; important 3  the result is told the day handling finishes
                   days; minor 2 days          (4(4)5①, 6)): due by the handling limit
hand_back, tell    the same day (same_day)     000 §篇1 4(4)5① (form back the day handling
                                               finishes), 4(4)6) (complainant told that day)
resolution         minor 2 days; important 3   000 §篇1 4(4)9
                   days; major 10 days
follow_up          3 working days              004 §篇3 二1 (处理后3个工作日内, 100%回访)
invalid_notice     1 working day               004 §篇3 二1 (视情况在1个工作日内知会)
=================  ==========================  ===========================================

**Calendar days.** 000 §篇1 4(4)9 writes "2日内", "3日内", "10日": it does not say working
days, so they are read as calendar days (``calendar_days``: plain elapsed time from the
step's start). A tenant that reads them as working days overrides them (domain §6).

A ticket without a severity yet gets the rules for any severity: 2 calendar days to answer and
to solve, as 000 §篇6 4.2.3d gives for a general valid complaint (一般性有效投诉应不超过两天
解决) and 4(4)9 for a minor one.

A minor complaint may instead be solved "在客户要求的期限内" [000 §篇1 4(4)3②]: the
complainant's own deadline is set on the ticket at intake (``resolve_by``,
:attr:`~core.rules.DeadlineTable.own_deadline_severities`), and the leader's limit for a
serious one at dispatch [000 §篇6 4.2.3e]; both only shorten the table's clocks.
Overrunning needs approval by severity (4(4)9): that is
:data:`plugins.property.EXTENSION_ROLES`, not this table.

**Desk B** [004 §篇3 二1] answers and solves faster, in hours and working days; it is kept as
:data:`DESK_B_RULES`, an alternative profile a tenant copies into its overrides.
"""

from __future__ import annotations

from core.rules import DeadlineRule, DeadlineTable, EscalationRule, UpgradeRule
from plugins.property.roles import GENERAL_MANAGER, PROPERTY_MANAGER

_DESK_A = "000 §篇1"
_DESK_B = "004 §篇3 二1"
_DEFAULT = "product default; the property seeds set no limit"

RULES: tuple[DeadlineRule, ...] = (
    # 客户服务中心接待员根据投诉内容10分钟内将《客户投诉意见表》发送到被投诉部门.
    DeadlineRule(step="dispatch", amount=10, unit="minutes", seed=f"{_DESK_A} 4(4)4"),
    # 若为无效投诉,应视情况在1个工作日内将投诉无效的原因知会客户 (如属于客户自身原因时则不必
    # 要知会: the clerk then triages it invalid without telling, which meets the clock).
    DeadlineRule(step="invalid_notice", amount=1, unit="working_days", seed=_DESK_B),
    # 一个工作日内展开调查 — desk C (000 §篇7, a generic company's complaint system); desk A
    # sets no limit for the department's first move.
    DeadlineRule(step="first_contact", amount=1, unit="working_days", seed="000 §篇7 四"),
    DeadlineRule(step="return", amount=1, unit="working_days", seed=_DEFAULT),
    # --- answer (明确答复): 重大投诉应当在2日内给投诉的客户明确答复,解决时间不宜超过10日
    # [4(4)9]: for a major complaint the complainant is told what will happen and by when
    # within 2 days; the result may take the 10 days. The seed separates the two only for
    # major complaints, so only they get an answer clock.
    DeadlineRule(
        step="answer", severity="major", amount=2, unit="calendar_days", seed=f"{_DESK_A} 4(4)9"
    ),
    # --- reply (答复 with the result): the department hands the form back the day handling
    # finishes (4(4)5①) and the desk tells the complainant the same day (4(4)6)), so the
    # result is due by the handling limit — for a major complaint the 10 days, not the 2
    # days of the interim answer (issue 12 §1).
    DeadlineRule(
        step="reply",
        amount=2,
        unit="calendar_days",
        seed=f"{_DESK_A} 4(4)5①, 4(4)6); 000 §篇6 4.2.3d (general valid complaint)",
    ),
    DeadlineRule(
        step="reply",
        severity="minor",
        amount=2,
        unit="calendar_days",
        seed=f"{_DESK_A} 4(4)9, 4(4)5①, 4(4)6)",
    ),
    DeadlineRule(
        step="reply",
        severity="important",
        amount=3,
        unit="calendar_days",
        seed=f"{_DESK_A} 4(4)9, 4(4)5①, 4(4)6)",
    ),
    DeadlineRule(
        step="reply",
        severity="major",
        amount=10,
        unit="calendar_days",
        seed=f"{_DESK_A} 4(4)9, 4(4)5①, 4(4)6)",
    ),
    # --- the two same-day hand-offs: 在投诉处理完毕的当天将《客户投诉意见表》交到客户服务
    # 中心 [4(4)5①]; 接待员…在当天将处理结果通报给投诉客户 [4(4)6)]. "当天" ends at 24:00 of
    # the tenant's day (``same_day``). Handling is finished when the department grades
    # (定责 with its findings); the form is back when it hands back or replies itself.
    DeadlineRule(step="hand_back", amount=0, unit="same_day", seed=f"{_DESK_A} 4(4)5①"),
    DeadlineRule(step="tell", amount=0, unit="same_day", seed=f"{_DESK_A} 4(4)6)"),
    # --- resolution (处理完毕/解决): 轻微投诉一般在2日内处理完毕; 重要投诉一般在3日内处置完毕;
    # 重大投诉…解决时间不宜超过10日 [4(4)9]. Any severity: 一般性有效投诉应不超过两天解决.
    DeadlineRule(
        step="resolution",
        amount=2,
        unit="calendar_days",
        seed="000 §篇6 4.2.3d (general valid complaint); 000 §篇1 4(4)9 (minor)",
    ),
    DeadlineRule(
        step="resolution",
        severity="minor",
        amount=2,
        unit="calendar_days",
        seed=f"{_DESK_A} 4(4)9, 4(4)3②",
    ),
    DeadlineRule(
        step="resolution",
        severity="important",
        amount=3,
        unit="calendar_days",
        seed=f"{_DESK_A} 4(4)9",
    ),
    DeadlineRule(
        step="resolution",
        severity="major",
        amount=10,
        unit="calendar_days",
        seed=f"{_DESK_A} 4(4)9",
    ),
    # 客户投诉处理后3个工作日内,100%回访 — desk B; desk A only says the supervisor arranges
    # the follow-up once handling is finished (4(4)7)), with no limit.
    DeadlineRule(step="follow_up", amount=3, unit="working_days", seed=_DESK_B),
)

DESK_B_RULES: tuple[DeadlineRule, ...] = (
    # 回复 is the first answer (answer); 处理完毕 the resolution, and the result is told by then.
    DeadlineRule(step="answer", severity="major", amount=2, unit="hours", seed=_DESK_B),
    DeadlineRule(step="resolution", severity="major", amount=3, unit="working_days", seed=_DESK_B),
    DeadlineRule(step="reply", severity="major", amount=3, unit="working_days", seed=_DESK_B),
    DeadlineRule(step="answer", severity="important", amount=1, unit="working_days", seed=_DESK_B),
    DeadlineRule(
        step="resolution", severity="important", amount=2, unit="working_days", seed=_DESK_B
    ),
    DeadlineRule(step="reply", severity="important", amount=2, unit="working_days", seed=_DESK_B),
    DeadlineRule(step="answer", severity="minor", amount=2, unit="hours", seed=_DESK_B),
    DeadlineRule(step="resolution", severity="minor", amount=1, unit="working_days", seed=_DESK_B),
    DeadlineRule(step="reply", severity="minor", amount=1, unit="working_days", seed=_DESK_B),
)
"""Desk B's answer and handling limits [004 §篇3 二1]: 重大投诉应在2小时内回复,3个工作日内
处理完毕; 重要投诉应在1个工作日内回复,2个工作日内处理完毕; 轻微投诉应在2小时内回复,1个工作日
内处理完毕.

An **alternative profile, not returned by the hook**: a tenant run like desk B copies these
rows into its overrides, e.g. in its tenant file::

    [config.deadlines]
    "answer.major" = { amount = 2, unit = "hours" }
    "resolution.major" = { amount = 3, unit = "working_days" }
    "reply.major" = { amount = 3, unit = "working_days" }
    "answer.important" = { amount = 1, unit = "working_days" }
    "resolution.important" = { amount = 2, unit = "working_days" }
    "reply.important" = { amount = 2, unit = "working_days" }
    "answer.minor" = { amount = 2, unit = "hours" }
    "resolution.minor" = { amount = 1, unit = "working_days" }
    "reply.minor" = { amount = 1, unit = "working_days" }

The 2-hour first response (回复) is the interim answer (``answer``, 明确答复), not the result:
with the answer its own step, desk B's profile is usable as written (issue 12 §1) — the
result (``reply``) is due with the resolution.

(or ``PUT /api/config/deadlines``). Desk B's other limits — follow-up within 3 working days,
the invalid notice within 1 working day — are already the defaults of :data:`TABLE`.

The seed's answer times are not monotonic in severity (important 1 working day, major and
minor 2 hours): copied as written (domain §6)."""

ESCALATIONS: tuple[EscalationRule, ...] = (
    # 重大投诉,当天呈送公司总经理进入处置程序 [4(4)3②]; 接待员应将重大投诉…经客户服务中心
    # 主管当天转呈公司总经理 [4(4)4]. "当天" (the same day) has no minute count: 0 means the
    # core notifies the general manager at once when the ticket becomes major, which is
    # within the same day whatever the hour.
    EscalationRule(
        severity="major",
        notify_roles=(GENERAL_MANAGER,),
        within_minutes=0,
        seed=f"{_DESK_A} 4(4)3②, 4(4)4",
    ),
    # 重要投诉,接待后1小时内转呈主管经理进行处置程序 [4(4)3②]. 主管经理 and 物业部经理 (who
    # handles important complaints [4(3)1], reached the same day [4(4)4], which the hour
    # covers) are one role: PROPERTY_MANAGER (plugins.property.roles, the one mapping).
    EscalationRule(
        severity="important",
        notify_roles=(PROPERTY_MANAGER,),
        within_minutes=60,
        seed=f"{_DESK_A} 4(4)3②, 4(4)4",
    ),
)

UPGRADE = UpgradeRule(amount=1, unit="months", to_severity="major", seed="000 §篇1 4(4)2①c")
"""有效投诉在一个月内得不到合理解决的投诉 is major [000 §篇1 4(4)2①c].

Agrees with :func:`plugins.property.rules.month_ends`: both count the Civil Code's month
(民法典 第二百零一条–第二百零三条) from the ticket's intake (``created_at``) — the period ends at
24:00 of the day with the same number in the next month, or of that month's last day when it
has none (31 January → 28/29 February 24:00), and neither moves a last day off a holiday. The
core's ``months`` unit counts in the tenant's time zone (default Asia/Shanghai, UTC+8 without
daylight saving), ``month_ends`` in fixed UTC+8: the same instants unless a tenant sets
another time zone. Checked in tests/test_deadline_tables.py."""

TABLE = DeadlineTable(
    rules=RULES,
    # Product defaults (the seeds name no pause): the complainant cannot be reached, or the
    # handling waits on someone outside the company (utility company, developer, police…).
    pause_reasons=("complainant_unreachable", "waiting_third_party"),
    escalations=ESCALATIONS,
    upgrade=UPGRADE,
    # Major complaints go to the general manager the same day [000 §篇1 4(4)3②]: their
    # due-soon warnings go out at any hour.
    urgent_severities=("major",),
    # 轻微投诉,不超过2天内或在客户要求的期限内解决 [000 §篇1 4(4)3②].
    own_deadline_severities=("minor",),
    # 对于较严重的有效投诉…由分管领导…限定时间要求进行处理 [000 §篇6 4.2.3e]: important and
    # major are the "more serious" valid complaints.
    set_limit_severities=("important", "major"),
)

__all__ = ["DESK_B_RULES", "ESCALATIONS", "RULES", "TABLE", "UPGRADE"]
