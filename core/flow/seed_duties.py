"""Duties that hang on a channel, a fact, the severity or a grade's offence (issue 23 §1).

The seeds attach some duties not to a step but to what a complaint is: a written complaint
forwarded by a government office is reported to the head of the management office
[004 §篇3 二1 书面投诉]; a complaint involving a breach of discipline goes to discipline
inspection [002 《客户投诉管理考核办法》第十八条]. The industry plugin lists them as data
(:class:`core.rules.SeedDuty` in ``Duties.seed_duties``); this module applies them after
every intake and transition, in the change's own transaction:

- a ``notify`` duty happens by itself, once per ticket: the roles are notified and the
  event of the change that made it apply records it under ``seed_duties``
  (``{"duty", "kind", "roles", "notified", "seed"}``);
- a ``refer`` duty is recorded as pending the same way (``"pending": true``) and its roles
  are told; :func:`check_close` refuses the close (409, rule ``seed duty``) until the
  action that fulfils it (``done_by``, e.g. ``refer_to_inspection``) is in the history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import TenantScope
from core.error_text import ZH, render
from core.errors import N_, Conflict
from core.plugins import TenantHooks
from core.rules import SeedDuty
from core.tasks.notify import notify, recipients
from core.tickets.models import Ticket, TicketEvent, TicketGrade

KEY = "seed_duties"
"""The key of a change's event payload that records the duties that fired with it."""


def _matches_ticket(duty: SeedDuty, ticket: Ticket) -> bool:
    """Every criterion but ``offences`` (which needs the grades)."""
    if duty.channels and ticket.channel not in duty.channels:
        return False
    if duty.severities and ticket.severity not in duty.severities:
        return False
    facets = ticket.facets or {}
    if duty.facets and not any(facets.get(k) == v for k, v in duty.facets):
        return False
    facts = ticket.facts or {}
    return not (duty.facts and not any(facts.get(code) is True for code in duty.facts))


async def _offences(scope: TenantScope, ticket: Ticket) -> set[str]:
    rows = await scope.scalars(
        select(TicketGrade.offence).where(
            TicketGrade.ticket_id == ticket.id, TicketGrade.superseded_at.is_(None)
        )
    )
    return {o for o in rows if o}


async def applying(
    scope: TenantScope,
    duties: tuple[SeedDuty, ...],
    ticket: Ticket,
    offences: set[str] | None = None,
) -> list[SeedDuty]:
    """The duties that apply to the ticket now (one query for the grades, only when a duty
    that matches otherwise names offences); ``offences`` adds those of a grading being
    recorded."""
    found = [d for d in duties if _matches_ticket(d, ticket)]
    if any(d.offences for d in found):
        offences = (offences or set()) | await _offences(scope, ticket)
        found = [d for d in found if not d.offences or offences & set(d.offences)]
    return found


REPORT = "report_"


def reports(hooks: TenantHooks) -> tuple[SeedDuty, ...]:
    """The plugin's severity escalations (``DeadlineTable.escalations``: 重大投诉当天呈送公司
    总经理 [000 §篇1 4(4)3②], 当日上报市场营销部 [002 第十九条]) as ``notify`` duties, so that
    each report is in the ticket's history, not only in the recipients' inboxes."""
    return tuple(
        SeedDuty(
            code=f"{REPORT}{rule.severity}",
            label_zh=f"{rule.severity} 投诉报告领导"
            + (f"({rule.within_minutes} 分钟内)" if rule.within_minutes else "(当天)"),
            severities=(rule.severity,),
            notify_roles=rule.notify_roles,
            seed=rule.seed,
        )
        for rule in hooks.deadlines().escalations
    )


async def _recorded(scope: TenantScope, ticket: Ticket, *actions: str) -> list[TicketEvent]:
    return list(
        await scope.scalars(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(actions)
            )
        )
    )


