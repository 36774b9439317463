"""Report files for people: Chinese column headers, sheet names and cell values (issues 13
and 19: "export headers speak in codes", "exports have Chinese headers over code values").

The tables keep their codes (:mod:`core.reports.exports`, what tests and programs read); a
file sent to a person gets, by the reader's choice (:func:`choice`):

- ``zh_CN`` (the default): Chinese headers and sheet names, and cells as labels — channel,
  state and resolution in the core's words (:mod:`core.tickets.labels`), category and
  severity in the plugin's (``label_zh``), departments by name, yes/no as 是/否;
- ``en`` (``Accept-Language: en``): the column codes as headers (a script parses the
  columns by name) over English labels (the plugin's ``label``);
- ``codes`` (``?codes=1``, whatever the language): the codes in headers and cells, as the
  JSON reports give them — for programs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.db import TenantScope
from core.reports.exports import Cell, Table
from core.tickets.labels import word

COLUMNS = {
    # stats
    "section": "部分", "dimension": "维度", "key": "代码", "label": "名称",
    "counted": "计入考核", "not_counted": "不计入考核",
    # about
    "field": "项目", "value": "值",
    # kpis
    "kpi": "指标", "numerator": "分子", "denominator": "分母",
    "number": "工单编号", "state": "状态", "department": "部门", "last_reply_at": "最后答复时间",
    "earlier": "此前工单", "same_complainant": "同一投诉人", "same_subject": "同一事项",
    "decided": "已决定", "amount_yuan": "金额（元）", "waived": "已免除", "pending": "待决定",
    # tickets
    "received_at": "受理时间", "channel": "受理渠道", "category": "投诉类别",
    "severity": "严重程度", "resolution": "处理结果", "valid": "有效投诉",
    "accused_department": "被投诉部门", "assigned_department": "承办部门",
    "accused_staff": "被投诉员工", "redispatch_count": "重新派单次数",
    "reopen_count": "重新打开次数", "referred_to_inspection": "移交纪检",
    "closed_at": "销项时间", "complainant_name": "投诉人", "complainant_contact": "联系方式",
    # ledger
    "period": "月份", "staff": "员工编号", "name": "姓名", "owed_yuan": "应扣（元）",
    "pay_yuan": "绩效工资（元）", "deducted_yuan": "已扣（元）", "carried_yuan": "结转（元）",
    "written_off_yuan": "核销（元）", "forfeited_yuan": "扣发绩效（元）",
    "credited_yuan": "退还（元）", "fines_yuan": "罚款（元）",
    "appraisal_points": "扣月度绩效考评分",
    "appraisal_points_credited": "退还绩效考评分",
}  # fmt: skip
SHEETS = {
    "stats": "统计", "about": "说明", "kpis": "考核指标", "follow_up_missing": "未回访",
    "repeat_complaints": "重复投诉", "penalties_by_department": "各部门处罚", "tickets": "工单",
    "ledger": "罚款台账",
}  # fmt: skip


CODES = "codes"
YES_NO = {"zh_CN": ("是", "否"), "en": ("yes", "no")}
LABELLED = {
    "channel": "channel", "state": "state", "resolution": "resolution",
    "category": "term", "severity": "term",
    "accused_department": "department", "assigned_department": "department",
    "department": "department",
    "valid": "bool", "counted": "bool", "referred_to_inspection": "bool",
}  # fmt: skip
"""Column code → what its cells hold, for the columns whose cells are labelled."""
KEEP_CODES = frozenset({"penalties_by_department"})
"""Tables whose code column has its label beside it already (``key`` / ``label``)."""

STATS_WORDS = {
    # sections
    "totals": ("合计", "Totals"), "breakdown": ("分类统计", "Breakdown"),
    "trend": ("趋势", "Trend"),
    # dimensions and granularities
    "received": ("受理投诉", "Complaints received"),
    "not_counted_reason": ("不计入考核原因", "Why not counted"),
    "category": ("投诉类别", "Category"), "severity": ("严重程度", "Severity"),
    "channel": ("受理渠道", "Channel"), "department": ("部门", "Department"),
    "staff": ("员工", "Staff member"), "grade": ("责任认定", "Responsibility"),
    "staff_grade": ("员工与责任", "Staff member and responsibility"),
    "category_group": ("类别分组", "Category group"),
    "week": ("按周", "By week"), "month": ("按月", "By month"),
}  # fmt: skip
"""The statistics table's own codes (its ``section`` and ``dimension`` columns)."""
ABOUT = {
    "tenant": ("租户", "Tenant"), "period": ("月份", "Period"), "from": ("起始时间", "From"),
    "to": ("截止时间", "To"), "timezone": ("时区", "Time zone"), "scope": ("统计范围", "Scope"),
    "as_of": ("统计时间", "As of"),
}  # fmt: skip
"""The ``field`` column of the report's 说明 sheet."""
TOTALS = {
    "received": ("受理投诉", "Complaints received"), "invalid": ("无效投诉", "Invalid"),
    "communicative": ("沟通性投诉", "Communicative"), "excluded": ("不计入考核", "Excluded"),
    "untriaged": ("未甄别", "Not yet triaged"),
}  # fmt: skip
"""The ``label`` of the statistics' totals rows (their ``key`` is the code)."""


