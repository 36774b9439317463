"""API errors speak the reader's language (issue 13: "errors speak in codes"): Chinese by
default, English for ``Accept-Language: en``; ``code``, ``field`` and ``rule`` stay the same
machine-readable words in both. Through HTTP on both backends, one test per status; then
the catalogue's own checks (every English message raised in core/ has a Chinese one)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from dutykit import walk
from litestar.testing import TestClient
from test_console_auth import login

from core import error_text
from core.app import create_app
from core.settings import load_settings

GW = "greenwood"
EN = {"Accept-Language": "en-GB,en;q=0.9"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def both(api: Any, method: str, user: str, path: str, **kw: Any) -> tuple[dict, dict]:
    """The error document in the default language and in English; the same request."""
    send = api.client.post if method == "POST" else api.client.get
    h = api.headers(GW, user)
    zh = send(path, headers=h, **kw)
    en = send(path, headers=h | EN, **kw)
    assert zh.status_code == en.status_code, (zh.text, en.text)
    assert zh.headers["content-language"] == "zh-CN" and en.headers["content-language"] == "en"
    z, e = zh.json()["error"], en.json()["error"]
    assert {k: v for k, v in z.items() if k != "message"} == {
        k: v for k, v in e.items() if k != "message"
    }  # code, field, rule, extras: identical
    assert CJK.search(z["message"]), z
    assert not CJK.search(e["message"]), e
    return z, e


def test_422_in_chinese_by_default_and_english_on_request(api: Any) -> None:
    body = {"channel": "phone", "complainant": {"name": "李四", "contact": "13800000000"}}
    z, e = both(api, "POST", "clerk", "/api/tickets", json=body)
    assert (z["status"], z["code"], z["field"]) == (422, "invalid", "description")
    assert z["message"] == "投诉内容：缺少此必填字段"  # the field's label, not its code
    assert "missing required field" in e["message"] and "description" in e["message"]


def test_403_in_chinese_by_default_and_english_on_request(api: Any) -> None:
    z, e = both(api, "GET", "clerk", "/api/webhooks")
    assert (z["status"], z["code"], z["rule"]) == (403, "forbidden", "role")
    assert "需要以下角色之一" in z["message"] and "租户管理员" in z["message"]
    assert e["message"] == "this needs one of the roles: tenant_admin"


def test_404_in_chinese_by_default_and_english_on_request(api: Any) -> None:
    z, e = both(api, "GET", "clerk", "/api/tickets/987654321")
    assert (z["status"], z["code"], z["field"]) == (404, "not_found", "ticket_id")
    assert z["message"] == "找不到工单 987654321"
    assert e["message"] == "ticket 987654321 not found"


def test_409_in_chinese_by_default_and_english_on_request(api: Any) -> None:
    t = api.create(GW)
    body = {"version": t["version"] + 5, "reason": "重复投诉"}
    z, e = both(api, "POST", "clerk", f"/api/tickets/{t['id']}/triage-invalid", json=body)
    assert (z["status"], z["code"], z["field"]) == (409, "conflict", "version")
    assert "已被他人修改" in z["message"]
    assert e["message"] == "the ticket changed since you read it; reload and retry"
    after = api.get(GW, "clerk", f"/api/tickets/{t['id']}").json()
    assert (after["state"], after["version"]) == ("received", t["version"])


def test_a_chinese_first_accept_language_keeps_chinese(api: Any) -> None:
    for header in ("zh-CN,zh;q=0.9,en;q=0.8", "fr-FR", "", "en;q=0.1, zh;q=0.5"):
        r = api.client.get(
            "/api/tickets/987654321",
            headers=api.headers(GW, "clerk") | {"Accept-Language": header},
        )
        assert r.json()["error"]["message"] == "找不到工单 987654321", header


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def test_console_pages_show_the_message_in_the_console_language(
    api: Any, web: TestClient[Any]
) -> None:
    assert login(web, "clerk").status_code == 303
    r = web.get("/tickets/987654321")
    assert r.status_code == 404 and "找不到工单 987654321" in r.text
    r = web.get("/tickets/987654321?lang=en")
    assert r.status_code == 404 and "ticket 987654321 not found" in r.text


@pytest.mark.parametrize("catalogue", [error_text.CATALOGUE, error_text.LIBRARY])
def test_catalogue_entries_keep_their_placeholders(catalogue: Any) -> None:
    for english, chinese in error_text._read(catalogue):
        en = set(re.findall(r"\{(\w+)\}", english))
        zh = set(re.findall(r"\{(\w+)\}", chinese))
        assert zh <= en, english  # values carried over; a URL may be left out
        # every entry is Chinese, but "{field}: {rule}" whose words are its parameters'
        assert CJK.search(chinese) or not re.sub(r"\{\w+\}", "", english).strip(": "), english


@pytest.mark.parametrize(
    ("template", "params", "zh", "en"),
    [
        ("仅供平台运营方使用", {}, "仅供平台运营方使用", "invalid input"),
        ("an unheard-of message", {}, "请求内容不正确：an unheard-of message",
         "an unheard-of message"),
        ("{field}: {rule}", {"field": "x", "rule": "Expected `int`, got `str`"},
         "x：类型应为整数，实际为文本", "x: Expected `int`, got `str`"),
        ("ticket {id} not found", {"id": 7}, "找不到工单 7", "ticket 7 not found"),
        ("Method Not Allowed", {}, error_text.library_chinese("Method Not Allowed"),
         "Method Not Allowed"),
    ],
)  # fmt: skip
def test_chinese_only_unknown_nested_and_library_messages(
    template: str, params: dict[str, object], zh: str, en: str
) -> None:
    assert error_text.render(template, params, "zh_CN", "invalid") == zh
    assert error_text.render(template, params, "en", "invalid") == en
    assert zh is not None and error_text.CJK.search(zh)


# ------------------------------------------------ messages added with the merged branches
# Three of the messages the attachment, interim-answer and closing code raise, end to end:
# before their catalogue entries a Chinese reader got the English text behind a generic
# lead (or, for the related ticket, English with one Chinese word in it, and an English
# reader a generic sentence).


def test_an_empty_upload_is_refused_in_chinese_and_in_english(api: Any) -> None:
    t = api.create(GW)
    files = {"file": ("photo.jpg", b"", "image/jpeg")}
    z, e = both(api, "POST", "clerk", f"/api/tickets/{t['id']}/attachments",
                data={"kind": "photo"}, files=files)  # fmt: skip
    assert (z["status"], z["field"], z["rule"]) == (422, "file", "at least 1 byte")
    assert z["message"] == "文件为空（0 字节），请重新选择文件"
    assert e["message"] == "the file is empty"
    assert api.get(GW, "manager", f"/api/tickets/{t['id']}/attachments").json() == []


def test_an_answer_promised_in_the_past_is_refused_in_chinese_and_in_english(api: Any) -> None:
    t = api.create(GW, accused_staff=["GW-S001"], accused_department="engineering")
    t = api.act(GW, "clerk", t, "triage_valid", category="repair_quality", severity="major",
                facets={"nature": "valid"})  # fmt: skip
    t = api.act(GW, "clerk", t, "register", reason="on_site")
    t = api.act(GW, "supervisor", t, "review", note="checked")
    t = api.act(GW, "clerk", t, "dispatch", department="engineering")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    body = {"version": t["version"], "plan": "fix the lift", "promised_by": past}
    z, e = both(api, "POST", "head-engineering", f"/api/tickets/{t['id']}/answer", json=body)
    assert (z["status"], z["field"]) == (422, "promised_by")
    assert z["message"] == "承诺解决时间已经过去；明确答复须承诺将来的时间"
    assert e["message"] == "promised_by is in the past"
    after = api.get(GW, "manager", f"/api/tickets/{t['id']}").json()
    assert (after["state"], after["version"]) == (t["state"], t["version"])


def test_a_related_ticket_not_yet_registered_is_explained_in_both_languages(api: Any) -> None:
    t = walk(api, GW, "followed_up")
    related = api.create(GW)  # received: not registered (立项) yet
    body = {"version": t["version"], "verification": "result_confirmed",
            "related_ticket": related["number"]}  # fmt: skip
    z, e = both(api, "POST", "supervisor", f"/api/tickets/{t['id']}/close", json=body)
    assert (z["status"], z["field"], z["rule"]) == (
        422, "related_ticket", "registered before the original closes")  # fmt: skip
    assert (
        z["message"] == "关联问题的工单须已立项，原工单才能销项；该工单当前为 “已受理”"
    )  # the state by its label
    assert e["message"] == (
        "the related problem's ticket must be registered before the original closes; it is received"
    )
    assert api.get(GW, "manager", f"/api/tickets/{t['id']}").json()["state"] == "followed_up"
