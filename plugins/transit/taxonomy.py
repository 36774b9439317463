"""The bus-operator (公交公司) taxonomy.

Source: 000 §篇8 《浅析公交服务投诉的协调处理》.

- 2(1) direction: to the company, to government (transport authority, mayor's hotline, letters
  to Party and government leaders), to the media (news media, internet);
- 2(2) mode: phone, letter, web, in person;
- 2(3), 3(2) responsibility: 有责 (全责, 主责, 次责) and 无责, with the criteria for each.

The seed names no complaint categories as such; the categories below are what it says
passengers complain about (1 causes, 3(2) the grading examples), plus driving safety and
vehicle condition, which the seed does not mention (marked "product addition"). The seed
defines no severities either: general / serious / major are a product default.
"""

from __future__ import annotations

from core import Facet, Taxonomy, Term

_ADDITION = "product addition; 000 §篇8 silent"

# --- category groups --------------------------------------------------------------------

CATEGORY_GROUPS: tuple[Term, ...] = (
    # 000 §篇8 3(2)一: 有意违反营运服务制度 (溜站甩客、带客过站、有意慢待乘客)
    Term(
        code="service_rules",
        label="Breach of operating service rules",
        label_zh="违反营运服务制度",
        definition="公交员工有意违反营运服务制度,如溜站甩客、带客过站、有意慢待乘客。",
        seed="000 §篇8 3(2)一",
    ),
    # 000 §篇8 1(1), 3(2)二三: 服务态度与服务矛盾处理
    Term(
        code="staff_conduct",
        label="Staff attitude and conduct",
        label_zh="服务态度与行为",
        definition=(
            "驾乘人员服务态度冷淡或不好,不能冷静处理服务矛盾,与乘客争吵、谩骂、"
            "殴打,训斥、刁难或驱赶乘客下车。"
        ),
        seed="000 §篇8 1(1), 3(2)二三",
    ),
    # 000 §篇8 1(4), 3(2)三四: 投币刷卡、查验月票证卡
    Term(
        code="fares_cards",
        label="Fares and cards",
        label_zh="票款与证卡",
        definition="投币、刷卡、查验月票证卡时发生的矛盾。",
        seed="000 §篇8 1(4), 3(2)三四",
    ),
    # 000 §篇8 1(4), 3(2)三四: 违反乘车规则时的劝阻 (后门上车、宠物、违禁行李)
    Term(
        code="riding_rules",
        label="Enforcing the riding rules",
        label_zh="乘车规则劝阻",
        definition=(
            "员工劝阻乘客违反乘车规则(违规从后门上车、携带宠物、携带违规(违禁)行李)引起的投诉。"
        ),
        seed="000 §篇8 1(4), 3(2)三四",
    ),
    # 000 §篇8 1(2)(3): 营运秩序、班次安排、大间隔、道路拥堵
    Term(
        code="operations",
        label="Operations and schedule",
        label_zh="营运秩序与班次",
        definition=(
            "线路营运秩序较差、班次安排不合理、出现大间隔、候车时间较长,"
            "道路拥堵造成营运秩序不正常。"
        ),
        seed="000 §篇8 1(2), 1(3)",
    ),
    # product addition: driving safety and vehicle condition (000 §篇8 silent)
    Term(
        code="safety_vehicle",
        label="Driving safety and vehicles",
        label_zh="行车安全与车辆",
        definition="行车安全、车辆状况方面的投诉(原文未列,产品补充)。",
        seed=_ADDITION,
    ),
    # product addition: anything else
    Term(
        code="other_matters",
        label="Other",
        label_zh="其他",
        definition="以上未列明的服务投诉。",
        seed=_ADDITION,
    ),
)

# --- categories ---------------------------------------------------------------------------

