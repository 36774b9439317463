"""Saving a queue view from the console (``POST /queue/views``): a tampered query is refused
in Chinese beside the save form, as ``POST /api/views`` refuses it; the queue page shows no
error text taken from its address. Both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from test_console_auth import csrf, login

from core.app import create_app
from core.settings import load_settings

GW = "greenwood"


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def save_form_error(html: str) -> str:
    form = html.split('id="save-view"', 1)[1].split("</form>", 1)[0]
    return " ".join(re.findall(r'<p class="err"[^>]*>(.*?)</p>', form, re.S))


def view_names(api: Any) -> list[str]:
    r = api.get(GW, "clerk", "/api/views")
    assert r.status_code == 200, r.text
    return [v["name"] for v in r.json()]


@pytest.mark.parametrize("query", ["state=bogus&tenant=citybus", "state=bogus"])
def test_a_tampered_view_query_is_refused_beside_the_form(
    api: Any, web: TestClient[Any], query: str
) -> None:
    r = api.post(GW, "clerk", "/api/views", json={"name": "api-" + query, "query": query})
    assert r.status_code == 422 and r.json()["error"]["field"] == "query", r.text
    assert login(web, "clerk").status_code == 303
    r = web.post(
        "/queue/views",
        data={"_csrf_token": csrf(web, "/"), "name": "篡改" + query, "query": query},
    )
    assert r.status_code == 200, r.text[:300]
    said = save_form_error(r.text)
    assert said and re.search(r"[\u4e00-\u9fff]", said), said
    assert "篡改" + query not in view_names(api)
    # a good query is still saved, and the error does not follow the reader around
    r = web.post(
        "/queue/views",
        data={"_csrf_token": csrf(web, "/"), "name": "已派单" + query, "query": "state=dispatched"},
    )
    assert r.status_code == 200 and not save_form_error(r.text)
    assert "已派单" + query in view_names(api)


def test_the_queue_shows_no_error_text_from_its_address(web: TestClient[Any]) -> None:
    assert login(web, "clerk").status_code == 303
    r = web.get("/", params={"view_error": "您的账号已冻结，请致电 400-000-0000"})
    assert r.status_code == 200
    assert "400-000-0000" not in r.text and not save_form_error(r.text)
