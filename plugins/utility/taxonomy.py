"""The power-supply (供电公司/供电局, hotline 95598) taxonomy.

Sources (002 is a bundle of several documents from different companies; article numbers
repeat, so every citation names the document):

- 002 《客户投诉管理考核办法》 (the seed's full title: 供电公司客户投诉管理考核办法):
  第九条 (what counts as a complaint), 第十条 (four classes, seventeen items — canonical),
  第二十四条 (general / major / severe events; main and secondary responsibility; the
  accountable capacities of 第二十四条(四)), 第二十五条 (outside escalation, a fact),
  第二十六条 (falsified reply, a fact).
- 002 《投诉举报管理办法》 (full title: 供电局客户投诉举报管理办法), 第四条 受理范围:
  nineteen items, published-commitment breaches, some with measurable thresholds (the facts
  the rules in rules.py measure).

001's groupings and 003's production / marketing / grid-construction split are reporting
tags, not a second taxonomy (domain notes §9), so they are not encoded here.
"""

from __future__ import annotations

from core import Facet, Taxonomy, Term
from core.rules import FactSpec

_ASSESS = "002 《客户投诉管理考核办法》"
_REPORT = "002 《投诉举报管理办法》"

_ART9 = f"{_ASSESS}第九条"
_ART10 = f"{_ASSESS}第十条"
_ART24 = f"{_ASSESS}第二十四条"
_ART25 = f"{_ASSESS}第二十五条"
_ART26 = f"{_ASSESS}第二十六条"
_SCOPE = f"{_REPORT}第四条"


# -------------------------------------------------------------------------
# Classes and items: 第十条 "按业务性质划分,投诉分为四大类共十七项"
# -------------------------------------------------------------------------

CATEGORY_GROUPS: tuple[Term, ...] = (
    Term(
        code="service_conduct",
        label="Service conduct",
        label_zh="服务规范类",
        definition="服务态度、服务规范 (2 items).",
        seed=f"{_ART10}(一)",
    ),
    Term(
        code="marketing_management",
        label="Marketing management",
        label_zh="营销管理类",
        definition=(
            "抄表质量、营业收费、电费电价、催收电费、电能计量、报装接电(一户一表和其它) (6 items)."
        ),
        seed=f"{_ART10}(二)",
    ),
    Term(
        code="operation_maintenance",
        label="Operation and maintenance",
        label_zh="运行维护类",
        definition=(
            "故障处理、供电质量、停电公告、电器损坏、安全隐患、施工质量、环保、电网改造 (8 items)."
        ),
        seed=f"{_ART10}(三)",
    ),
    Term(
        code="publicity",
        label="Supplier's publicity responsibility",
        label_zh="供电方宣传责任类",
        definition="因供电方宣传不到位引发的投诉 (1 item).",
        seed=f"{_ART10}(四)",
    ),
)


def _item(code: str, label: str, label_zh: str, group: str, clause: str, defn: str = "") -> Term:
    return Term(
        code=code,
        label=label,
        label_zh=label_zh,
        group=group,
        definition=defn,
        seed=f"{_ART10}{clause}",
    )


_SC, _MM, _OM, _PB = (g.code for g in CATEGORY_GROUPS)

