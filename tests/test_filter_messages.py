"""Bad list filters, bad saved views and the words of the errors (issue: tester's report).

Every filter value outside its domain is a 422 naming its query parameter (never a silent
unfiltered list), in the API and in the console's queue; a saved view's query is read by
the list's own parser; and a Chinese reader's message holds no English word or bare code
outside the quoted user input. Both backends."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import graded_penalty
from litestar.testing import TestClient
from test_attachments import EXE, upload
from test_console_auth import login

from core.app import create_app
from core.settings import load_settings

GW, C = "greenwood", "citybus"
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”|`[^`]*`")
_ROLE_CODE = re.compile(r"\([a-z_]+(?:, [a-z_]+)*\)")
"""A role named by label and code (``主管经理(manager)``): the guards' documented form."""


def english_words(message: str, field: str | None = None) -> list[str]:
    """ASCII words of 3+ letters outside quoted user input, role codes and the name of the
    parameter or field the error names (``limit``, ``query.sort``: what the caller typed)."""
    rest = _ROLE_CODE.sub("", _QUOTED.sub("", message))
    named = set(re.findall(r"[A-Za-z]+", field or ""))
    return [w for w in re.findall(r"[A-Za-z]{3,}", rest) if w not in named]


def error(r: Any, status: int = 422, named: str = "") -> dict[str, Any]:
    """The error of a ``status`` answer, checked for English words (``named``: a parameter
    the message may name besides the error's field)."""
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert not english_words(err["message"], f"{err.get('field')} {named}"), err["message"]
    return err  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "query, field",
    [
        ("state=nope", "state"),
        ("category=xxx", "category"),
        ("severity=🚀", "severity"),
        ("department=zzz", "department"),
        ("sort=nope", "sort"),
        ("owner=nobody", "owner"),
        ("due=later", "due"),
        ("created_from=2026-11-02T00:00:00%2B08:00&created_to=2026-11-01T00:00:00%2B08:00",
         "created_from"),
        ("limit=0", "query.limit"),
        ("limit=9999", "query.limit"),
        ("created_from=2026-13-01", "created_from"),
        ("created_from=2026-12-10", "created_from"),
        ("mine=maybe", "mine"),
        ("total=yes", "total"),
        ("limit=abc", "limit"),
    ],
)  # fmt: skip
def test_every_bad_filter_is_a_chinese_422_naming_it(api: Any, query: str, field: str) -> None:
    err = error(api.get(GW, "clerk", f"/api/tickets?{query}"))
    assert err["field"] in (field, f"query.{field}")
    assert re.search(r"[\u4e00-\u9fff]", err["message"]), err["message"]


def test_a_route_that_takes_no_query_parameters_says_so(api: Any) -> None:
    err = error(api.get(GW, "clerk", "/api/me?x=1"))
    assert err["field"] == "x" and "不接受查询参数" in err["message"], err
    headers = {**api.headers(GW, "clerk"), "Accept-Language": "en"}
    en = api.client.get("/api/me?x=1", headers=headers).json()["error"]
    assert en["message"] == "unknown query parameter 'x' (this route takes none)", en


def test_good_filters_still_answer(api: Any) -> None:
    for query in ("state=received", "category=", "created_from=2026-11-01T00:00:00%2B08:00"):
        assert api.get(GW, "clerk", f"/api/tickets?{query}").status_code == 200, query


def test_a_saved_view_is_read_by_the_lists_parser(api: Any) -> None:
    for query in ("sort=nope", "limit=9999", "state=nope", "due=later", "owner=nobody"):
        r = api.post(GW, "clerk", "/api/views", json={"name": "v-bad", "query": query})
        err = error(r, named=query.split("=")[0])
        assert err["field"] == "query", query
        assert err["message"].startswith("视图的查询条件不正确"), err["message"]
    r = api.post(GW, "clerk", "/api/views", json={"name": "v-ok", "query": "sort=due&limit=20"})
    assert r.status_code == 201, r.text
    # the same name again, sharing without the role, an unknown view: all in Chinese
    error(api.post(GW, "clerk", "/api/views", json={"name": "v-ok", "query": ""}), 409)
    r = api.post(GW, "clerk", "/api/views", json={"name": "s", "query": "", "shared": True})
    error(r, 403)
    r = api.client.delete("/api/views/999999", headers=api.headers(GW, "clerk"))
    assert "999999" in error(r, 404)["message"]


