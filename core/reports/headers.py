"""Chinese column headers and sheet names for the CSV/XLSX exports (issue 13: "export
headers speak in codes").

The tables keep their codes (:mod:`core.reports.exports`, what tests and programs read);
a file sent to a person gets these headers instead — Chinese by default, the codes with
``Accept-Language: en`` (the same choice as error messages, :mod:`core.error_text`), so a
script that parses the columns by name asks for English.
"""

from __future__ import annotations

from core.reports.exports import Table

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
}  # fmt: skip
SHEETS = {
    "stats": "统计", "about": "说明", "kpis": "考核指标", "follow_up_missing": "未回访",
    "repeat_complaints": "重复投诉", "penalties_by_department": "各部门处罚", "tickets": "工单",
    "ledger": "罚款台账",
}  # fmt: skip


def for_reader(tables: list[Table], lang: str) -> list[Table]:
    """``tables`` with Chinese headers and sheet names (``zh_CN``), or as they are (``en``).
    A column without a Chinese header keeps its code."""
    if lang == "en":
        return tables
    return [
        Table(
            title=SHEETS.get(t.title, t.title),
            columns=[COLUMNS.get(c, c) for c in t.columns],
            rows=t.rows,
        )
        for t in tables
    ]
