"""Attacks on the surfaces of issue 12, through the public HTTP API on both backends.

Each test is an outsider's attempt on a new surface — attachments, approvals, appraisals,
appeals' re-derivation, the approvals inbox — and asserts what must hold against it: another
tenant's id answers 404, the complainant stays hidden from the accused, nobody decides what
they themselves asked for or set (core/people/duties.py), bad input is a 4xx naming the field.

Shared database: citybus tickets made here are this file's; citybus 2020-H1 appraisals too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import graded_citybus, make_operator, small_tenant
from dutykit import walk
from litestar.testing import TestClient
from test_console_auth import login

from core.app import create_app
from core.settings import load_settings

T = "citybus"
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 40
)


@pytest.fixture
def web(api: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(load_settings({"DATABASE_URL": api.url}))) as client:
        yield client


def _upload(api: Any, tenant: str, user: str, tid: int, kind: str, name: str, data: bytes) -> Any:
    return api.client.post(
        f"/api/tickets/{tid}/attachments",
        data={"kind": kind},
        files={"file": (name, data, "image/jpeg")},
        headers=api.headers(tenant, user),
    )


def _overturned(api: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A graded citybus ticket whose driver's appeal the manager overturned (main →
    secondary); its penalties afterwards."""
    t = graded_citybus(api)
    r = api.post(T, "staff-wang", f"/api/tickets/{t['id']}/appeals", json={"reason": "不是我"})
    assert r.status_code == 201, r.text
    r = api.post(T, "manager", f"/api/appeals/{r.json()['id']}/decide",
                 json={"decision": "overturned", "reason": "录像显示", "grade": "secondary"})  # fmt: skip
    assert r.status_code == 200, r.text
    rows = api.get(T, "manager", f"/api/tickets/{t['id']}/penalties").json()
    return t, rows


def test_whoever_overturns_an_appeal_does_not_decide_the_penalty_it_derives(api):
    """The manager who overturned the appeal set the new grade: the penalty re-derived from
    it is theirs as much as the first grader's was, so they may not confirm it (the rule of
    core/people/duties.py: whoever graded does not decide). Another approver (gm) may."""
    _, rows = _overturned(api)
    new = [p for p in rows if p["status"] == "proposed"]
    assert new, rows
    r = api.post(T, "manager", f"/api/penalties/{new[0]['id']}/confirm", json={})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["rule"] == "separation of duties"
    assert r.json()["error"]["step"] == "penalty"
    r = api.post(T, "gm", f"/api/penalties/{new[0]['id']}/confirm", json={})
    assert r.status_code == 200, r.text


def test_the_inbox_never_offers_a_penalty_its_reader_regraded(api, web):
    """The approvals inbox leaves out what the API would refuse: the manager who overturned
    the appeal is not offered the re-derived penalties; the general manager is."""
    _, rows = _overturned(api)
    new = {p["id"] for p in rows if p["status"] == "proposed"}
    assert new, rows

    def offered(username: str) -> set[int]:
        web.cookies.clear()
        assert login(web, username, tenant=T).status_code == 303
        page = web.get("/approvals")
        assert page.status_code == 200, page.text[:300]
        return {int(x) for x in re.findall(r'action="/penalties/(\d+)/', page.text)}

    assert not new & offered("manager")
    assert new <= offered("gm")


def test_another_tenants_attachment_answers_404_through_every_route(api):
    """A greenwood file reached through greenwood's ticket id, or through one of citybus's own
    tickets, or with ids beyond the integer types: 404 (or 422), never the file or a 500."""
    t = api.create("greenwood")
    r = _upload(api, "greenwood", "clerk", t["id"], "photo", "a.jpg", JPEG)
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    for path in (f"/api/tickets/{t['id']}/attachments",
                 f"/api/tickets/{t['id']}/attachments/{aid}"):  # fmt: skip
        r = api.get(T, "manager", path)
        assert r.status_code == 404, (path, r.text)
    r = _upload(api, T, "clerk", t["id"], "photo", "b.jpg", JPEG)
    assert r.status_code == 404, r.text
    own = api.create(T)
    r = api.get(T, "manager", f"/api/tickets/{own['id']}/attachments/{aid}")
    assert r.status_code == 404, r.text
    for big in (2**31, 2**63, 10**30):
        for path in (f"/api/tickets/{big}/attachments",
                     f"/api/tickets/{own['id']}/attachments/{big}"):  # fmt: skip
            r = api.get(T, "manager", path)
            assert r.status_code in (404, 422), (path, r.status_code, r.text)