CATEGORIES: tuple[Term, ...] = (
    # (一) 服务规范类
    _item("service_attitude", "Service attitude", "服务态度", _SC, "(一)"),
    _item("service_norms", "Service norms", "服务规范", _SC, "(一)"),
    # (二) 营销管理类
    _item("meter_reading", "Meter-reading quality", "抄表质量", _MM, "(二)"),
    _item("business_charges", "Business charges", "营业收费", _MM, "(二)"),
    _item("tariffs", "Electricity bills and tariffs", "电费电价", _MM, "(二)"),
    _item("bill_collection", "Collection of electricity bills", "催收电费", _MM, "(二)"),
    _item("metering", "Energy metering", "电能计量", _MM, "(二)"),
    # One item: the parenthesis qualifies it, it does not split it (17 holds only so).
    _item(
        "new_connection",
        "Application and connection of supply (one meter per household and other)",
        "报装接电(一户一表和其它)",
        _MM,
        "(二)",
        "报装接电,含一户一表和其它报装接电,计为一项。",
    ),
    # (三) 运行维护类
    _item("fault_repair", "Fault handling and repair", "故障处理", _OM, "(三)"),
    _item("supply_quality", "Supply quality", "供电质量", _OM, "(三)"),
    _item("outage_notice", "Outage notice", "停电公告", _OM, "(三)"),
    _item("damaged_appliances", "Damaged electrical appliances", "电器损坏", _OM, "(三)"),
    _item("safety_hazards", "Safety hazards", "安全隐患", _OM, "(三)"),
    _item("construction_quality", "Construction quality", "施工质量", _OM, "(三)"),
    _item("environment", "Environmental protection", "环保", _OM, "(三)"),
    _item("grid_upgrade", "Grid upgrade", "电网改造", _OM, "(三)"),
    # (四) 供电方宣传责任类
    _item(
        "poor_publicity",
        "Complaint caused by the supplier's poor publicity",
        "因供电方宣传不到位引发的投诉",
        _PB,
        "(四)",
    ),
)


# -------------------------------------------------------------------------
# Severities: 第二十四条
# -------------------------------------------------------------------------
# 重大 (major) and 严重 (severe) are two separate labels, each with its own schedule in
# 第二十四条(四)1 and (四)2. The seed gives them no consistent order: 严重 carries the higher
# fines (main ≥ 1000 vs ≥ 800), 重大 the harsher sanctions (up to dismissal vs at most one
# year's 留用察看). So NO order is derived between them (domain notes §9); never compare
# them or map them onto another plugin's "major".

SEVERITIES: tuple[Term, ...] = (
    Term(
        code="general",
        label="General",
        label_zh="一般",
        definition=(
            "违反“十个不准”和“十项承诺”以外的一般性质投诉事件:因业务技能不熟、工作失误、"
            "工作疏漏等工作质量问题引发投诉;因服务态度问题引发客户不满造成投诉。"
            "一般投诉由各客户服务中心调查(第八条)。违反“十个不准”“十项承诺”的投诉事件"
            "按另行的规定考核(第二十四条(一)(二))。"
        ),
        seed=f"{_ART24}(三)",
    ),
    Term(
        code="major",
        label="Major",
        label_zh="重大",
        definition=(
            "投诉事件性质严重或对(二)、(三)中所列投诉处理不当,导致出现的社会影响达到"
            "重大程度的(重大投诉事件)。当日将简要情况上报公司市场营销部(第十九条);"
            "市场营销部负责重大投诉事件的调查处理(第六条)。"
        ),
        seed=f"{_ART24}(四)1",
    ),
    Term(
        code="severe",
        label="Severe",
        label_zh="严重",
        definition=(
            "投诉事件性质严重或对(二)、(三)中所列投诉处理不当,导致出现的社会影响达到"
            "严重程度的(严重投诉事件)。当日将简要情况上报公司市场营销部(第十九条)。"
        ),
        seed=f"{_ART24}(四)2",
    ),
)


# -------------------------------------------------------------------------
# Facet: the acceptance scope, 《投诉举报管理办法》第四条 受理范围 (19 items, seed order)
# -------------------------------------------------------------------------


def _scope(n: int, code: str, label: str, label_zh: str, defn: str) -> Term:
    return Term(code=code, label=label, label_zh=label_zh, definition=defn, seed=f"{_SCOPE}第{n}项")