CATEGORIES: tuple[Term, ...] = (
    # breach of operating service rules — 000 §篇8 3(2)一
    Term(
        code="skip_stop",
        label="Skipping a stop, leaving passengers behind",
        label_zh="溜站甩客",
        group="service_rules",
        definition="车辆不按规定进站停靠,甩下候车乘客。",
        seed="000 §篇8 3(2)一",
    ),
    Term(
        code="carry_past_stop",
        label="Carrying passengers past their stop",
        label_zh="带客过站",
        group="service_rules",
        definition="不在乘客要下车的站点停靠开门,把乘客带过站。",
        seed="000 §篇8 3(2)一",
    ),
    Term(
        code="deliberate_slight",
        label="Deliberately slighting passengers",
        label_zh="有意慢待乘客",
        group="service_rules",
        definition="有意怠慢、冷落乘客。",
        seed="000 §篇8 3(2)一",
    ),
    # staff attitude and conduct — 000 §篇8 1(1), 3(2)二三
    Term(
        code="service_attitude",
        label="Poor service attitude",
        label_zh="服务态度不好",
        group="staff_conduct",
        definition=(
            "服务意识较差,对乘客态度冷淡;情绪不稳定、服务态度不好;对一般性服务矛盾处理不到位。"
        ),
        seed="000 §篇8 1(1)",
    ),
    Term(
        code="quarrel",
        label="Quarrel with a passenger",
        label_zh="争吵",
        group="staff_conduct",
        definition="不能冷静处理服务矛盾,与乘客发生争吵。",
        seed="000 §篇8 3(2)二三",
    ),
    Term(
        code="verbal_abuse",
        label="Verbal abuse or scolding",
        label_zh="谩骂、训斥乘客",
        group="staff_conduct",
        definition="谩骂乘客,或训斥(轻微)违反乘车规则的乘客。",
        seed="000 §篇8 3(2)二三",
    ),
    Term(
        code="assault",
        label="Physical fight",
        label_zh="殴打",
        group="staff_conduct",
        definition="与乘客发生殴打。",
        seed="000 §篇8 3(2)二",
    ),
    Term(
        code="making_difficulties",
        label="Abusing the position to make things difficult",
        label_zh="刁难乘客",
        group="staff_conduct",
        definition="利用工作职能之便刁难乘客。",
        seed="000 §篇8 3(2)二",
    ),
    Term(
        code="driving_off",
        label="Forcing a passenger off the bus",
        label_zh="驱赶乘客下车",
        group="staff_conduct",
        definition="劝解无效后驱赶乘客下车。",
        seed="000 §篇8 3(2)二",
    ),
    # fares and cards — 000 §篇8 1(4), 3(2)三四
    Term(
        code="fare_payment",
        label="Coin fare or card payment",
        label_zh="投币刷卡",
        group="fares_cards",
        definition="按规定投币或刷卡方面的矛盾(不投币、少投币等)。",
        seed="000 §篇8 1(4), 3(2)四",
    ),
    Term(
        code="pass_check",
        label="Checking monthly passes and cards",
        label_zh="查验月票证卡",
        group="fares_cards",
        definition="查验月票证卡时的矛盾(乘客不配合查验、使用他人证卡等)。",
        seed="000 §篇8 3(2)三四",
    ),
    # enforcing the riding rules — 000 §篇8 1(4), 3(2)三四
    Term(
        code="rear_door_boarding",
        label="Boarding by the rear door",
        label_zh="违规从后门上车",
        group="riding_rules",
        definition="无人售票车乘客违规从后门上车,员工劝阻引起的矛盾。",
        seed="000 §篇8 3(2)三",
    ),
    Term(
        code="pets",
        label="Pets on board",
        label_zh="携带宠物",
        group="riding_rules",
        definition="乘客携带宠物乘车,员工劝阻引起的矛盾。",
        seed="000 §篇8 1(4), 3(2)四",
    ),
    Term(
        code="prohibited_luggage",
        label="Prohibited luggage",
        label_zh="携带违禁行李",
        group="riding_rules",
        definition="乘客携带违规(违禁)行李上车,员工劝阻引起的矛盾。",
        seed="000 §篇8 1(4), 3(2)四",
    ),
    # operations and schedule — 000 §篇8 1(2), 1(3)
    Term(
        code="operating_order",
        label="Poor operating order on the line",
        label_zh="营运秩序较差",
        group="operations",
        definition="线路上营运秩序较差(含道路拥堵、交通不畅造成的营运秩序不正常)。",
        seed="000 §篇8 1(2), 1(3)",
    ),
    Term(
        code="schedule",
        label="Unreasonable timetable",
        label_zh="班次安排不合理",
        group="operations",
        definition="班次安排不合理。",
        seed="000 §篇8 1(2)",
    ),
    Term(
        code="long_headway",
        label="Long gaps between buses, long waits",
        label_zh="出现大间隔",
        group="operations",
        definition="出现大间隔,乘客候车时间较长。",
        seed="000 §篇8 1(2)",
    ),
    # product additions — 000 §篇8 silent
    Term(
        code="driving_safety",
        label="Driving safety",
        label_zh="行车安全",
        group="safety_vehicle",
        definition="超速、急刹、开车时接打电话、未停稳开门等危及乘客安全的驾驶行为。",
        seed=_ADDITION,
    ),
    Term(
        code="vehicle_condition",
        label="Vehicle condition",
        label_zh="车辆状况",
        group="safety_vehicle",
        definition="车厢卫生、空调、报站器、刷卡机、座椅等车辆设施状况。",
        seed=_ADDITION,
    ),
    Term(
        code="other",
        label="Other",
        label_zh="其他",
        group="other_matters",
        definition="以上未列明的服务投诉。",
        seed=_ADDITION,
    ),
)