def choice(lang: str, codes: bool) -> str:
    """``codes`` when asked for (``?codes=1``), else the reader's language."""
    return CODES if codes else lang


@dataclass(frozen=True)
class Words:
    """The tenant's words for cell codes: taxonomy terms and department names."""

    terms: dict[str, tuple[str, str]] = field(default_factory=dict)
    """category / severity code → (zh_CN, en)."""
    departments: dict[str, str] = field(default_factory=dict)
    """department code → name."""

    @classmethod
    async def load(cls, scope: TenantScope) -> Words:
        from core.people import tenant_data
        from core.tickets.facts import plugin_of

        tax = (await plugin_of(scope)).taxonomy()
        terms = {t.code: (t.label_zh or t.label, t.label or t.label_zh)
                 for t in (*tax.categories, *tax.severities)}  # fmt: skip
        depts = {code: name for code, name in (await tenant_data.departments(scope)).values()}
        return cls(terms=terms, departments=depts)

    def cell(self, what: str, value: Cell, lang: str) -> Cell:
        if value is None:
            return None
        if what == "bool":
            if not isinstance(value, bool):
                return value
            yes, no = YES_NO.get(lang, YES_NO["zh_CN"])
            return yes if value else no
        if what == "department":
            return self.departments.get(str(value), value)
        if what == "term":
            found = self.terms.get(str(value))
            return value if found is None else (found[1] if lang == "en" else found[0])
        return word(what, str(value), lang)


_BILINGUAL = re.compile(r"^(?P<zh>[^A-Za-z]*[\u4e00-\u9fff][^A-Za-z]*?)\s+(?P<en>[A-Za-z].*)$")


def _half(text: Cell, lang: str) -> Cell:
    """The reader's half of a ``"中文 english"`` label (the whole when it is not one)."""
    m = _BILINGUAL.match(text) if isinstance(text, str) else None
    return text if m is None else m.group("en" if lang == "en" else "zh")


def _pick(pair: tuple[str, str] | None, code: Cell, lang: str) -> Cell:
    return code if pair is None else (pair[1] if lang == "en" else pair[0])


def _stats_row(row: list[Cell], lang: str) -> list[Cell]:
    """section, dimension, key, label, counted, not_counted: the section and dimension as
    words, the label of a totals row and of a channel (the statistics label channels by
    code) as words; the key stays the code (its column is 代码)."""
    section, dimension, key, label, *rest = row
    if section == "totals":
        label = _pick(TOTALS.get(str(key or label)), label, lang)
    elif dimension == "channel":
        label = word("channel", str(key), lang) if key is not None else label
    return [
        _pick(STATS_WORDS.get(str(section)), section, lang),
        _pick(STATS_WORDS.get(str(dimension)), dimension, lang),
        key,
        label,
        *rest,
    ]


def for_reader(tables: list[Table], reader: str, words: Words | None = None) -> list[Table]:
    """``tables`` for ``reader`` (:func:`choice`): ``zh_CN`` — Chinese headers, sheet names
    and labelled cells; ``en`` — code headers over English labels; ``codes`` — as they are.
    A column without a Chinese header keeps its code; cells are labelled only with
    ``words`` (the tenant's terms and departments)."""
    if reader == CODES:
        return tables
    out = []
    for t in tables:
        rows = t.rows
        if t.title == "stats":
            rows = [_stats_row(r, reader) for r in t.rows]
        elif t.title == "about":
            rows = [[_pick(ABOUT.get(str(r[0])), r[0], reader), *r[1:]] for r in t.rows]
        elif t.title == "kpis":  # "中文 english" labels: the reader's half
            rows = [[r[0], _half(r[1], reader), *r[2:]] for r in t.rows]
        elif words is not None and t.title not in KEEP_CODES:
            todo = [(i, LABELLED[c]) for i, c in enumerate(t.columns) if c in LABELLED]
            if todo:
                rows = [list(r) for r in t.rows]
                for row in rows:
                    for i, what in todo:
                        row[i] = words.cell(what, row[i], reader)
        if reader == "en":
            out.append(Table(title=t.title, columns=t.columns, rows=rows))
        else:
            out.append(
                Table(
                    title=SHEETS.get(t.title, t.title),
                    columns=[COLUMNS.get(c, c) for c in t.columns],
                    rows=rows,
                )
            )
    return out
