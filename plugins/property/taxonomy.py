"""The property-management (物业管理) taxonomy.

Sources:

- 000 §篇1 《物业投诉接待服务》: 1(1) nature (有效投诉 / 沟通性投诉: 求助型, 咨询型, 发泄型),
  1(2) the four content kinds (设备, 服务态度, 服务质量, 突发性事件), 4(4)2 severity
  (重大 / 重要 / 轻微投诉).
- 004 §篇1 3: the service areas complaints concentrate on in office and residential buildings
  (工程设施检修维护和运行, 停车场管理, 安防控制, 园艺绿化及环境卫生, 客户服务态度, 财务管理).
  004 is a machine-reworded copy (治理 for 管理, 效劳 for 服务, 掌握 for 控制, 稍微 for 轻微);
  labels use the standard words and the definition quotes the seed's wording.
- 000 §篇6 (outage notices, 无效投诉), 000 §篇7 二 (scope: 服务态度, 专业素质, 服务效率, 其他).
- ``FACTS``: one measurable fact per clause of the severity definitions of 000 §篇1 4(4)2,
  read by :func:`plugins.property.rules.classify`.

The seeds grade no responsibility for property (domain §4): 000 §篇7 六 penalises by offence
tier. The grades below only record whether, and how far, the person was responsible.
"""

from __future__ import annotations

from core import Facet, Taxonomy, Term
from core.rules import FactSpec

# --- category groups --------------------------------------------------------------------

CATEGORY_GROUPS: tuple[Term, ...] = (
    # 000 §篇1 1(2)1): 对设备的投诉
    Term(
        code="equipment",
        label="Equipment",
        label_zh="设备",
        definition=(
            "对设备的投诉:主要包括空调、照明、供水供电、电梯等。"
            "检查、维修、保养制度只能控制此类问题的发生,不能消除所有设备潜在的问题。"
        ),
        seed="000 §篇1 1(2)1",
    ),
    # 000 §篇1 1(2)2); 004 §篇1 3 (客户服务态度)
    Term(
        code="service_attitude",
        label="Service attitude",
        label_zh="服务态度",
        definition=(
            "对服务态度的投诉:主要包括不负责任的答复行为、冷冰冰的态度、爱理不理的接待方式等。"
        ),
        seed="000 §篇1 1(2)2; 004 §篇1 3",
    ),
    # 000 §篇1 1(2)3); 000 §篇7 二 (专业素质, 服务效率)
    Term(
        code="service_quality",
        label="Service quality",
        label_zh="服务质量",
        definition=(
            "对服务质量的投诉:主要包括维修的质量、邮件未能及时送到客户手中等;"
            "以及专业素质、服务效率方面的不满。"
        ),
        seed="000 §篇1 1(2)3; 000 §篇7 二",
    ),
    # 000 §篇1 1(2)4): 突发性事件的投诉
    Term(
        code="sudden_event",
        label="Sudden events",
        label_zh="突发性事件",
        definition=(
            "突发性事件的投诉:客户因某些突发事件,如停电、停水等带来的生活、工作的不便所进行的投诉。"
        ),
        seed="000 §篇1 1(2)4",
    ),
    # 004 §篇1 3: 工程设施检修维护、运行 (offices ~50%, residential ~50%)
    Term(
        code="engineering",
        label="Engineering maintenance and operation",
        label_zh="工程设施检修维护和运行",
        definition=(
            "对工程设施检修维护和运行的投诉(写字楼、住宅投诉率均在50%左右);包括维修养护方面的失职。"
        ),
        seed="004 §篇1 3; 000 §篇1 1(1)1①",
    ),
    # 004 §篇1 3: 停车场管理 (mostly offices)
    Term(
        code="parking",
        label="Parking",
        label_zh="停车场管理",
        definition=(
            "对停车场管理的投诉(写字楼投诉率约50%,住宅比写字楼低15%)。原文作「停车场治理」。"
        ),
        seed="004 §篇1 3",
    ),
    # 004 §篇1 3: 安防控制; 004 §篇1 1 (入室盗窃、小车被盗)
    Term(
        code="security",
        label="Security",
        label_zh="安防控制",
        definition="对安防控制的投诉(投诉率约35%至40%),包括治安、盗窃。原文作「安防掌握」。",
        seed="004 §篇1 3",
    ),
    # 004 §篇1 3: 园艺绿化及环境卫生 (higher in residential)
    Term(
        code="landscaping_sanitation",
        label="Landscaping and sanitation",
        label_zh="园艺绿化及环境卫生",
        definition="对园艺绿化及环境卫生(保洁)的投诉(住宅投诉率比写字楼高)。",
        seed="004 §篇1 3",
    ),
    # 004 §篇1 3: 财务管理 (mostly residential); 000 §篇1 1(1)1① 收费、经费管理
    Term(
        code="finance",
        label="Financial management",
        label_zh="财务管理",
        definition=(
            "对财务管理的投诉(住宅投诉率比写字楼高):收费、经费管理、"
            "管理服务费收支账目公布等。原文作「财务治理」。"
        ),
        seed="004 §篇1 3; 000 §篇1 1(1)1①",
    ),
    # 000 §篇7 二: 其他以上未列明的关于服务方面的内容
    Term(
        code="other_matters",
        label="Other",
        label_zh="其他",
        definition="以上未列明的关于服务方面的内容。",
        seed="000 §篇7 二",
    ),
)

