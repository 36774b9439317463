"""The ticket list a desk works from (issue 20 §1): every ticket, paged with its total, each
sort and each filter of ``GET /api/tickets``, bad values as 422 naming the field, and saved
views (a user's own, a tenant's shared ones set by its admin). Both backends.

A fresh small tenant holds 106 tickets (more than the queue's former 100-ticket cut). Its
rows are shaped for the filters through the tenant scope (severity, owner, a clock moved
into the past) — the data a month of intake would leave, set in one step."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from conftest import run_db
from sqlalchemy import select, update
from test_attack_issue10 import bearer, intake, new_tenant

from core.db import Database, utcnow
from core.deadlines.models import StepClock
from core.people.models import Tenant, User
from core.tickets.models import Ticket

N = 106


@pytest.fixture(scope="module")
def desk(api: Any) -> dict[str, Any]:
    """A tenant with N tickets: every 3rd by letter, severities cycling general / major /
    severe (triaged), ticket 0 owned by the clerk, ticket 1 by the supervisor, ticket 2's
    clock overdue and ticket 3's due within the hour."""
    slug, _, _ = new_tenant(api)
    ids = [
        intake(api, slug, channel="letter" if i % 3 == 0 else "phone", description=f"问题 {i}")[
            "id"
        ]
        for i in range(N)
    ]
    severities = ["general", "major", "severe"]

    async def shape(db: Database) -> dict[str, int]:
        async with db.cross_tenant() as session:
            tid = await session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        async with db.tenant(tid) as scope:
            users = {u.username: u.id for u in await scope.scalars(select(User))}
            for i, t in enumerate(ids[:30]):
                await scope.execute(
                    update(Ticket)
                    .where(Ticket.id == t)
                    .values(severity=severities[i % 3], category="service_attitude")
                )
            await scope.execute(
                update(Ticket).where(Ticket.id == ids[0]).values(owner_user_id=users["clerk"])
            )
            await scope.execute(
                update(Ticket).where(Ticket.id == ids[1]).values(owner_user_id=users["supervisor"])
            )
            now = utcnow()
            await scope.execute(
                update(StepClock)
                .where(StepClock.ticket_id == ids[2])
                .values(due_at=now - dt.timedelta(hours=3))
            )
            await scope.execute(
                update(StepClock)
                .where(StepClock.ticket_id == ids[3])
                .values(due_at=now + dt.timedelta(hours=1))
            )
            # the others' clocks far ahead, so "due soon" names ticket 3 alone
            await scope.execute(
                update(StepClock)
                .where(StepClock.ticket_id.not_in(ids[2:4]))
                .values(due_at=now + dt.timedelta(days=20))
            )
            return users

    users = run_db(api, shape)
    return {"slug": slug, "ids": ids, "users": users}


def lst(api: Any, desk: dict[str, Any], who: str = "clerk", **params: Any) -> Any:
    return api.client.get("/api/tickets", params=params, headers=bearer(desk["slug"], who))


def ids_of(r: Any) -> list[int]:
    assert r.status_code == 200, r.text
    return [t["id"] for t in r.json()["items"]]


def test_every_ticket_is_reachable_with_the_total(api: Any, desk: dict[str, Any]) -> None:
    seen: list[int] = []
    for offset in (0, 50, 100):
        r = lst(api, desk, limit=50, offset=offset, total="true", sort="number")
        assert r.json()["total"] == N
        seen += ids_of(r)
    assert seen == sorted(desk["ids"])  # the six oldest are there too
    # the default order keeps its keyset cursor, and no total unless asked
    r = lst(api, desk, limit=100)
    assert r.json()["total"] is None and r.json()["next_cursor"]
    rest = ids_of(lst(api, desk, limit=100, cursor=r.json()["next_cursor"]))
    assert sorted(ids_of(r) + rest) == sorted(desk["ids"])


def test_sorts(api: Any, desk: dict[str, Any]) -> None:
    ids = desk["ids"]
    assert ids_of(lst(api, desk, sort="-number", limit=3)) == sorted(ids)[::-1][:3]
    assert ids_of(lst(api, desk, sort="received", limit=2)) == ids[:2]
    assert ids_of(lst(api, desk, sort="-received", limit=2)) == ids[::-1][:2]
    # due: the overdue ticket first, then the one due within the hour
    assert ids_of(lst(api, desk, sort="due", limit=2)) == [ids[2], ids[3]]
    assert ids[2] not in ids_of(lst(api, desk, sort="-due", limit=50))
    # severity in the plugin's order: gravest first with "-severity"
    r = lst(api, desk, sort="-severity", limit=10)
    assert [t["severity"] for t in r.json()["items"]] == ["severe"] * 10
    r = lst(api, desk, sort="severity", limit=10)
    assert [t["severity"] for t in r.json()["items"]] == ["general"] * 10


def test_filters(api: Any, desk: dict[str, Any]) -> None:
    ids = desk["ids"]
    r = lst(api, desk, severity="major", total="true", limit=200)
    assert r.json()["total"] == 10 and set(ids_of(r)) == {ids[i] for i in range(1, 30, 3)}
    r = lst(api, desk, category="service_attitude", total="true")
    assert r.json()["total"] == 30
    r = lst(api, desk, channel="letter", total="true", limit=200)
    assert set(ids_of(r)) == {ids[i] for i in range(0, N, 3)}
    assert ids_of(lst(api, desk, owner="supervisor")) == [ids[1]]
    assert ids_of(lst(api, desk, mine="true")) == [ids[0]]
    assert ids_of(lst(api, desk, "supervisor", mine="true")) == [ids[1]]
    assert ids[0] not in ids_of(lst(api, desk, owner="none", limit=200))
    assert ids_of(lst(api, desk, due="overdue")) == [ids[2]]
    assert ids_of(lst(api, desk, due="due_soon")) == [ids[3]]
    r = lst(api, desk, state="received", total="true")
    assert r.json()["total"] == N
    assert lst(api, desk, state="closed", total="true").json()["total"] == 0
    r = lst(api, desk, department="desk", total="true")
    assert r.json()["total"] == 0  # none assigned to or complaining about the desk yet
    # combined: letters among the major ones
    got = set(ids_of(lst(api, desk, severity="major", channel="letter", limit=200)))
    assert got == {ids[i] for i in range(1, 30, 3) if i % 3 == 0}