COMMITMENT_BREACHES: tuple[Term, ...] = (
    _scope(
        1,
        "abusive_attitude",
        "Abusive attitude, deliberately making things difficult",
        "服务态度蛮横,故意刁难客户",
        "服务态度蛮横,故意刁难客户的。",
    ),
    _scope(
        2,
        "outage_against_rules",
        "Outage against the rules or reconnection delayed without cause",
        "违反规定停电、无故拖延送电",
        "违反规定停电、无故拖延送电的。",
    ),
    _scope(
        3,
        "self_invented_charges",
        "Self-invented charges or unauthorised change of charge rates",
        "自立收费项目、擅自更改收费标准",
        "自立收费项目、擅自更改收费标准的。",
    ),
    _scope(
        4,
        "three_designations",
        "Designating designers, builders or suppliers for the customer (三指定)",
        "为客户指定设计、施工、供货单位",
        "为客户指定设计、施工、供货单位的(即对客户工程“三指定”)。",
    ),
    _scope(
        5,
        "passing_the_buck",
        "Passing the buck on complaints or enquiries",
        "对客户投诉、咨询等工作推诿塞责",
        "对客户投诉、咨询等工作推诿塞责的。",
    ),
    _scope(
        6,
        "favours_for_relatives",
        "Seeking private gain for relatives' or friends' supply",
        "为亲友用电谋取私利",
        "为亲友用电谋取私利的。",
    ),
    _scope(
        7,
        "customer_secrets_leaked",
        "Customer's business secrets leaked",
        "对外泄漏客户的商业秘密",
        "对外泄漏客户的商业秘密的。",
    ),
    _scope(
        8,
        "gifts_accepted",
        "Gifts, cash or securities accepted from a customer",
        "收受客户礼品、礼金、有价证券",
        "收受客户礼品、礼金、有价证券的。",
    ),
    _scope(
        9,
        "banquets_accepted",
        "Banquets, trips or entertainment organised by a customer accepted",
        "接受客户组织的宴请、旅游和娱乐活动",
        "接受客户组织的宴请、旅游和娱乐活动的。",
    ),
    _scope(
        10,
        "supply_plan_late",
        "Supply plan answered late",
        "供电方案答复期限超出规定要求",
        "供电方案答复期限超出规定要求:居民客户超过3个工作日,低压电力客户超过7个工作日,"
        "高压单电源客户超过15个工作日,高压双电源客户超过30个工作日的。"
        " (residential > 3 working days; low-voltage > 7; high-voltage single supply > 15;"
        " high-voltage dual supply > 30.)",
    ),
    _scope(
        11,
        "residential_connection_late",
        "Residential supply not connected in time",
        "城乡居民客户受电装置检验合格并办理相关手续后,超过3个工作日未送电",
        "城乡居民客户向供电企业申请用电,受电装置检验合格并办理相关手续后,"
        "超过3个工作日未送电的。 (residential > 3 working days after inspection passed"
        " and formalities completed.)",
    ),
    _scope(
        12,
        "non_residential_connection_late",
        "Non-residential supply not connected in time",
        "非居民客户受电工程验收合格并办理相关手续后,超过5个工作日未送电",
        "非居民客户向供电企业申请用电,受电工程验收合格并办理相关手续后,"
        "超过5个工作日未送电的。 (non-residential > 5 working days after acceptance passed"
        " and formalities completed.)",
    ),
    _scope(
        13,
        "planned_outage_not_announced",
        "Planned maintenance outage not announced 7 days ahead",
        "供电设施计划检修停电,未提前7天向社会公告",
        "供电设施计划检修停电,未提前7天向社会公告的。 (public notice < 7 days ahead.)",
    ),
    _scope(
        14,
        "no_24h_fault_service",
        "No 24-hour fault-repair service",
        "未提供24小时电力故障报修服务",
        "未提供24小时电力故障报修服务的。",
    ),
    _scope(
        15,
        "repair_crew_late",
        "Repair crew late on site",
        "供电抢修人员未按规定时间到达现场",
        "供电抢修人员未按规定时间到达现场:城区范围超过45分钟;农村地区超过90分钟;"
        "特殊边远地区超过2小时的。 (urban > 45 min; rural > 90 min; remote > 2 h.)",
    ),
    _scope(
        16,
        "arrears_disconnection_without_notice",
        "Disconnection for arrears without 7 days' notice",
        "对欠费客户采取停电措施,未提前7天送达停电通知书",
        "依法对欠费客户采取停电措施,未提前7天送达停电通知书的。"
        " (disconnection notice served < 7 days ahead.)",
    ),
    _scope(
        17,
        "power_theft_investigation_harm",
        "Harm to the customer or the unit while investigating breach of contract or power theft",
        "在查处违约用电、窃电工作中,损害客户或本单位合法利益",
        "在查处违约用电、窃电工作中,损害客户或本单位合法利益的。",
    ),
    _scope(
        18,
        "dispatch_rules_breach",
        'Serious breach of the "three fairness" (三公) dispatch ten measures',
        "严重违反《“三公”调度“十项措施”》",
        "严重违反《“三公”调度“十项措施”》的。",
    ),
    _scope(
        19,
        "other",
        "Other breach of the quality-service and conduct rules",
        "其他违反局优质服务和行风建设有关规定的行为",
        "其他违反局优质服务和行风建设有关规定的行为。",
    ),
)


