"""Safe pages (issue 20 §5) and the queue's server side: headers on every answer, 404/405
in Chinese in the console's layout (the API keeps its JSON), an action's address opened
with GET leads to its ticket, the queue's filters in the URL, the live checks, the tenant's
name in the title and the bulk decision form. Both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import graded_penalty
from litestar.testing import TestClient
from test_console_auth import csrf, login

from core.app import create_app
from core.settings import load_settings

GW = "greenwood"


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def as_(web: TestClient[Any], username: str, tenant: str = GW) -> TestClient[Any]:
    web.cookies.clear()
    assert login(web, username, tenant=tenant).status_code == 303
    return web


def assert_safe(r: Any, cache: bool = False) -> None:
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    script = re.search(r"script-src ([^;]+)", csp).group(1)  # type: ignore[union-attr]
    assert "unsafe-inline" not in script and "unsafe-eval" not in script
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"
    if not cache:
        assert r.headers["cache-control"] == "no-store"


def test_headers_on_pages_api_and_downloads(api: Any, web: TestClient[Any]) -> None:
    assert_safe(web.get("/login"))
    as_(web, "manager")
    for path in ["/", "/approvals", "/reports", "/help", "/notifications", "/account"]:
        r = web.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert_safe(r)
        assert "<script>" not in r.text and " onclick=" not in r.text  # no inline script
        assert "<title>" in r.text and "绿林物业" in r.text.split("<title>")[1].split("</title>")[0]
    r = web.get("/api/reports/export/tickets.csv?period=2026-11")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert_safe(api.get(GW, "clerk", "/api/tickets"))
    r = web.get("/static/js/console.js")
    assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"


def test_unknown_page_and_wrong_method_in_chinese_in_the_layout(web: TestClient[Any]) -> None:
    as_(web, "clerk")
    r = web.get("/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.text
    assert 'class="top"' in r.text and "Not Found" not in r.text  # the console's header
    r = web.get("/tickets/new", follow_redirects=False)
    assert r.status_code == 200
    r = web.put("/approvals", headers={"x-csrftoken": csrf(web, "/")})
    assert r.status_code == 405 and "不能直接打开" in r.text
    # the API keeps its JSON errors
    r = web.get("/api/no-such-route")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")


def test_a_get_of_an_action_address_goes_to_its_ticket(api: Any, web: TestClient[Any]) -> None:
    t = api.create(GW)
    as_(web, "clerk")
    for path in (f"/tickets/{t['id']}/act/triage_valid", f"/tickets/{t['id']}/clocks/x/pause"):
        r = web.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/tickets/{t['id']}", path
    pen = graded_penalty(api)
    as_(web, "manager", "citybus")
    r = web.get(f"/penalties/{pen['id']}/confirm", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/tickets/{pen['ticket_id']}"
    r = web.get("/penalties/999999/confirm", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/approvals"


def test_queue_filters_live_in_the_url(api: Any, web: TestClient[Any]) -> None:
    t = api.create(GW, channel="letter", description="信件投诉：楼道灯不亮")
    as_(web, "clerk")
    r = web.get("/?channel=letter&sort=-number")
    assert r.status_code == 200
    assert t["number"] in r.text and 'value="letter" selected' in r.text
    assert re.search(r"total\w*\W*<b>\d+</b>|共\s*<b>\d+</b>", r.text)
    r = web.get("/?channel=visit&q=" + t["number"])
    assert t["number"] not in r.text.split('id="queue-rows"')[1].split("</tbody>")[0]
    r = web.get("/?sort=colour")
    assert r.status_code == 200 and 'data-field="sort"' in r.text  # the page, with the field


def test_live_checks(api: Any, web: TestClient[Any]) -> None:
    as_(web, "clerk")
    page = web.get("/").text
    since = re.search(r'data-since="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    assert web.get("/queue/changed", params={"since": since}).status_code == 204
    t = api.create(GW)
    r = web.get("/queue/changed", params={"since": since})
    assert r.status_code == 200 and r.headers["hx-trigger"] == "queue-changed"
    r = web.get(f"/tickets/{t['id']}/changed", params={"version": t["version"]})
    assert r.status_code == 204
    api.act(GW, "supervisor", t, "triage_invalid", reason="重复投诉")
    r = web.get(f"/tickets/{t['id']}/changed", params={"version": t["version"]})
    assert r.status_code == 200 and "data-changed" in r.text
    who = re.search(r"<b>([^<]+)</b>", r.text).group(1)  # type: ignore[union-attr]
    assert "刚刚" in r.text and who != "supervisor" and who  # the display name, not the login


def test_bulk_penalties_on_the_approvals_page(api: Any, web: TestClient[Any]) -> None:
    a, b = graded_penalty(api), graded_penalty(api)
    assert (
        api.post("citybus", "manager", f"/api/penalties/{b['id']}/confirm", json={}).status_code
        == 200
    )
    as_(web, "manager", "citybus")
    token = csrf(web, "/approvals")
    r = web.post(
        "/approvals/bulk/penalties",
        data={"_csrf_token": token, "decision": "confirm", "reason": "", "ids": [a["id"], b["id"]]},
    )
    assert r.status_code == 200, r.text[:500]
    assert "已决定" in r.text or "Decided" in r.text
    refused = re.search(r'data-refused="(\d+)"', r.text)
    assert refused and int(refused.group(1)) == b["id"]


def test_a_chart_is_drawn_once_per_distinct_statistics(api: Any) -> None:
    from core.reports import charts

    path = "/api/reports/charts/channel.svg"
    first = api.get(GW, "manager", path)
    assert first.status_code == 200 and first.headers["content-type"].startswith("image/svg")
    drawn = charts._drawn.cache_info().misses
    again = api.get(GW, "manager", path)
    assert again.content == first.content and charts._drawn.cache_info().misses == drawn  # memory
    api.create(GW, channel="visit")  # new figures: a new drawing
    assert api.get(GW, "manager", path).content != first.content
