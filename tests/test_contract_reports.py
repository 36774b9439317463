"""Report windows are capped and files are safe to open (issue 9 items 8 and 14).

- a window is at most a year, inside 2000–2100: the 1900–2199 trend chart that kept a worker
  busy for a minute and the 0001–9999 ledger export that failed with too many bind
  parameters are 422 naming the field;
- charts and spreadsheets are drawn off the event loop, two at a time, within a time limit
  (503 with ``Retry-After`` past it);
- CSV goes through defusedcsv, and a formula hidden behind a leading tab, CR, LF or space
  is neutralised too; XLSX string cells are text, never formulas.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from core.reports import api as reports_api

TENANT = "greenwood"
EN = {"Accept-Language": "en"}  # a program reads the columns by their codes


def err(r: Any, field: str) -> dict[str, Any]:
    assert r.status_code == 422, f"{r.status_code} {r.text[:300]}"
    e = r.json()["error"]
    assert e["field"] == field, e
    assert e["message"] and e["rule"], e  # the reader's words; the field by name on the wire
    return e  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/reports/charts/trend.png",
         {"from": "1900-01-01T00:00:00Z", "to": "2199-12-31T00:00:00Z"}, "from"),
        ("/api/reports/export/ledger.csv",
         {"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T00:00:00Z"}, "from"),
        ("/api/reports/stats",
         {"from": "2020-01-01T00:00:00Z", "to": "2199-12-31T00:00:00Z"}, "to"),
        ("/api/reports/kpis",
         {"from": "2024-01-01T00:00:00+08:00", "to": "2025-02-01T00:00:00+08:00"}, "to"),
        ("/api/reports/bulletin", {"period": "1999-12"}, "period"),
        ("/api/reports/charts/category.svg", {"period": "2100-01"}, "period"),
    ],
)  # fmt: skip
def test_report_windows_are_capped(api: Any, path: str, params: dict[str, str], field: str) -> None:
    err(api.get(TENANT, "manager", path, params=params), field)


def test_a_year_long_window_is_still_drawn(api: Any) -> None:
    params = {"from": "2025-01-01T00:00:00+08:00", "to": "2026-01-01T00:00:00+08:00"}
    r = api.get(TENANT, "manager", "/api/reports/charts/trend.png", params=params)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_file_not_drawn_in_time_is_503_with_retry_after(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports_api, "RENDER_SECONDS", 0.0)
    r = api.get(TENANT, "manager", "/api/reports/charts/trend.svg")
    assert r.status_code == 503, r.text[:300]
    assert r.headers["retry-after"] == "10"
    assert r.json()["error"]["code"] == "unavailable"


FORMULAS = ["=1+1", "\t=1+1", "\r+SUM(A1)", "\n-2+3", " @cmd", "\t\r\n=HYPERLINK(x)", "|calc"]


def test_csv_and_xlsx_neutralise_formulas_even_behind_blanks(api: Any) -> None:
    numbers = {}
    for name in FORMULAS:
        t = api.create(TENANT, complainant={"name": name, "contact": "13812345678"})
        numbers[t["number"]] = name

    r = api.client.get(
        "/api/reports/export/tickets.csv", headers=api.headers(TENANT, "manager") | EN
    )
    assert r.status_code == 200, r.text[:300]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    seen = {row["number"]: row["complainant_name"] for row in rows if row["number"] in numbers}
    assert set(seen) == set(numbers)
    for number, cell in seen.items():
        assert cell.startswith("'"), repr(cell)
        assert cell[1:] == numbers[number].replace("|", "\\|"), (cell, numbers[number])

    r = api.client.get(
        "/api/reports/export/tickets.xlsx", headers=api.headers(TENANT, "manager") | EN
    )
    assert r.status_code == 200, r.text[:300]
    sheet = load_workbook(io.BytesIO(r.content))["tickets"]
    header = [c.value for c in sheet[1]]
    col = header.index("complainant_name")
    found = 0
    for row in sheet.iter_rows(min_row=2):
        assert all(c.data_type != "f" for c in row), [c.value for c in row]
        if row[0].value in numbers:
            found += 1
            assert row[col].data_type == "s"
    assert found == len(numbers)


def test_plain_text_and_numbers_are_left_alone(api: Any) -> None:
    t = api.create(TENANT, complainant={"name": "王五 -1", "contact": "13812345678"})
    r = api.client.get(
        "/api/reports/export/tickets.csv", headers=api.headers(TENANT, "manager") | EN
    )
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    row = next(x for x in rows if x["number"] == t["number"])
    assert row["complainant_name"] == "王五 -1"
