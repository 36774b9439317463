"""Ticket search, ``GET /api/tickets?q=`` (issue 13 item 3), on SQLite (FTS5 trigram) and
PostgreSQL (pg_trgm): number, description, demands, and the complainant's contact only for
readers who may see it; tenant scope and masking as in the list; unknown parameters 422."""

from __future__ import annotations

import uuid
from typing import Any

import pytest


def search(
    api: Any, user: str, q: str, tenant: str = "greenwood", **params: Any
) -> list[dict[str, Any]]:
    r = api.get(tenant, user, "/api/tickets", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


@pytest.fixture
def mark() -> str:
    return uuid.uuid4().hex[:6]


def test_finds_by_description_demands_and_number_long_and_short(api: Any, mark: str) -> None:
    a = api.create("greenwood", description=f"电梯停运 {mark}A 三天", demands="尽快维修")
    b = api.create("greenwood", description=f"楼道灯不亮 {mark}B", demands=f"更换灯泡 {mark}D")
    ids = lambda rows: {t["id"] for t in rows}  # noqa: E731
    assert ids(search(api, "clerk", f"{mark}A")) == {a["id"]}
    assert ids(search(api, "clerk", f"{mark}D")) == {b["id"]}  # demands
    assert ids(search(api, "clerk", mark)) == {a["id"], b["id"]}
    assert a["id"] in ids(search(api, "clerk", "电梯"))  # two characters: a scan, same answer
    assert a["id"] in ids(search(api, "clerk", a["number"]))
    assert ids(search(api, "clerk", a["number"][-6:] + mark)) == set()
    upper = search(api, "clerk", f"{mark}a".upper())  # case-insensitive
    assert ids(upper) == {a["id"]}


def test_contact_is_searchable_only_by_those_who_may_see_it(api: Any, mark: str) -> None:
    contact = "139" + str(uuid.uuid4().int)[:8]
    t = api.create(
        "greenwood",
        complainant={"name": "王五", "contact": contact},
        description=f"保洁不到位 {mark}",
        accused_staff=["GW-S006"],
        accused_department="environment",
    )
    assert [x["id"] for x in search(api, "clerk", contact)] == [t["id"]]
    assert [x["id"] for x in search(api, "head-environment", contact[-5:])] == [t["id"]]
    # the accused staff member may list the ticket, but never find it by who complained
    mine = search(api, "staff-zhang", mark)
    assert [x["id"] for x in mine] == [t["id"]] and mine[0]["complainant"]["masked"]
    assert mine[0]["complainant"]["contact"] != contact
    assert search(api, "staff-zhang", contact) == []
    assert search(api, "staff-zhang", contact[:6]) == []
    assert search(api, "staff-zhang", "王五") == []


def test_search_stays_inside_the_tenant(api: Any, mark: str) -> None:
    mine = api.create("greenwood", description=f"共同词 {mark}")
    theirs = api.create("citybus", description=f"共同词 {mark}")
    assert [x["id"] for x in search(api, "manager", mark)] == [mine["id"]]
    assert [x["id"] for x in search(api, "manager", mark, tenant="citybus")] == [theirs["id"]]
    assert search(api, "manager", theirs["number"]) == []


def test_special_characters_are_literal(api: Any, mark: str) -> None:
    t = api.create("greenwood", description=f'50% "off" a_b {mark}')
    for q in ['50% "off"', "a_b", '"', "%", "_", f"{mark}", f'"off" a_b {mark}']:
        rows = search(api, "clerk", q)
        assert t["id"] in {x["id"] for x in rows}, q
    for q in ["*", "NEAR(a b)", "'", "a OR b", "{x}:y", "\\"]:  # FTS syntax is just text
        assert t["id"] not in {x["id"] for x in search(api, "clerk", q)}, q
    assert search(api, "clerk", f"a%b {mark}") == []  # % is not a wildcard


def test_bad_queries_and_unknown_parameters_are_422(api: Any) -> None:
    for params, field in [
        ({"q": "x" * 101}, "q"),
        ({"q": "   "}, "q"),
        ({"stat": "closed"}, "stat"),
        ({"q": "x", "sort": "id"}, "sort"),
    ]:
        r = api.get("greenwood", "clerk", "/api/tickets", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["field"] in {field, f"query.{field}"}
    r = api.get(
        "greenwood", "manager", "/api/reports/stats", params={"period": "2026-11", "bogus": "1"}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "bogus"
