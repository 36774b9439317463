"""Default time limits for a power-supply company's 95598 complaint workflow (domain §2, §6).

Seed: 002 《客户投诉管理考核办法》 (供电公司客户投诉管理考核办法) 第四章 投诉受理和处理程序,
第十四条–第十九条. These are that document's own articles, not those of the 《国家电网公司
95598业务管理暂行办法》 also bundled in 002 (which sets no complaint time limits in the seed).

=================  ===================  ==================================================
step               limit                seed (《客户投诉管理考核办法》)
=================  ===================  ==================================================
dispatch           1 hour               第十四条 (班长审核, 1个小时内传递到相关职能部门或单位)
first_contact      1 working day        第十五条 (接到工单后1个工作日内与客户联系)
reply              4 working days       第十五条 (4个工作日内查处完毕并答复客户)
resolution         4 working days       第十五条 (查处完毕: the same 4 working days)
return             1 working day        第十七条 (接单后的1个工作日内退回95598班)
follow_up          24 hours             第十六条 (24小时内对客户进行回访审核)
invalid_notice     1 working day        product default (002 sets none)
=================  ===================  ==================================================

Where each clock starts is the core's (``core.deadlines.engine.FLOW``): dispatch from intake;
first contact, return and reply from the dispatch, i.e. the unit's receipt of the work order
(基层单位接到…工单后, 接单后); follow-up from the unit's reply. Resolution, which the core
starts at registration, starts here at the dispatch too (``clock_starts``). Readings of the seed:

- 第十四条 does not say from when its hour runs (the order is generated, reviewed by the 班长,
  then passed on "在1个小时内"): read from intake, review included (domain §6).
- 第十六条's 24 hours: the reply is first reviewed and archived by the marketing department;
  the clock is read from the unit's reply (domain §2). Clock hours, not working hours.
- 第十五条's 4 working days cover both "查处完毕" (handled) and "答复客户" (answered): the same
  limit serves ``reply`` and ``resolution``. Its complex-case extension (情况复杂的, 在向客户说明
  原因并报公司同意后, 时限可以适当延长) has no cap: it is an extension approved per ticket
  (:func:`plugins.utility.tousu_approvers`), not a pause reason nor a longer limit here.

All are defaults a tenant overrides (domain §9).
"""

from __future__ import annotations

from core.rules import DeadlineRule, DeadlineTable, EscalationRule

_ASSESS = "002 《客户投诉管理考核办法》"
_ART14 = f"{_ASSESS}第十四条"
_ART15 = f"{_ASSESS}第十五条"
_ART16 = f"{_ASSESS}第十六条"
_ART17 = f"{_ASSESS}第十七条"
_ART19 = f"{_ASSESS}第十九条"
_DEFAULT = "product default; 002 sets no limit"

RULES: tuple[DeadlineRule, ...] = (
    DeadlineRule(step="dispatch", amount=1, unit="hours", seed=_ART14),
    DeadlineRule(step="first_contact", amount=1, unit="working_days", seed=_ART15),
    # 查处完毕并答复客户 [第十五条]: the answer is the result, within the same 4 working days;
    # the seed sets no interim answer, so no ``answer`` step (issue 12 §1), and no same-day
    # hand-offs (``hand_back``/``tell`` are property desk A's [000 §篇1 4(4)5①, 6)]).
    DeadlineRule(step="reply", amount=4, unit="working_days", seed=_ART15),
    DeadlineRule(step="resolution", amount=4, unit="working_days", seed=_ART15),
    DeadlineRule(step="return", amount=1, unit="working_days", seed=_ART17),
    DeadlineRule(step="follow_up", amount=24, unit="hours", seed=_ART16),
    DeadlineRule(step="invalid_notice", amount=1, unit="working_days", seed=_DEFAULT),
)

ESCALATIONS: tuple[EscalationRule, ...] = tuple(
    # 发生严重或重大投诉事件,各单位必须在当日将简要情况上报公司市场营销部 [第十九条]. The
    # marketing department (市场营销部, which investigates major events, 第六条) is the core role
    # ``manager``; the general manager is told as well (product default: the seed names only
    # the marketing department). "当日" has no minute count: 0 means at once when the ticket
    # becomes major or severe, which is within the same day whatever the hour.
    EscalationRule(
        severity=severity,
        notify_roles=("manager", "general_manager"),
        within_minutes=0,
        seed=f"{_ART19}; general_manager: product default",
    )
    for severity in ("major", "severe")
)

TABLE = DeadlineTable(
    rules=RULES,
    # Product defaults, waiting states only (the seeds name no pause); the complex-case
    # extension of 第十五条 is an extension, not a pause.
    pause_reasons=("complainant_unreachable", "waiting_third_party"),
    escalations=ESCALATIONS,
    # 基层单位接到95598班传递的投诉处理工单后…4个工作日内查处完毕 [第十五条]: the handling
    # clock runs from the unit's receipt of the work order (the dispatch), not from
    # registration, and starts again when the work order reaches another unit.
    clock_starts=(("resolution", "dispatch"),),
    # 002 has no "unresolved for N → more severe" rule: 重大/严重 are defined by the social
    # impact of the event [第二十四条(四)], not by age.
    upgrade=None,
    # Both are reported the same day [第十九条]; 重大 and 严重 are unordered labels (domain §9).
    urgent_severities=("major", "severe"),
)

__all__ = ["ESCALATIONS", "RULES", "TABLE"]