# --- categories ---------------------------------------------------------------------------

CATEGORIES: tuple[Term, ...] = (
    # equipment — 000 §篇1 1(2)1); 004 §篇1 2
    Term(
        code="air_conditioning",
        label="Air conditioning",
        label_zh="空调",
        group="equipment",
        definition="空调设备故障、效果不佳等。",
        seed="000 §篇1 1(2)1",
    ),
    Term(
        code="lighting",
        label="Lighting",
        label_zh="照明",
        group="equipment",
        definition="公共区域、楼道、事故照明等照明设备及线路的问题。",
        seed="000 §篇1 1(2)1",
    ),
    Term(
        code="water_power_supply",
        label="Water and power supply equipment",
        label_zh="供水供电",
        group="equipment",
        definition="供水、供电设备设施的问题(设备本身故障);突发的停水停电归入「突发性事件」。",
        seed="000 §篇1 1(2)1",
    ),
    Term(
        code="lift",
        label="Lifts",
        label_zh="电梯",
        group="equipment",
        definition="电梯故障、困人、维保停用等。",
        seed="000 §篇1 1(2)1",
    ),
    Term(
        code="intelligent_systems",
        label="Intelligent building systems",
        label_zh="智能化系统",
        group="equipment",
        definition=(
            "室内安防、智能门禁、自动抄报系统以及智能停车管理系统,"
            "小区宽带接入等(投诉始终居高不下)。"
        ),
        seed="004 §篇1 2",
    ),
    Term(
        code="other_equipment",
        label="Other equipment",
        label_zh="其他设备",
        group="equipment",
        definition="以上未列明的设备设施(原文列举「等」,并非穷尽)。",
        seed="000 §篇1 1(2)1",
    ),
    # service attitude — 000 §篇1 1(2)2); 004 §篇1 3; 000 §篇7 二
    Term(
        code="irresponsible_reply",
        label="Irresponsible reply",
        label_zh="不负责任的答复行为",
        group="service_attitude",
        definition="对客户的问题敷衍、推诿或作出不负责任的答复。",
        seed="000 §篇1 1(2)2",
    ),
    Term(
        code="cold_attitude",
        label="Cold attitude",
        label_zh="冷冰冰的态度",
        group="service_attitude",
        definition="接待或服务时态度冷淡、不热情。",
        seed="000 §篇1 1(2)2",
    ),
    Term(
        code="indifferent_reception",
        label="Indifferent reception",
        label_zh="爱理不理的接待方式",
        group="service_attitude",
        definition="接待客户时爱理不理、怠慢客户。",
        seed="000 §篇1 1(2)2",
    ),
    Term(
        code="other_attitude",
        label="Other attitude problems",
        label_zh="其他服务态度问题",
        group="service_attitude",
        definition=(
            "其他服务态度不佳:不尊重客户、讥笑议论客户、故意刁难客户、与客户发生争执、辱骂客户等。"
        ),
        seed="000 §篇1 1(2)2; 000 §篇7 二, 六",
    ),
    # service quality — 000 §篇1 1(2)3); 000 §篇7 二
    Term(
        code="repair_quality",
        label="Repair quality",
        label_zh="维修的质量",
        group="service_quality",
        definition="维修质量不合格、返修、维修不彻底等。",
        seed="000 §篇1 1(2)3",
    ),
    Term(
        code="mail_delivery",
        label="Mail not delivered in time",
        label_zh="邮件未能及时送到",
        group="service_quality",
        definition="邮件未能及时送到客户手中。",
        seed="000 §篇1 1(2)3",
    ),
    Term(
        code="professional_competence",
        label="Professional competence",
        label_zh="专业素质",
        group="service_quality",
        definition="对业务工作不熟悉,无法提供专业服务。",
        seed="000 §篇7 二, 六1B",
    ),
    Term(
        code="service_efficiency",
        label="Service efficiency",
        label_zh="服务效率",
        group="service_quality",
        definition="服务效率低下、处理不及时、擅自减少服务流程等。",
        seed="000 §篇7 二, 六1A",
    ),
    Term(
        code="undelivered_service",
        label="Promised or contracted service not delivered",
        label_zh="承诺或合同规定的服务没有实施",
        group="service_quality",
        definition=(
            "公司承诺或合同规定提供的服务没有实施或实施效果有明显差错"
            "(经客户提出仍未解决的属重大投诉)。"
        ),
        seed="000 §篇1 4(4)2①a",
    ),
    Term(
        code="other_quality",
        label="Other service quality",
        label_zh="其他服务质量问题",
        group="service_quality",
        definition="以上未列明的服务质量问题。",
        seed="000 §篇1 1(2)3",
    ),
    # sudden events — 000 §篇1 1(2)4); 000 §篇6 4.3.2, 4.3.3
    Term(
        code="power_outage",
        label="Power outage",
        label_zh="停电",
        group="sudden_event",
        definition=(
            "停电带来的生活、工作不便。日常维修保养停电须提前24小时通知全体住户;"
            "市政原因或紧急事故停电须事后道歉并说明情况。"
        ),
        seed="000 §篇1 1(2)4; 000 §篇6 4.3.2, 4.3.3",
    ),
    Term(
        code="water_outage",
        label="Water cut",
        label_zh="停水",
        group="sudden_event",
        definition=(
            "停水带来的生活、工作不便。日常维修保养停水须提前24小时通知全体住户;"
            "市政原因或紧急事故停水须事后道歉并说明情况。"
        ),
        seed="000 §篇1 1(2)4; 000 §篇6 4.3.2, 4.3.3",
    ),
    Term(
        code="other_sudden_event",
        label="Other sudden event",
        label_zh="其他突发事件",
        group="sudden_event",
        definition="停电、停水以外的突发事件带来的不便(原文列举「等」)。",
        seed="000 §篇1 1(2)4",
    ),
    # engineering maintenance and operation — 004 §篇1 3
    Term(
        code="facility_maintenance",
        label="Facility inspection and maintenance",
        label_zh="工程设施检修维护",
        group="engineering",
        definition="工程设施的检修、维修养护不到位。",
        seed="004 §篇1 3; 000 §篇1 1(1)1①",
    ),
    Term(
        code="facility_operation",
        label="Facility operation",
        label_zh="工程设施运行",
        group="engineering",
        definition="工程设施运行不正常、运行管理不当。",
        seed="004 §篇1 3",
    ),
    # parking — 004 §篇1 3
    Term(
        code="parking_management",
        label="Car park management",
        label_zh="停车场管理",
        group="parking",
        definition="停车场管理(车位、收费、秩序、车辆进出)。原文作「停车场治理」。",
        seed="004 §篇1 3",
    ),
    # security — 004 §篇1 3; 004 §篇1 1; 004 §篇3
    Term(
        code="security_control",
        label="Security control",
        label_zh="安防控制",
        group="security",
        definition="门岗查验、巡逻、监控、消防安全等安防控制不到位。原文作「安防掌握」。",
        seed="004 §篇1 3",
    ),
    Term(
        code="theft",
        label="Theft",
        label_zh="客户被盗",
        group="security",
        definition="入室盗窃、业主小车被盗等;客户被盗要求赔偿的,应尽量做好解释工作。",
        seed="004 §篇1 1; 004 §篇3",
    ),
    # landscaping and sanitation — 004 §篇1 3
    Term(
        code="landscaping",
        label="Landscaping",
        label_zh="园艺绿化",
        group="landscaping_sanitation",
        definition="绿化养护、花木、草坪、消杀等。",
        seed="004 §篇1 3",
    ),
    Term(
        code="sanitation",
        label="Sanitation and cleaning",
        label_zh="环境卫生",
        group="landscaping_sanitation",
        definition="保洁、垃圾清运、卫生死角、公共卫生间等环境卫生问题。",
        seed="004 §篇1 3",
    ),
    # financial management — 004 §篇1 3; 000 §篇1 1(1)1①; 000 §篇6 4.3.1
    Term(
        code="charges",
        label="Charges",
        label_zh="收费",
        group="finance",
        definition="物业管理费、水电费、有偿服务等收费标准、计算或收缴方面的投诉。",
        seed="000 §篇1 1(1)1①; 004 §篇1 2",
    ),
    Term(
        code="fund_management",
        label="Fund management",
        label_zh="经费管理",
        group="finance",
        definition="经费管理方面的失职、违法、违纪行为。",
        seed="000 §篇1 1(1)1①",
    ),
    Term(
        code="accounts_disclosure",
        label="Disclosure of fee accounts",
        label_zh="管理服务费收支账目公布",
        group="finance",
        definition="未按规定公布管理服务费收支账目(每三个月至少公布一次)。",
        seed="000 §篇6 4.3.1",
    ),
    # other — 000 §篇7 二
    Term(
        code="other",
        label="Other",
        label_zh="其他",
        group="other_matters",
        definition="以上未列明的关于服务方面的内容。",
        seed="000 §篇7 二",
    ),
)

