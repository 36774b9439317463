"""Somebody is told at every hand-off, in-app and by e-mail, and nobody else (issue 19 item 3).

Each hand-off of the lifecycle is walked over HTTP on both backends, with the mail channel
configured (a real SMTP server, aiosmtpd, on 127.0.0.1) and every user of the tenants
involved choosing mail for every kind (``*``). For each, the recipient has the notice in
``GET /api/notifications`` — in Chinese, linking to its ticket — and one e-mail naming the
ticket; nobody else of the tenant (the actor, the accused's colleagues, other departments'
heads, the desk when it is not the desk's turn) and nobody of another tenant gets either.
The deadline sweep's set-based path sends its overdue and due-soon notices by e-mail too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import DEMO_KEYS, cst, run_db
from dutykit import walk
from sqlalchemy import select
from test_notifications import _body, _message, gateway, inbox, worker  # noqa: F401 (fixtures)
from test_sweep import warn_times

from core import clock
from core.db import Database
from core.jobs.sweep import sweep
from core.notify.models import OutboundMessage
from core.tasks.models import Notification

GW, RP, CB = "greenwood", "riverside-power", "citybus"
CJK = re.compile(r"[\u4e00-\u9fff]")
ASCII_WORD = re.compile(r"\b[a-z]{3,}\b")
"""An English word or a code in a Chinese text (the ticket number is upper case)."""


def users_of(tenant: str) -> list[str]:
    return sorted(u for (t, u) in DEMO_KEYS if t == tenant and u != "admin")


def address(tenant: str, user: str) -> str:
    return f"{user}@{tenant}.example"


@pytest.fixture
def mailed(api: Any, inbox: Any) -> Iterator[Any]:  # noqa: F811
    """The mail channel in the three tenants; every user chooses mail for every kind."""
    for tenant in (GW, RP, CB):
        body = {"channels": {"mail": {"type": "smtp", "from": f"desk@{tenant}.example"}}}
        r = api.client.put(
            "/api/config/notifications", json=body, headers=api.headers(tenant, "admin")
        )
        assert r.status_code == 200, r.text
        for user in users_of(tenant):
            prefs = {"email": address(tenant, user), "kinds": {"*": ["mail"]}}
            r = api.client.put(
                "/api/me/notifications", json=prefs, headers=api.headers(tenant, user)
            )
            assert r.status_code == 200, (user, r.text)
    yield inbox
    for tenant in (GW, RP, CB):  # later tests must not queue mail to a server that is gone
        for user in users_of(tenant):
            api.client.put("/api/me/notifications", json={}, headers=api.headers(tenant, user))
        api.client.put("/api/config/notifications", json={}, headers=api.headers(tenant, "admin"))


def told(api: Any, tenant: str, user: str, t: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    r = api.get(tenant, user, "/api/notifications")
    assert r.status_code == 200, r.text
    return [n for n in r.json() if n["ticket_id"] == t["id"] and n["kind"] == kind]


def mails(box: Any, tenant: str, user: str, t: dict[str, Any]) -> list[Any]:
    return [
        m for m in box.messages if m.rcpt_tos == [address(tenant, user)] and t["number"] in _body(m)
    ]


def assert_only(
    api: Any, box: Any, worker: Any, tenant: str, t: dict[str, Any], kind: str,  # noqa: F811
    recipients: set[str],
) -> None:  # fmt: skip
    """``recipients`` (and only they, in every tenant) have one ``kind`` notice about ``t``
    in-app — Chinese, with its link — and one e-mail about it."""
    worker()
    assert recipients, "a hand-off with nobody to tell"
    for other in (GW, RP, CB):
        for user in users_of(other):
            wanted = other == tenant and user in recipients
            notes = told(api, other, user, t, kind) if other == tenant else []
            if other != tenant:  # another tenant's users: no row about this ticket at all
                r = api.get(other, user, "/api/notifications")
                notes = [n for n in r.json() if n["ticket_id"] == t["id"]]
            assert len(notes) == (1 if wanted else 0), (other, user, kind, notes)
            got = [m for m in mails(box, other, user, t) if kind_of(m) == kind]
            assert len(got) == (1 if wanted else 0), (other, user, kind, len(got))
            if wanted:
                (note,) = notes
                assert t["number"] in note["message"] and CJK.search(note["message"]), note
                assert not ASCII_WORD.search(note["message"]), note["message"]
                assert note["link"] == f"/tickets/{t['id']}"
                assert note["params"]["number"] == t["number"]
                body = _body(got[0])
                assert CJK.search(body) and f"/tickets/{t['id']}" in body, body
                assert CJK.search(str(_message(got[0])["Subject"]))


def kind_of(envelope: Any) -> str:
    """The notice's kind, from the outbound row the e-mail was sent for (its Message-ID)."""
    msgid = str(_message(envelope)["Message-ID"])
    m = re.search(r"tousu-\d+-(\d+)", msgid)
    assert m, msgid
    return SENT_KINDS[int(m.group(1))]


