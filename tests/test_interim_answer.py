"""Issue 12 §1: an answer is not a resolution — the interim answer (明确答复), the property
desk's same-day hand-offs, and per-ticket limits shorter than the table.

Through the HTTP API on both backends, with the application's clock moved
(:func:`core.clock.travel_to`) and the deadline sweep called at chosen moments, as
tests/test_sweep.py does. Greenwood (plugins/property, desk A) keeps 08:30-17:30 hours;
its answer, reply and resolution limits are calendar days [000 §篇1 4(4)9].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import cst, run_db, ts
from sqlalchemy import delete, select

from core import clock
from core.db import Database
from core.deadlines.models import DeadlineSetting
from core.jobs.sweep import sweep
from core.people.models import Tenant

T = "greenwood"
DEPT, HEAD, STAFF = "engineering", "head-engineering", "GW-S001"


# ---------------------------------------------------------------- helpers


def at(moment: dt.datetime) -> None:
    clock.travel_to(moment)


def sweep_at(api: Any, now: dt.datetime) -> None:
    clock.travel_to(now)

    async def go(db: Database) -> None:
        for _ in range(5):
            if not (await sweep(db, now)).clocks:
                return

    run_db(api, go)


def received(api: Any, **extra: Any) -> dict[str, Any]:
    return api.create(T, accused_staff=[STAFF], accused_department=DEPT, **extra)


def ready(api: Any, t: dict[str, Any], severity: str) -> dict[str, Any]:
    t = api.act(
        T, "clerk", t, "triage_valid",
        category="repair_quality", severity=severity, facets={"nature": "valid"},
    )  # fmt: skip
    t = api.act(T, "clerk", t, "register", reason="on_site")
    return api.act(T, "supervisor", t, "review", note="checked")


def dispatched(api: Any, when: dt.datetime, severity: str, **extra: Any) -> dict[str, Any]:
    at(when)
    t = ready(api, received(api), severity)
    return api.act(T, "clerk", t, "dispatch", department=DEPT, **extra)


def clocks(api: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(T, "manager", f"/api/tickets/{t['id']}/deadlines")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def one(rows: list[dict[str, Any]], step: str) -> dict[str, Any]:
    found = [c for c in rows if c["step"] == step]
    assert len(found) == 1, f"{step}: {found}"
    return found[0]


def history(api: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(T, "manager", f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def breach_notes(api: Any, user: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(T, user, "/api/notifications")
    assert r.status_code == 200, r.text
    return [n for n in r.json() if n["ticket_id"] == t["id"] and n["kind"] == "deadline_breached"]


def handle(api: Any, t: dict[str, Any], graded_at: dt.datetime) -> dict[str, Any]:
    """First contact now (unless made), grading (handling finished) at ``graded_at``."""
    if t["state"] == "dispatched":
        t = api.act(T, HEAD, t, "first_contact", note="called the owner")
    at(graded_at)
    return api.act(
        T, HEAD, t, "grade", findings="pipe replaced",
        grades=[{"staff": STAFF, "grade": "main", "offence": "tier_2", "findings": "late"}],
    )  # fmt: skip


def error(r: Any) -> dict[str, Any]:
    return r.json()["error"]  # type: ignore[no-any-return]


def post(api: Any, user: str, t: dict[str, Any], action: str, **body: Any) -> Any:
    return api.post(
        T, user, f"/api/tickets/{t['id']}/{action.replace('_', '-')}",
        json={"version": t["version"], **body},
    )  # fmt: skip


# ---------------------------------------------------------------- the interim answer


def test_major_answered_day_1_resolved_day_9_breaches_nothing(api):
    """重大投诉应当在2日内给投诉的客户明确答复,解决时间不宜超过10日 [000 §篇1 4(4)9]: answered
    on day 1 and resolved on day 9, a major property complaint breaches no clock and the
    general manager gets no urgent overdue alert (before issue 12 the reply breached on day
    3). The answer is its own event, charged to the handling department."""
    start = cst(2026, 3, 9, 10, 0)
    t = dispatched(api, start, "major")
    t = api.act(T, HEAD, t, "first_contact", note="called the owner")
    answer = one(clocks(api, t), "answer")
    assert answer["limit"] == "2 calendar_days" and answer["owner_department"] == DEPT
    assert one(clocks(api, t), "reply")["limit"] == "10 calendar_days"

    at(cst(2026, 3, 10, 10, 0))  # day 1
    promised = cst(2026, 3, 18, 18, 0)
    t = api.act(
        T,
        HEAD,
        t,
        "answer",
        plan="the riser is replaced next week",
        promised_by=promised.isoformat(),
    )
    assert t["state"] == "in_progress"  # an answer is not a resolution
    event = history(api, t)[-1]
    assert event["action"] == "answer" and event["actor"] == HEAD
    assert ts(event["payload"]["promised_by"]) == promised
    assert {"step": "answer", "ended": "met"} in event["payload"]["deadlines"]

    sweep_at(api, cst(2026, 3, 12, 11, 0))  # day 3: the old reply clock breached here
    assert not [c for c in clocks(api, t) if c["breached_at"]]

    t = handle(api, t, cst(2026, 3, 18, 10, 0))  # day 9
    t = api.act(T, HEAD, t, "reply", reply="riser replaced", apology=True)
    sweep_at(api, cst(2026, 3, 18, 12, 0))
    rows = clocks(api, t)
    assert not [c for c in rows if c["breached_at"]], rows
    for step in ("answer", "reply", "resolution", "hand_back"):
        assert one(rows, step)["state"] == "met", step
    assert breach_notes(api, "gm", t) == []


def test_an_unanswered_major_complaint_breaches_the_answer_only(api):
    """Without an interim answer the answer clock overruns on day 3 and is charged to the
    department; the result (reply) and the resolution still have their 10 days."""
    t = dispatched(api, cst(2026, 3, 9, 10, 0), "major")
    sweep_at(api, cst(2026, 3, 11, 10, 30))
    rows = clocks(api, t)
    assert one(rows, "answer")["breached_at"] is not None
    assert one(rows, "answer")["owner_department"] == DEPT
    assert one(rows, "reply")["breached_at"] is None
    assert one(rows, "resolution")["breached_at"] is None


def test_minor_complaints_have_no_separate_answer_clock(api):
    """Only major complaints separate the answer from the result in 4(4)9; a minor one is
    answered with its result, and an answer may still be recorded."""
    t = dispatched(api, cst(2026, 3, 9, 10, 0), "minor")
    assert [c for c in clocks(api, t) if c["step"] == "answer"] == []
    t = api.act(
        T, "clerk", t, "answer", plan="fixed tomorrow",
        promised_by=cst(2026, 3, 10, 17, 0).isoformat(),
    )  # fmt: skip
    assert history(api, t)[-1]["action"] == "answer"


def test_answer_promised_in_the_past_is_refused(api):
    t = dispatched(api, cst(2026, 3, 9, 10, 0), "major")
    r = post(api, HEAD, t, "answer", plan="soon", promised_by=cst(2026, 3, 9, 9, 0).isoformat())
    assert r.status_code == 422, r.text
    assert error(r)["field"] == "promised_by"
    r = post(api, HEAD, t, "answer", promised_by=cst(2026, 3, 12).isoformat())
    assert r.status_code == 422 and error(r)["field"] == "plan", r.text
    assert history(api, t)[-1]["action"] == "dispatch"


@pytest.fixture
def desk_b(api) -> Iterator[None]:
    """Greenwood run as desk B for one test [004 §篇3 二1], then the overrides removed."""
    rows = [
        ("answer", "major", 2, "hours"),
        ("resolution", "major", 3, "working_days"),
        ("reply", "major", 3, "working_days"),
    ]
    at(cst(2026, 3, 9, 8, 0))  # in force from then on
    for step, severity, amount, unit in rows:
        r = api.client.put(
            "/api/config/deadlines",
            json={"step": step, "severity": severity, "amount": amount, "unit": unit},
            headers=api.headers(T, "admin"),
        )
        assert r.status_code == 200, r.text
    yield

    async def clean(db: Database) -> None:
        async with db.cross_tenant() as session:
            tid = await session.scalar(select(Tenant.id).where(Tenant.slug == T))
            for step, severity, _, _ in rows:
                await session.execute(
                    delete(DeadlineSetting).where(
                        DeadlineSetting.tenant_id == tid,
                        DeadlineSetting.step == step,
                        DeadlineSetting.severity == severity,
                    )
                )

    run_db(api, clean)


def test_desk_b_profile_is_usable_as_written(api, desk_b):
    """重大投诉应在2小时内回复,3个工作日内处理完毕 [004 §篇3 二1]: the 2 hours are the first
    response (the answer), so a complaint answered within them and resolved on the third
    working day breaches nothing."""
    at(cst(2026, 3, 9, 9, 0))
    t = dispatched(api, cst(2026, 3, 9, 9, 0), "major")
    rows = clocks(api, t)
    assert one(rows, "answer")["limit"] == "2 hours"
    assert abs(ts(one(rows, "answer")["due_at"]) - cst(2026, 3, 9, 11, 0)) < dt.timedelta(
        seconds=30
    )
    at(cst(2026, 3, 9, 10, 30))
    t = api.act(T, HEAD, t, "first_contact", note="called the owner")
    t = api.act(
        T, HEAD, t, "answer", plan="engineer on site tomorrow",
        promised_by=cst(2026, 3, 12, 9, 0).isoformat(),
    )  # fmt: skip
    sweep_at(api, cst(2026, 3, 10, 9, 0))
    t = handle(api, t, cst(2026, 3, 12, 8, 45))
    t = api.act(T, HEAD, t, "reply", reply="done")
    rows = clocks(api, t)
    assert not [c for c in rows if c["breached_at"]], rows
    assert one(rows, "reply")["limit"] == "3 working_days"


# ---------------------------------------------------------------- the same-day hand-offs


def test_the_form_comes_back_and_the_complainant_is_told_the_same_day(api):
    """在投诉处理完毕的当天将《客户投诉意见表》交到客户服务中心 [000 §篇1 4(4)5①]; the desk
    在当天将处理结果通报给投诉客户 [4(4)6)]: both clocks end at 24:00 of the tenant's day."""
    t = dispatched(api, cst(2026, 3, 9, 10, 0), "minor")
    t = handle(api, t, cst(2026, 3, 10, 15, 0))
    back = one(clocks(api, t), "hand_back")
    assert back["limit"] == "0 same_day" and back["owner_department"] == DEPT
    assert ts(back["due_at"]) == cst(2026, 3, 11, 0, 0)

    at(cst(2026, 3, 10, 16, 0))
    t = api.act(T, HEAD, t, "hand_back", note="form returned")
    rows = clocks(api, t)
    assert one(rows, "hand_back")["state"] == "met"
    tell = one(rows, "tell")
    assert ts(tell["due_at"]) == cst(2026, 3, 11, 0, 0) and tell["owner_department"] != DEPT

    at(cst(2026, 3, 10, 17, 0))
    t = api.act(T, "clerk", t, "reply", reply="fixed; called the owner")
    assert one(clocks(api, t), "tell")["state"] == "met"


