"""Out of hours the duty room registers and the most senior manager on duty handles; a group
complaint or a crisis goes up at once [004 §篇3 二1].

greenwood (property, working hours 08:30–17:30 Shanghai); times of November 2026, in the past
(the national calendar knows 2026; a future-dated ticket would count as "created since now"
in the lifecycle tests' idempotency checks).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from conftest import cst, run_db
from sqlalchemy import select

from core import clock
from core.db import Database
from core.people.models import Tenant
from core.tasks.models import OutboxEvent

TENANT = "greenwood"


def history(api: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(TENANT, "manager", f"/api/tickets/{t['id']}/history")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def notes(api: Any, user: str, t: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    r = api.get(TENANT, user, "/api/notifications")
    assert r.status_code == 200, r.text
    return [n for n in r.json() if n["ticket_id"] == t["id"] and n["kind"] == kind]


@contextlib.contextmanager
def on_duty(api: Any, usernames: list[str]) -> Iterator[None]:
    """Set greenwood's ``config.on_duty`` roster for the test, then remove it."""

    async def put(db: Database, value: Any) -> None:
        async with db.cross_tenant() as s:
            tenant = await s.scalar(select(Tenant).where(Tenant.slug == TENANT))
            assert tenant is not None
            cfg = dict(tenant.config or {})
            if value is None:
                cfg.pop("on_duty", None)
            else:
                cfg["on_duty"] = value
            tenant.config = cfg

    run_db(api, lambda db: put(db, usernames))
    try:
        yield
    finally:
        run_db(api, lambda db: put(db, None))


def test_out_of_hours_intake_is_registered_by_the_duty_room_for_the_senior_manager(api):
    """A complaint taken at 22:00 on a Tuesday (working hours end 17:30): the intake records the duty-room registration
    and names the general manager (most senior on duty), who is notified; with a roster of
    supervisor and manager on duty, the manager. One taken at 10:00 carries no duty block."""
    clock.travel_to(cst(2026, 11, 10, 22, 0))
    night = api.create(TENANT)
    intake = history(api, night)[0]
    assert intake["action"] == "intake"
    assert intake["payload"]["duty"] == {
        "out_of_hours": True, "registered_by": "clerk", "handler": "gm", "seed": "004 §篇3 二1",
    }  # fmt: skip
    assert len(notes(api, "gm", night, "duty_intake")) == 1
    assert notes(api, "manager", night, "duty_intake") == []

    with on_duty(api, ["supervisor", "manager"]):
        rostered = api.create(TENANT)
    assert history(api, rostered)[0]["payload"]["duty"]["handler"] == "manager"
    assert len(notes(api, "manager", rostered, "duty_intake")) == 1

    clock.travel_to(cst(2026, 11, 11, 10, 0))
    day = api.create(TENANT)
    assert "duty" not in history(api, day)[0]["payload"]
    assert notes(api, "gm", day, "duty_intake") == []


def test_group_complaint_escalates_at_once(api):
    """A group complaint (the clerk sets the fact on intake) goes up at once, in working
    hours too: manager and general manager are notified, the history records ``escalated``
    with the flag, and ``ticket.escalated`` is emitted. An ordinary intake raises nothing."""
    clock.travel_to(cst(2026, 11, 11, 11, 0))
    t = api.create(TENANT, facts={"group_complaint": True})
    assert t["version"] == 2
    escalated = [e for e in history(api, t) if e["action"] == "escalated"]
    assert len(escalated) == 1 and escalated[0]["payload"]["flags"] == ["group_complaint"]
    for user in ("manager", "gm"):
        assert len(notes(api, user, t, "escalation")) == 1
    assert notes(api, "clerk", t, "escalation") == []

    async def topics(db: Database) -> list[str]:
        async with db.cross_tenant() as s:
            rows = await s.scalars(select(OutboxEvent.payload).where(
                OutboxEvent.topic == "ticket.escalated"))  # fmt: skip
            return [p["number"] for p in rows]

    assert run_db(api, topics).count(t["number"]) == 1
    plain = api.create(TENANT, facts={"crisis": False})
    assert not [e for e in history(api, plain) if e["action"] == "escalated"]
