"""Issue 11 over the HTTP API: every duration given in working time stays in working time
through pauses, extensions, calendar changes and warnings, and every date derived for a
tenant is in the tenant's zone on both backends (docs/deadlines.md).

Times are China Standard Time on citybus (reply: 3 working days, plugins/transit/deadlines.py)
unless said. The app's clock is moved with :func:`core.clock.travel_to` and runs on from
there, so each step starts a few milliseconds after the planned instant: due times are
compared within a few seconds (:func:`near`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from conftest import cst, ts
from test_deadlines_api import (
    TENANTS,
    clocks,
    current,
    dispatched,
    history,
    new_ticket,
    only,
    tenant_config,
)
from test_sweep import sweep_at

from core import clock

TENANT = "citybus"
HEAD = TENANTS[TENANT]["head"]


def near(got: str | dt.datetime, expected: dt.datetime) -> None:
    moment = ts(got) if isinstance(got, str) else got
    assert abs(moment - expected) < dt.timedelta(seconds=5), (
        f"{moment.astimezone(expected.tzinfo)} != {expected}"
    )


def pause(api: Any, t: dict[str, Any], step: str, at: dt.datetime) -> dict[str, Any]:
    clock.travel_to(at)
    r = api.post(
        TENANT,
        HEAD,
        f"/api/tickets/{t['id']}/deadlines/{step}/pause",
        json={"reason": "waiting_video_footage"},
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def resume(api: Any, t: dict[str, Any], step: str, at: dt.datetime) -> dict[str, Any]:
    clock.travel_to(at)
    r = api.post(TENANT, HEAD, f"/api/tickets/{t['id']}/deadlines/{step}/resume")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


# ---------------------------------------------------------------- 1. pauses keep working time


def test_pause_keeps_the_working_days_left_not_the_wall_clock(api):
    """Issue 11 §1. Dispatched Mon 2026-03-09 10:00, reply in 3 working days → Thu 03-12
    10:00. Paused Tue 03-10 10:00 (two working days left), resumed Thu 03-12 10:00: due Mon
    03-16 10:00 — not Sat 03-14, which wall-clock crediting gave (a non-working day)."""
    t = dispatched(api, TENANT, cst(2026, 3, 9, 10))
    near(only(clocks(api, TENANT, t), "reply", "running")["due_at"], cst(2026, 3, 12, 10))
    paused = pause(api, t, "reply", cst(2026, 3, 10, 10))
    assert paused["state"] == "paused"
    near(paused["due_at"], cst(2026, 3, 12, 10))  # shown as before until resumed
    resumed = resume(api, t, "reply", cst(2026, 3, 12, 10))
    near(resumed["due_at"], cst(2026, 3, 16, 10))
    assert abs(resumed["paused_seconds"] - 2 * 86400) <= 5  # wall-clock length, as recorded
    row = only(clocks(api, TENANT, t), "reply", "running")
    assert row["due_at"] == resumed["due_at"]
    event = [e for e in history(api, TENANT, t) if e["action"] == "deadline_resumed"][-1]
    assert ts(event["payload"]["due_at"]) == ts(resumed["due_at"])


def test_pause_over_a_weekend_credits_no_weekend(api):
    """Issue 11 §1, the other way round. Dispatched Thu 2026-03-12 10:00 → due Tue 03-17
    10:00. Paused Fri 03-13 10:00 (two working days left: Fri→Mon, Mon→Tue), resumed Mon
    03-16 10:00 → due Wed 03-18 10:00; wall-clock crediting of the three days gave Fri 03-20."""
    t = dispatched(api, TENANT, cst(2026, 3, 12, 10))
    near(only(clocks(api, TENANT, t), "reply", "running")["due_at"], cst(2026, 3, 17, 10))
    pause(api, t, "reply", cst(2026, 3, 13, 10))
    resumed = resume(api, t, "reply", cst(2026, 3, 16, 10))
    near(resumed["due_at"], cst(2026, 3, 18, 10))


def test_step_met_while_paused_is_judged_without_the_paused_time(api):
    """A step finished while its clock is paused: the pause ends then, and the step is
    judged against the due time with that pause taken out (met, not missed)."""
    t = dispatched(api, TENANT, cst(2026, 3, 9, 10))  # first contact due Tue 03-10 10:00
    pause(api, t, "first_contact", cst(2026, 3, 9, 11))
    clock.travel_to(cst(2026, 3, 11, 9))  # past the unpaused due time
    api.act(TENANT, HEAD, current(api, TENANT, t), "first_contact", note="reached the passenger")
    contact = only(clocks(api, TENANT, t), "first_contact")
    assert contact["state"] == "met", contact
    # Hours 08:30-17:30 (tenants/citybus.toml): 1 working day is 9 h; one was spent before
    # the pause, so 8 h are left from Wed 09:00.
    near(contact["due_at"], cst(2026, 3, 11, 17))


# ---------------------------------------------------------------- 2. calendar changes


def test_calendar_change_retimes_an_extended_clock(api):
    """Issue 11 §2. Dispatched Mon 2026-03-23 10:00, reply due Thu 03-26; 2 working days
    more approved → Mon 03-30. The admin then closes Fri 03-27: the extended clock is
    recomputed from its inputs (start, limit, extension) with the new calendar → Tue 03-31.
    Removing the closure puts it back."""
    t = dispatched(api, TENANT, cst(2026, 3, 23, 10))
    near(only(clocks(api, TENANT, t), "reply", "running")["due_at"], cst(2026, 3, 26, 10))
    clock.travel_to(cst(2026, 3, 24, 10))
    r = api.post(
        TENANT,
        HEAD,
        f"/api/tickets/{t['id']}/deadlines/reply/extensions",
        json={"amount": 2, "unit": "working_days", "reason": "CCTV from the depot"},
    )
    assert r.status_code == 201, r.text
    r = api.post(TENANT, "manager", f"/api/extensions/{r.json()['id']}/approve", json={})
    assert r.status_code == 200, r.text
    near(r.json()["new_due_at"], cst(2026, 3, 30, 10))
    try:
        r = api.client.put(
            "/api/config/calendar/2026-03-27",
            json={"kind": "closure", "note": "depot move"},
            headers=api.headers(TENANT, "admin"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["clocks_retimed"] >= 1
        reply = only(clocks(api, TENANT, t), "reply", "running")
        assert reply["source"] == "extension"
        near(reply["due_at"], cst(2026, 3, 31, 10))
    finally:
        r = api.client.delete(
            "/api/config/calendar/2026-03-27", headers=api.headers(TENANT, "admin")
        )
        assert r.status_code == 200, r.text
    near(only(clocks(api, TENANT, t), "reply", "running")["due_at"], cst(2026, 3, 30, 10))


def test_calendar_change_retimes_a_paused_and_resumed_clock_from_scratch(api):
    """A clock that was paused keeps its pause through a calendar change: closing a day
    after the resumption moves the due time by exactly that working day."""
    t = dispatched(api, TENANT, cst(2026, 3, 9, 10))
    pause(api, t, "reply", cst(2026, 3, 10, 10))
    resume(api, t, "reply", cst(2026, 3, 12, 10))  # due Mon 03-16 10:00 (test above)
    try:
        r = api.client.put(
            "/api/config/calendar/2026-03-13",
            json={"kind": "closure"},
            headers=api.headers(TENANT, "admin"),
        )
        assert r.status_code == 200, r.text
        near(only(clocks(api, TENANT, t), "reply", "running")["due_at"], cst(2026, 3, 17, 10))
    finally:
        api.client.delete("/api/config/calendar/2026-03-13", headers=api.headers(TENANT, "admin"))


# ---------------------------------------------------------------- 3. warnings in working time


def test_warning_for_an_out_of_hours_intake_fires_in_working_hours_before_due(api):
    """Issue 11 §3. Hours 08:30-17:30; intake Mon 2026-06-01 18:00: the 1-working-day clock
    (invalid-notice, plugins/transit/deadlines.py) starts at Tue 08:30 and is due Wed 08:30.
    Its warning falls when a quarter of the working time is left, Tue 15:15 — in Tuesday's
    working hours, not deferred onto the due instant."""
    with tenant_config(api, TENANT, working_hours=["08:30", "17:30"]):
        clock.travel_to(cst(2026, 6, 1, 18, 0))
        t = new_ticket(api, TENANT)
        notice = only(clocks(api, TENANT, t), "invalid_notice", "running")
        assert ts(notice["due_at"]) == cst(2026, 6, 3, 8, 30)
        sweep_at(api, cst(2026, 6, 2, 15, 10))
        assert only(clocks(api, TENANT, t), "invalid_notice")["warned_at"] is None
        sweep_at(api, cst(2026, 6, 2, 15, 16))
        notice = only(clocks(api, TENANT, t), "invalid_notice", "running")
        assert ts(notice["warned_at"]) == cst(2026, 6, 2, 15, 16)
        assert notice["breached_at"] is None


# ---------------------------------------------------------------- 4. dates in the zone


def _months(api: Any, params: dict[str, str]) -> dict[str, int]:
    r = api.get(TENANT, "manager", "/api/reports/stats", params=params)
    assert r.status_code == 200, r.text
    return {b["key"]: b["counted"] + b["not_counted"] for b in r.json()["trend"]["month"]}


def _weeks(api: Any, params: dict[str, str]) -> dict[str, int]:
    r = api.get(TENANT, "manager", "/api/reports/stats", params=params)
    assert r.status_code == 200, r.text
    return {b["key"]: b["counted"] + b["not_counted"] for b in r.json()["trend"]["week"]}


def test_month_buckets_in_a_daylight_saving_zone_agree_on_both_backends(api):
    """Issue 11 §4. A tenant in Europe/London: a ticket created 2026-07-01 00:30 summer time
    (2026-06-30 23:30 UTC) counts in July and in the week of Mon 06-29, on SQLite as on
    PostgreSQL, in a window that starts in winter time (GMT)."""
    london = ZoneInfo("Europe/London")
    params = {"from": "2026-01-01T00:00:00+00:00", "to": "2026-12-01T00:00:00+00:00"}
    with tenant_config(api, TENANT, timezone="Europe/London"):
        months, weeks = _months(api, params), _weeks(api, params)
        clock.travel_to(dt.datetime(2026, 7, 1, 0, 30, tzinfo=london))
        t = new_ticket(api, TENANT)
        assert ts(t["created_at"]).astimezone(dt.UTC).hour == 23
        months_after, weeks_after = _months(api, params), _weeks(api, params)
    assert months_after["2026-07"] == months.get("2026-07", 0) + 1
    assert months_after["2026-06"] == months.get("2026-06", 0)
    assert weeks_after["2026-06-29"] == weeks.get("2026-06-29", 0) + 1


def test_ticket_number_year_is_the_tenants(api):
    """Issue 11 §4: a ticket received 2027-01-01 00:30 in Shanghai (2026-12-31 16:30 UTC) is
    numbered in 2027."""
    clock.travel_to(cst(2027, 1, 1, 0, 30))
    t = new_ticket(api, TENANT)
    assert t["number"].startswith("CB-2027-"), t["number"]


# ---------------------------------------------------------------- 5. leftovers


def test_after_a_return_the_resolution_clock_is_the_desks_until_redispatch(api):
    """Issue 11 §5. After fleet-1 returns a ticket, its resolution clock is charged to the
    desk that holds it (customer-service), and to fleet-2 once redispatched there."""
    c = TENANTS[TENANT]
    t = dispatched(api, TENANT, cst(2026, 3, 9, 10))
    assert only(clocks(api, TENANT, t), "resolution", "running")["owner_department"] == c["dept"]
    clock.travel_to(cst(2026, 3, 9, 11))
    t = api.act(TENANT, HEAD, t, "return", reason="route 5 belongs to fleet 2")
    resolution = only(clocks(api, TENANT, t), "resolution", "running")
    assert resolution["owner_department"] == c["desk"], resolution
    t = api.act(TENANT, "clerk", t, "dispatch", department=c["other_dept"])
    resolution = only(clocks(api, TENANT, t), "resolution", "running")
    assert resolution["owner_department"] == c["other_dept"], resolution
