"""A Chinese reader of the API is told what is wrong in Chinese, without the machine's words:
no msgspec type names (`int`, `str`, `object`), no regular expression, no industry or facet
code (`'property'`, `'nature'`), no library sentence left in English (a session's missing
CSRF token). ``code``, ``field`` and ``rule`` keep their machine words. HTTP, both backends."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from litestar.testing import TestClient
from test_console_auth import login

from core.app import create_app
from core.settings import load_settings

ZH = {"Accept-Language": "zh-CN"}
LATIN = re.compile(r"[A-Za-z_]{3,}")


def typed(message: str) -> str:
    """The message without the values the caller typed (quoted, as the message repeats
    them) and without ISO examples."""
    return re.sub(r"'[^']*'|“[^”]*”|\d{4}-\d{2}(-\d{2})?(T[\d:+]+)?", "", message)


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "words"),
    [
        ("POST", "/api/tickets", {"channel": 1}, "channel", ["受理渠道", "文本", "整数"]),
        ("POST", "/api/tickets", [], None, ["对象", "数组"]),
        ("GET", "/api/tickets?limit=abc", None, "query.limit", ["整数", "文本"]),
        ("GET", "/api/reports/stats?period=2026-13", None, "query.period", ["期间", "格式"]),
        ("TRIAGE", "", {"category": "nope", "severity": "major"}, "category", ["物业"]),
        ("TRIAGE", "", {"category": "repair_quality", "severity": "major"}, "facets.nature",
         ["投诉性质"]),
        ("TRIAGE", "", {"category": "repair_quality", "severity": "major",
                        "facets": {"nature": "zz"}}, "facets.nature", ["投诉性质"]),
    ],
)  # fmt: skip
def test_a_refusal_in_chinese_names_no_type_pattern_or_code(
    api: Any, method: str, path: str, body: Any, field: str | None, words: list[str]
) -> None:
    headers = {**api.headers("greenwood", "clerk"), **ZH, "Idempotency-Key": uuid.uuid4().hex}
    if method == "TRIAGE":
        t = api.create("greenwood")
        method, path = "POST", f"/api/tickets/{t['id']}/triage-valid"
        body = {"version": t["version"], **body}
    r = api.client.request(method, path, json=body, headers=headers)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error.get("field") == field, error
    message = error["message"]
    assert all(w in message for w in words), message
    assert not LATIN.search(typed(message)) and "`" not in message, message
    assert "^" not in message and "\\" not in message, message


def test_a_session_write_without_its_csrf_header_is_refused_in_chinese(api: Any) -> None:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as web:
        assert login(web, "clerk").status_code == 303
        r = web.post("/api/views", json={"name": "x", "query": ""}, headers=ZH)
        assert r.status_code == 403, r.text
        message = r.json()["error"]["message"]
        assert not LATIN.search(message), message
        r = web.post("/api/views", json={"name": "x", "query": ""}, headers={
            "Accept-Language": "en"})  # fmt: skip
        assert "CSRF" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("user", "path", "label"),
    [
        ("manager", "/api/tickets?mine=maybe", "只看我负责的"),
        ("manager", "/api/tickets?total=maybe", "返回总数"),
        ("manager", "/api/reports/kpis?window_days=abc", "统计天数"),
        ("manager", "/api/reports/export/tickets.csv?codes=maybe&period=2026-12", "附带代码"),
        ("manager", "/api/reports/bulletin?format=zzz&period=2026-12", "格式"),
        ("manager", "/api/reports/charts/trend.svg?granularity=zzz&period=2026-12", "时间粒度"),
        ("manager", "/api/notifications?unread=maybe", "只看未读"),
        ("admin", "/api/notifications/outbound?status=zzz", "状态"),
    ],
)
def test_a_query_parameter_is_named_by_its_label(
    api: Any, user: str, path: str, label: str
) -> None:
    r = api.client.get(path, headers={**api.headers("greenwood", user), **ZH})
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert label in message and not LATIN.search(typed(message)), message
