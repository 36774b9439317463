"""Attacks on issue 10's performance changes, through the public HTTP API on both backends.

What each test tries to break (and asserts must hold):

- the per-process tenant memos (core/cache.py): a change made through the tenant admin API
  or the platform's tenant API shows on the very next request; a change that rolls back
  neither shows nor poisons the memo; two tenants' memos never mix, also under concurrent
  requests;
- the clocks held per transaction (core/deadlines/engine.py ``_running``): after pause /
  resume / return / redispatch / reopen sequences a step never has two open clocks and a
  cancelled clock stays cancelled; clocks started in the same transaction as a retime are
  retimed; two transitions racing on one version give one 200 and one 409, never a 500;
- intake numbering (core/flow/service.py ``_assign_number``): concurrent intakes of a tenant
  with no counter row yet get consecutive numbers, none twice;
- conflict of interest checked by ``transition`` (IN_SERVICE): the named person is refused
  on every lifecycle route, whatever the body;
- the confidentiality boundary's shortcut (``View.changes_nothing``): a reader named on one
  ticket of a list still gets that ticket's complainant masked.

Small tenants made here (``POST /api/tenants``) are this file's own; shared demo tenants
are used only for fresh tickets.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conftest import cst, make_operator, run_db, small_tenant, ts
from dutykit import TENANTS, walk
from sqlalchemy import select

from core import clock
from core.notify.models import OutboundMessage

BODY = {
    "channel": "phone",
    "complainant": {"name": "欧阳锋", "contact": "13987654321", "address": "白驼山7号"},
    "description": "attack on the memos",
}


# ---------------------------------------------------------------- helpers


def _fresh() -> tuple[str, str]:
    slug = f"a10-{secrets.token_hex(4)}"
    prefix = "Q" + "".join(chr(65 + b % 26) for b in secrets.token_bytes(4))
    return slug, prefix


def bearer(slug: str, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {slug}-{user}-test-key-0001"}


def new_tenant(
    api: Any, plugin: str = "utility", config: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """A fresh small tenant: (slug, its document, an operator's headers)."""
    op = make_operator(api)
    slug, prefix = _fresh()
    doc = small_tenant(slug, prefix, plugin) | ({"config": config} if config else {})
    r = api.client.post("/api/tenants", json=doc, headers=op)
    assert r.status_code == 201, r.text
    return slug, doc, op


def intake(api: Any, slug: str, **fields: Any) -> dict[str, Any]:
    r = api.client.post("/api/tickets", json=BODY | fields, headers=bearer(slug, "clerk"))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def clocks(api: Any, slug: str, tid: int, user: str = "manager") -> list[dict[str, Any]]:
    r = api.client.get(f"/api/tickets/{tid}/deadlines", headers=bearer(slug, user))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def demo_clocks(api: Any, tenant: str, tid: int) -> list[dict[str, Any]]:
    r = api.get(tenant, "manager", f"/api/tickets/{tid}/deadlines")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def one(rows: list[dict[str, Any]], step: str, state: str | None = None) -> dict[str, Any]:
    found = [c for c in rows if c["step"] == step and (state is None or c["state"] == state)]
    assert len(found) == 1, (step, state, rows)
    return found[0]


def open_steps_unique(rows: list[dict[str, Any]]) -> None:
    """No step has two running or paused clocks (a held list that missed a clock would
    start a second one instead of cancelling the first)."""
    n = Counter(c["step"] for c in rows if c["state"] in ("running", "paused"))
    assert all(v == 1 for v in n.values()), rows


def due(rows: list[dict[str, Any]], step: str) -> dt.datetime:
    """A step's due time to the minute (core.clock moves on after travel_to)."""
    return ts(one(rows, step)["due_at"]).replace(second=0, microsecond=0)


def put_deadline(api: Any, slug: str, step: str, amount: int, unit: str) -> None:
    r = api.client.put("/api/config/deadlines", headers=bearer(slug, "admin"),
                       json={"step": step, "amount": amount, "unit": unit})  # fmt: skip
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- memos: changes show at once


def test_deadline_override_shows_on_the_next_intake(api):
    """The deadline-settings memo is warm (one intake), the tenant admin overrides the
    dispatch limit twice: each next intake's clock has the new limit, not the cached one.

    Defect found: run after its SQLite twin in one process, the PostgreSQL tenant (same id,
    other database) got the SQLite tenant's cached 9-hour override on its first intake —
    memos were keyed by tenant id alone. Fixed in core/cache.py (keyed by database URL too)."""
    slug, _, _ = new_tenant(api)
    first = one(clocks(api, slug, intake(api, slug)["id"]), "dispatch")
    assert first["source"] == "plugin", first
    put_deadline(api, slug, "dispatch", 7, "hours")
    c = one(clocks(api, slug, intake(api, slug)["id"]), "dispatch")
    assert (c["limit"], c["source"]) == ("7 hours", "tenant"), c
    put_deadline(api, slug, "dispatch", 9, "hours")
    c = one(clocks(api, slug, intake(api, slug)["id"]), "dispatch")
    assert (c["limit"], c["source"]) == ("9 hours", "tenant"), c


def test_calendar_closure_and_its_removal_show_at_once(api):
    """With the calendar memo warm, a closure on the due day moves the next intake's due
    time exactly as it retimed the open ticket; removing it moves it back."""
    slug, _, _ = new_tenant(api)
    clock.travel_to(cst(2025, 3, 3, 10, 0))  # a Monday
    put_deadline(api, slug, "dispatch", 1, "working_days")  # in force from that moment
    a = intake(api, slug)
    due_a = due(clocks(api, slug, a["id"]), "dispatch")
    day = due_a.astimezone(cst(2025, 1, 1).tzinfo).date()
    r = api.client.put(f"/api/config/calendar/{day}", headers=bearer(slug, "admin"),
                       json={"kind": "closure", "note": "停电检修"})  # fmt: skip
    assert r.status_code == 200 and r.json()["clocks_retimed"] >= 1, r.text
    retimed = due(clocks(api, slug, a["id"]), "dispatch")
    assert retimed > due_a
    b = intake(api, slug)
    assert due(clocks(api, slug, b["id"]), "dispatch") == retimed
    r = api.client.delete(f"/api/config/calendar/{day}", headers=bearer(slug, "admin"))
    assert r.status_code == 200, r.text
    c = intake(api, slug)
    assert due(clocks(api, slug, c["id"]), "dispatch") == due_a


def _outbound(api: Any, ticket_id: int) -> list[OutboundMessage]:
    async def go(db: Any) -> list[OutboundMessage]:
        async with db.cross_tenant() as s:
            return list(
                await s.scalars(
                    select(OutboundMessage).where(OutboundMessage.ticket_id == ticket_id)
                )
            )

    return run_db(api, go)  # type: ignore[no-any-return]


def test_notification_settings_show_on_the_next_intake(api, settings_in_force):
    """The notification-settings memo is warm with "no settings"; the admin configures the
    complainant's "received" SMS: the next intake queues it; cleared: the next does not."""
    settings_in_force(api, webhook_allow_nets="127.0.0.1/32")  # the gateway's address
    slug, _, _ = new_tenant(api)
    assert _outbound(api, intake(api, slug)["id"]) == []
    body = {
        # an unroutable gateway: nothing here sends, the messages are only queued
        "channels": {"sms": {"type": "http-sms", "url": "http://127.0.0.1:9/sms"}},
        "complainant": {"channel": "sms", "events": ["received"]},
    }
    r = api.client.put("/api/config/notifications", json=body, headers=bearer(slug, "admin"))
    assert r.status_code == 200, r.text
    rows = _outbound(api, intake(api, slug)["id"])
    assert len(rows) == 1 and rows[0].recipient == BODY["complainant"]["contact"], rows
    r = api.client.put("/api/config/notifications", json={}, headers=bearer(slug, "admin"))
    assert r.status_code == 200, r.text
    assert _outbound(api, intake(api, slug)["id"]) == []


def test_tenant_update_renames_departments_and_prefix_at_once(api):
    """The platform's PUT /api/tenants/{slug} renames the department and changes the ticket
    prefix while the tenant and departments memos are warm: the next intake is numbered with
    the new prefix and names the department by its new name."""
    slug, doc, op = new_tenant(api)
    t = intake(api, slug, accused_department="desk")
    assert t["accused_department"]["name"] == "客服部"
    new_prefix = "R" + doc["ticket_prefix"][1:]
    doc2 = doc | {"ticket_prefix": new_prefix,
                  "departments": [{"code": "desk", "name": "服务中心"},
                                  {"code": "field", "name": "外勤部"}]}  # fmt: skip
    r = api.client.put(f"/api/tenants/{slug}", json=doc2, headers=op)
    assert r.status_code == 200, r.text
    t2 = intake(api, slug, accused_department="field")
    assert t2["number"].startswith(f"{new_prefix}-"), t2["number"]
    assert t2["accused_department"] == {"code": "field", "name": "外勤部"}
    again = api.client.get(f"/api/tickets/{t['id']}", headers=bearer(slug, "manager")).json()
    assert again["accused_department"] == {"code": "desk", "name": "服务中心"}


def test_a_tenant_update_that_rolls_back_neither_shows_nor_poisons_the_memo(api):
    """A PUT whose new prefix and department name were flushed before it failed (a demo key
    that belongs to another tenant's user) changes nothing: the next intake keeps the old
    prefix and name, and a later good update still shows at once."""
    slug, doc, op = new_tenant(api)
    intake(api, slug, accused_department="desk")  # memos warm
    other, _, _ = new_tenant(api)
    users = [dict(u) for u in doc["users"]]
    users[0]["demo_key"] = f"{other}-manager-test-key-0001"  # another user's key
    bad = doc | {"ticket_prefix": "X" + doc["ticket_prefix"][1:], "users": users,
                 "departments": [{"code": "desk", "name": "改了没"}]}  # fmt: skip
    r = api.client.put(f"/api/tenants/{slug}", json=bad, headers=op)
    assert r.status_code == 409, r.text  # was a 500 on SQLite (a bare ValueError)
    t = intake(api, slug, accused_department="desk")
    assert t["number"].startswith(doc["ticket_prefix"] + "-"), t["number"]
    assert t["accused_department"]["name"] == "客服部"
    good = doc | {"departments": [{"code": "desk", "name": "改好了"}]}
    assert api.client.put(f"/api/tenants/{slug}", json=good, headers=op).status_code == 200
    assert intake(api, slug, accused_department="desk")["accused_department"]["name"] == "改好了"


def test_the_duty_roster_change_shows_on_the_next_night_intake(api):
    """Property desks keep a duty room: out of hours the most senior manager on duty is
    named on the intake. The roster memo is warm; the operator narrows ``on_duty`` to the
    supervisor: the next night intake names the supervisor, not the manager."""
    hours = {"working_hours": ["08:30", "17:30"]}
    slug, doc, op = new_tenant(api, plugin="property", config=hours)
    clock.travel_to(cst(2025, 3, 4, 23, 30))  # a Tuesday night

    def handler() -> str | None:
        t = intake(api, slug)
        r = api.client.get(f"/api/tickets/{t['id']}/history", headers=bearer(slug, "manager"))
        assert r.status_code == 200, r.text
        return r.json()[0]["payload"]["duty"]["handler"]  # type: ignore[no-any-return]

    assert handler() == "manager"
    doc2 = doc | {"config": hours | {"on_duty": ["supervisor", "clerk"]}}
    assert api.client.put(f"/api/tenants/{slug}", json=doc2, headers=op).status_code == 200
    assert handler() == "supervisor"


def test_two_tenants_concurrent_intakes_never_mix_memos(api):
    """Two tenants with the same department code and request pattern, sixteen intakes at
    once: every ticket carries its own tenant's prefix and department (by id and name), and
    neither tenant can read the other's tickets."""
    a, doc_a, op = new_tenant(api)
    b, doc_b, _ = new_tenant(api)
    doc_b2 = doc_b | {"departments": [{"code": "desk", "name": "乙方客服"}]}
    assert api.client.put(f"/api/tenants/{b}", json=doc_b2, headers=op).status_code == 200

    def go(i: int) -> tuple[str, dict[str, Any]]:
        slug = (a, b)[i % 2]
        r = api.client.post("/api/tickets", json=BODY | {"accused_department": "desk"},
                            headers=bearer(slug, "clerk"))  # fmt: skip
        assert r.status_code == 201, r.text
        return slug, r.json()

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(go, range(16)))
    names = {a: "客服部", b: "乙方客服"}
    prefixes = {a: doc_a["ticket_prefix"], b: doc_b["ticket_prefix"]}
    for slug, t in made:
        assert t["number"].startswith(prefixes[slug] + "-"), (slug, t["number"])
        assert t["accused_department"]["name"] == names[slug], (slug, t)
        other = b if slug == a else a
        r = api.client.get(f"/api/tickets/{t['id']}", headers=bearer(other, "manager"))
        assert r.status_code == 404, r.text


