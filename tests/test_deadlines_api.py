"""Step clocks over the API: due times on China's working-day calendar, owners, severity
changes, tenant overrides, pauses, extensions and tenant calendar days (domain §2, §6).

Every test moves the application's clock (:func:`core.clock.travel_to`) to a fixed moment of
a year whose State Council schedule is published, creates its own tickets and puts the clock
back afterwards. Tenant-wide settings a test changes (deadline overrides, calendar days) are
removed again when it ends, so the tests run in any order on the shared database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import CST, cst, run_db, ts
from sqlalchemy import delete, select

from core import clock
from core.db import Database
from core.deadlines.calendar import known_years
from core.deadlines.models import DeadlineSetting
from core.people.models import Tenant

TENANTS: dict[str, dict[str, Any]] = {
    # tenants/riverside-power.toml, plugins/utility
    "riverside-power": {
        "channel": "hotline_95598",
        "category": "meter_reading",
        "severity": "general",
        "facets": {"commitment_breach": "other", "verified_responsibility": "verified"},
        "desk": "desk-95598",
        "dept": "station-chengguan",
        "head": "head-chengguan",
        "other_dept": "station-hexi",
        "other_head": "head-hexi",
        "staff": ["RP-S001"],
        "grade_extra": {"offence": "general_poor_attitude"},
    },
    # tenants/citybus.toml, plugins/transit
    "citybus": {
        "channel": "government_transfer",
        "category": "skip_stop",
        "severity": "general",
        "facets": {"direction": "government", "mode": "phone"},
        "desk": "customer-service",
        "dept": "fleet-1",
        "head": "head-fleet1",
        "other_dept": "fleet-2",
        "other_head": "head-fleet2",
        "staff": ["CB-S001"],
        "grade_extra": {"complainant_violation": "boarded by the rear door without paying"},
    },
    # tenants/greenwood-property.toml, plugins/property
    "greenwood": {
        "channel": "phone",
        "category": "repair_quality",
        "severity": "minor",
        "facets": {"nature": "valid"},
        "desk": "customer-service",
        "dept": "engineering",
        "head": "head-engineering",
        "other_dept": "security",
        "other_head": "head-security",
        "staff": ["GW-S001"],
        "grade_extra": {"offence": "tier_2"},
    },
}


# ---------------------------------------------------------------- helpers


@contextlib.contextmanager
def tenant_config(api: Any, slug: str, **values: Any) -> Iterator[None]:
    """Set keys of a tenant's ``config`` for the test (None removes one), then restore it."""

    async def put(db: Database, changes: dict[str, Any]) -> dict[str, Any]:
        async with db.cross_tenant() as s:
            tenant = await s.scalar(select(Tenant).where(Tenant.slug == slug))
            assert tenant is not None
            cfg = dict(tenant.config or {})
            was = {k: cfg.get(k) for k in changes}
            for k, v in changes.items():
                if v is None:
                    cfg.pop(k, None)
                else:
                    cfg[k] = v
            tenant.config = cfg
            return was

    was = run_db(api, lambda db: put(db, values))
    try:
        yield
    finally:
        run_db(api, lambda db: put(db, was))


def new_ticket(api: Any, tenant: str, **extra: Any) -> dict[str, Any]:
    c = TENANTS[tenant]
    return api.create(
        tenant,
        channel=c["channel"],
        accused_staff=c["staff"],
        accused_department=c["dept"],
        **extra,
    )


def to_ready(
    api: Any, tenant: str, t: dict[str, Any], severity: str | None = None
) -> dict[str, Any]:
    c = TENANTS[tenant]
    t = api.act(
        tenant,
        "clerk",
        t,
        "triage_valid",
        category=c["category"],
        severity=severity or c["severity"],
        facets=c["facets"],
    )
    t = api.act(tenant, "clerk", t, "register", reason="needs_follow_up")
    return api.act(tenant, "supervisor", t, "review", note="checked")


def dispatched(
    api: Any, tenant: str, at: dt.datetime | None = None, severity: str | None = None
) -> dict[str, Any]:
    """Intake, triage, register, review and dispatch, all at ``at``."""
    if at is not None:
        clock.travel_to(at)
    t = to_ready(api, tenant, new_ticket(api, tenant), severity)
    return api.act(tenant, "clerk", t, "dispatch", department=TENANTS[tenant]["dept"])


def clocks(api: Any, tenant: str, t: dict[str, Any], user: str = "manager") -> list[dict[str, Any]]:
    r = api.get(tenant, user, f"/api/tickets/{t['id']}/deadlines")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def only(rows: list[dict[str, Any]], step: str, state: str | None = None) -> dict[str, Any]:
    found = [c for c in rows if c["step"] == step and (state is None or c["state"] == state)]
    assert len(found) == 1, f"{step}/{state}: {found}"
    return found[0]


