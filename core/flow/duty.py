"""Out-of-hours intake and the flags that escalate at once [004 §篇3 二1].

"非标准工作时间,接投诉人第一时间将信息反应到中控室,由值班人员填写客户信息登记表。当班最高管理人员
进行接待/处理,由客户服务部门跟踪处理" and "遇有群体投诉等危机状况时,应马上报告上级领导,并积极采取
应对措施":

- A complaint taken outside the tenant's working time (its calendar: working days and
  ``working_hours``, :mod:`core.deadlines.calendar`) is registered by the duty room: the
  intake event records ``duty`` — that it came out of hours, who registered it, and the
  handler: **the most senior manager on duty**, who is notified (``duty_intake``). The desk
  follows it up as usual next working time.
  Decision (domain §9: the seed names no roster): the tenant's ``config.on_duty`` lists the
  usernames on duty (kept by the desk); without it everyone active is on duty. Seniority:
  general manager, then manager, then supervisor (:data:`SENIORITY`); ties go to the
  longest-standing account (lowest id).
- A fact the industry marks ``escalate`` (a group complaint, a crisis — data of the plugin's
  taxonomy, the core names none) set true on intake goes up at once: management is notified
  (``escalation``), the ticket's history records ``escalated`` and ``ticket.escalated`` is
  emitted to webhooks — in working hours or not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core import cache
from core.db import TenantScope
from core.deadlines.calendar import CalendarOutOfRange
from core.deadlines.engine import calendar_for
from core.people.models import Tenant, User
from core.people.roles import MANAGEMENT, Role
from core.plugins import TenantHooks
from core.principal import Principal
from core.tasks.notify import emit, notify, recipients
from core.tickets.events import append_event
from core.tickets.models import Ticket

SENIORITY = (Role.GENERAL_MANAGER, Role.MANAGER, Role.SUPERVISOR)
SEED = "004 §篇3 二1"


async def out_of_hours(scope: TenantScope, at: dt.datetime) -> bool:
    """Whether ``at`` is outside the tenant's working time (a year the calendar does not
    know counts as in hours: nothing is claimed that the calendar cannot tell)."""
    try:
        return not (await calendar_for(scope)).in_working_hours(at)
    except CalendarOutOfRange:
        return False


@dataclass(frozen=True)
class OnDuty:
    id: int
    username: str


async def _load_senior(scope: TenantScope) -> OnDuty | None:
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    roster = (tenant.config or {}).get("on_duty") if tenant is not None else None
    q = select(User).where(User.active.is_(True)).order_by(User.id)
    if roster:
        q = q.where(User.username.in_(list(roster)))
    users = list(await scope.scalars(q))
    for role in SENIORITY:
        for user in users:
            if role in (user.roles or []):
                return OnDuty(id=user.id, username=user.username)
    return None


SENIOR = cache.TenantMemo("senior_on_duty", _load_senior, watch=(Tenant, User), own_id=(Tenant,))
"""Who takes night intakes: read on every out-of-hours intake, cached per process and
dropped when this process commits a change to the tenant (its roster) or a user."""


async def senior_on_duty(scope: TenantScope) -> OnDuty | None:
    """The most senior manager on duty (see the module's decision), or None."""
    return await SENIOR.get(scope)


async def on_intake(
    scope: TenantScope,
    hooks: TenantHooks,
    ticket: Ticket,
    principal: Principal,
    at: dt.datetime,
) -> dict[str, Any] | None:
    """Out of hours: notify the senior manager on duty; returns the ``duty`` block of the
    intake event (None in working hours, or where the plugin keeps no duty room).

    Only where the industry's duties say so (``Duties.duty_room``): the duty room is one
    desk's rule [004 §篇3 二1], not every industry's — a desk whose seeds set none (e.g. a
    hotline that answers round the clock) keeps its usual intake at night."""
    if not hooks.duties().duty_room or not await out_of_hours(scope, at):
        return None
    handler = await senior_on_duty(scope)
    if handler is not None:
        await notify(
            scope,
            [handler.id],
            kind="duty_intake",
            ticket_id=ticket.id,
            dedupe=f"duty_intake:{ticket.id}",
            params={"number": ticket.number, "seed": SEED},  # core.notify.kinds: duty_intake
        )
    return {
        "out_of_hours": True,
        "registered_by": principal.username,
        "handler": handler.username if handler is not None else None,
        "seed": SEED,
    }


async def escalate_flags(
    scope: TenantScope,
    hooks: TenantHooks,
    ticket: Ticket,
    principal: Principal,
    role: str,
    was: dict[str, Any] | None = None,
) -> list[str]:
    """Facts the plugin marks ``escalate`` that are true on the ticket (and were not true in
    ``was``, the facts before a reclassification): notify management at once, record
    ``escalated``, emit ``ticket.escalated``. Returns the flags raised.

    At intake and whenever a reclassification sets such a fact later: "遇有群体投诉等危机状况
    时,应马上报告上级领导" [004 §篇3 二1] holds whenever the crisis is found, not only at intake."""
    before = was or {}
    flags = [
        f.code
        for f in hooks.taxonomy().facts
        if f.escalate and (ticket.facts or {}).get(f.code) and not before.get(f.code)
    ]
    if not flags:
        return []
    users = await recipients(scope, set(MANAGEMENT))
    await notify(
        scope,
        users,
        kind="escalation",
        ticket_id=ticket.id,
        dedupe=f"escalation:{ticket.id}:{','.join(flags)}",
        params={"number": ticket.number, "flags": flags, "seed": SEED},
    )
    event = await append_event(
        scope, ticket, "escalated", principal.user_id, role,
        {"flags": flags, "notified": len(users), "seed": SEED},
    )  # fmt: skip
    await emit(
        scope,
        "ticket.escalated",
        {"ticket_id": ticket.id, "number": ticket.number, "flags": flags,
         "at": event.at.isoformat()},
        dedupe=f"ticket:{ticket.id}:{ticket.version}",
    )  # fmt: skip
    return flags