# ---------------------------------------------------------------- numbering


def test_concurrent_first_intakes_of_a_year_get_consecutive_numbers(api):
    """A fresh tenant has no counter row for the year: twelve intakes at once all take the
    "year's first ticket" path or the bump; the numbers are 1..12, none twice, no 500."""
    slug, doc, _ = new_tenant(api)

    def go(_: int) -> str:
        r = api.client.post("/api/tickets", json=BODY, headers=bearer(slug, "clerk"))
        assert r.status_code == 201, r.text
        return r.json()["number"]  # type: ignore[no-any-return]

    with ThreadPoolExecutor(12) as pool:
        numbers = list(pool.map(go, range(12)))
    year = dt.datetime.now(cst(2025, 1, 1).tzinfo).year
    assert sorted(numbers) == [f"{doc['ticket_prefix']}-{year}-{n:06d}" for n in range(1, 13)]


def test_a_new_year_starts_its_own_count_beside_the_old(api):
    """Intakes in December then January (tenant time): the January ticket is the new
    year's 000001 (its counter row missing), the old year's count goes on unaffected."""
    slug, doc, _ = new_tenant(api)
    p = doc["ticket_prefix"]
    clock.travel_to(cst(2030, 12, 31, 23, 50))
    assert intake(api, slug)["number"] == f"{p}-2030-000001"
    assert intake(api, slug)["number"] == f"{p}-2030-000002"
    clock.travel_to(cst(2031, 1, 1, 0, 5))
    assert intake(api, slug)["number"] == f"{p}-2031-000001"
    assert intake(api, slug)["number"] == f"{p}-2031-000002"