# --- severities — 000 §篇1 4(4)2) 投诉界定; 004 §篇3 (类别判断) ------------------------------

SEVERITIES: tuple[Term, ...] = (
    Term(
        code="major",
        label="Major",
        label_zh="重大投诉",
        definition=(
            "a. 公司承诺或合同规定提供的服务没有实施或实施效果有明显差错,"
            "经客户提出而得不到解决的投诉;"
            "b. 由于公司责任给客户造成重大经济损失或人身伤害的;"
            "c. 有效投诉在一个月内得不到合理解决的投诉。"
        ),
        seed="000 §篇1 4(4)2①; 004 §篇3 (A类重大投诉)",
    ),
    Term(
        code="important",
        label="Important",
        label_zh="重要投诉",
        definition="因公司的管理服务工作不到位、有过失而引起的投诉。",
        seed="000 §篇1 4(4)2②",
    ),
    Term(
        code="minor",
        label="Minor",
        label_zh="轻微投诉",
        definition=(
            "因公司的设施、设备和管理水平有限给客户造成的生活、工作轻微不便"
            "而非人为因素造成的影响,可以通过改进而较易得到解决或改进的投诉。"
        ),
        seed="000 §篇1 4(4)2③",
    ),
)

# --- facets ---------------------------------------------------------------------------------