def test_file_names_cannot_inject_headers(api):
    """Quotes, CR/LF and directory parts in an uploaded name never reach the download's
    headers as anything but one quoted, escaped file name."""
    t = api.create("greenwood")
    for name in ('a"; filename="evil.exe', "a\r\nSet-Cookie: x=1.jpg", "../../etc/passwd"):
        r = _upload(api, "greenwood", "clerk", t["id"], "photo", name, JPEG)
        assert r.status_code == 201, r.text
        d = api.get("greenwood", "manager", r.headers["location"])
        assert d.status_code == 200
        cd = d.headers["content-disposition"]
        assert (
            "\r" not in cd and "\n" not in cd and "set-cookie" not in {h.lower() for h in d.headers}
        )
        assert cd.count('"') == 2 and "/" not in cd.split(";")[1], cd


def test_appraisal_of_another_tenant_answers_404_and_the_proposer_never_approves(api):
    """A citybus appraisal id sent to riverside-power's approver is 404 and unlisted there;
    citybus's proposer may not approve it; a bad decision body is a 422 naming the field."""
    r = api.post(T, "manager", "/api/appraisals",
                 json={"half": "2020-H1", "opinion": "意见", "units": []})  # fmt: skip
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    r = api.post("riverside-power", "gm", f"/api/appraisals/{aid}/approve", json={})
    assert r.status_code == 404, r.text
    assert all(a["id"] != aid for a in api.get("riverside-power", "gm", "/api/appraisals").json())
    r = api.post(T, "manager", f"/api/appraisals/{aid}/approve", json={})
    assert r.status_code == 403, r.text
    for bad, field in (({"reason": 5}, "reason"), ({"reason": "x" * 3000}, "reason"),
                       ({"other": 1}, "other"), ({"reason": " "}, "reason")):  # fmt: skip
        r = api.post(T, "gm", f"/api/appraisals/{aid}/reject", json=bad)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
    row = next(a for a in api.get(T, "gm", "/api/appraisals").json() if a["id"] == aid)
    assert row["status"] == "proposed"  # nothing half-written by the refusals


def test_concurrent_proposals_leave_one_live_appraisal_per_half_year(api):
    """Eight proposals of one half-year sent at once: exactly one is stored, the others are
    409 (the check "one live appraisal per half-year" holds under concurrency)."""
    body = {"half": "2021-H2", "opinion": "意见", "units": []}
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(
            r.status_code
            for r in pool.map(
                lambda _: api.post(T, "manager", "/api/appraisals", json=body), range(8)
            )
        )
    assert codes == [201] + [409] * 7, codes
    rows = api.get(T, "manager", "/api/appraisals", params={"half": "2021-H2"}).json()
    assert len(rows) == 1, rows


def _dispatched(api: Any) -> dict[str, Any]:
    t = api.create(T)
    t = api.act(T, "clerk", t, "triage_valid", category="skip_stop", severity="general",
                facets={"direction": "government", "mode": "phone"})  # fmt: skip
    t = api.act(T, "clerk", t, "register", reason="on_site")
    t = api.act(T, "supervisor", t, "review")
    return api.act(T, "clerk", t, "dispatch", department="fleet-1")


def test_the_suspender_is_not_offered_the_close_they_may_not_take(api, web):
    """The manager who recorded a ticket as unresolvable may not close it (403, separation of
    duties [000 §篇1 5(5)2②c]): neither the ticket's allowed_actions nor the approvals inbox
    offers them the close; another approver (gm) is offered it and may take it."""
    t = api.act(T, "manager", _dispatched(api), "suspend", reason="无法处理")
    assert "close" not in t["allowed_actions"]
    body = {"version": t["version"], "verification": "unresolvable_approved"}
    r = api.post(T, "manager", f"/api/tickets/{t['id']}/close", json=body)
    assert r.status_code == 403 and r.json()["error"]["rule"] == "separation of duties", r.text
    web.cookies.clear()
    assert login(web, "manager", tenant=T).status_code == 303
    assert f'href="/tickets/{t["id"]}"' not in web.get("/approvals").text
    r = api.get(T, "gm", f"/api/tickets/{t['id']}")
    assert "close" in r.json()["allowed_actions"]
    web.cookies.clear()
    assert login(web, "gm", tenant=T).status_code == 303
    assert f'href="/tickets/{t["id"]}"' in web.get("/approvals").text