# ---------------------------------------------------------------- clocks held per transaction

C = "citybus"


def test_pause_return_redispatch_reopen_never_leave_two_open_clocks(api):
    """The reply clock is paused, the department returns the ticket (its paused clock is
    cancelled with the pause closed), the desk dispatches again (a new reply clock), the
    severity changes (open clocks retimed: the held list must hold the new clock), then
    suspend and reopen: after every step no step has two open clocks, and a cancelled
    clock never comes back."""
    clock.travel_to(cst(2025, 3, 3, 10, 0))
    t = walk(api, C, "dispatched")
    rows = demo_clocks(api, C, t["id"])
    open_steps_unique(rows)
    first_reply = one(rows, "reply", "running")
    r = api.post(C, "head-fleet1", f"/api/tickets/{t['id']}/deadlines/reply/pause",
                 json={"reason": "waiting_video_footage"})  # fmt: skip
    assert r.status_code == 200, r.text
    clock.travel_to(cst(2025, 3, 3, 11, 0))
    t = api.get(C, "manager", f"/api/tickets/{t['id']}").json()
    t = api.act(C, "head-fleet1", t, "return", reason="not our route")
    rows = demo_clocks(api, C, t["id"])
    open_steps_unique(rows)
    gone = next(c for c in rows if c["id"] == first_reply["id"])
    assert gone["state"] == "cancelled" and gone["paused_at"] is None, gone
    assert gone["paused_seconds"] >= 3500, gone  # the hour it was paused, closed on cancel
    assert not any(c["step"] == "reply" and c["state"] in ("running", "paused") for c in rows)
    t = api.act(C, "clerk", t, "dispatch", department="fleet-1")
    rows = demo_clocks(api, C, t["id"])
    open_steps_unique(rows)
    reply = one(rows, "reply", "running")
    assert reply["id"] != first_reply["id"]
    # serious: the reply limit is 2 working days instead of 3 — the open reply clock (and
    # only it) is retimed from its start
    t = api.act(C, "clerk", t, "reclassify", severity="serious", reason="更严重")
    rows = demo_clocks(api, C, t["id"])
    open_steps_unique(rows)
    retimed = one(rows, "reply", "running")
    assert retimed["id"] == reply["id"] and retimed["limit"] == "2 working_days", retimed
    assert ts(retimed["due_at"]) < ts(reply["due_at"]), (retimed, reply)
    t = api.act(C, "manager", t, "suspend", reason="无法解决")
    rows = demo_clocks(api, C, t["id"])
    open_steps_unique(rows)
    assert not any(c["state"] in ("running", "paused") and c["step"] != "auto_upgrade"
                   for c in rows), rows  # fmt: skip
    t = api.act(C, "manager", t, "reopen", reason="新证据")
    rows = demo_clocks(api, C, t["id"])
    open_steps_unique(rows)
    assert {c["step"] for c in rows if c["state"] == "running"} >= {"dispatch", "resolution"}
    assert next(c for c in rows if c["id"] == first_reply["id"])["state"] == "cancelled"