# --- severities — product default; 000 §篇8 silent ---------------------------------------

_SEVERITY_SEED = "product default; 000 §篇8 silent"

SEVERITIES: tuple[Term, ...] = (
    Term(
        code="general",
        label="General",
        label_zh="一般投诉",
        definition=(
            "An ordinary service dispute with one passenger: no injury, no loss of "
            "property, no outside attention (attitude, rule disputes, schedule)."
        ),
        seed=_SEVERITY_SEED,
    ),
    Term(
        code="serious",
        label="Serious",
        label_zh="严重投诉",
        definition=(
            "A deliberate breach of the operating service rules (溜站甩客, 带客过站), physical "
            "conflict, a complaint repeated against the same staff or line, or one forwarded "
            "by government (transport authority, mayor's hotline, letters to leaders) that "
            "needs a formal reply."
        ),
        seed=_SEVERITY_SEED,
    ),
    Term(
        code="major",
        label="Major",
        label_zh="重大投诉",
        definition=(
            "问题严重、社会影响大的服务投诉,应当从严处理 (000 §篇8 4(1)3): injury or "
            "serious loss, exposure in the news media or on the internet, or a group complaint."
        ),
        seed=_SEVERITY_SEED + " (major echoes 4(1)3)",
    ),
)

# --- facets — 000 §篇8 2(1), 2(2) --------------------------------------------------------

DIRECTION = Facet(
    # 000 §篇8 2(1): 按投诉方向分类
    code="direction",
    label="Direction",
    label_zh="投诉方向",
    seed="000 §篇8 2(1)",
    values=(
        Term(
            code="company",
            label="To the bus company",
            label_zh="向公交公司投诉",
            definition=(
                "多数通过企业服务热线、服务监督电话投诉,少数通过写信、发短信、"
                "直接到公司投诉(直接到公司的一般意见比较强烈,要当面向公司领导反映)。"
            ),
            seed="000 §篇8 2(1)1",
        ),
        Term(
            code="government",
            label="To government",
            label_zh="向政府部门投诉",
            definition=(
                "向政府客运主管部门投诉,大多数是向市长热线电话(12345)投诉,"
                "还有通过人民来信向市委、市政府领导投诉,希望加大处理力度。"
            ),
            seed="000 §篇8 2(1)2",
        ),
        Term(
            code="media",
            label="To the media",
            label_zh="向媒体投诉",
            definition=(
                "一是向新闻媒体投诉,希望媒体曝光监督;二是向网络投诉,通过网络反映自己的不满。"
            ),
            seed="000 §篇8 2(1)3",
        ),
    ),
)