# -------------------------------------------------------------------------
# Facet: verified as the supplier's responsibility, 第九条
# -------------------------------------------------------------------------

VERIFICATION: tuple[Term, ...] = (
    Term(
        code="verified",
        label="Verified: the supplier's responsibility",
        label_zh="经核实属于供电单位责任",
        definition=(
            "出现投诉事项范例情况之一,经查属实者界定为投诉;经核实属于供电单位责任的,"
            "列入投诉类统计,并纳入考核。"
        ),
        seed=_ART9,
    ),
    Term(
        code="not_verified",
        label="Not (yet) verified as the supplier's responsibility",
        label_zh="未核实",
        definition=(
            "投诉处理工单在未核实前不统计为投诉;核实后不属于供电单位责任的,"
            "亦不列入投诉类统计、不纳入考核。"
        ),
        seed=_ART9,
    ),
)


FACETS: tuple[Facet, ...] = (
    Facet(
        code="commitment_breach",
        label="Breach within the acceptance scope",
        label_zh="受理范围",
        values=COMMITMENT_BREACHES,
        required=False,
        seed=_SCOPE,
    ),
    Facet(
        code="verified_responsibility",
        label="Verified as the supplier's responsibility",
        label_zh="经核实属于供电单位责任",
        values=VERIFICATION,
        required=False,
        seed=_ART9,
    ),
)


# -------------------------------------------------------------------------
# Responsibility grades: 第二十四条(四). No "full" grade in the seed.
# The further accountable parties of (四)1(3)-(5) / 2(3)-(5) — the workshop leader of the
# directly responsible person, the department head with management responsibility, and the
# unit's head or deputy with leadership responsibility — are not grades of the person
# complained about; (五) assesses other responsible persons "by reference, level by level".
# -------------------------------------------------------------------------

GRADES: tuple[Term, ...] = (
    Term(
        code="main",
        label="Main responsibility",
        label_zh="负主要责任",
        definition=(
            "重大投诉事件:对负主要责任者给予行政记大过至开除处分,并处以不少于800元的经济处罚;"
            "严重投诉事件:给予不高于行政留用察看一年处分,并处以不少于1000元的经济处罚。"
        ),
        seed=f"{_ART24}(四)",
    ),
    Term(
        code="secondary",
        label="Secondary responsibility",
        label_zh="负次要责任",
        definition=(
            "重大投诉事件:对负次要责任者给予行政记过至开除处分,并处以不少于600元的经济处罚;"
            "严重投诉事件:给予不高于行政记大过处分,并处以不少于800元的经济处罚。"
        ),
        seed=f"{_ART24}(四)",
    ),
    Term(
        code="none",
        label="No responsibility",
        label_zh="无责任",
        definition="不属责任人,不予考核(仅对引发投诉事件和管理投诉的责任人考核)。",
        seed=_ART24,
    ),
)


# -------------------------------------------------------------------------
# Further accountable capacities: 第二十四条(四)1(3)-(5) and (四)2(3)-(5).
# ``direct`` (the person complained about, graded main or secondary) is the core's own.
# -------------------------------------------------------------------------

