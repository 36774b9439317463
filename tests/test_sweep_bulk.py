"""The set-based sweep (issue 10 item 4, issue 11 item 5): everything a sweep writes is
stamped with the instant it evaluates, not the app clock; one call handles more due clocks
than its batch size, each once; breaches from several tickets are written in bulk with the
same effects as one by one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from conftest import cst, run_db
from sqlalchemy import select
from test_sweep import clocks, dispatched

from core import clock
from core.audit import AuditEvent
from core.db import Database
from core.deadlines.models import StepClock
from core.jobs.sweep import sweep
from core.tasks.models import Notification, OutboxEvent


def test_sweep_stamps_the_evaluated_instant_and_clears_more_than_a_batch(api: Any) -> None:
    tenant = "citybus"
    base = cst(2025, 4, 14, 10, 0)  # Monday: first contact due Tue 10:00
    tickets = [dispatched(api, tenant, base) for _ in range(3)]
    at = cst(2025, 4, 16, 12, 0)  # Wednesday noon: every first contact is overdue
    clock.travel_to(cst(2031, 1, 1, 9, 0))  # the app clock is somewhere else entirely

    async def go(db: Database) -> Any:
        return await sweep(db, at, batch=2)  # smaller than the breaches waiting

    report = run_db(api, go)
    ids = {t["id"] for t in tickets}
    breached = [
        c for t in tickets for c in clocks(api, tenant, t) if c["breached_at"] is not None
    ]
    # (other tests' clocks share this database: the report counts theirs too)
    assert len(breached) >= 3 and report.breached >= len(breached)
    assert {c["id"] for c in breached} <= set(report.clocks)
    assert {c["step"] for c in breached} >= {"first_contact"}

    async def written(db: Database) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        async with db.cross_tenant() as s:
            keys = [f"breach:{c['id']}" for c in breached]
            notes = list(await s.scalars(select(Notification).where(
                Notification.dedupe_key.in_(keys))))  # fmt: skip
            outbox = list(await s.scalars(select(OutboxEvent).where(
                OutboxEvent.dedupe_key.in_(keys))))  # fmt: skip
            audit = list(await s.scalars(select(AuditEvent).where(
                AuditEvent.action == "deadline_breached",
                AuditEvent.entity_key.in_([t["number"] for t in tickets]))))  # fmt: skip
            flagged = list(await s.scalars(select(StepClock).where(
                StepClock.ticket_id.in_(ids), StepClock.breached_at.is_not(None))))  # fmt: skip
            return notes, outbox, audit, flagged

    notes, outbox, audit, flagged = run_db(api, written)
    assert notes and {n.created_at for n in notes} == {at}
    assert len(outbox) == len(breached) and {o.created_at for o in outbox} == {at}
    assert len(audit) == len(breached) and {a.at for a in audit} == {at}
    assert {c.breached_at for c in flagged} == {at} and all(c.alarm_at is None for c in flagged)
    # every chain member once per breached clock: the sweep ran in batches of 2, none twice
    per_key: dict[tuple[int, str], int] = {}
    for n in notes:
        per_key[(n.user_id, n.dedupe_key)] = per_key.get((n.user_id, n.dedupe_key), 0) + 1
    assert set(per_key.values()) == {1}
    assert {n.dedupe_key for n in notes} == {f"breach:{c['id']}" for c in breached}

    again = run_db(api, go)
    assert again.breached == 0 and not {c["id"] for c in breached} & set(again.clocks)


def test_warning_sent_at_the_evaluated_instant(api: Any) -> None:
    """A due-soon warning swept in working hours: the clock's ``warned_at`` and the
    notification carry the sweep's instant, not the app clock's."""
    tenant = "citybus"
    t = dispatched(api, tenant, cst(2025, 4, 14, 10, 0))  # Monday: first contact due Tue 10:00
    at = cst(2025, 4, 15, 9, 59)  # Tuesday, in working hours, a minute before the due time
    clock.travel_to(cst(2031, 1, 1, 9, 0))

    async def go(db: Database) -> Any:
        return await sweep(db, at)

    report = run_db(api, go)
    assert report.warned >= 1
    contact = next(c for c in clocks(api, tenant, t) if c["step"] == "first_contact")
    assert dt.datetime.fromisoformat(contact["warned_at"]) == at

    async def warned(db: Database) -> list[Any]:
        async with db.cross_tenant() as s:
            return list(await s.scalars(select(Notification).where(
                Notification.kind == "deadline_due_soon",
                Notification.ticket_id == t["id"])))  # fmt: skip

    notes = run_db(api, warned)
    assert notes and {n.created_at for n in notes} == {at}