def test_a_clock_started_in_the_same_transaction_is_capped_by_the_leaders_limit(api):
    """Property: dispatch with the leader's ``resolve_by`` starts the reply clock and
    re-times the running ones in one transaction: the reply clock started there and the
    resolution clock started earlier are both due by ``resolve_by``."""
    p = "greenwood"
    clock.travel_to(cst(2026, 5, 11, 10, 0))
    t = walk(api, p, "registered", severity="important")
    by = cst(2026, 5, 12, 18, 0)
    t = api.act(p, "clerk", t, "dispatch", department=TENANTS[p]["dept"],
                resolve_by=by.isoformat())  # fmt: skip
    rows = demo_clocks(api, p, t["id"])
    open_steps_unique(rows)
    for step in ("reply", "resolution"):
        assert ts(one(rows, step, "running")["due_at"]) <= by, (step, rows)


def test_two_transitions_on_one_version_one_wins_one_gets_409(api):
    """Two first contacts sent at once with the same version, several times (each on a
    fresh ticket): exactly one 200 and one 409 each time, never a 500, and the ticket ends
    with one met first_contact clock and no step open twice."""
    for _ in range(3):
        t = walk(api, C, "dispatched")
        body = {"version": t["version"], "note": "called"}

        def go(_: int, tid: int = t["id"], body: dict[str, Any] = body) -> int:
            r = api.post(C, "head-fleet1", f"/api/tickets/{tid}/first-contact", json=body)
            return r.status_code  # type: ignore[no-any-return]

        with ThreadPoolExecutor(2) as pool:
            codes = sorted(pool.map(go, range(2)))
        assert codes == [200, 409], codes
        rows = demo_clocks(api, C, t["id"])
        open_steps_unique(rows)
        assert [c["state"] for c in rows if c["step"] == "first_contact"] == ["met"], rows


