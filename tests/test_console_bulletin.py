"""The bulletin (投诉事件通报) as a console page (issue 19 item 4): the desk reads it in
Chinese, codes as labels, times in the tenant's zone; the Markdown and JSON stay for
programs at /api/reports/bulletin."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dutykit import walk
from litestar.testing import TestClient
from test_console_auth import login

from core.app import create_app
from core.settings import load_settings


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    app = create_app(load_settings({"DATABASE_URL": api.url}))
    with TestClient(app) as client:
        yield client


def _text(html: str) -> str:
    main = html.split("<main", 1)[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_the_bulletin_is_a_chinese_page_with_labels(api: Any, web: TestClient[Any]) -> None:
    t = walk(api, "greenwood", "graded")  # a graded case is in the month's bulletin
    period = f"{dt.datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m}"
    assert login(web, "manager").status_code == 303
    r = web.get(f"/reports/bulletin?period={period}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = _text(r.text)
    assert "投诉事件通报" in page and t["number"] in page
    assert "事件经过" in page and "处理过程" in page and t["description"] in page
    assert "已定责" in page  # the state's label, not its code
    for english in ("Complaint bulletin", "What happened", "received", "(uncategorised)"):
        assert english not in page, english
    # the reports page links here, not to the raw Markdown
    reports = web.get(f"/reports?period={period}")
    assert f'href="/reports/bulletin?period={period}"' in reports.text


def test_a_bad_month_is_said_beside_the_field(web: TestClient[Any]) -> None:
    assert login(web, "manager").status_code == 303
    r = web.get("/reports/bulletin?period=2026-13")
    assert r.status_code == 422
    err = re.search(r'data-field="period"[^>]*>([^<]+)<', r.text)
    assert err and re.search(r"[\u4e00-\u9fff]", err.group(1)), r.text[-2000:]
