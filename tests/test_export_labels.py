"""Report files speak labels in their cells too (issue 19 item 5: "exports have Chinese
headers over code values (`phone, lift, important, closed, engineering`)").

People get channel, category, severity, state, resolution, departments and yes/no as
Chinese labels under Chinese headers; ``Accept-Language: en`` gives English labels under the
column codes; ``?codes=1`` the codes in headers and cells, as the JSON reports give them.
CSV and XLSX, both backends, through the export route.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from dutykit import walk
from openpyxl import load_workbook

GW = "greenwood"
CODES = ["phone", "repair_quality", "minor", "dispatched", "engineering"]
ZH = ["电话", "维修的质量", "轻微投诉", "已派单", "工程部"]
EN = ["Phone", "Repair quality", "Minor", "Dispatched", "工程部"]
"""channel, category, severity, state, assigned department (a department is its name)."""
COLUMNS = ["channel", "category", "severity", "state", "assigned_department"]
HEADERS_ZH = ["受理渠道", "投诉类别", "严重程度", "状态", "承办部门"]


def rows(api: Any, fmt: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    h = api.headers(GW, "manager") | (headers or {})
    r = api.client.get(f"/api/reports/export/tickets.{fmt}", headers=h, params=params)
    assert r.status_code == 200, r.text[:300]
    if fmt == "csv":
        return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    return [["" if c.value is None else c.value for c in row] for row in sheet.iter_rows()]


def cells(table: list[list[Any]], number: str, names: list[str]) -> list[Any]:
    header, *body = table
    (row,) = [r for r in body if r[0] == number]
    return [row[header.index(n)] for n in names]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cells_are_labels_for_people_and_codes_on_request(api: Any, fmt: str) -> None:
    t = walk(api, GW, "dispatched")
    zh = rows(api, fmt)
    assert cells(zh, t["number"], HEADERS_ZH) == ZH
    header, *body = zh
    (row,) = [r for r in body if r[0] == t["number"]]
    assert row[header.index("有效投诉")] == "是"
    assert not set(CODES) & {str(v) for v in row}, row

    en = rows(api, fmt, {"Accept-Language": "en"})
    assert cells(en, t["number"], COLUMNS) == EN
    assert cells(en, t["number"], ["valid"]) == ["yes"]

    for table in (rows(api, fmt, codes=1), rows(api, fmt, {"Accept-Language": "en"}, codes=1)):
        assert cells(table, t["number"], COLUMNS) == CODES
        assert cells(table, t["number"], ["valid"]) == (["true"] if fmt == "csv" else [True])


def test_codes_must_be_a_boolean(api: Any) -> None:
    r = api.get(GW, "manager", "/api/reports/export/tickets.csv", params={"codes": "maybe"})
    assert r.status_code in (400, 422), r.text
    assert "codes" in r.text


def test_the_ledger_and_kpi_departments_are_named(api: Any) -> None:
    walk(api, GW, "replied")
    r = api.get(GW, "manager", "/api/reports/export/kpis.xlsx")
    assert r.status_code == 200, r.text[:300]
    book = load_workbook(io.BytesIO(r.content))
    sheet = book["未回访"]
    header = [c.value for c in sheet[1]]
    values = {row[header.index("部门")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "工程部" in values and "engineering" not in values, values
    states = {row[header.index("状态")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "已答复" in states and "replied" not in states, states


def test_the_statistics_sections_totals_and_channels_are_words(api: Any) -> None:
    walk(api, GW, "dispatched")
    r = api.get(GW, "manager", "/api/reports/export/stats.csv")
    header, *body = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert header[:4] == ["部分", "维度", "代码", "名称"]
    assert {row[0] for row in body} == {"合计", "分类统计", "趋势"}
    assert ["合计", "受理投诉", "", "受理投诉"] == body[0][:4]
    phone = [row for row in body if row[1] == "受理渠道" and row[2] == "phone"]
    assert phone and phone[0][3] == "电话", phone
    r = api.get(GW, "manager", "/api/reports/export/stats.csv", params={"codes": "1"})
    header, *body = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert header[:4] == ["section", "dimension", "key", "label"]
    assert body[0][:4] == ["totals", "received", "", "received"]


def test_kpi_labels_and_the_about_sheet_are_in_the_readers_language(api: Any) -> None:
    walk(api, GW, "replied")
    h = api.headers(GW, "manager")
    for lang, satisfaction, tenant in (("zh", "满意率", "租户"), ("en", "satisfaction", "Tenant")):
        r = api.client.get("/api/reports/export/kpis.xlsx",
                           headers=h | ({"Accept-Language": "en"} if lang == "en" else {}))  # fmt: skip
        book = load_workbook(io.BytesIO(r.content))
        kpis, about = book.worksheets[0], book.worksheets[-1]
        labels = {row[0]: row[1] for row in kpis.iter_rows(min_row=2, values_only=True)}
        assert labels["satisfaction"] == satisfaction, labels
        assert about.cell(2, 1).value == tenant
