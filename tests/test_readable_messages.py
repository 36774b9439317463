"""Refusals a desk clerk can read (a browser walk's findings, each kind fixed in the renderer):

1. a time in a message is in the tenant's zone, to the minute (``2026-12-18 03:40``): no
   ISO text, no microseconds, no "UTC" for a Shanghai tenant (:func:`core.error_text.moment`);
2. a field's code in a Chinese message is its label (限定解决时间, 联系时间, 视图名称, 投诉类别,
   密码); ``field`` on the wire stays the code (:data:`core.tickets.labels.FIELDS`);
3. a body that is not JSON says so in Chinese, and where (the byte), naming ``body``;
4. a query parameter that takes one value, sent twice, is a 422 naming it;
5. a date in the path that is no date (``2026-02-30``) is a 422 naming ``day`` (rule: a
   real date), not a 404.

Through HTTP on both backends, ``Accept-Language`` zh (the default) and en; two through the
console's own forms (the intake form and the queue's save-view form).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dutykit import TENANTS, walk
from litestar.testing import TestClient
from test_console_auth import PASSWORDS, csrf, login

from core import clock
from core.app import create_app
from core.settings import load_settings

G = "greenwood"
EN = {"Accept-Language": "en"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
RAW_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\.\d{6}|UTC|\+00:00|\+08:00")
CJK = re.compile(r"[\u4e00-\u9fff]")


def both(api: Any, method: str, path: str, user: str = "clerk", **kw: Any) -> tuple[dict, dict]:
    """The error in Chinese (no Accept-Language) and in English; field and rule the same."""
    send = getattr(api.client, method)
    h = api.headers(G, user)
    zh, en = send(path, headers=h, **kw), send(path, headers=h | EN, **kw)
    assert zh.status_code == en.status_code and zh.status_code >= 400, (zh.text, en.text)
    z, e = zh.json()["error"], en.json()["error"]
    assert (z.get("field"), z.get("rule")) == (e.get("field"), e.get("rule")), (z, e)
    assert CJK.search(z["message"]) and not CJK.search(e["message"]), (z, e)
    return z, e


def local(moment: dt.datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------- 1 and 2: times and labels


def test_a_dispatch_limit_later_than_the_table_names_both_times_in_the_tenants_zone(
    api: Any,
) -> None:
    t = walk(api, G, "registered", severity="important")  # a limit of its own: important
    by = clock.now() + dt.timedelta(days=300)
    body = {"version": t["version"], "department": TENANTS[G]["dept"], "resolve_by": by.isoformat()}
    z, e = both(api, "post", f"/api/tickets/{t['id']}/dispatch", json=body)
    assert (z["field"], z["rule"]) == ("resolve_by", "a per-ticket limit only shortens the table's")
    # due_at on the wire stays a machine's ISO time; the message reads it in Shanghai time
    due = dt.datetime.fromisoformat(z["due_at"])
    assert z["message"].startswith(f"限定解决时间 {local(by)} 晚于原办结时限 {local(due)}"), z
    assert not RAW_TIME.search(z["message"]) and "resolve_by" not in z["message"], z
    assert e["message"] == f"resolve_by {local(by)} would lengthen the limit (due {local(due)})"


def test_a_dispatch_limit_in_the_past_is_named_by_its_label(api: Any) -> None:
    t = walk(api, G, "registered", severity="important")  # a limit of its own: important
    body = {"version": t["version"], "department": TENANTS[G]["dept"],
            "resolve_by": (clock.now() - dt.timedelta(hours=1)).isoformat()}  # fmt: skip
    z, e = both(api, "post", f"/api/tickets/{t['id']}/dispatch", json=body)
    assert z["field"] == "resolve_by"
    assert z["message"] == "限定解决时间是已经过去的时间"
    assert e["message"] == "resolve_by is in the past"


def test_a_first_contact_before_the_ticket_says_when_in_the_tenants_zone(api: Any) -> None:
    t = walk(api, G, "dispatched")
    head = TENANTS[G]["head"]
    received = dt.datetime.fromisoformat(t["created_at"])
    before = (received - dt.timedelta(days=1)).isoformat()
    body = {"version": t["version"], "note": "called", "contacted_at": before}
    z, e = both(api, "post", f"/api/tickets/{t['id']}/first-contact", user=head, json=body)
    assert z["field"] == "contacted_at"
    floor = received - clock.SKEW
    assert z["message"] == f"联系时间不能早于 {local(floor)}", z
    assert e["message"] == f"contacted_at cannot be earlier than {local(floor)}", e
    assert not RAW_TIME.search(z["message"] + e["message"])


def test_an_event_time_before_2000_is_named_by_its_label_in_the_tenants_zone(api: Any) -> None:
    body = {"channel": "phone", "description": "电梯坏了", "event_time": "1999-12-31T10:00:00Z",
            "complainant": {"name": "张三丰", "contact": "13812345678", "address": "1栋"}}  # fmt: skip
    z, e = both(api, "post", "/api/tickets", json=body)
    assert z["field"] == "event_time"
    assert z["message"] == "事发时间不能早于 2000-01-01 08:00", z  # the floor, 00:00 UTC
    assert e["message"] == "event_time cannot be earlier than 2000-01-01 08:00", e


def test_an_unknown_category_in_the_list_is_named_by_its_label(api: Any) -> None:
    z, e = both(api, "get", "/api/tickets", params={"category": "xxx"})
    assert z["field"] == "category"
    assert z["message"] == "投诉类别的取值 'xxx' 不存在", z
    assert e["message"] == "unknown category 'xxx'"


def test_a_saved_view_without_a_name_asks_for_the_views_name(api: Any) -> None:
    z, e = both(api, "post", "/api/views", json={"name": "  ", "query": "state=dispatched"})
    assert (z["field"], z["rule"]) == ("name", "required")
    assert z["message"] == "请填写视图名称" and "name" not in z["message"]
    assert e["message"] == "name: required"


def test_a_list_time_without_a_zone_is_named_by_its_label(api: Any) -> None:
    z, e = both(api, "get", "/api/tickets", params={"created_from": "2026-11-01T00:00:00"})
    assert z["field"] == "created_from"
    assert z["message"].startswith("受理日期起需带时区"), z
    assert e["message"].startswith("created_from needs a timezone"), e


# ---------------------------------------------------------------- 3: a body that is not JSON


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b'{"channel": "phone" "description": "x"}', "第 20 字节处应为 ',' 或 '}'"),
        (b'{"channel": "phone", ', "内容不完整"),
        (b'{"channel": "phone"} trailing', "字节起有多余的字符"),
        (b"not json", "字节处是无效字符"),
    ],
)
def test_a_body_that_is_not_json_says_what_is_wrong_and_where(
    api: Any, content: bytes, said: str
) -> None:
    z, e = post_raw_both(api, content)
    assert z["status"] == 400 and z["field"] == "body"
    assert z["message"].startswith("请求内容不是有效的 JSON") and said in z["message"], z
    assert "JSON" in e["message"] or "truncated" in e["message"], e


def post_raw_both(api: Any, content: bytes) -> tuple[dict, dict]:
    h = api.headers(G, "clerk") | {"Content-Type": "application/json"}
    zh = api.client.post("/api/tickets", content=content, headers=h)
    en = api.client.post("/api/tickets", content=content, headers=h | EN)
    assert zh.status_code == en.status_code == 400, (zh.text, en.text)
    z, e = zh.json()["error"], en.json()["error"]
    assert (z["field"], z["rule"]) == (e["field"], e["rule"])
    assert not CJK.search(e["message"]), e
    return z, e


# ---------------------------------------------------------------- 4: a repeated query parameter


@pytest.mark.parametrize(
    ("query", "field", "label"),
    [
        ("state=closed&state=received", "query.state", "状态"),
        ("limit=5&limit=6", "query.limit", "每页条数"),
    ],
)
def test_a_one_value_query_parameter_sent_twice_is_refused(
    api: Any, query: str, field: str, label: str
) -> None:
    z, e = both(api, "get", f"/api/tickets?{query}")
    assert (z["status"], z["field"], z["rule"]) == (422, field, "one value")
    assert z["message"] == f"查询参数“{label}”出现了 2 次；它只接受一个值", z
    name = field.split(".")[1]
    assert e["message"] == f"query parameter {name} is given 2 times; it takes one value"


def test_a_query_parameter_sent_once_still_filters(api: Any) -> None:
    r = api.get(G, "clerk", "/api/tickets?state=closed&limit=5")
    assert r.status_code == 200 and all(t["state"] == "closed" for t in r.json()["items"])


# ---------------------------------------------------------------- 5: an impossible date in a path


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "someday"])
def test_an_impossible_calendar_date_in_the_path_is_a_422_naming_the_day(
    api: Any, day: str
) -> None:
    z, e = both(api, "put", f"/api/config/calendar/{day}", user="admin",
                json={"kind": "closure", "note": "x"})  # fmt: skip
    assert (z["status"], z["code"], z["field"], z["rule"]) == (422, "invalid", "day", "a real date")
    assert z["message"].startswith(f"日期“{day}”不是真实存在的日期"), z
    assert e["message"].startswith(f"day {day} is not a real date"), e


def test_a_real_calendar_date_and_an_unknown_path_are_unchanged(api: Any) -> None:
    h = api.headers(G, "admin")
    r = api.client.put("/api/config/calendar/2030-02-28", json={"kind": "closure"}, headers=h)
    assert r.status_code == 200, r.text
    assert api.client.delete("/api/config/calendar/2030-02-28", headers=h).status_code == 200
    assert api.client.get("/api/no-such-route/2026-02-30", headers=h).status_code == 404


# ---------------------------------------------------------------- the console's own forms


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def test_the_intake_form_says_the_floor_in_the_tenants_zone_beside_the_event_time(
    api: Any, web: TestClient[Any]
) -> None:
    assert login(web, "clerk").status_code == 303
    form = {"_csrf_token": csrf(web, "/tickets/new"), "channel": "phone",
            "description": "电梯坏了", "event_time": "2000-01-01T07:30",
            "complainant.name": "张三丰", "complainant.contact": "13812345678",
            "complainant.address": "1栋"}  # fmt: skip
    r = web.post("/tickets/new", data=form, follow_redirects=False)
    assert r.status_code == 422, r.text[:500]
    assert "不能早于 2000-01-01 08:00" in r.text, r.text
    shown = " ".join(re.findall(r'<p class="err"[^>]*>(.*?)</p>', r.text, re.S))
    assert "不能早于 2000-01-01 08:00" in shown, shown
    assert not RAW_TIME.search(shown) and "event_time" not in shown, shown


def test_the_save_view_form_asks_for_the_views_name_in_chinese(
    api: Any, web: TestClient[Any]
) -> None:
    assert login(web, "clerk").status_code == 303
    r = web.post(
        "/queue/views",
        data={"_csrf_token": csrf(web, "/"), "name": " ", "query": "state=dispatched"},
    )
    assert r.status_code == 200, r.text[:300]
    form = r.text.split('id="save-view"', 1)[1].split("</form>", 1)[0]
    said = " ".join(re.findall(r'<p class="err"[^>]*>(.*?)</p>', form, re.S))
    assert "请填写视图名称" in said and "name" not in said, said


def test_the_password_form_names_the_new_password_by_its_label(
    api: Any, web: TestClient[Any]
) -> None:
    assert login(web, "supervisor").status_code == 303
    form = {"_csrf_token": csrf(web, "/account"), "current": PASSWORDS[(G, "supervisor")],
            "new": "short", "repeat": "short"}  # fmt: skip
    r = web.post("/account/password", data=form)
    assert r.status_code == 422, r.text[:300]
    assert "长度须为 8–256 个字符" in r.text, r.text
    assert "new:" not in r.text and "password:" not in r.text
    assert login(web, "supervisor").status_code == 303  # unchanged


# ---------------------------------------------------------------- 6: a penalty's stored reason


@pytest.mark.parametrize("tenant", [G, "riverside-power"])
def test_a_proposed_penalty_reason_is_stored_as_the_desk_reads_it(api: Any, tenant: str) -> None:
    """The plugin's reason is Chinese in the seed's words (a citation in brackets aside): the
    desk reads it in the console and the API as it is stored."""
    t = walk(api, tenant, "graded")
    rows = api.get(tenant, "manager", f"/api/tickets/{t['id']}/penalties").json()
    assert rows, rows
    for row in rows:
        words = re.sub(r"\[[^\]]*\]|《[^》]*》", "", row["reason"]).replace(t["number"], "")
        assert CJK.search(words) and not re.search(r"[A-Za-z]{3,}", words), row["reason"]
    if tenant == G:
        assert any(r["reason"].startswith(f"{t['number']}：定责为主责") for r in rows), rows