MODE = Facet(
    # 000 §篇8 2(2): 按投诉方式分类
    code="mode",
    label="Mode",
    label_zh="投诉方式",
    seed="000 §篇8 2(2)",
    values=(
        Term(
            code="phone",
            label="Phone",
            label_zh="电话投诉",
            definition="服务热线、服务监督电话、市长热线等电话投诉;短信投诉也记于此。",
            seed="000 §篇8 2(2)",
        ),
        Term(
            code="letter",
            label="Letter",
            label_zh="来信投诉",
            definition="写信投诉,包括人民来信。",
            seed="000 §篇8 2(2)",
        ),
        Term(
            code="web",
            label="Web",
            label_zh="网络投诉",
            definition="通过网络投诉。",
            seed="000 §篇8 2(2)",
        ),
        Term(
            code="in_person",
            label="In person",
            label_zh="当面投诉",
            definition="直接到公司当面投诉。",
            seed="000 §篇8 2(2)",
        ),
    ),
)

# --- grades — 000 §篇8 2(3), 3(2) --------------------------------------------------------

GRADES: tuple[Term, ...] = (
    Term(
        code="full",
        label="Fully responsible",
        label_zh="全责",
        definition=(
            "在乘客遵守乘车规则的情况下,公交员工有意违反营运服务制度,溜站甩客、"
            "带客过站、有意慢待乘客等行为,引发乘客投诉。"
        ),
        seed="000 §篇8 3(2)一",
    ),
    Term(
        code="main",
        label="Mainly responsible",
        label_zh="主责",
        definition=(
            "在乘客轻微违反乘车规则的情况下,公交员工不能冷静地处理服务中的矛盾,"
            "与乘客发生争吵、殴打,或利用工作职能之便刁难乘客等行为,引发乘客投诉。"
            "如训斥轻微违反乘车规则的乘客,劝解轻微违规乘客无效后谩骂乘客或驱赶乘客下车等。"
        ),
        seed="000 §篇8 3(2)二",
    ),
    Term(
        code="secondary",
        label="Secondarily responsible",
        label_zh="次责",
        definition=(
            "在乘客违反乘车规则、挑剔、错怪等情况下,公交员工不能冷静处理,态度不好,"
            "与乘客发生争吵、谩骂等行为,引起乘客投诉。如无人售票车乘客违规从后门上车,"
            "乘客不配合驾乘人员查验月票证卡等,公交员工处理时态度不好,与乘客发生争吵、谩骂。"
        ),
        seed="000 §篇8 3(2)三",
    ),
    Term(
        code="none",
        label="Not responsible",
        label_zh="无责",
        definition=(
            "乘客严重违反乘车规则,或符合禁止乘车的条件,拒绝公交员工的劝阻,发生矛盾冲突,"
            "引发投诉。如乘客不投币或少投币,使用他人证卡,携带违禁行李,携带宠物乘车等,"
            "不但不接受劝阻,还与公交员工争吵,甚至恶人先告状,投诉公交员工。"
        ),
        seed="000 §篇8 3(2)四",
    ),
)

# The desk's words in this industry (channels, closing conditions, registration reasons):
# [000 §篇8 2]: phone, letter, visit, web, hotline and government transfers, media.
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
        code="result_confirmed",
        label="Result confirmed with the passenger",
        label_zh="处理结果已与乘客确认",
    ),
    Term(code="unresolvable_approved", label="Unresolvable, approved", label_zh="无法解决，已批准"),
)
REGISTER_REASONS = (
    Term(code="on_site", label="On-site work needed", label_zh="需现场处理"),
    Term(code="found_by_management", label="Found by management", label_zh="管理中发现"),
    Term(code="needs_follow_up", label="Needs follow-up", label_zh="需跟进"),
    Term(code="emergency", label="Emergency", label_zh="紧急情况"),
)


TAXONOMY: Taxonomy = Taxonomy(
    industry="transit",
    label="Public bus transit",
    label_zh="公交",
    category_groups=CATEGORY_GROUPS,
    categories=CATEGORIES,
    severities=SEVERITIES,
    facets=(DIRECTION, MODE),
    grades=GRADES,
    channels=CHANNELS,
    closing_conditions=CLOSING_CONDITIONS,
    register_reasons=REGISTER_REASONS,
)
