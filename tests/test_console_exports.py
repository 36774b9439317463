"""Report files for people have Chinese column headers and sheet names (issue 13: "export
headers speak in codes"); programs asking ``Accept-Language: en`` keep the codes. Both
backends, through the export route."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from core.reports import headers

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("what", ["stats", "kpis", "tickets", "ledger"])
def test_every_header_and_sheet_is_chinese_for_people(api: Any, what: str) -> None:
    api.create("greenwood")
    r = api.get("greenwood", "manager", f"/api/reports/export/{what}.xlsx")
    assert r.status_code == 200, r.text[:300]
    book = load_workbook(io.BytesIO(r.content))
    for sheet in book.worksheets:
        assert CJK.search(sheet.title), sheet.title
        row = [c.value for c in sheet[1]]
        assert row and all(CJK.search(str(v)) for v in row), (sheet.title, row)
    r = api.get("greenwood", "manager", f"/api/reports/export/{what}.csv")
    header = next(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert all(CJK.search(h) for h in header), header


def test_english_keeps_the_codes_for_programs(api: Any) -> None:
    h = api.headers("greenwood", "manager") | {"Accept-Language": "en"}
    r = api.client.get("/api/reports/export/tickets.csv", headers=h)
    header = next(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert header[:3] == ["number", "received_at", "channel"]
    r = api.get("greenwood", "manager", "/api/reports/export/tickets.csv")
    header = next(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert header[:3] == ["工单编号", "受理时间", "受理渠道"]


def test_headers_are_unique_per_table() -> None:
    assert len(set(headers.COLUMNS.values())) == len(headers.COLUMNS)
