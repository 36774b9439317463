"""The property and utility deadline tables, through the ``tousu_deadlines`` hook.

Seeds: property desk A [000 §篇1 4(4)3②, 4(4)4, 4(4)9, 4(4)2①c], desk B [004 §篇3 二1],
desk C [000 §篇7 四], desk D [000 §篇6 4.2.3]; utility [002 《客户投诉管理考核办法》第十四条–
第十九条]. Domain §2 (escalation) and §6 (deadlines).
"""

from __future__ import annotations

import datetime as dt
from typing import get_args

import pytest

from core.deadlines.calendar import WorkingCalendar
from core.deadlines.engine import AUTO_UPGRADE, EVERY, FLOW, STEPS_ONLY, add_months, due_time
from core.people.roles import TENANT_ROLES
from core.plugins import hooks_for
from core.rules import DeadlineTable, Step, Unit
from plugins.property.deadlines import DESK_B_RULES
from plugins.property.rules import month_ends

PLUGINS = ("property", "utility")
STEPS = set(get_args(Step))
UNITS = set(get_args(Unit))
OPTIONAL_STEPS = {"answer", "hand_back", "tell"}
"""Steps a plugin declares only where its seeds distinguish them (issue 12 §1): the interim
answer and the property desk's same-day hand-offs [000 §篇1 4(4)9, 4(4)5①, 4(4)6)]."""


def _table(plugin: str) -> DeadlineTable:
    return hooks_for(plugin).deadlines()


def _limit(plugin: str, step: str, severity: str | None = None) -> tuple[int, str]:
    rule = _table(plugin).limit(step, severity)
    assert rule is not None, f"{plugin}: no rule for {step}/{severity}"
    return rule.amount, rule.unit


# ------------------------------------------------------------------ every table


@pytest.mark.parametrize("plugin", PLUGINS)
def test_the_hook_returns_a_table_with_every_step(plugin):
    table = _table(plugin)
    assert isinstance(table, DeadlineTable)
    declared = {r.step for r in table.rules}
    assert STEPS - OPTIONAL_STEPS <= declared <= STEPS
    if plugin == "property":
        assert declared == STEPS
    steps_in_flow = {step for moves in FLOW.values() for step, _ in moves}
    assert STEPS == steps_in_flow - {EVERY, STEPS_ONLY, AUTO_UPGRADE}


@pytest.mark.parametrize("plugin", PLUGINS)
def test_every_rule_is_well_formed(plugin):
    table = _table(plugin)
    severities = {s.code for s in hooks_for(plugin).taxonomy().severities}
    keys = [(r.step, r.severity) for r in table.rules]
    assert len(keys) == len(set(keys)), "one rule per (step, severity)"
    for rule in table.rules:
        assert rule.step in STEPS
        assert rule.unit in UNITS
        assert rule.amount > 0 or rule.unit == "same_day"
        assert rule.severity is None or rule.severity in severities
        assert rule.seed
    if table.upgrade is not None:
        assert table.upgrade.unit in UNITS
        assert table.upgrade.amount > 0
        assert table.upgrade.to_severity in severities
    assert set(table.urgent_severities) <= severities
    assert 0 < table.warn_before_percent < 100


@pytest.mark.parametrize("plugin", PLUGINS)
def test_escalations_name_core_roles_and_known_severities(plugin):
    table = _table(plugin)
    severities = {s.code for s in hooks_for(plugin).taxonomy().severities}
    assert table.escalations
    for rule in table.escalations:
        assert rule.severity in severities
        assert rule.notify_roles
        assert set(rule.notify_roles) <= TENANT_ROLES
        assert rule.within_minutes >= 0
        assert rule.seed


@pytest.mark.parametrize("plugin", PLUGINS)
def test_pause_reasons_are_waiting_states(plugin):
    reasons = _table(plugin).pause_reasons
    assert set(reasons) == {"complainant_unreachable", "waiting_third_party"}


# ------------------------------------------------------------------ property


def test_property_dispatch_within_10_minutes():
    """客户服务中心接待员根据投诉内容10分钟内将《客户投诉意见表》发送到被投诉部门
    [000 §篇1 4(4)4]."""
    for severity in (None, "minor", "important", "major"):
        assert _limit("property", "dispatch", severity) == (10, "minutes")