_COMMUNICATIVE = "沟通性投诉。沟通性的投诉若处理不当,会变成有效投诉,所以必须认真处理。"

NATURE = Facet(
    # 000 §篇1 1(1): 按投诉的性质分为有效投诉和沟通性投诉
    code="nature",
    label="Nature",
    label_zh="投诉性质",
    required=True,
    seed="000 §篇1 1(1)",
    values=(
        Term(
            code="valid",
            label="Valid complaint",
            label_zh="有效投诉",
            definition=(
                "① 客户对物业管理企业在管理服务、收费、经费管理、维修养护等方面失职、"
                "违法、违纪等行为的投诉,并经过有关行业主管部门查实登记的;"
                "② 客户提出的物业管理企业或管理人员故意、非故意,或失误造成客户"
                "或公众利益受到损害的投诉。"
            ),
            seed="000 §篇1 1(1)1",
        ),
        Term(
            code="help",
            label="Request for help (communicative)",
            label_zh="求助型投诉",
            definition="客户有困难或问题需给予帮助解决的。" + _COMMUNICATIVE,
            seed="000 §篇1 1(1)2①",
        ),
        Term(
            code="inquiry",
            label="Inquiry (communicative)",
            label_zh="咨询型投诉",
            definition="客户有问题或建议向管理部门联络的。" + _COMMUNICATIVE,
            seed="000 §篇1 1(1)2②",
        ),
        Term(
            code="venting",
            label="Venting (communicative)",
            label_zh="发泄型投诉",
            definition=(
                "客户因受委屈或误会等,内心带有某种不满,要求问题得到解决的。" + _COMMUNICATIVE
            ),
            seed="000 §篇1 1(1)2③",
        ),
    ),
)