async def fire(
    scope: TenantScope,
    hooks: TenantHooks,
    ticket: Ticket,
    offences: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Apply every duty that applies now and has not fired on this ticket yet. Returns one
    entry per duty that fired, for the payload of the change's own event (``seed_duties``:
    ``{"duty", "kind", "label_zh", "roles", "notified", "seed"}``, with ``pending`` and
    ``done_by`` for a referral) — so that a transition stays one version and one event.

    ``offences``: the offences of the grading being recorded (its rows are written after
    its event), on top of the current grades'."""
    duties = hooks.duties().seed_duties + reports(hooks)
    if not duties:
        return []
    due = await applying(scope, duties, ticket, offences)
    if not due:
        return []
    done = await _fired(scope, ticket)
    out: list[dict[str, Any]] = []
    for duty in due:
        if duty.code in done:
            continue
        users = await recipients(scope, set(duty.notify_roles), ticket.assigned_department_id)
        if not duty.code.startswith(REPORT):
            # a same-day report is sent by the severity escalation itself, in this
            # transaction (core.deadlines.escalation.on_severity); here it is recorded
            await notify(
                scope,
                users,
                kind="seed_duty",  # words from the plugin's duty (its label is Chinese)
                ticket_id=ticket.id,
                dedupe=f"seed_duty:{ticket.id}:{duty.code}",
                params={"number": ticket.number, "duty": duty.label_zh, "seed": duty.seed}
                | ({"done_by": duty.done_by} if duty.kind == "refer" else {}),
            )
        entry: dict[str, Any] = {
            "duty": duty.code,
            "kind": duty.kind,
            "label_zh": duty.label_zh,
            "roles": list(duty.notify_roles),
            "notified": len(users),
            "seed": duty.seed,
        }
        if duty.kind == "refer":
            entry |= {"pending": True, "done_by": duty.done_by}
        out.append(entry)
    return out


async def _fired(scope: TenantScope, ticket: Ticket) -> set[str]:
    """Codes of the duties already recorded in the ticket's history (its events' payloads:
    a ticket has a few dozen events at most)."""
    payloads = await scope.scalars(
        select(TicketEvent.payload).where(TicketEvent.ticket_id == ticket.id)
    )
    return {
        str(d["duty"])
        for p in payloads
        for d in ((p or {}).get(KEY) or ())
        if isinstance(d, dict) and d.get("duty")
    }


async def pending(scope: TenantScope, hooks: TenantHooks, ticket: Ticket) -> list[SeedDuty]:
    """``refer`` duties that apply to the ticket and whose action is not in its history."""
    duties = [d for d in hooks.duties().seed_duties if d.kind == "refer" and d.done_by]
    if not duties:
        return []
    due = await applying(scope, tuple(duties), ticket)
    if not due:
        return []
    taken = {
        e.action for e in await _recorded(scope, ticket, *{d.done_by for d in due if d.done_by})
    }
    return [d for d in due if d.done_by not in taken]


async def check_close(scope: TenantScope, hooks: TenantHooks, ticket: Ticket) -> None:
    """409 ``rule="seed duty"`` naming the first duty still owed before the ticket closes
    (e.g. 凡涉及违纪的,应及时移交纪检监察部门 [002 《考核办法》第十八条])."""
    owed = await pending(scope, hooks, ticket)
    if owed:
        duty = owed[0]
        raise DutyOwed(duty.code, duty.label_zh, duty.done_by, duty.seed)


class DutyOwed(Conflict):
    """409 ``rule="seed duty"``: the duty named by its code (English) or its plugin's label
    (Chinese), the action it needs, its seed cited."""

    def __init__(self, code: str, label_zh: str, done_by: str | None, seed: str) -> None:
        super().__init__(
            N_("{duty}: take {action} before the ticket closes [{seed}]"),
            rule="seed duty",
            field="verification",
            params={"duty": code, "action": done_by, "seed": seed},
            duty=code,
            done_by=done_by,
        )
        self.label_zh = label_zh

    def localised(self, lang: str) -> str:
        params = {**self.params, "duty": self.label_zh} if lang == ZH else self.params
        return render(self.template, params, lang, self.code, self.field, self.rule)


__all__ = ["KEY", "applying", "check_close", "fire", "pending"]