def test_a_form_kept_overnight_breaches_the_hand_back(api):
    t = dispatched(api, cst(2026, 3, 9, 10, 0), "minor")
    t = handle(api, t, cst(2026, 3, 10, 15, 0))
    sweep_at(api, cst(2026, 3, 11, 0, 5))
    back = one(clocks(api, t), "hand_back")
    assert back["breached_at"] is not None and back["owner_department"] == DEPT


# ---------------------------------------------------------------- per-ticket limits


def test_the_complainants_own_deadline_shortens_a_minor_complaint(api):
    """轻微投诉,不超过2天内或在客户要求的期限内解决 [000 §篇1 4(4)3②]: the complainant's
    deadline, given at intake, ends the resolution and the reply by then."""
    at(cst(2026, 3, 9, 10, 0))
    by = cst(2026, 3, 10, 12, 0)  # the table gives until 03-11 10:00
    t = received(api, severity="minor", resolve_by=by.isoformat())
    assert ts(t["resolve_by"]) == by
    t = ready(api, t, "minor")
    t = api.act(T, "clerk", t, "dispatch", department=DEPT)
    rows = clocks(api, t)
    for step in ("resolution", "reply"):
        c = one(rows, step)
        assert c["source"] == "ticket", c
        assert dt.timedelta(0) <= by - ts(c["due_at"]) < dt.timedelta(minutes=1), c