SENT_KINDS: dict[int, str] = {}


@pytest.fixture(autouse=True)
def _kinds(api: Any) -> Iterator[None]:
    """Fill :data:`SENT_KINDS` (outbound id → kind) lazily for :func:`kind_of`."""

    class Lazy(dict[int, str]):
        def __missing__(self, key: int) -> str:
            async def go(db: Database) -> dict[int, str]:
                async with db.cross_tenant() as s:
                    rows = await s.execute(select(OutboundMessage.id, OutboundMessage.kind))
                    return {int(i): str(k) for i, k in rows}

            self.update(run_db(api, go))
            return self[key]

    global SENT_KINDS
    SENT_KINDS = Lazy()
    yield


# ---------------------------------------------------------------- the hand-offs


def test_dispatch_tells_the_departments_head(api, mailed, worker):  # noqa: F811
    t = walk(api, GW, "dispatched")
    assert_only(api, mailed, worker, GW, t, "ticket_dispatched", {"head-engineering"})


def test_return_tells_the_desk(api, mailed, worker):  # noqa: F811
    t = walk(api, GW, "dispatched")
    t = api.act(GW, "head-engineering", t, "return", reason="not our building")
    assert_only(api, mailed, worker, GW, t, "ticket_returned", {"clerk"})
    (note,) = told(api, GW, "clerk", t, "ticket_returned")
    assert "工程" in note["message"]  # the department that returned it, by name


def test_grading_tells_each_graded_staff_member_and_the_penalty_deciders(
    api,
    mailed,
    worker,  # noqa: F811
):
    t = walk(api, GW, "graded")
    assert_only(api, mailed, worker, GW, t, "staff_graded", {"staff-wang"})
    (note,) = told(api, GW, "staff-wang", t, "staff_graded")
    assert "主责" in note["message"] and "申诉" in note["message"]
    # the grader proposed the penalty: only management decides it (not the head who graded)
    assert_only(api, mailed, worker, GW, t, "penalty_waiting", {"manager", "gm"})


def test_an_appeal_tells_those_who_may_decide_it(api, mailed, worker):  # noqa: F811
    t = walk(api, GW, "graded")
    r = api.post(GW, "staff-wang", f"/api/tickets/{t['id']}/appeals", json={"reason": "不是我"})
    assert r.status_code == 201, r.text
    assert_only(api, mailed, worker, GW, t, "appeal_waiting", {"manager", "gm"})