# --- grades ---------------------------------------------------------------------------------

_GRADE_NOTE = (
    " The property seeds grade no responsibility: 000 §篇7 六 penalises by offence tier, "
    "which the grader picks; the grade only records whether the person was responsible."
)
_GRADE_SEED = "product default; property seeds silent (penalty by offence tier, 000 §篇7 六)"

GRADES: tuple[Term, ...] = (
    Term(
        code="full",
        label="Fully responsible",
        label_zh="全责",
        definition=(
            "The person or department alone caused the complaint (failure, breach of rules, "
            "or a deliberate or careless act harming the client, 000 §篇1 1(1)1)." + _GRADE_NOTE
        ),
        seed=_GRADE_SEED,
    ),
    Term(
        code="main",
        label="Mainly responsible",
        label_zh="主责",
        definition=(
            "The person or department is chiefly responsible; others (another department, "
            "a contractor, the client) share a lesser part." + _GRADE_NOTE
        ),
        seed=_GRADE_SEED,
    ),
    Term(
        code="secondary",
        label="Secondarily responsible",
        label_zh="次责",
        definition=(
            "The person or department bears a lesser part; the main cause lies elsewhere."
            + _GRADE_NOTE
        ),
        seed=_GRADE_SEED,
    ),
    Term(
        code="none",
        label="Not responsible",
        label_zh="无责",
        definition=(
            "Not responsible: the complaint does not stand (投诉不能成立, 000 §篇7 三1B; "
            "无效投诉, 000 §篇6 4.2.3), or the cause lies outside the company (e.g. 市政原因 "
            "outages, 000 §篇6 4.3.3). No penalty." + _GRADE_NOTE
        ),
        seed=_GRADE_SEED,
    ),
)

# --- facts — 000 §篇1 4(4)2) 投诉界定, read by plugins.property.rules.classify ---------------
#
# Each fact mirrors one clause of the seed's definitions, so a clerk answers the seed's own
# questions. The one-month rule (①c) needs no fact: it is read from the ticket's age.