def history(api: Any, tenant: str, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def current(api: Any, tenant: str, t: dict[str, Any]) -> dict[str, Any]:
    r = api.get(tenant, "manager", f"/api/tickets/{t['id']}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def shifted(clock_row: dict[str, Any], planned_start: dt.datetime, expected: dt.datetime) -> None:
    """``due_at`` equals ``expected`` moved by how late the step actually started.

    The app's clock runs on after travel_to, so a step planned at 10:00 starts a few
    milliseconds later; a working-day due time keeps that local clock time and an elapsed
    limit adds to it, so both move by the same drift.
    """
    drift = ts(clock_row["started_at"]) - planned_start
    assert dt.timedelta(0) <= drift < dt.timedelta(seconds=30), clock_row
    assert ts(clock_row["due_at"]) == expected + drift, (
        f"{clock_row['step']}: due {ts(clock_row['due_at']).astimezone(CST)}, "
        f"expected {expected + drift}"
    )


# ---------------------------------------------------------------- issue done-when 1 (utility)

UTILITY_DISPATCHES = [
    # (dispatched at, first contact due: 1 working day, reply due: 4 working days)
    # [002 第十五条] on the State Council schedules:
    # 2026 Spring Festival: 02-15..02-23 off, Sat 02-14 and Sat 02-28 are working days.
    pytest.param(
        cst(2026, 2, 13), cst(2026, 2, 14), cst(2026, 2, 26), id="fri-before-spring-festival"
    ),
    pytest.param(
        cst(2026, 2, 26), cst(2026, 2, 27), cst(2026, 3, 3), id="thu-before-makeup-sat-0228"
    ),
    # 2025 National Day + Mid-Autumn: 10-01..10-08 off, Sun 09-28 and Sat 10-11 are working days.
    pytest.param(
        cst(2025, 9, 26), cst(2025, 9, 28), cst(2025, 10, 9), id="fri-0926-makeup-sun-0928"
    ),
    pytest.param(
        cst(2025, 9, 30), cst(2025, 10, 9), cst(2025, 10, 13), id="tue-0930-makeup-sat-1011"
    ),
    # An ordinary week: no holiday, the weekend does not count.
    pytest.param(
        cst(2025, 6, 6, 16, 30),
        cst(2025, 6, 9, 16, 30),
        cst(2025, 6, 12, 16, 30),
        id="plain-friday",
    ),
]


@pytest.mark.parametrize(("at", "contact_due", "reply_due"), UTILITY_DISPATCHES)
def test_utility_working_day_deadlines_follow_the_official_schedule(
    api, at, contact_due, reply_due
):
    """Issue done-when 1. A 95598 ticket dispatched to a power-supply station: the station
    contacts the customer within 1 working day and answers within 4 working days of receipt
    [002 第十五条]; a department that is not responsible returns it within 1 working day
    [002 第十七条]. Working days follow the State Council schedule including the make-up
    (调休) weekend days (domain §6)."""
    tenant = "riverside-power"
    t = dispatched(api, tenant, at)
    rows = clocks(api, tenant, t)
    contact = only(rows, "first_contact", "running")
    reply = only(rows, "reply", "running")
    ret = only(rows, "return", "running")
    assert (contact["limit"], reply["limit"], ret["limit"]) == (
        "1 working_days",
        "4 working_days",
        "1 working_days",
    )
    shifted(contact, at, contact_due)
    shifted(reply, at, reply_due)
    shifted(ret, at, contact_due)
    for c in (contact, reply, ret):
        assert c["owner_department"] == TENANTS[tenant]["dept"]
        assert c["overdue"] is False and c["breached_at"] is None


def test_utility_received_on_a_holiday_gets_the_full_allowance(api):
    """A ticket dispatched during the 2025 National Day holiday (10-01..10-08 off) starts
    counting when the next working period opens (Thu 10-09 08:30, the stations' hours in
    tenants/riverside-power.toml), so 1 working day ends at the opening of 10-10 and 4
    working days (10-09, 10-10, Sat 10-11 make-up, 10-13) at the opening of 10-14
    [002 第十五条; domain §6]. Without working hours the days run from midnight."""
    tenant = "riverside-power"
    t = dispatched(api, tenant, cst(2025, 10, 3, 15, 0))
    rows = clocks(api, tenant, t)
    assert ts(only(rows, "first_contact", "running")["due_at"]) == cst(2025, 10, 10, 8, 30)
    assert ts(only(rows, "reply", "running")["due_at"]) == cst(2025, 10, 14, 8, 30)
    with tenant_config(api, tenant, working_hours=None):
        t = dispatched(api, tenant, cst(2025, 10, 3, 15, 0))
        rows = clocks(api, tenant, t)
        assert ts(only(rows, "first_contact", "running")["due_at"]) == cst(2025, 10, 10, 0, 0)
        assert ts(only(rows, "reply", "running")["due_at"]) == cst(2025, 10, 14, 0, 0)


def test_utility_dispatch_hour_and_follow_up_24_clock_hours(api):
    """The 95598 desk dispatches within 1 hour, counted from intake [002 第十四条]; the
    follow-up call is due 24 clock hours after the unit's reply [002 第十六条] — clock hours,
    so a holiday in between does not stretch it (Sun 2026-02-15 is in the Spring Festival)."""
    tenant, c = "riverside-power", TENANTS["riverside-power"]
    intake = cst(2026, 2, 13, 10, 0)
    clock.travel_to(intake)
    t = new_ticket(api, tenant)
    d = only(clocks(api, tenant, t), "dispatch", "running")
    assert d["limit"] == "1 hours"
    shifted(d, intake, intake + dt.timedelta(hours=1))
    assert d["owner_department"] == c["desk"]

    clock.travel_to(cst(2026, 2, 13, 10, 40))
    t = api.act(tenant, "clerk", to_ready(api, tenant, t), "dispatch", department=c["dept"])
    d = only(clocks(api, tenant, t), "dispatch")
    assert d["state"] == "met" and d["overdue"] is False

    clock.travel_to(cst(2026, 2, 14, 9, 0))  # Sat, a make-up working day
    t = api.act(tenant, c["head"], t, "first_contact", note="phoned the customer")
    t = api.act(
        tenant,
        c["head"],
        t,
        "grade",
        findings="meter misread",
        grades=[
            {"staff": c["staff"][0], "grade": "main", "findings": "misread"} | c["grade_extra"]
        ],
    )
    reply_at = cst(2026, 2, 14, 15, 0)
    clock.travel_to(reply_at)
    t = api.act(tenant, c["head"], t, "reply", reply="bill corrected", apology=True)
    rows = clocks(api, tenant, t)
    assert only(rows, "first_contact")["state"] == "met"
    assert only(rows, "reply")["state"] == "met"
    follow = only(rows, "follow_up", "running")
    assert follow["limit"] == "24 hours"
    shifted(follow, reply_at, cst(2026, 2, 15, 15, 0))


@pytest.mark.parametrize(
    ("severity", "reply_due", "resolution_due"),
    [
        # 轻微投诉一般在2日内处理完毕; 重要投诉3日内; 重大投诉2日内明确答复, 不宜超过10日
        # [000 §篇1 4(4)9], read as calendar days (plugins/property/deadlines.py). The 2 days
        # of a major complaint are the interim answer's (issue 12 §1, tests/
        # test_interim_answer.py); its result is told within the 10 days.
        ("minor", cst(2025, 7, 13, 16, 0), cst(2025, 7, 13, 16, 0)),
        ("important", cst(2025, 7, 14, 16, 0), cst(2025, 7, 14, 16, 0)),
        ("major", cst(2025, 7, 21, 16, 0), cst(2025, 7, 21, 16, 0)),
    ],
)
def test_property_limits_by_severity(api, severity, reply_due, resolution_due):
    """Property desk A: the form reaches the department within 10 minutes [000 §篇1 4(4)4];
    the department starts within 1 working day [000 §篇7 四]; answer and handling limits by
    severity in calendar days [000 §篇1 4(4)9] — a weekend does not stop them."""
    tenant = "greenwood"
    at = cst(2025, 7, 11, 16, 0)  # Friday
    clock.travel_to(at)
    t = new_ticket(api, tenant)
    d = only(clocks(api, tenant, t), "dispatch", "running")
    assert d["limit"] == "10 minutes"
    shifted(d, at, at + dt.timedelta(minutes=10))
    t = api.act(
        tenant, "clerk", to_ready(api, tenant, t, severity), "dispatch", department="engineering"
    )
    rows = clocks(api, tenant, t)
    shifted(only(rows, "first_contact", "running"), at, cst(2025, 7, 14, 16, 0))
    shifted(only(rows, "reply", "running"), at, reply_due)
    shifted(only(rows, "resolution", "running"), at, resolution_due)
    assert only(rows, "resolution", "running")["owner_department"] == "engineering"


# ---------------------------------------------------------------- listing and owners


def test_every_step_listed_with_its_owner_and_return_moves_the_clock(api):
    """GET deadlines lists every step's clock, not only the nearest: due time, state and the
    owning department. The first-contact clock belongs to the department the ticket was
    dispatched to; when that department returns the ticket [002 第十七条] its clocks end and
    the redispatch starts new ones for the next department."""
    tenant, c = "riverside-power", TENANTS["riverside-power"]
    t = dispatched(api, tenant, cst(2025, 11, 3, 9, 0))
    rows = clocks(api, tenant, t)
    steps = {r["step"] for r in rows}
    assert {"dispatch", "first_contact", "return", "reply"} <= steps
    for r in rows:
        assert {"due_at", "state", "owner_department", "overdue", "limit", "source"} <= r.keys()
        assert r["state"] in ("running", "paused", "met", "missed", "cancelled")
    assert only(rows, "dispatch")["state"] == "met"
    assert only(rows, "first_contact")["owner_department"] == c["dept"]

    clock.travel_to(cst(2025, 11, 3, 14, 0))
    t = api.act(tenant, c["head"], t, "return", reason="the meter belongs to Hexi station")
    rows = clocks(api, tenant, t)
    first = only(rows, "first_contact")
    assert first["state"] == "cancelled" and first["owner_department"] == c["dept"]
    assert only(rows, "return")["state"] == "met"
    assert only(rows, "reply")["state"] == "cancelled"
    assert only(rows, "dispatch", "running")  # the desk must redispatch

    clock.travel_to(cst(2025, 11, 3, 14, 30))
    t = api.act(tenant, "clerk", t, "dispatch", department=c["other_dept"])
    rows = clocks(api, tenant, t)
    contact = [r for r in rows if r["step"] == "first_contact"]
    assert [(r["state"], r["owner_department"]) for r in contact] == [
        ("cancelled", c["dept"]),
        ("running", c["other_dept"]),
    ]
    new = only(rows, "first_contact", "running")
    shifted(new, cst(2025, 11, 3, 14, 30), cst(2025, 11, 4, 14, 30))
    assert only(rows, "reply", "running")["owner_department"] == c["other_dept"]
    assert only(rows, "resolution", "running")["owner_department"] == c["other_dept"]
    # The first department no longer owns a running step; the next one sees its clocks.
    assert not [r for r in rows if r["state"] == "running" and r["owner_department"] == c["dept"]]
    assert (
        only(clocks(api, tenant, t, c["other_head"]), "first_contact", "running")["id"] == new["id"]
    )


def test_redispatch_after_return_is_charged_to_the_desk(api):
    """Each clock is charged to the stage that owns the step (domain §6; engine docstring:
    "an overrun is charged to the stage that caused it"). After a station returns a work
    order, redispatching it is the 95598 desk's job (由95598班重新分发 [002 第十七条]): the new
    dispatch clock belongs to the desk, not to the station that returned it."""
    tenant, c = "riverside-power", TENANTS["riverside-power"]
    t = dispatched(api, tenant, cst(2025, 11, 4, 9, 0))
    t = api.act(tenant, c["head"], t, "return", reason="not our area")
    redispatch = only(clocks(api, tenant, t), "dispatch", "running")
    assert redispatch["owner_department"] == c["desk"], redispatch


def test_follow_up_is_charged_to_the_desk(api):
    """The follow-up call (回访) is the 95598 desk's work [002 第十六条, 第二十条, 第二十一条: 95598班
    再分发], whoever sends the reply: when the station head replies, the follow-up clock still
    belongs to the desk, not to the station."""
    tenant, c = "riverside-power", TENANTS["riverside-power"]
    t = dispatched(api, tenant, cst(2025, 11, 5, 9, 0))
    t = api.act(tenant, c["head"], t, "first_contact", note="phoned")
    t = api.act(
        tenant,
        c["head"],
        t,
        "grade",
        findings="misread",
        grades=[
            {"staff": c["staff"][0], "grade": "main", "findings": "misread"} | c["grade_extra"]
        ],
    )
    t = api.act(tenant, c["head"], t, "reply", reply="corrected", apology=True)
    follow = only(clocks(api, tenant, t), "follow_up", "running")
    assert follow["owner_department"] == c["desk"], follow


def test_reclassify_recomputes_running_clocks_and_history_shows_it(api):
    """A severity change re-times the running clocks: citybus answers a general complaint in
    3 working days and a major one in 1 (strict handling of major cases, 000 §篇8 4(1)3,
    plugins/transit/deadlines.py). The reclassify event's payload records old and new due."""
    tenant = "citybus"
    at = cst(2025, 3, 17, 10, 0)  # Monday
    t = dispatched(api, tenant, at)
    rows = clocks(api, tenant, t)
    reply = only(rows, "reply", "running")
    shifted(reply, at, cst(2025, 3, 20, 10, 0))
    reply_before = reply["due_at"]
    contact_before = only(rows, "first_contact", "running")["due_at"]

    clock.travel_to(cst(2025, 3, 17, 11, 0))
    t = api.act(tenant, "clerk", t, "reclassify", severity="major", reason="media coverage")
    rows = clocks(api, tenant, t)
    reply = only(rows, "reply", "running")
    assert reply["limit"] == "1 working_days"
    shifted(reply, at, cst(2025, 3, 18, 10, 0))
    assert only(rows, "first_contact", "running")["due_at"] == contact_before  # same limit
    # Ended clocks are not re-timed.
    assert only(rows, "dispatch")["state"] == "met"

    event = history(api, tenant, t)[-1]
    assert event["action"] == "reclassify"
    assert event["payload"]["severity_was"] == "general"
    changes = {d["step"]: d for d in event["payload"]["deadlines"]}
    assert ts(changes["reply"]["due_was"]) == ts(reply_before)
    assert ts(changes["reply"]["due_at"]) == ts(reply["due_at"])
    assert "first_contact" not in changes


# ---------------------------------------------------------------- tenant overrides


@pytest.fixture
def overrides(api) -> Iterator[list[tuple[str, str, str | None]]]:
    """Remove the deadline overrides a test made: (tenant, step, severity)."""
    made: list[tuple[str, str, str | None]] = []
    yield made

    async def clean(db: Database) -> None:
        async with db.cross_tenant() as session:
            for slug, step, severity in made:
                tid = await session.scalar(select(Tenant.id).where(Tenant.slug == slug))
                q = delete(DeadlineSetting).where(
                    DeadlineSetting.tenant_id == tid, DeadlineSetting.step == step
                )
                q = q.where(
                    DeadlineSetting.severity.is_(None)
                    if severity is None
                    else DeadlineSetting.severity == severity
                )
                await session.execute(q)

    if made:
        run_db(api, clean)


def test_tenant_override_applies_to_steps_started_after_it(api, overrides):
    """A tenant overrides the plugin's default (domain §6: "plugins supply defaults and
    tenants override them"); the new limit applies to steps started after the change, a
    running step keeps the limit it started with."""
    tenant = "citybus"
    a_at = cst(2025, 5, 12, 10, 0)  # Monday
    a = dispatched(api, tenant, a_at, severity="serious")
    a_reply = only(clocks(api, tenant, a), "reply", "running")
    assert (a_reply["limit"], a_reply["source"]) == ("2 working_days", "plugin")
    shifted(a_reply, a_at, cst(2025, 5, 14, 10, 0))

    clock.travel_to(cst(2025, 5, 12, 11, 0))
    overrides.append((tenant, "reply", "serious"))
    r = api.client.put(
        "/api/config/deadlines",
        json={"step": "reply", "severity": "serious", "amount": 4, "unit": "working_days"},
        headers=api.headers(tenant, "admin"),
    )
    assert r.status_code == 200, r.text
    row = r.json()
    assert (row["step"], row["severity"], row["amount"], row["unit"], row["source"]) == (
        "reply",
        "serious",
        4,
        "working_days",
        "tenant",
    )
    assert abs(ts(row["effective_from"]) - cst(2025, 5, 12, 11, 0)) < dt.timedelta(seconds=30)
    listed = api.get(tenant, "manager", "/api/config/deadlines").json()
    assert any(
        x["source"] == "tenant"
        and x["step"] == "reply"
        and x["severity"] == "serious"
        and x["amount"] == 4
        for x in listed
    )
    assert any(x["source"] == "plugin" and x["step"] == "reply" and x["seed"] for x in listed)

    b_at = cst(2025, 5, 12, 12, 0)
    b = dispatched(api, tenant, b_at, severity="serious")
    b_reply = only(clocks(api, tenant, b), "reply", "running")
    assert (b_reply["limit"], b_reply["source"]) == ("4 working_days", "tenant")
    shifted(b_reply, b_at, cst(2025, 5, 16, 12, 0))
    # A general ticket is not touched by an override for "serious".
    g = dispatched(api, tenant, b_at)
    assert only(clocks(api, tenant, g), "reply", "running")["limit"] == "3 working_days"

    # The step that started before the change keeps its limit.
    again = only(clocks(api, tenant, a), "reply", "running")
    assert (again["limit"], again["source"], again["due_at"]) == (
        "2 working_days",
        "plugin",
        a_reply["due_at"],
    )
    audit = api.get(tenant, "admin", "/api/audit", params={"entity": "deadline"}).json()
    assert any(e["entity_key"] == "reply:serious" and e["payload"]["amount"] == 4 for e in audit)


def test_override_with_future_effective_date_waits(api, overrides):
    """``effective_from`` in the future: steps started before it keep the plugin's limit."""
    tenant = "citybus"
    clock.travel_to(cst(2025, 5, 26, 9, 0))
    overrides.append((tenant, "return", None))
    r = api.client.put(
        "/api/config/deadlines",
        json={
            "step": "return",
            "amount": 3,
            "unit": "hours",
            "effective_from": cst(2025, 5, 27, 0, 0).isoformat(),
        },
        headers=api.headers(tenant, "admin"),
    )
    assert r.status_code == 200, r.text
    before = dispatched(api, tenant, cst(2025, 5, 26, 10, 0))
    assert only(clocks(api, tenant, before), "return", "running")["limit"] == "1 working_days"
    after = dispatched(api, tenant, cst(2025, 5, 27, 10, 0))
    ret = only(clocks(api, tenant, after), "return", "running")
    assert (ret["limit"], ret["source"]) == ("3 hours", "tenant")
    shifted(ret, cst(2025, 5, 27, 10, 0), cst(2025, 5, 27, 13, 0))


@pytest.mark.parametrize("user", ["manager", "clerk", "gm", "head-fleet1"])
def test_override_needs_tenant_admin(api, user):
    r = api.client.put(
        "/api/config/deadlines",
        json={"step": "reply", "amount": 9, "unit": "working_days"},
        headers=api.headers("citybus", user),
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"step": "lunch", "amount": 1, "unit": "hours"}, "step"),
        ({"step": "reply", "amount": 1, "unit": "fortnights"}, "unit"),
        ({"step": "reply", "amount": 0, "unit": "hours"}, "amount"),
        ({"step": "reply", "severity": "apocalyptic", "amount": 1, "unit": "hours"}, "severity"),
        (
            {
                "step": "reply",
                "amount": 1,
                "unit": "hours",
                "effective_from": "2025-05-01T00:00:00",
            },
            "effective_from",
        ),
    ],
)
def test_override_validation_names_the_field(api, body, field):
    r = api.client.put("/api/config/deadlines", json=body, headers=api.headers("citybus", "admin"))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == field, err
    if field == "step":
        assert "reply" in err["allowed"] and "first_contact" in err["allowed"]


