"""A console form runs the API's own operation, and its route carries the API route's role
guard (issue 18): a reader lacking the role gets the console's Chinese 403 page and nothing
changes; a reader holding it gets the change. Over HTTP on both backends."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from test_console_auth import csrf, login

from core.app import create_app
from core.settings import load_settings

CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    app = create_app(load_settings({"DATABASE_URL": api.url}))
    with TestClient(app) as client:
        yield client


def _count(api: Any) -> int:
    r = api.get("greenwood", "manager", "/api/tickets", params={"total": "true", "limit": "1"})
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


def _intake(token: str, name: str) -> dict[str, str]:
    return {
        "_csrf_token": token,
        "_idem": uuid.uuid4().hex,
        "channel": "phone",
        "complainant.name": name,
        "complainant.contact": "13800138000",
        "description": "电梯停运两天无人处理",
    }


def _forbidden_page(r: Any, role: str) -> str:
    assert r.status_code == 403, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
    message = re.search(r'data-status="403">([^<]*)<', r.text)
    assert message, r.text[:500]
    text = message.group(1)
    assert "需要以下角色之一" in text and role in text, text  # names the roles it needs
    assert not re.search(r"[A-Za-z]", text), text  # by their labels: no code, no English
    assert "Traceback" not in r.text
    return text


def test_intake_by_a_reader_without_the_desk_role_is_the_chinese_403_and_files_nothing(
    api: Any, web: TestClient[Any]
) -> None:
    before = _count(api)
    assert login(web, "head-engineering").status_code == 303
    token = csrf(web, "/")
    r = web.post("/tickets/new", data=_intake(token, "越权"), follow_redirects=False)
    _forbidden_page(r, "接待员")
    assert _count(api) == before
    assert web.get("/tickets/new").status_code == 403  # the form itself: the same guard

    # the same form from the desk is filed (the guard is the API route's, not a wall)
    web.cookies.clear()
    assert login(web, "clerk").status_code == 303
    token = csrf(web, "/tickets/new")
    r = web.post("/tickets/new", data=_intake(token, "受理员"), follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    assert _count(api) == before + 1


def test_an_admin_form_by_a_non_admin_is_the_chinese_403_and_changes_nothing(
    api: Any, web: TestClient[Any]
) -> None:
    fines = api.get("greenwood", "admin", "/api/config/fines")
    assert fines.status_code == 200, fines.text
    rule = fines.json()[0]["rule"]
    assert login(web, "clerk").status_code == 303
    token = csrf(web, "/")
    r = web.post(
        "/admin/do/fine",
        data={"_csrf_token": token, "_rule": rule, "amount_yuan": "1234"},
        follow_redirects=False,
    )
    _forbidden_page(r, "单位管理员")
    assert api.get("greenwood", "admin", "/api/config/fines").json() == fines.json()
    assert web.get("/admin").status_code == 403
    r = web.get("/platform")
    assert r.status_code == 403 and CJK.search(r.text)


def test_a_platform_operator_on_the_reports_page_is_refused_as_no_tenant_member(
    api: Any,
) -> None:
    """The reports page reads a tenant's figures: a platform operator gets the 403 page that
    says so, not a 422 with the refusal shown as the month's error."""
    from conftest import make_operator

    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as web:
        r = web.get("/reports", headers=make_operator(api))
        assert r.status_code == 403, (r.status_code, r.text[:500])
        assert "平台运营方不属于任何租户" in r.text
        assert 'data-field="period"' not in r.text