def test_a_pause_racing_a_transition_is_never_lost_or_a_500(api):
    """Defect found (PostgreSQL): the pause flushed its clock's UPDATE before the ticket's,
    a transition locks ticket then clocks — the two deadlocked and the pause answered 500.
    Fixed in core/deadlines/service.py (``_lock_ticket``). A pause of the reply clock and a return sent at once: the return either wins (the
    clock is cancelled, the pause then 409s: no running clock) or loses with 409 (the pause
    bumped the version); never a 500, never an open clock left behind."""
    for _ in range(3):
        t = walk(api, C, "dispatched")

        def pause(t: dict[str, Any] = t) -> int:
            return api.post(C, "head-fleet1", f"/api/tickets/{t['id']}/deadlines/reply/pause",
                            json={"reason": "waiting_video_footage"}).status_code  # fmt: skip

        def ret(t: dict[str, Any] = t) -> int:
            return api.post(C, "head-fleet1", f"/api/tickets/{t['id']}/return",
                            json={"version": t["version"], "reason": "not ours"}).status_code  # fmt: skip

        with ThreadPoolExecutor(2) as pool:
            a, b = pool.submit(pause), pool.submit(ret)
            codes = (a.result(), b.result())
        assert 500 not in codes and 200 in codes, codes
        rows = demo_clocks(api, C, t["id"])
        open_steps_unique(rows)
        reply = [c for c in rows if c["step"] == "reply"]
        if codes[1] == 200:  # returned: the reply clock is over, paused or not before
            assert [c["state"] for c in reply] == ["cancelled"], rows
        else:
            assert [c["state"] for c in reply] == ["paused"], rows