def test_whoever_gave_the_reply_is_not_offered_its_review(api):
    """riverside-power reviews replies [002 《客户投诉管理考核办法》第十六条]; the manager who
    gave the reply is refused the review (403), so it is not among their allowed actions."""
    t = walk(api, "riverside-power", "replied", replier="manager")
    mine = api.get("riverside-power", "manager", f"/api/tickets/{t['id']}").json()
    assert not {"review_reply", "rework_reply"} & set(mine["allowed_actions"])
    r = api.post("riverside-power", "manager", f"/api/tickets/{t['id']}/review-reply",
                 json={"version": mine["version"]})  # fmt: skip
    assert r.status_code == 403, r.text  # what is not offered is indeed refused


MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 2000


def test_a_recording_cannot_reach_the_accused_as_other_evidence(api):
    """A call recording filed as ``other`` (shown to the accused driver) is refused (422
    naming ``file``): audio goes in only as ``call_recording``, which the accused never
    gets; nothing is stored or written to the history by the refusal."""
    t = api.create(T, accused_staff=["CB-S001"], accused_department="fleet-1")
    before = api.get(T, "manager", f"/api/tickets/{t['id']}/history").json()
    r = api.client.post(
        f"/api/tickets/{t['id']}/attachments",
        data={"kind": "other"},
        files={"file": ("录音.mp3", MP3, "audio/mpeg")},
        headers=api.headers(T, "clerk"),
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "file", r.text
    assert api.get(T, "manager", f"/api/tickets/{t['id']}/history").json() == before
    assert api.get(T, "manager", f"/api/tickets/{t['id']}/attachments").json() == []
    r = api.client.post(
        f"/api/tickets/{t['id']}/attachments",
        data={"kind": "call_recording"},
        files={"file": ("录音.mp3", MP3, "audio/mpeg")},
        headers=api.headers(T, "clerk"),
    )
    assert r.status_code == 201, r.text
    assert api.get(T, "staff-wang", f"/api/tickets/{t['id']}/attachments").json() == []
    assert api.get(T, "staff-wang", r.headers["location"]).status_code == 403


def test_the_overrun_departments_head_is_not_offered_its_extension(api, web):
    """A head who also holds an approving role (manager) may not approve his own
    department's overrun [000 §篇1 4(4)9] (403, core/people/duties.py): the approvals
    inbox does not offer it to him; another manager is offered it."""
    slug = "attack-dual"
    doc = small_tenant(slug, "ADU", plugin="property")
    doc["users"].append({"username": "headmgr", "roles": ["department_head", "manager"],
                         "department": "desk", "demo_key": f"{slug}-headmgr-test-key-0001",
                         "demo_password": "headmgr-pass-0001"})  # fmt: skip
    next(u for u in doc["users"] if u["username"] == "manager")["demo_password"] = "mgr-pass-0001"
    r = api.client.post("/api/tenants", json=doc, headers=make_operator(api))
    assert r.status_code == 201, r.text
    h = {u: {"Authorization": f"Bearer {slug}-{u}-test-key-0001"}
         for u in ("clerk", "head", "headmgr")}  # fmt: skip

    def act(t: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
        r = api.client.post(f"/api/tickets/{t['id']}/{action.replace('_', '-')}",
                            json={"version": t["version"]} | body, headers=h["clerk"])  # fmt: skip
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    r = api.client.post("/api/tickets", headers=h["clerk"], json={
        "channel": "phone", "description": "电梯困人",
        "complainant": {"name": "赵六", "contact": "13900001111"}})  # fmt: skip
    assert r.status_code == 201, r.text
    t = act(r.json(), "triage_valid", category="repair_quality", severity="minor",
            facets={"nature": "valid"})  # fmt: skip
    t = act(t, "register", reason="on_site")
    t = act(t, "dispatch", department="desk")
    r = api.client.post(f"/api/tickets/{t['id']}/deadlines/reply/extensions", headers=h["head"],
                        json={"amount": 1, "unit": "calendar_days", "reason": "等配件"})  # fmt: skip
    assert r.status_code == 201, r.text
    ext = r.json()["id"]
    r = api.client.post(f"/api/extensions/{ext}/approve", json={"reason": "ok"},
                        headers=h["headmgr"])  # fmt: skip
    assert r.status_code == 403, r.text

    def offered(username: str, password: str) -> set[int]:
        web.cookies.clear()
        assert login(web, username, password, tenant=slug).status_code == 303
        page = web.get("/approvals")
        assert page.status_code == 200, page.text[:300]
        return {int(x) for x in re.findall(r'action="/extensions/(\d+)/', page.text)}

    assert ext not in offered("headmgr", "headmgr-pass-0001")
    assert ext in offered("manager", "mgr-pass-0001")