CAPACITIES: tuple[Term, ...] = (
    Term(
        code="workshop_leader",
        label="Workshop leader of the directly responsible person",
        label_zh="负有直接责任者所在车间领导、有关人员",
        definition=(
            "重大投诉事件:对负有直接责任者所在车间领导、有关人员给予行政警告至撤职处分,"
            "并处以不少于500元的经济处罚;严重投诉事件:对负有管理的直接责任者所在车间领导、"
            "有关人员处以不少于600元的经济处罚。一般性质投诉事件不设此项(第二十四条(三))。"
        ),
        seed=f"{_ART24}(四)1(3)、(四)2(3)",
    ),
    Term(
        code="department_head",
        label="Head of the department with management responsibility",
        label_zh="负有管理责任的有关部门负责人、有关人员",
        definition=(
            "重大投诉事件:给予行政记过处分至降职处分,并处以不少于300元经济处罚;"
            "严重投诉事件:处以不少于400元经济处罚。"
        ),
        seed=f"{_ART24}(四)1(4)、(四)2(4)",
    ),
    Term(
        code="unit_leader",
        label="Unit head or deputy in charge, with leadership responsibility",
        label_zh="负有领导责任的单位正职、分管副职",
        definition=(
            "重大投诉事件:对负有领导责任的单位正职、分管副职给予行政警告至降职处分,"
            "并处以不少于300元的经济处罚;严重投诉事件:对负有领导责任的单位分管副职"
            "处以不少于400元的经济处罚(严重事件条文只列分管副职;单位正职按第二十四条(五)"
            "参照逐级考核)。"
        ),
        seed=f"{_ART24}(四)1(5)、(四)2(5)",
    ),
)


# -------------------------------------------------------------------------
# Measurable facts: the thresholds of 《投诉举报管理办法》第四条 受理范围 (items 10-16) and
# the assessment facts of 《客户投诉管理考核办法》第九条, 第二十四条, 第二十五条, 第二十六条.
# The thresholds themselves live in rules.py next to the rule that reads them.
# -------------------------------------------------------------------------

AREA_VALUES = ("urban", "rural", "remote")
CUSTOMER_TYPES = (
    "residential",
    "low_voltage",
    "high_voltage_single",
    "high_voltage_dual",
    "non_residential",
)

FACTS: tuple[FactSpec, ...] = (
    FactSpec(
        code="area",
        label="Area of the repair site (urban, rural, special remote)",
        label_zh="抢修地点区域(城区范围/农村地区/特殊边远地区)",
        kind="choice",
        values=AREA_VALUES,
        seed=f"{_SCOPE}第15项",
    ),
    FactSpec(
        code="repair_arrival_minutes",
        label="Minutes until the repair crew arrived on site",
        label_zh="供电抢修人员到达现场用时(分钟)",
        kind="int",
        unit="minutes",
        seed=f"{_SCOPE}第15项",
    ),
    FactSpec(
        code="customer_type",
        label=(
            "Customer type (residential, low-voltage, high-voltage single / dual supply; "
            "non-residential where only that is known)"
        ),
        label_zh="客户类别(居民/低压电力/高压单电源/高压双电源/非居民)",
        kind="choice",
        values=CUSTOMER_TYPES,
        seed=f"{_SCOPE}第10项、第11项、第12项",
    ),
    FactSpec(
        code="supply_plan_answer_working_days",
        label="Working days taken to answer the supply plan",
        label_zh="供电方案答复用时(工作日)",
        kind="int",
        unit="working_days",
        seed=f"{_SCOPE}第10项",
    ),
    FactSpec(
        code="connection_working_days",
        label=(
            "Working days from passed inspection and completed formalities until power was "
            "connected (or until now, if still not connected)"
        ),
        label_zh="受电装置检验(受电工程验收)合格并办理相关手续后至送电的工作日数",
        kind="int",
        unit="working_days",
        seed=f"{_SCOPE}第11项、第12项",
    ),
    FactSpec(
        code="outage_notice_days",
        label="Days ahead a planned maintenance outage was announced to the public",
        label_zh="供电设施计划检修停电提前向社会公告的天数",
        kind="int",
        unit="days",
        seed=f"{_SCOPE}第13项",
    ),
    FactSpec(
        code="disconnection_notice_days",
        label="Days ahead the disconnection notice was served on a customer in arrears",
        label_zh="对欠费客户停电前提前送达停电通知书的天数",
        kind="int",
        unit="days",
        seed=f"{_SCOPE}第16项",
    ),
    FactSpec(
        code="fault_service_24h",
        label="A 24-hour fault-report service was provided",
        label_zh="提供24小时电力故障报修服务",
        kind="bool",
        seed=f"{_SCOPE}第14项",
    ),
    FactSpec(
        code="verified_supplier_responsibility",
        label="Verified as the supply unit's responsibility",
        label_zh="经核实属于供电单位责任",
        kind="bool",
        seed=_ART9,
    ),
    FactSpec(
        code="external_escalation",
        label=(
            "Complained to a supervision channel outside the company (the grid company, the "
            "electricity regulator…) and found true"
        ),
        label_zh="投诉到公司以外的服务监督渠道(国家电网公司、电力监管委员会等),经查属实",
        kind="bool",
        seed=_ART25,
    ),
    FactSpec(
        code="customer_loss",
        label="The work-quality fault caused the customer a loss",
        label_zh="工作质量问题造成客户利益损失",
        kind="bool",
        seed=f"{_ART24}(三)1",
    ),
    FactSpec(
        code="falsified_reply",
        label="The unit's reply was falsified, concealed the truth or was not reported truthfully",
        label_zh="回复中出现弄虚作假、隐瞒真相、不如实上报",
        kind="bool",
        seed=_ART26,
    ),
)