# ---------------------------------------------------------------- conflict of interest


def test_the_named_clerk_is_refused_on_every_lifecycle_route(api):
    """citybus' clerk is staff member CB-S010. On a ticket naming CB-S010 every lifecycle
    route answers 403 "conflict of interest" — with a right or wrong version, with extra
    fields in the body — or 422 for a body its schema refuses; never 200 or 409, and the
    ticket is unchanged."""
    from core.tickets.lifecycle import TRANSITIONS

    t = api.create(C, "supervisor", accused_staff=["CB-S010"], accused_department="fleet-1")
    for action in TRANSITIONS:
        path = f"/api/tickets/{t['id']}/{action.replace('_', '-')}"
        for body in ({"version": t["version"]}, {"version": t["version"] + 7},
                     {"version": t["version"], "category": "skip_stop", "severity": "general",
                      "facets": {"direction": "government", "mode": "phone"},
                      "reason": "x", "note": "x", "department": "fleet-1"}):  # fmt: skip
            r = api.post(C, "clerk", path, json=body)
            assert r.status_code in (403, 422), (action, body, r.status_code, r.text)
            if r.status_code == 403:
                assert r.json()["error"]["rule"] == "conflict of interest", (action, r.text)
    after = api.get(C, "manager", f"/api/tickets/{t['id']}").json()
    assert (after["state"], after["version"]) == (t["state"], t["version"])
    # the same route and body from someone not named goes through
    api.act(C, "supervisor", t, "triage_valid", category="skip_stop", severity="general",
            facets={"direction": "government", "mode": "phone"})  # fmt: skip


# ---------------------------------------------------------------- confidentiality


def test_a_reader_named_on_one_ticket_of_a_list_gets_it_masked(api):
    """citybus' clerk reads the desk's list: of two fresh tickets with the same complainant
    text in the description, the one naming the clerk (CB-S010) has the complainant masked
    and the phone number scrubbed from free text; the other is shown whole."""
    phone = "13712345678"
    body = {"complainant": {"name": "慕容复", "contact": phone, "address": "燕子坞"},
            "description": f"请回电 {phone} 慕容复"}  # fmt: skip
    named = api.create(C, "supervisor", accused_staff=["CB-S010"], **body)
    plain = api.create(C, "supervisor", **body)
    r = api.get(C, "clerk", "/api/tickets", params={"limit": 50})
    assert r.status_code == 200, r.text
    items = {x["id"]: x for x in r.json()["items"]}
    n, p = items[named["id"]], items[plain["id"]]
    assert n["complainant"]["masked"] is True and phone not in str(n), n
    assert "慕容复" not in n["description"], n["description"]
    assert p["complainant"]["masked"] is False and p["complainant"]["contact"] == phone, p
    assert phone in p["description"], p["description"]
    # the single-ticket read and its history follow the same rule
    one_ = api.get(C, "clerk", f"/api/tickets/{named['id']}").json()
    assert one_["complainant"]["masked"] is True and phone not in str(one_), one_
    hist = api.get(C, "clerk", f"/api/tickets/{named['id']}/history")
    assert hist.status_code == 200 and phone not in hist.text, hist.text


def test_a_pattern_only_reader_never_gets_a_phone_number(api):
    """The accused driver (staff, no role that sees complainants) reads the ticket about
    them: the phone number in the description is scrubbed even though the reader may see
    the ticket whole otherwise (the boundary must not take its shortcut)."""
    phone = "13611112222"
    t = api.create(C, accused_staff=["CB-S001"],
                   complainant={"name": "段誉", "contact": phone, "address": "大理"},
                   description=f"司机态度差，请打 {phone}")  # fmt: skip
    r = api.get(C, "staff-wang", f"/api/tickets/{t['id']}")
    assert r.status_code == 200, r.text
    assert phone not in r.text and "段誉" not in r.text, r.text