def test_property_resolution_desk_a():
    """轻微投诉一般在2日内处理完毕; 重要投诉一般在3日内处置完毕; 重大投诉…解决时间不宜超过10日
    [000 §篇1 4(4)9] — calendar days: the seed does not say working days. A ticket without
    severity: 一般性有效投诉应不超过两天解决 [000 §篇6 4.2.3d]."""
    assert _limit("property", "resolution", "minor") == (2, "calendar_days")
    assert _limit("property", "resolution", "important") == (3, "calendar_days")
    assert _limit("property", "resolution", "major") == (10, "calendar_days")
    assert _limit("property", "resolution", None) == (2, "calendar_days")


def test_property_reply_desk_a():
    """重大投诉应当在2日内给投诉的客户明确答复,解决时间不宜超过10日 [000 §篇1 4(4)9]: the
    2 days are the interim answer's; every result is told the day handling finishes
    [000 §篇1 4(4)5①, 4(4)6)], so by the handling limit (issue 12 §1)."""
    assert _limit("property", "answer", "major") == (2, "calendar_days")
    assert _table("property").limit("answer", "minor") is None
    assert _limit("property", "hand_back") == (0, "same_day")
    assert _limit("property", "tell") == (0, "same_day")
    assert _limit("property", "reply", "major") == (10, "calendar_days")
    assert _limit("property", "reply", "important") == (3, "calendar_days")
    assert _limit("property", "reply", "minor") == (2, "calendar_days")
    assert _limit("property", "reply", None) == (2, "calendar_days")


def test_property_other_steps():
    """一个工作日内展开调查 [000 §篇7 四]; 客户投诉处理后3个工作日内,100%回访 and 投诉无效的原因
    1个工作日内知会客户 [004 §篇3 二1]; return: product default 1 working day."""
    assert _limit("property", "first_contact") == (1, "working_days")
    assert _limit("property", "follow_up") == (3, "working_days")
    assert _limit("property", "invalid_notice") == (1, "working_days")
    assert _limit("property", "return") == (1, "working_days")
    assert "product default" in _table("property").limit("return", None).seed


def test_property_severity_rule_wins_over_the_generic_one():
    table = _table("property")
    generic = table.limit("resolution", None)
    assert generic.severity is None and generic.amount == 2
    major = table.limit("resolution", "major")
    assert major.severity == "major" and major.amount == 10
    # A step with only a generic rule answers every severity with it.
    assert table.limit("follow_up", "major").severity is None


def test_property_escalations():
    """重大投诉,当天呈送公司总经理; 重要投诉,接待后1小时内转呈主管经理
    [000 §篇1 4(4)3②, 4(4)4]. 0 minutes: notified at once, which is within the same day."""
    by = {e.severity: e for e in _table("property").escalations}
    assert set(by) == {"major", "important"}
    assert by["major"].notify_roles == ("general_manager",)
    assert by["major"].within_minutes == 0
    assert by["important"].notify_roles == ("manager",)
    assert by["important"].within_minutes == 60
    assert _table("property").urgent_severities == ("major",)


def test_property_upgrade_is_one_month_to_major():
    """有效投诉在一个月内得不到合理解决的投诉 is major [000 §篇1 4(4)2①c]."""
    upgrade = _table("property").upgrade
    assert upgrade is not None
    assert (upgrade.amount, upgrade.unit, upgrade.to_severity) == (1, "months", "major")
    assert upgrade.seed == "000 §篇1 4(4)2①c"


@pytest.mark.parametrize(
    "created",
    [
        dt.datetime(2025, 1, 15, 9, 30, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 31, 2, 0, tzinfo=dt.UTC),  # → end of 28 Feb
        dt.datetime(2025, 1, 28, 2, 0, tzinfo=dt.UTC),  # 28 Jan → 28 Feb too
        dt.datetime(2024, 1, 30, 2, 0, tzinfo=dt.UTC),  # leap year → 29 Feb
        dt.datetime(2025, 1, 31, 17, 0, tzinfo=dt.UTC),  # already 1 Feb in China
        dt.datetime(2025, 12, 20, 23, 0, tzinfo=dt.UTC),  # 21 Dec in China → 21 Jan
        dt.datetime(2025, 3, 31, 15, 59, tzinfo=dt.UTC),  # 23:59 in China → 30 Apr
    ],
)
def test_core_months_unit_agrees_with_the_property_month_rule(created):
    """The core's ``months`` unit (engine.add_months) ends the upgrade clock at the instant the
    property rule (rules.month_ends) starts calling the ticket major."""
    upgrade = _table("property").upgrade
    cal = WorkingCalendar()  # Asia/Shanghai, the default tenant time zone
    due = due_time(cal, created, upgrade.amount, upgrade.unit)
    assert due == add_months(cal, created, 1) == month_ends(created)