FACTS: tuple[FactSpec, ...] = (
    FactSpec(
        code="promised_service_undelivered",
        label="Promised or contracted service not delivered, or delivered with obvious errors",
        label_zh="公司承诺或合同规定提供的服务没有实施或实施效果有明显差错",
        kind="bool",
        seed="000 §篇1 4(4)2①a",
    ),
    FactSpec(
        code="raised_before_unresolved",
        label="The complainant raised it before and it was not resolved",
        label_zh="经客户提出而得不到解决",
        kind="bool",
        seed="000 §篇1 4(4)2①a",
    ),
    FactSpec(
        code="serious_economic_loss",
        label="Serious economic loss to the client through the company's fault",
        label_zh="由于公司责任给客户造成重大经济损失",
        kind="bool",
        seed="000 §篇1 4(4)2①b",
    ),
    FactSpec(
        code="personal_injury",
        label="Personal injury to the client through the company's fault",
        label_zh="由于公司责任给客户造成人身伤害",
        kind="bool",
        seed="000 §篇1 4(4)2①b",
    ),
    FactSpec(
        code="service_failing",
        label="Caused by failings or faults in the company's management or service work",
        label_zh="因公司的管理服务工作不到位、有过失而引起",
        kind="bool",
        seed="000 §篇1 4(4)2②",
    ),
    FactSpec(
        code="caused_by_people",
        label="Caused by people (a human factor), not by limits of facilities or management",
        label_zh="人为因素造成",
        kind="bool",
        seed="000 §篇1 4(4)2③ (轻微: 非人为因素造成的影响)",
    ),
    FactSpec(
        code="slight_inconvenience",
        label="Slight inconvenience to life or work from limited facilities, equipment or "
        "management",
        label_zh="因公司的设施、设备和管理水平有限给客户造成的生活、工作轻微不便",
        kind="bool",
        seed="000 §篇1 4(4)2③",
    ),
    FactSpec(
        code="easily_fixed",
        label="Can be resolved or improved fairly easily",
        label_zh="可以通过改进而较易得到解决或改进",
        kind="bool",
        seed="000 §篇1 4(4)2③",
    ),
    # 004 §篇3 二1 "遇有群体投诉等危机状况时,应马上报告上级领导,并积极采取应对措施": flags the
    # clerk sets on intake; true sends the ticket up at once (core.flow.duty).
    FactSpec(
        code="group_complaint",
        label="Group complaint (several complainants together)",
        label_zh="群体投诉",
        kind="bool",
        escalate=True,
        seed="004 §篇3 二1",
    ),
    FactSpec(
        code="crisis",
        label="Crisis situation",
        label_zh="危机状况",
        kind="bool",
        escalate=True,
        seed="004 §篇3 二1",
    ),
)

# The desk's words in this industry (channels, closing conditions, registration reasons):
# [000 §篇1 5(5)1-2]: registration reasons and the signed 《维修服务单》 close.
CHANNELS = (
    Term(code="phone", label="Phone", label_zh="电话"),
    Term(code="letter", label="Letter", label_zh="信函"),
    Term(code="visit", label="Visit", label_zh="来访"),
    Term(code="web", label="Web", label_zh="网络"),
    Term(code="email", label="Email", label_zh="电子邮件"),
    Term(code="hotline_transfer", label="Hotline transfer", label_zh="热线转办"),
    Term(code="government_transfer", label="Government transfer", label_zh="政府转办"),
    Term(code="media", label="Media", label_zh="媒体"),
)
CLOSING_CONDITIONS = (
    Term(
        code="service_slip_signed",
        label="Service slip signed by the owner",
        label_zh="业主已在维修服务单上签字",
    ),
    Term(
        code="result_confirmed",
        label="Result confirmed with the owner",
        label_zh="处理结果已与业主确认",
    ),
    Term(code="unresolvable_approved", label="Unresolvable, approved", label_zh="无法解决，已批准"),
)
REGISTER_REASONS = (
    Term(code="on_site", label="On-site work needed", label_zh="需现场处理"),
    Term(code="found_by_management", label="Found by management", label_zh="管理中发现"),
    Term(code="needs_follow_up", label="Needs follow-up", label_zh="需跟进"),
    Term(code="emergency", label="Emergency", label_zh="紧急情况"),
    Term(
        code="outside_scope_help",
        label="Outside scope, the owner asks for help",
        label_zh="超出服务范围，业主需要协助",
    ),
)


TAXONOMY: Taxonomy = Taxonomy(
    industry="property",
    label="Property management",
    label_zh="物业管理",
    category_groups=CATEGORY_GROUPS,
    categories=CATEGORIES,
    severities=SEVERITIES,
    facets=(NATURE,),
    grades=GRADES,
    channels=CHANNELS,
    closing_conditions=CLOSING_CONDITIONS,
    register_reasons=REGISTER_REASONS,
    facts=FACTS,
)