# The desk's words in this industry (channels, closing conditions, registration reasons):
# [002 第十二、十三条]: 95598, the voice mailbox and letters forwarded by the leadership.
CHANNELS = (
    Term(code="phone", label="Phone", label_zh="电话"),
    Term(code="letter", label="Letter", label_zh="信函"),
    Term(code="visit", label="Visit", label_zh="来访"),
    Term(code="web", label="Web", label_zh="网络"),
    Term(code="email", label="Email", label_zh="电子邮件"),
    Term(code="hotline_transfer", label="Hotline transfer", label_zh="热线转办"),
    Term(code="government_transfer", label="Government transfer", label_zh="政府转办"),
    Term(code="media", label="Media", label_zh="媒体"),
    Term(code="hotline_95598", label="95598 hotline", label_zh="95598 热线"),
    Term(code="voice_mailbox", label="Voice mailbox", label_zh="语音信箱"),
    Term(code="management_forwarded", label="Forwarded by management", label_zh="领导转办"),
)
CLOSING_CONDITIONS = (
    Term(
        code="result_confirmed",
        label="Result confirmed with the customer",
        label_zh="处理结果已与客户确认",
    ),
    Term(code="unresolvable_approved", label="Unresolvable, approved", label_zh="无法解决，已批准"),
)
# 四不放过 [002 第二条]: what the utility's close confirms; no other industry's seeds ask it.
CLOSE_CHECKLIST = (
    Term(code="cause_found", label="Cause found", label_zh="原因未查清不放过"),
    Term(
        code="person_educated",
        label="Person responsible educated",
        label_zh="责任人未受教育不放过",
    ),
    Term(code="measures_taken", label="Measures taken", label_zh="整改措施未落实不放过"),
    Term(
        code="person_dealt_with",
        label="Person responsible dealt with",
        label_zh="责任人未处理不放过",
    ),
)
REGISTER_REASONS = (
    Term(code="on_site", label="On-site work needed", label_zh="需现场处理"),
    Term(code="found_by_management", label="Found by management", label_zh="管理中发现"),
    Term(code="needs_follow_up", label="Needs follow-up", label_zh="需跟进"),
    Term(code="emergency", label="Emergency", label_zh="紧急情况"),
)


TAXONOMY: Taxonomy = Taxonomy(
    industry="utility",
    label="Power supply (95598)",
    label_zh="供电公司",
    category_groups=CATEGORY_GROUPS,
    categories=CATEGORIES,
    severities=SEVERITIES,
    facets=FACETS,
    grades=GRADES,
    channels=CHANNELS,
    closing_conditions=CLOSING_CONDITIONS,
    register_reasons=REGISTER_REASONS,
    close_checklist=CLOSE_CHECKLIST,
    capacities=CAPACITIES,
    facts=FACTS,
)