def test_desk_b_profile_is_not_the_default():
    """重大投诉:应在2小时内回复,3个工作日内处理完毕。重要投诉:应在1个工作日内回复,2个工作日内处理
    完毕。轻微投诉:应在2小时内回复,1个工作日内处理完毕 [004 §篇3 二1]."""
    profile = {(r.step, r.severity): (r.amount, r.unit) for r in DESK_B_RULES}
    assert profile == {
        ("answer", "major"): (2, "hours"),
        ("resolution", "major"): (3, "working_days"),
        ("reply", "major"): (3, "working_days"),
        ("answer", "important"): (1, "working_days"),
        ("resolution", "important"): (2, "working_days"),
        ("reply", "important"): (2, "working_days"),
        ("answer", "minor"): (2, "hours"),
        ("resolution", "minor"): (1, "working_days"),
        ("reply", "minor"): (1, "working_days"),
    }
    assert all(r.seed == "004 §篇3 二1" for r in DESK_B_RULES)
    table = _table("property")
    for rule in DESK_B_RULES:
        assert rule not in table.rules
        assert rule.unit in UNITS and rule.amount > 0


# ------------------------------------------------------------------ utility

ASSESS = "002 《客户投诉管理考核办法》"


def test_utility_dispatch_within_1_hour():
    """投诉工单传递至班长审核,并在1个小时内将投诉工单传递到相关职能部门或单位
    [002 《客户投诉管理考核办法》第十四条]."""
    assert _limit("utility", "dispatch") == (1, "hours")
    assert _table("utility").limit("dispatch", None).seed == f"{ASSESS}第十四条"


def test_utility_first_contact_and_answer():
    """基层单位接到…投诉处理工单后应在1个工作日内与客户联系,4个工作日内查处完毕并答复客户
    [002 《客户投诉管理考核办法》第十五条]."""
    for severity in (None, "general", "major", "severe"):
        assert _limit("utility", "first_contact", severity) == (1, "working_days")
        assert _limit("utility", "reply", severity) == (4, "working_days")
        assert _limit("utility", "resolution", severity) == (4, "working_days")
    table = _table("utility")
    for step in ("first_contact", "reply", "resolution"):
        assert table.limit(step, None).seed == f"{ASSESS}第十五条"


def test_utility_return_follow_up_and_invalid_notice():
    """对不属于本单位处理范围的投诉,应说明理由并在接单后的1个工作日内退回 [第十七条];
    应在24小时内对客户进行回访审核 [第十六条] (clock hours); invalid notice: product default."""
    table = _table("utility")
    assert _limit("utility", "return") == (1, "working_days")
    assert table.limit("return", None).seed == f"{ASSESS}第十七条"
    assert _limit("utility", "follow_up") == (24, "hours")
    assert table.limit("follow_up", None).seed == f"{ASSESS}第十六条"
    assert _limit("utility", "invalid_notice") == (1, "working_days")
    assert "product default" in table.limit("invalid_notice", None).seed


def test_utility_escalations():
    """发生严重或重大投诉事件,各单位必须在当日将简要情况上报公司市场营销部 [第十九条]."""
    table = _table("utility")
    by = {e.severity: e for e in table.escalations}
    assert set(by) == {"major", "severe"}
    for rule in by.values():
        assert set(rule.notify_roles) == {"manager", "general_manager"}
        assert rule.within_minutes == 0
        assert rule.seed.startswith(f"{ASSESS}第十九条")
    assert set(table.urgent_severities) == {"major", "severe"}


def test_utility_has_no_upgrade():
    """002 defines 重大/严重 by the event's impact [第二十四条(四)], not by its age."""
    assert _table("utility").upgrade is None