# ---------------------------------------------------------------- pause and resume


def test_pause_with_a_plugin_reason_and_resume_pushes_the_due_time(api):
    """A clock paused for one of the plugin's reasons does not run while paused: resuming
    moves the due time on by the paused duration. Pause and resume are ticket history
    events (citybus reasons: plugins/transit/deadlines.py)."""
    tenant, c = "citybus", TENANTS["citybus"]
    at = cst(2025, 5, 19, 10, 0)  # Monday
    t = dispatched(api, tenant, at)
    contact = only(clocks(api, tenant, t), "first_contact", "running")
    shifted(contact, at, cst(2025, 5, 20, 10, 0))
    url = f"/api/tickets/{t['id']}/deadlines/first_contact"

    clock.travel_to(cst(2025, 5, 19, 11, 0))
    r = api.post(tenant, c["head"], f"{url}/pause", json={"reason": "on_holiday", "note": "x"})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "reason"
    assert err["allowed"] == [
        "complainant_unreachable",
        "waiting_third_party",
        "waiting_video_footage",
    ]
    r = api.post(tenant, c["other_head"], f"{url}/pause", json={"reason": "waiting_third_party"})
    assert r.status_code in (403, 404), r.text  # another department's head
    r = api.post(tenant, "staff-wang", f"{url}/pause", json={"reason": "waiting_third_party"})
    assert r.status_code in (403, 404), r.text

    r = api.post(
        tenant,
        c["head"],
        f"{url}/pause",
        json={"reason": "complainant_unreachable", "note": "phone switched off"},
    )
    assert r.status_code == 200, r.text
    paused = r.json()
    assert (paused["state"], paused["pause_reason"]) == ("paused", "complainant_unreachable")
    r = api.post(tenant, c["head"], f"{url}/pause", json={"reason": "waiting_third_party"})
    assert r.status_code == 409, r.text
    assert (
        api.post(tenant, c["head"], f"/api/tickets/{t['id']}/deadlines/reply/resume").status_code
        == 409
    )

    clock.travel_to(cst(2025, 5, 19, 15, 30))  # 4 h 30 min later
    r = api.post(tenant, c["head"], f"{url}/resume")
    assert r.status_code == 200, r.text
    resumed = r.json()
    assert resumed["state"] == "running" and resumed["paused_at"] is None
    assert abs(resumed["paused_seconds"] - 16200) <= 2
    pushed = ts(resumed["due_at"]) - ts(contact["due_at"])
    assert abs(pushed - dt.timedelta(hours=4, minutes=30)) < dt.timedelta(seconds=3)
    assert only(clocks(api, tenant, t), "first_contact", "running")["due_at"] == resumed["due_at"]

    events = [e for e in history(api, tenant, t) if e["action"].startswith("deadline_")]
    assert [e["action"] for e in events] == ["deadline_paused", "deadline_resumed"]
    assert events[0]["payload"] == {
        "step": "first_contact",
        "reason": "complainant_unreachable",
        "note": "phone switched off",
    }
    assert events[0]["actor"] == c["head"]
    assert abs(events[1]["payload"]["paused_seconds"] - 16200) <= 2
    assert ts(events[1]["payload"]["due_at"]) == ts(resumed["due_at"])


