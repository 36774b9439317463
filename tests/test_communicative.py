"""Issue 12 §4: communicative complaints (沟通性投诉: 求助 help, 咨询 inquiry, 发泄 venting) are
not valid complaints [000 §篇1 1(1)2)]; the severity definitions and the one-month upgrade
apply only to valid ones [000 §篇1 4(2)]. They have their own triage outcome, are counted
apart, and converting one to a valid complaint is an event. Reopening a ticket triaged
invalid returns it to triage, so the month's statistics count it by its final nature.

Through the HTTP API on both backends (greenwood, plugins/property); the sweep is called at
chosen moments as in tests/test_sweep.py. Statistics are compared before and after, over a
window of one day of its own, so other tests' tickets do not disturb them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from conftest import cst, run_db

from core import clock
from core.db import Database
from core.jobs.sweep import sweep

T = "greenwood"
DAY = cst(2026, 7, 15, 10, 0)


def received(api: Any, **extra: Any) -> dict[str, Any]:
    return api.create(T, accused_department="engineering", **extra)


def clocks(api: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(T, "manager", f"/api/tickets/{t['id']}/deadlines")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def history(api: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(T, "manager", f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def current(api: Any, t: dict[str, Any]) -> dict[str, Any]:
    r = api.get(T, "manager", f"/api/tickets/{t['id']}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def totals(api: Any) -> dict[str, int]:
    start, end = cst(2026, 7, 15, 0, 0), cst(2026, 7, 16, 0, 0)
    r = api.get(
        T, "manager", "/api/reports/stats",
        params={"from": start.isoformat(), "to": end.isoformat()},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()["totals"]  # type: ignore[no-any-return]


def sweep_at(api: Any, now: dt.datetime) -> None:
    clock.travel_to(now)

    async def go(db: Database) -> None:
        for _ in range(5):
            if not (await sweep(db, now)).clocks:
                return

    run_db(api, go)


def notes(api: Any, user: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(T, user, "/api/notifications")
    assert r.status_code == 200, r.text
    return [n for n in r.json() if n["ticket_id"] == t["id"]]


def test_an_inquiry_is_triaged_communicative_counted_apart_and_never_upgraded(api):
    """An inquiry (咨询) gets its own outcome: not valid, no dispatch clock, no one-month
    upgrade — a month later it is still what it was and the general manager heard nothing
    (before issue 12 it had to be triaged valid and was escalated after a month)."""
    clock.travel_to(DAY)
    before = totals(api)
    t = received(api, severity="minor")
    t = api.act(T, "clerk", t, "triage_communicative", kind="inquiry", note="asked about fees")
    assert (t["state"], t["communicative"], t["valid"]) == ("communicative", "inquiry", False)
    assert "convert" in t["allowed_actions"] and "settle" in t["allowed_actions"]
    event = history(api, t)[-1]
    assert event["action"] == "triage_communicative" and event["payload"]["kind"] == "inquiry"
    assert event["payload"]["kind_zh"] == "咨询"
    assert [c for c in clocks(api, t) if c["state"] == "running"] == []

    sweep_at(api, DAY + dt.timedelta(days=40))
    assert current(api, t)["severity"] == "minor"
    assert notes(api, "gm", t) == []

    after = totals(api)
    assert after["communicative"] == before["communicative"] + 1
    assert after["counted"] == before["counted"]
    assert after["invalid"] == before["invalid"]

    t = api.act(T, "clerk", current(api, t), "settle", explanation="explained the fee table")
    assert (t["state"], t["resolution"]) == ("closed", "communicative")


def test_converting_a_communicative_complaint_is_an_event_on_the_normal_path(api):
    """Mishandled, a communicative complaint becomes a valid one [000 §篇1 1(1)]: the convert
    event records what it was, and the ticket is then a valid one with its upgrade clock."""
    clock.travel_to(DAY)
    before = totals(api)
    t = received(api)
    t = api.act(T, "clerk", t, "triage_communicative", kind="venting")
    t = api.act(
        T, "supervisor", t, "convert", reason="the venting was about a repair never done",
        category="repair_quality", severity="important", facets={"nature": "valid"},
    )  # fmt: skip
    assert (t["state"], t["valid"], t["communicative"]) == ("valid", True, None)
    event = history(api, t)[-1]
    assert event["action"] == "convert"
    assert event["payload"]["communicative_was"] == "venting"
    steps = {c["step"] for c in clocks(api, t) if c["state"] == "running"}
    assert {"auto_upgrade", "dispatch"} <= steps
    after = totals(api)
    assert after["communicative"] == before["communicative"]
    assert after["counted"] == before["counted"] + 1


def test_reopening_an_invalid_ticket_returns_it_to_triage(api):
    """A ticket triaged invalid and reopened is triaged again; the statistics count it by its
    final nature (valid), no longer as invalid."""
    clock.travel_to(DAY)
    before = totals(api)
    t = received(api)
    t = api.act(T, "clerk", t, "triage_invalid", reason="the owner's own boiler")
    assert totals(api)["invalid"] == before["invalid"] + 1

    t = api.act(T, "supervisor", t, "reopen", reason="the boiler is the company's after all")
    assert (t["state"], t["valid"], t["resolution"]) == ("received", None, None)
    event = history(api, t)[-1]
    assert (event["from_state"], event["to_state"]) == ("closed", "received")
    assert event["payload"]["returned_to_triage"] is True
    running = {c["step"] for c in clocks(api, t) if c["state"] == "running"}
    assert running == {"dispatch", "invalid_notice"}

    t = api.act(
        T, "clerk", t, "triage_valid",
        category="repair_quality", severity="minor", facets={"nature": "valid"},
    )  # fmt: skip
    after = totals(api)
    assert after["invalid"] == before["invalid"]
    assert after["counted"] == before["counted"] + 1


def test_a_communicative_ticket_reopened_is_triaged_again(api):
    clock.travel_to(DAY)
    t = received(api)
    t = api.act(T, "clerk", t, "triage_communicative", kind="help")
    t = api.act(T, "clerk", t, "settle", explanation="gave the plumber's number")
    t = api.act(T, "manager", t, "reopen", reason="called back: the help never came")
    assert (t["state"], t["communicative"], t["valid"]) == ("received", None, None)


def test_triage_communicative_names_a_bad_kind(api):
    t = received(api)
    r = api.post(
        T, "clerk", f"/api/tickets/{t['id']}/triage-communicative",
        json={"version": t["version"], "kind": "complaint"},
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "kind"