def test_lifecycle_and_attachment_refusals_name_labels(api: Any) -> None:
    t = api.create(GW)
    body = {"version": t["version"], "verification": "result_confirmed"}
    r = api.post(GW, "clerk", f"/api/tickets/{t['id']}/close", json=body)
    assert r.status_code in (403, 409, 422), r.text
    message = error(r, r.status_code)["message"]
    assert "销项" in message and "close" not in message
    r = api.post(GW, "manager", f"/api/tickets/{t['id']}/close", json=body)
    message = error(r, r.status_code)["message"]
    assert "received" not in message and "close" not in message
    r = upload(api, GW, "clerk", t["id"], "other", "a.exe", EXE)
    assert "other" not in error(r)["message"]


def test_null_bodies_and_amounts(api: Any) -> None:
    for path in ("/api/penalties/bulk", "/api/extensions/bulk", "/api/tickets/bulk/close"):
        r = api.client.post(
            path,
            content=b"null",
            headers=api.headers(C, "manager") | {"Content-Type": "application/json"},
        )
        assert r.status_code in (400, 422), r.text
        assert not english_words(r.json()["error"]["message"]), r.text
    p = graded_penalty(api)
    r = api.post(
        C, "manager", f"/api/penalties/{p['id']}/adjust",
        json={"amount_yuan": 99999999, "reason": "复核"},
    )  # fmt: skip
    err = error(r)
    assert err["field"] == "amount_yuan"
    assert "10000000" in err["message"] and "元" in err["message"]
    assert "不是金额" not in err["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/reports/export/tickets.csv?period=9999-12",
        "/api/reports/charts/trend.png?period=1900-01",
        "/api/reports/stats?period=2100-01",
        "/api/reports/stats?period=1999-12",
    ],
)
def test_report_months_have_one_bound_and_one_message(api: Any, path: str) -> None:
    err = error(api.get(GW, "manager", path))
    assert err["field"] == "period"
    assert "2000-01 至 2099-12" in err["message"] and "统计月份" in err["message"]
    assert "1900" not in err["message"].replace(path.split("=")[1], "")


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        web = client
        web.cookies.clear()
        assert login(web, "manager", tenant=GW).status_code == 303
        yield web


@pytest.mark.parametrize(
    "query, field",
    [
        ("state=nope", "state"),
        ("created_from=abc", "created_from"),
        ("created_from=2026-13-40", "created_from"),
        ("created_from=2026-11-02&created_to=2026-11-01", "created_from"),
    ],
)
def test_the_queue_says_why_a_filter_is_refused(web: Any, query: str, field: str) -> None:
    page = html.unescape(web.get(f"/?{query}").text)
    m = re.search(rf'<p class="err"[^>]* data-field="{field}">([^<]+)</p>', page)
    assert m, page[-3000:]
    assert re.search(r"[\u4e00-\u9fff]", m.group(1)) and not english_words(m.group(1), field)


def test_the_queue_names_owners_in_chinese(web: Any) -> None:
    page = web.get("/").text
    assert "automated actions" not in page
    owners = page.split('id="owner"', 1)[1].split("</select>", 1)[0]
    assert "李娜" in owners and "尚无负责人" in owners, owners  # display names, not usernames


def test_reports_say_why_a_range_is_not_applied(web: Any) -> None:
    r = web.get("/reports?from=2026-12-31&to=2026-01-01")
    m = re.search(r'<p class="err" data-field="period">([^<]+)</p>', r.text)
    assert m and "晚于" in m.group(1), r.text[:2000]
    r = web.get("/reports?period=1999-12")
    assert r.status_code == 422 and "2000-01 至 2099-12" in r.text


def test_approvals_hide_select_all_over_an_empty_list(web: Any) -> None:
    page = web.get("/approvals").text
    empty = 0
    for table in ("pending-penalties", "pending-extensions", "closable"):
        head = page.split(f'<table id="{table}">')[1].split("</thead>")[0]
        body = page.split(f'<table id="{table}">')[1].split("</tbody>")[0]
        if 'name="ids"' not in body and 'name="items"' not in body:
            empty += 1
            assert "data-select-all" not in head, table  # no form to tick into
        else:
            assert "data-select-all" in head, table
    assert empty  # the demo tenant's manager has an empty list to show