@pytest.mark.parametrize(
    ("tenant", "allowed"),
    [
        ("riverside-power", ["complainant_unreachable", "waiting_third_party"]),
        ("greenwood", ["complainant_unreachable", "waiting_third_party"]),
        ("citybus", ["complainant_unreachable", "waiting_third_party", "waiting_video_footage"]),
    ],
)
def test_pause_reasons_are_the_plugins(api, tenant, allowed):
    """Each industry names its own pause reasons (plugins/*/deadlines.py); anything else is
    refused with the list, and the clock keeps running."""
    c = TENANTS[tenant]
    t = dispatched(api, tenant, cst(2025, 7, 15, 10, 0))
    url = f"/api/tickets/{t['id']}/deadlines/reply/pause"
    r = api.post(tenant, c["head"], url, json={"reason": "lunch_break"})
    assert r.status_code == 422, r.text
    assert (r.json()["error"]["field"], r.json()["error"]["allowed"]) == ("reason", allowed)
    assert only(clocks(api, tenant, t), "reply")["state"] == "running"
    r = api.post(tenant, c["head"], url, json={"reason": allowed[-1], "note": "waiting"})
    assert r.status_code == 200 and r.json()["state"] == "paused", r.text


def test_pause_unknown_step_and_ended_clock(api):
    tenant, c = "citybus", TENANTS["citybus"]
    t = dispatched(api, tenant, cst(2025, 5, 20, 10, 0))
    r = api.post(
        tenant,
        c["head"],
        f"/api/tickets/{t['id']}/deadlines/lunch/pause",
        json={"reason": "waiting_third_party"},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "step", r.text
    # The dispatch step is over (met): nothing to pause.
    r = api.post(
        tenant,
        "clerk",
        f"/api/tickets/{t['id']}/deadlines/dispatch/pause",
        json={"reason": "waiting_third_party"},
    )
    assert r.status_code == 409, r.text


# ---------------------------------------------------------------- extensions


def test_minor_extension_approved_by_the_department_manager(api):
    """Overrunning a deadline needs approval: a minor property complaint by the property
    manager (物业部经理 → manager, plugins/property/roles.py) [000 §篇1 4(4)9], never by the
    head of the department that overran, who asks (domain §10). The handler asks with a
    reason, the approver approves, the step gets a new due time; all in the history."""
    tenant, c = "greenwood", TENANTS["greenwood"]
    at = cst(2025, 7, 7, 10, 0)  # Monday
    t = dispatched(api, tenant, at, severity="minor")
    step = "reply"  # minor: 2 (calendar) days [000 §篇1 4(4)9] → Wed 07-09 10:00
    target = only(clocks(api, tenant, t), step, "running")
    shifted(target, at, cst(2025, 7, 9, 10, 0))
    clock.travel_to(cst(2025, 7, 7, 11, 0))
    r = api.post(
        tenant,
        c["head"],
        f"/api/tickets/{t['id']}/deadlines/{step}/extensions",
        json={
            "amount": 2,
            "unit": "working_days",
            "reason": "spare part on order",
            "complainant_informed": True,
        },
    )
    assert r.status_code == 201, r.text
    ext = r.json()
    assert (ext["status"], ext["step"], ext["new_due_at"]) == ("pending", step, None)
    r = api.post(
        tenant,
        c["head"],
        f"/api/tickets/{t['id']}/deadlines/{step}/extensions",
        json={"amount": 1, "unit": "hours", "reason": "again"},
    )
    assert r.status_code == 409, r.text  # one pending request per step
    # Nothing moved before the decision.
    assert only(clocks(api, tenant, t), step, "running")["due_at"] == target["due_at"]
    assert (
        api.post(tenant, "clerk", f"/api/extensions/{ext['id']}/approve", json={}).status_code
        == 403
    )

    r = api.post(tenant, c["head"], f"/api/extensions/{ext['id']}/approve", json={"reason": "ok"})
    assert r.status_code == 403, r.text  # the asker's department overran: not his to approve
    r = api.post(tenant, "manager", f"/api/extensions/{ext['id']}/approve", json={"reason": "ok"})
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "approved"
    # Two working days after the old due time: Fri 07-11 at the same time.
    expected = ts(target["due_at"]) + dt.timedelta(days=2)
    assert expected.astimezone(CST).date() == dt.date(2025, 7, 11)
    assert ts(decided["new_due_at"]) == expected
    row = only(clocks(api, tenant, t), step, "running")
    assert (ts(row["due_at"]), row["source"]) == (expected, "extension")
    r = api.post(tenant, "gm", f"/api/extensions/{ext['id']}/reject", json={"reason": "late"})
    assert r.status_code == 409, r.text  # decided once

    events = {e["action"]: e for e in history(api, tenant, t)}
    asked = events["extension_requested"]
    assert asked["actor"] == c["head"]
    assert {
        "extension_id": ext["id"],
        "step": step,
        "amount": 2,
        "unit": "working_days",
        "reason": "spare part on order",
        "complainant_informed": True,
    }.items() <= asked["payload"].items()
    approved = events["extension_approved"]
    assert approved["actor"] == "manager"
    assert ts(approved["payload"]["due_was"]) == ts(target["due_at"])
    assert ts(approved["payload"]["due_at"]) == expected


def test_important_extension_only_by_the_general_manager(api):
    """An important property complaint's overrun is approved by the general manager only
    (超时需经公司总经理批准 [000 §篇1 4(4)9]): the manager gets 403; a rejection leaves the due
    time alone; the general manager's approval moves it. The approver is notified."""
    tenant, c = "greenwood", TENANTS["greenwood"]
    at = cst(2025, 7, 8, 10, 0)
    t = dispatched(api, tenant, at, severity="important")
    step = "resolution"  # important: 3 (calendar) days [000 §篇1 4(4)9]
    target = only(clocks(api, tenant, t), step, "running")
    shifted(target, at, cst(2025, 7, 11, 10, 0))
    url = f"/api/tickets/{t['id']}/deadlines/{step}/extensions"
    body = {"amount": 3, "unit": "hours", "reason": "owner abroad", "complainant_informed": True}

    r = api.post(tenant, c["head"], url, json=body)
    assert r.status_code == 201, r.text
    first = r.json()
    gm_notes = api.get(tenant, "gm", "/api/notifications").json()
    assert any(n["kind"] == "extension_requested" and n["ticket_id"] == t["id"] for n in gm_notes)
    for user in ("manager", c["head"], "supervisor"):
        r = api.post(tenant, user, f"/api/extensions/{first['id']}/approve", json={})
        assert r.status_code == 403, (user, r.text)
        assert r.json()["error"]["allowed_roles"] == ["general_manager"]
    r = api.post(tenant, "gm", f"/api/extensions/{first['id']}/reject", json={"reason": "no"})
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    assert only(clocks(api, tenant, t), step, "running")["due_at"] == target["due_at"]

    r = api.post(tenant, c["head"], url, json=body)
    assert r.status_code == 201, r.text
    second = r.json()
    r = api.post(tenant, "gm", f"/api/extensions/{second['id']}/approve", json={"reason": "ok"})
    assert r.status_code == 200, r.text
    new_due = ts(r.json()["new_due_at"])
    assert new_due == ts(target["due_at"]) + dt.timedelta(hours=3)
    assert ts(only(clocks(api, tenant, t), step, "running")["due_at"]) == new_due
    actions = [e["action"] for e in history(api, tenant, t)]
    assert actions[-4:] == [
        "extension_requested",
        "extension_rejected",
        "extension_requested",
        "extension_approved",
    ]


# ---------------------------------------------------------------- tenant calendar


@pytest.fixture
def calendar_days(api) -> Iterator[list[tuple[str, str]]]:
    """Remove the calendar days a test added: (tenant, YYYY-MM-DD)."""
    made: list[tuple[str, str]] = []
    yield made
    for tenant, day in made:
        api.client.delete(f"/api/config/calendar/{day}", headers=api.headers(tenant, "admin"))


def test_tenant_closure_moves_running_working_day_clocks(api, calendar_days):
    """A tenant's own closure (domain §6: "a tenant can add its own closures") on a day
    inside a running working-day clock moves its due time by one working day, audited;
    removing it moves it back. Clocks whose span does not include the day stay put."""
    tenant = "citybus"
    at = cst(2025, 3, 10, 10, 0)  # Monday; reply (3 wd) due Thu 03-13
    t = dispatched(api, tenant, at)
    rows = clocks(api, tenant, t)
    reply, contact = only(rows, "reply", "running"), only(rows, "first_contact", "running")
    shifted(reply, at, cst(2025, 3, 13, 10, 0))
    shifted(contact, at, cst(2025, 3, 11, 10, 0))

    r = api.client.put(
        "/api/config/calendar/2025-03-12",
        json={"kind": "closure", "note": "depot move"},
        headers=api.headers(tenant, "clerk"),
    )
    assert r.status_code == 403, r.text
    calendar_days.append((tenant, "2025-03-12"))
    r = api.client.put(
        "/api/config/calendar/2025-03-12",
        json={"kind": "closure", "note": "depot move"},
        headers=api.headers(tenant, "admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["clocks_retimed"] >= 1
    assert {"day": "2025-03-12", "kind": "closure", "note": "depot move"} in api.get(
        tenant, "manager", "/api/config/calendar"
    ).json()
    rows = clocks(api, tenant, t)
    shifted(only(rows, "reply", "running"), at, cst(2025, 3, 14, 10, 0))
    assert only(rows, "first_contact", "running")["due_at"] == contact["due_at"]

    audit = api.get(tenant, "admin", "/api/audit").json()
    day = [e for e in audit if e["entity"] == "calendar_day" and e["entity_key"] == "2025-03-12"]
    assert day and day[0]["action"] == "set" and day[0]["payload"]["kind"] == "closure"
    moved = [
        e for e in audit if e["action"] == "deadline_recomputed" and e["entity_key"] == t["number"]
    ]
    assert moved, "the re-timing of the ticket's clocks is audited"
    changes = {x["step"]: x for x in moved[0]["payload"]["changes"]}
    assert ts(changes["reply"]["due_was"]) == ts(reply["due_at"])
    assert "first_contact" not in changes

    r = api.client.delete("/api/config/calendar/2025-03-12", headers=api.headers(tenant, "admin"))
    assert r.status_code == 200, r.text
    calendar_days.clear()
    rows = clocks(api, tenant, t)
    assert only(rows, "reply", "running")["due_at"] == reply["due_at"]
    audit = api.get(tenant, "admin", "/api/audit", params={"entity": "calendar_day"}).json()
    assert audit[0]["entity_key"] == "2025-03-12" and audit[0]["action"] == "remove"
    assert (
        api.client.delete(
            "/api/config/calendar/2025-03-12", headers=api.headers(tenant, "admin")
        ).status_code
        == 404
    )


def test_tenant_extra_workday_shortens_a_running_clock(api, calendar_days):
    """A tenant's extra working day (a Saturday it works) counts as a working day: the
    resolution clock (5 working days, plugins/transit/deadlines.py) started Mon 2025-03-24
    ends Sat 03-29 instead of Mon 03-31."""
    tenant = "citybus"
    at = cst(2025, 3, 24, 10, 0)
    t = dispatched(api, tenant, at)
    res = only(clocks(api, tenant, t), "resolution", "running")
    assert ts(res["due_at"]).astimezone(CST).date() == dt.date(2025, 3, 31)
    calendar_days.append((tenant, "2025-03-29"))
    r = api.client.put(
        "/api/config/calendar/2025-03-29",
        json={"kind": "workday", "note": "inspection Saturday"},
        headers=api.headers(tenant, "manager"),
    )
    assert r.status_code == 200, r.text
    res2 = only(clocks(api, tenant, t), "resolution", "running")
    assert ts(res2["due_at"]).astimezone(CST).date() == dt.date(2025, 3, 29)
    assert ts(res2["due_at"]).astimezone(CST).time() == ts(res["due_at"]).astimezone(CST).time()


# ---------------------------------------------------------------- the end of the known calendar


def test_complaints_are_recorded_at_the_end_of_the_last_published_year(api):
    """The working-day calendar refuses years without an official schedule (calendar.py:
    CalendarOutOfRange, fallback "error"), but a complaint received on the last evening of
    the last published year must still be recorded and worked (domain §2: record the
    complaint; "绝不能拖着不办"): intake is 201 and no transition answers a bare 500. With
    ``holidays`` knowing up to 2026 this is 2026-12-31 — about a month away on the day these
    tests were written."""
    tenant, c = "riverside-power", TENANTS["riverside-power"]
    last = known_years()[-1]
    clock.travel_to(cst(last, 12, 31, 18, 0))
    r = api.post(
        tenant,
        "clerk",
        "/api/tickets",
        json={
            "channel": c["channel"],
            "complainant": {"name": "李四", "contact": "13900000000"},
            "description": "meter reading wrong on new year's eve",
        },
    )
    assert r.status_code == 201, r.text
    t = r.json()
    for user, action, body in [
        (
            "clerk",
            "triage_valid",
            {"category": c["category"], "severity": "general", "facets": c["facets"]},
        ),
        ("clerk", "register", {"reason": "needs_follow_up"}),
        ("supervisor", "review", {}),
        ("clerk", "dispatch", {"department": c["dept"]}),
    ]:
        r = api.post(
            tenant,
            user,
            f"/api/tickets/{t['id']}/{action.replace('_', '-')}",
            json={"version": t["version"]} | body,
        )
        assert r.status_code < 500, f"{action}: {r.status_code} {r.text}"
        if r.status_code != 200:
            break
        t = r.json()