def test_due_sort_pages_every_ticket_once(api: Any, desk: dict[str, Any]) -> None:
    """``sort=due`` at every offset: each ticket once (two clocks due at the same moment
    do not list a ticket twice), nearest due first, tickets without a ticking clock last
    (newest first), the same total on every page; ``-due`` reverses the clocked part."""
    ids = desk["ids"]
    clockless, tied = ids[10:12], ids[20]

    async def shape(db: Database, undo: bool = False) -> None:
        async with db.cross_tenant() as session:
            tid = await session.scalar(select(Tenant.id).where(Tenant.slug == desk["slug"]))
        async with db.tenant(tid) as scope:
            now = utcnow()
            await scope.execute(
                update(StepClock)
                .where(StepClock.ticket_id.in_(clockless))
                .values(ended_at=None if undo else now)
            )
            # both of its clocks (dispatch, invalid_notice) due at the same moment
            await scope.execute(
                update(StepClock)
                .where(StepClock.ticket_id == tied)
                .values(due_at=now + dt.timedelta(days=20 if undo else 5))
            )

    run_db(api, shape)
    try:
        rest = sorted(set(ids) - {ids[2], ids[3], tied, *clockless}, reverse=True)
        last = sorted(clockless, reverse=True)
        for sort, head in (("due", [ids[2], ids[3], tied, *rest]),
                           ("-due", [*rest, tied, ids[3], ids[2]])):  # fmt: skip
            seen: list[int] = []
            for offset in range(0, N, 9):
                r = lst(api, desk, sort=sort, limit=9, offset=offset, total="true")
                assert r.json()["total"] == N
                seen += ids_of(r)
            assert seen == head + last, sort
            # an offset past every clocked ticket lands among the clockless ones
            assert ids_of(lst(api, desk, sort=sort, limit=5, offset=N - 1)) == last[1:]
            assert ids_of(lst(api, desk, sort=sort, limit=5, offset=N - 2)) == last
            assert ids_of(lst(api, desk, sort=sort, limit=5, offset=N)) == []
    finally:
        run_db(api, lambda db: shape(db, undo=True))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "colour"}, "sort"),
        ({"due": "yesterday"}, "due"),
        ({"channel": "pigeon"}, "channel"),
        ({"owner": "nobody-here"}, "owner"),
        ({"offset": "-1"}, "offset"),
    ],
)
def test_bad_values_name_their_field(
    api: Any, desk: dict[str, Any], params: dict[str, str], field: str
) -> None:
    r = lst(api, desk, **params)
    assert r.status_code in (400, 422), r.text
    assert field in r.text


def test_cursor_with_a_sort_is_refused(api: Any, desk: dict[str, Any]) -> None:
    cursor = lst(api, desk, limit=5).json()["next_cursor"]
    r = lst(api, desk, sort="due", cursor=cursor)
    assert r.status_code == 422 and r.json()["error"]["field"] == "cursor"


def test_saved_views_own_and_shared(api: Any, desk: dict[str, Any]) -> None:
    slug = desk["slug"]
    h = bearer(slug, "clerk")
    r = api.client.post(
        "/api/views",
        json={"name": "我的超时", "query": "?due=overdue&sort=due&offset=50"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["query"] == "due=overdue&sort=due" and not mine["shared"]  # paging dropped
    r = api.client.post("/api/views", json={"name": "我的超时", "query": "due=overdue"}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["field"] == "name"
    r = api.client.post("/api/views", json={"name": "x", "query": "colour=red"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "query"
    r = api.client.post(
        "/api/views",
        json={"name": "全部信件", "query": "channel=letter", "shared": True},
        headers=h,
    )
    assert r.status_code == 403
    r = api.client.post(
        "/api/views",
        json={"name": "全部信件", "query": "channel=letter", "shared": True},
        headers=bearer(slug, "admin"),
    )
    assert r.status_code == 201, r.text
    shared = r.json()
    names = [(v["name"], v["shared"], v["mine"]) for v in api.client.get(
        "/api/views", headers=h).json()]  # fmt: skip
    assert names == [("我的超时", False, True), ("全部信件", True, False)]
    # another user sees the shared view, not the clerk's own
    other = api.client.get("/api/views", headers=bearer(slug, "supervisor")).json()
    assert [v["name"] for v in other] == ["全部信件"]
    # the view's query is the list's own: it answers as the list does
    assert ids_of(lst(api, desk, due="overdue", sort="due")) == [desk["ids"][2]]
    assert api.client.delete(f"/api/views/{shared['id']}", headers=h).status_code == 404
    assert api.client.delete(f"/api/views/{mine['id']}", headers=h).status_code == 204
    r = api.client.delete(f"/api/views/{shared['id']}", headers=bearer(slug, "admin"))
    assert r.status_code == 204
    assert api.client.get("/api/views", headers=h).json() == []