@pytest.mark.parametrize(
    ("severity", "offset", "rule"),
    [
        ("minor", dt.timedelta(days=3), "a per-ticket limit only shortens the table's"),
        ("minor", -dt.timedelta(hours=1), "a per-ticket limit is in the future"),
        ("important", dt.timedelta(hours=5), "severity allows a per-ticket limit"),
    ],
)
def test_a_complainants_deadline_that_would_lengthen_is_refused(api, severity, offset, rule):
    now = cst(2026, 3, 9, 10, 0)
    at(now)
    r = api.post(
        T, "clerk", "/api/tickets",
        json={
            "channel": "phone",
            "complainant": {"name": "张三", "contact": "13812345678"},
            "description": "leak", "severity": severity,
            "resolve_by": (now + offset).isoformat(),
        },
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert (error(r)["field"], error(r)["rule"]) == ("resolve_by", rule)


def test_the_leaders_limit_shortens_a_serious_complaint(api):
    """较严重的有效投诉…由分管领导…限定时间要求进行处理 [000 §篇6 4.2.3e]: a limit set when the
    important complaint is dispatched caps the resolution (already running) and the reply."""
    by = cst(2026, 3, 10, 18, 0)  # the table gives until 03-12 10:00
    t = dispatched(api, cst(2026, 3, 9, 10, 0), "important", resolve_by=by.isoformat())
    assert ts(t["resolve_by"]) == by
    rows = clocks(api, t)
    for step in ("resolution", "reply"):
        c = one(rows, step)
        assert c["source"] == "ticket" and ts(c["due_at"]) <= by, c
        assert by - ts(c["due_at"]) < dt.timedelta(minutes=1), c
    dispatch = [e for e in history(api, t) if e["action"] == "dispatch"][-1]
    assert ts(dispatch["payload"]["resolve_by"]) == by


def test_the_leaders_limit_is_refused_when_it_lengthens_or_for_a_minor_one(api):
    at(cst(2026, 3, 9, 10, 0))
    t = ready(api, received(api), "important")
    late = cst(2026, 3, 13, 10, 0).isoformat()
    r = post(api, "clerk", t, "dispatch", department=DEPT, resolve_by=late)
    assert r.status_code == 422 and error(r)["field"] == "resolve_by", r.text
    m = ready(api, received(api), "minor")
    r = post(api, "clerk", m, "dispatch", department=DEPT, resolve_by=cst(2026, 3, 10).isoformat())
    assert r.status_code == 422, r.text
    assert (error(r)["field"], error(r)["rule"]) == (
        "resolve_by",
        "severity allows a per-ticket limit",
    )
    assert history(api, t)[-1]["action"] == "review"
