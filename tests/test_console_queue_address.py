"""The queue page (``/``) reads every value of its address or says which one it cannot read,
in Chinese beside that filter (``mine``, ``limit``, ``page``); the channel filter offers the
tenant's own industry's channels only; a saved view is deleted only after the page asked, and
the page says it was deleted (or why not). Over HTTP on both backends."""

from __future__ import annotations

import re
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
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def beside(html: str, field: str) -> str:
    """The message the filter form shows for ``field`` ("" when none)."""
    form = html.split('id="search-form"', 1)[1].split("</form>", 1)[0]
    m = re.search(rf'<p class="err"[^>]*data-field="{field}">([^<]*)</p>', form)
    return m.group(1) if m else ""


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-id="(\d+)"', html)


@pytest.mark.parametrize(
    ("query", "field", "shown"),
    [
        ("mine=yes", "mine", "yes"),
        ("limit=abc", "limit", "abc"),
        ("limit=500", "limit", "500"),
        ("page=0", "page", "0"),
    ],
)
def test_a_value_the_queue_cannot_read_is_named_beside_its_filter(
    api: Any, web: TestClient[Any], query: str, field: str, shown: str
) -> None:
    api.create("greenwood")
    assert login(web, "clerk").status_code == 303
    r = web.get("/?" + query)
    assert r.status_code == 200, r.text[:300]
    said = beside(r.text, field)
    assert said and CJK.search(said) and shown in said, said
    assert rows(r.text) == []  # not a list drawn on a guess
    # "only mine" is not shown ticked over a list that is not only mine
    assert not re.search(r'id="mine"[^>]*checked', r.text)


def test_mine_and_limit_read_from_the_address_take_effect(api: Any, web: TestClient[Any]) -> None:
    for _ in range(3):
        api.create("greenwood")
    assert login(web, "clerk").status_code == 303
    r = web.get("/?limit=2")
    assert r.status_code == 200 and len(rows(r.text)) == 2 and not beside(r.text, "limit")
    assert 'rel="next"' in r.text and "limit=2" in r.text.split('rel="next"', 1)[0][-200:]
    r = web.get("/?mine=0&limit=2&page=2")
    assert r.status_code == 200 and rows(r.text) and not beside(r.text, "page")
    r = web.get("/?mine=1")
    assert re.search(r'id="mine"[^>]*checked', r.text) and not beside(r.text, "mine")


def test_the_channel_filter_offers_the_tenants_own_channels_only(web: TestClient[Any]) -> None:
    assert login(web, "clerk").status_code == 303  # greenwood: a property company
    page = web.get("/").text
    select = page.split('id="channel"', 1)[1].split("</select>", 1)[0]
    assert "电话" in select
    for other in ("95598", "hotline_95598", "voice_mailbox"):  # the utility's channels
        assert other not in select, select
    owners = page.split('id="owner"', 1)[1].split("</select>", 1)[0]
    assert "李娜" in owners  # the desk, who follow tickets
    assert "系统" not in owners and "马志刚" not in owners, owners  # not the system, not a head


def test_deleting_a_view_asks_first_then_says_it_was_deleted(
    api: Any, web: TestClient[Any]
) -> None:
    assert login(web, "clerk").status_code == 303
    r = web.post(
        "/queue/views",
        data={"_csrf_token": csrf(web, "/"), "name": "待删除视图", "query": "state=received"},
    )
    assert r.status_code == 200
    item = r.text.split('data-view="待删除视图"', 1)[1].split("</li>", 1)[0]
    # the delete button stands behind a question naming the view (no one-click delete)
    confirm = re.search(
        r"<details class=\"confirm\">.*?<summary[^>]*>.*?</summary>(.*)", item, re.S
    )
    assert confirm and "确定删除视图“待删除视图”吗？" in confirm.group(1), item
    view_id = re.search(r'action="/queue/views/(\d+)/delete"', item)
    assert view_id and view_id.group(1) in confirm.group(1)

    token = csrf(web, "/")
    r = web.post(f"/queue/views/{view_id.group(1)}/delete", data={"_csrf_token": token})
    assert r.status_code == 200
    assert re.search(r'id="view-deleted">已删除视图“待删除视图”<', r.text), r.text[:2000]
    assert 'data-view="待删除视图"' not in r.text
    views = api.get("greenwood", "clerk", "/api/views").json()
    assert "待删除视图" not in [v["name"] for v in views]
    assert "已删除视图" not in web.get("/").text  # said once

    # the same delete again (another tab): the page says why nothing happened
    r = web.post(f"/queue/views/{view_id.group(1)}/delete", data={"_csrf_token": token})
    note = re.search(r'class="err" role="status" id="view-deleted">([^<]*)<', r.text)
    assert note and CJK.search(note.group(1)), r.text[:2000]