def test_an_extension_request_tells_its_approvers_not_the_overran_head(
    api,
    mailed,
    worker,  # noqa: F811
):
    t = walk(api, GW, "in_progress")
    r = api.post(GW, "head-engineering", f"/api/tickets/{t['id']}/deadlines/reply/extensions",
                 json={"amount": 1, "unit": "hours", "reason": "等待配件"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert_only(api, mailed, worker, GW, t, "extension_requested", {"manager", "gm"})
    (note,) = told(api, GW, "manager", t, "extension_requested")
    assert "等待配件" in note["message"] and "答复" in note["message"]


def test_a_reply_to_review_tells_the_reviewers(api, mailed, worker):  # noqa: F811
    t = walk(api, RP, "replied")  # the utility desk reviews units' replies [002 第十六条]
    assert_only(api, mailed, worker, RP, t, "reply_review_waiting", {"manager"})


def test_an_unresolvable_close_tells_its_approvers(api, mailed, worker):  # noqa: F811
    t = walk(api, GW, "in_progress")
    t = api.act(GW, "gm", t, "suspend", reason="待业主委员会决定")
    # the property's approver of an unresolvable close (the office head); not the gm, who
    # recorded it
    assert_only(api, mailed, worker, GW, t, "close_unresolvable_waiting", {"manager"})


def test_english_on_request_in_the_app_and_by_mail(api, mailed, worker):  # noqa: F811
    h = api.headers(GW, "head-engineering")
    prefs = {"email": address(GW, "head-engineering"), "kinds": {"*": ["mail"]}, "language": "en"}
    assert api.client.put("/api/me/notifications", json=prefs, headers=h).status_code == 200
    t = walk(api, GW, "dispatched")
    worker()
    r = api.client.get("/api/notifications", headers=h | {"Accept-Language": "en"})
    (note,) = [n for n in r.json() if n["ticket_id"] == t["id"]]
    assert note["message"] == f"{t['number']}: dispatched to 工程部 — please handle it"
    (mail,) = mails(mailed, GW, "head-engineering", t)
    assert _body(mail).startswith(f"{t['number']}: dispatched to 工程部")
    assert str(_message(mail)["Subject"]) == "A complaint was dispatched to your department"
    zh = told(api, GW, "head-engineering", t, "ticket_dispatched")[0]["message"]
    assert zh == f"{t['number']}：投诉已派至工程部，请处理"


def test_nothing_stored_in_any_language(api, mailed, worker):  # noqa: F811
    """Stored rows hold the kind and its parameters; the text is written when read."""
    t = walk(api, GW, "graded")

    async def go(db: Database) -> tuple[list[Any], list[Any]]:
        async with db.cross_tenant() as s:
            notes = list(await s.scalars(select(Notification).where(
                Notification.ticket_id == t["id"])))  # fmt: skip
            out = list(await s.scalars(select(OutboundMessage).where(
                OutboundMessage.ticket_id == t["id"], OutboundMessage.audience == "staff")))  # fmt: skip
            return notes, out

    notes, out = run_db(api, go)
    assert notes and out
    assert all(n.message == "" and n.params for n in notes)
    assert all(o.body == "" and o.subject == "" and o.params for o in out)


def test_legacy_rows_are_read_in_chinese(api):
    """A notification stored as an English sentence before kinds had parameters."""
    t = walk(api, GW, "dispatched")

    async def write(db: Database) -> None:
        from core.people.models import Tenant, User

        async with db.cross_tenant() as s:
            tid = await s.scalar(select(Tenant.id).where(Tenant.slug == GW))
            uid = await s.scalar(
                select(User.id).where(User.username == "head-engineering", User.tenant_id == tid)
            )
            s.add(Notification(tenant_id=tid, user_id=uid, ticket_id=t["id"],
                               kind="deadline_breached", dedupe_key=f"legacy:{t['id']}",
                               message=f"{t['number']}: step reply overdue since "
                                       "2026-11-30T02:00:00+00:00"))  # fmt: skip

    run_db(api, write)
    (note,) = told(api, GW, "head-engineering", t, "deadline_breached")
    assert note["message"] == f"{t['number']}：「答复」已超时（时限 2026-11-30 10:00）"
    assert note["params"] is None


# ---------------------------------------------------------------- the sweep


def test_the_sweep_mails_overdue_and_due_soon(api, mailed, worker):  # noqa: F811
    """The sweep's set-based path (one bulk insert per batch) writes the e-mails with the
    in-app rows: the breach chain and the step's holder hear of it by mail."""
    clock.travel_to(cst(2025, 3, 3, 10, 0))  # a Monday, in working hours
    t = walk(api, GW, "dispatched")

    def sweep_at(now: dt.datetime) -> None:
        clock.travel_to(now)

        async def go(db: Database) -> None:
            for _ in range(5):
                if not (await sweep(db, now)).clocks:
                    return

        run_db(api, go)

    clocks = api.get(GW, "manager", f"/api/tickets/{t['id']}/deadlines").json()
    first = next(c for c in clocks if c["step"] == "first_contact" and c["state"] == "running")
    due = dt.datetime.fromisoformat(first["due_at"])
    for _ in range(5):  # to the warning's alarm (moved to the opening when it falls at night)
        ((_, alarm),) = warn_times(api, [first["id"]]).values()
        assert alarm is not None and alarm < due, (alarm, due)
        sweep_at(alarm + dt.timedelta(seconds=1))
        if told(api, GW, "head-engineering", t, "deadline_due_soon"):
            break
    clock.reset()
    worker()
    soon = {u for u in users_of(GW) if told(api, GW, u, t, "deadline_due_soon")}
    assert soon == {"head-engineering"}, soon
    assert [kind_of(m) for m in mails(mailed, GW, "head-engineering", t)].count(
        "deadline_due_soon") == 1  # fmt: skip
    sweep_at(due + dt.timedelta(hours=1))  # overdue
    clock.reset()
    worker()
    breached = {u for u in users_of(GW) if told(api, GW, u, t, "deadline_breached")}
    assert breached == {"head-engineering", "supervisor", "manager"}, breached
    for user in breached:
        kinds = [kind_of(m) for m in mails(mailed, GW, user, t)]
        assert kinds.count("deadline_breached") == 1, (user, kinds)
    for user in set(users_of(GW)) - breached - {"head-engineering"}:
        assert not [m for m in mails(mailed, GW, user, t)
                    if kind_of(m) in ("deadline_breached", "deadline_due_soon")]  # fmt: skip


def test_the_sweeps_penalty_proposals_tell_their_deciders(api, mailed, worker):  # noqa: F811
    """A step that ran out in the handler's hands proposes a penalty (the utility plugin,
    tests/test_breach_penalty.py): management is asked to decide it; the clerk it charges
    is not."""
    from test_sweep import new_ticket
    from test_sweep import sweep_at as sweep_jobs

    clock.travel_to(cst(2038, 3, 3, 9, 0))  # a Wednesday; no other test's clocks are due then
    t = new_ticket(api, RP)
    sweep_jobs(api, cst(2038, 3, 3, 11, 30), times=2)  # the app's clock stays there
    pens = api.get(RP, "manager", f"/api/tickets/{t['id']}/penalties").json()
    assert [p["source"] for p in pens] == ["breach"], pens
    assert_only(api, mailed, worker, RP, t, "penalty_waiting", {"manager", "gm"})


def test_an_overturned_appeals_new_proposals_tell_their_deciders(api, mailed, worker):  # noqa: F811
    """Overturning regrades and re-derives the penalties: the new proposals wait for a
    decision by someone other than the manager who regraded (whoever proposed does not
    decide)."""
    t = walk(api, RP, "graded")
    r = api.post(RP, "staff-chen", f"/api/tickets/{t['id']}/appeals", json={"reason": "误读表"})
    assert r.status_code == 201, r.text
    assert_only(api, mailed, worker, RP, t, "appeal_waiting", {"manager", "gm"})
    before = {u: len(told(api, RP, u, t, "penalty_waiting")) for u in users_of(RP)}
    assert {u for u, n in before.items() if n} == {"manager", "gm"}, before
    r = api.post(RP, "manager", f"/api/appeals/{r.json()['id']}/decide",
                 json={"decision": "overturned", "grade": "secondary",
                       "offence": "general_work_quality_no_loss", "reason": "误读，无态度问题"})  # fmt: skip
    assert r.status_code == 200, r.text
    worker()
    after = {u: len(told(api, RP, u, t, "penalty_waiting")) for u in users_of(RP)}
    assert {u: after[u] - before[u] for u in after if after[u] != before[u]} == {"gm": 1}
    got = [kind_of(m) for m in mails(mailed, RP, "gm", t)]
    assert got.count("penalty_waiting") == 2, got


# ---------------------------------------------------------------- the duty room, and SMS


def test_out_of_hours_notices_are_chinese(api, mailed, worker):  # noqa: F811
    """The general manager's out-of-hours notice [004 §篇3 二1] and the escalation of a group
    complaint read in Chinese, in-app and by mail."""
    clock.travel_to(cst(2026, 11, 10, 22, 0))  # a Tuesday night, past 17:30
    t = api.create(GW)
    assert_only(api, mailed, worker, GW, t, "duty_intake", {"gm"})
    (note,) = told(api, GW, "gm", t, "duty_intake")
    assert note["message"] == (
        f"{t['number']}：非工作时间由值班室登记的投诉；您是当班最高管理人员，请接待处理"
        " [004 §篇3 二1]"
    )
    g = api.create(GW, facts={"group_complaint": True})
    (note,) = told(api, GW, "manager", g, "escalation")
    assert note["message"].startswith(f"{g['number']}：群体投诉——请立即报告上级领导"), note


def test_a_staff_sms_is_written_in_chinese_with_its_link(api, mailed, worker, gateway):  # noqa: F811
    body = {
        "channels": {
            "mail": {"type": "smtp", "from": f"desk@{GW}.example"},
            "sms": {"type": "http-sms", "url": gateway.url, "token": "t"},
        }
    }
    h = api.headers(GW, "admin")
    assert api.client.put("/api/config/notifications", json=body, headers=h).status_code == 200
    prefs = {"phone": "13900001111", "kinds": {"ticket_dispatched": ["sms"]}}
    h = api.headers(GW, "head-engineering")
    assert api.client.put("/api/me/notifications", json=prefs, headers=h).status_code == 200
    t = walk(api, GW, "dispatched")
    worker()
    (sms,) = [r["json"] for r in gateway.accepted() if t["number"] in r["json"]["text"]]
    assert sms["to"] == "13900001111"
    assert sms["text"] == f"{t['number']}：投诉已派至工程部，请处理\n查看工单: /tickets/{t['id']}"
