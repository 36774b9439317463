"""Approvals and duties around the lifecycle: who takes a step, and what a step needs first.

:mod:`core.flow.service` asks this module, for every transition, which roles may take it
(:func:`step_roles`), whether the tenant's industry uses it at all (:func:`unavailable`), and
runs the effects below inside the transition's one transaction. The industry's choices come
from the plugin's :class:`core.rules.Duties` (hook ``tousu_duties``) and
``tousu_approvers``; the core names no industry.

Rules (each cited where it is enforced):

- supervisor review before dispatch is optional where the plugin says so [000 §篇1 4(4)4];
- a reply apologises on behalf of the company when staff were at fault [000 §篇8 3(4)];
- a unit's reply is reviewed before the ticket is archived [002 《客户投诉管理考核办法》第十六条],
  and a falsified reply found then is charged to the unit [同 第二十六条];
- the original closes only once the related problem's ticket is registered
  [000 §篇1 5(5)2①c–d];
- an unresolvable ticket closes with the plugin-named approver's consent, at the quarterly
  review where the plugin says so [000 §篇1 5(5)2②c], never by whoever recorded it;
- a registered ticket has a named owner until it is closed [000 §篇1 5(5)1②c].
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from core.db import TenantScope, utcnow
from core.errors import N_, Conflict, Invalid
from core.flow import seed_duties
from core.people import tenant_data
from core.people.duties import refuse_own
from core.people.models import User
from core.people.roles import DESK, MANAGEMENT
from core.principal import Principal
from core.rules import Duties
from core.tickets import schemas as s
from core.tickets.classification import check_desk_word
from core.tickets.facts import facts_of, plugin_of
from core.tickets.lifecycle import State, Transition
from core.tickets.models import Ticket, TicketEvent, TicketGrade

AT_FAULT = frozenset({"full", "main", "secondary"})
"""Grades that put a staff member at fault (domain §4)."""

REVIEW_ACTIONS = frozenset({"review_reply", "rework_reply"})

NOT_REGISTERED = frozenset({State.RECEIVED, State.VALID})
NOT_REGISTERED_RESOLUTIONS = frozenset({"invalid", "explained"})
"""A ticket closed as invalid or settled by explanation was never registered."""


async def duties_of(scope: TenantScope) -> Duties:
    return (await plugin_of(scope)).duties()


async def step_roles(scope: TenantScope, ticket: Ticket, t: Transition) -> frozenset[str]:
    """The roles that may take ``t`` on ``ticket``: the plugin's approvers where the step is
    an approval (close, close_unresolvable, reply_review), the transition's roles otherwise."""
    if t.action == "close":
        hooks = await plugin_of(scope)
        facts = facts_of(ticket)
        answer = None
        if ticket.state == State.SUSPENDED:
            answer = hooks.approvers("close_unresolvable", facts)
        if answer is None:
            answer = hooks.approvers("close", facts)
        return frozenset(answer) if answer is not None else t.roles
    if t.action in REVIEW_ACTIONS:
        answer = (await plugin_of(scope)).approvers("reply_review", facts_of(ticket))
        return frozenset(answer) if answer is not None else MANAGEMENT
    return t.roles


def unavailable(duties: Duties, ticket: Ticket, action: str) -> str | None:
    """Why ``action`` is not part of this tenant's flow from the ticket's state (None: it is),
    as an error template with an ``{action}`` placeholder."""
    if action == "dispatch" and ticket.state == State.REGISTERED and duties.review_before_dispatch:
        return N_(
            "{action} is not possible here: "
            "the supervisor reviews a registered ticket before it is dispatched"
        )
    if action in REVIEW_ACTIONS and not duties.reply_review:
        return N_(
            "{action} is not possible here: this tenant's replies are not reviewed before archiving"
        )
    return None


async def check_available(scope: TenantScope, ticket: Ticket, action: str) -> None:
    """409 ``rule="lifecycle"`` when :func:`unavailable` gives a reason."""
    why = unavailable(await duties_of(scope), ticket, action)
    if why is not None:
        raise Conflict(why, rule="lifecycle", params={"action": action}, state=ticket.state)


# ---------------------------------------------------------------- events


async def _last(scope: TenantScope, ticket: Ticket, *actions: str) -> TicketEvent | None:
    return await scope.scalar(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(actions))
        .order_by(TicketEvent.seq.desc())
        .limit(1)
    )


async def requested_by_self(scope: TenantScope, p: Principal, ticket: Ticket, action: str) -> bool:
    """Whether ``action`` would approve what ``p`` asked for — closing a ticket they recorded
    as unresolvable, reviewing a reply they gave — which :func:`refuse_own` refuses; the
    actions offered to ``p`` (``allowed_actions``, the approvals inbox) leave it out."""
    if action == "close" and ticket.state == State.SUSPENDED:
        last = await _last(scope, ticket, "suspend")
    elif action in REVIEW_ACTIONS:
        last = await _last(scope, ticket, "reply")
    else:
        return False
    return last is not None and last.actor_user_id == p.user_id


# ---------------------------------------------------------------- owner


async def _desk_user(scope: TenantScope, username: str, field: str) -> User:
    user = await scope.scalar(select(User).where(User.username == username))
    # [000 §篇1 5(4)1] the customer-service desk (接待员) registers and follows up; a
    # supervisor may own one too. Other roles handle, they do not follow the ticket.
    if user is None or not set(user.roles or ()) & DESK or not user.active:
        raise Invalid(
            "{username} is not an active desk member of this tenant",
            field=field,
            rule="owner must be a clerk or supervisor of this tenant",
            params={"username": repr(username)},
        )
    return user


async def register(
    scope: TenantScope, p: Principal, ticket: Ticket, body: s.Register
) -> dict[str, Any]:
    """Name the owner at registration: "一经立项,有关人员就有责任跟进、催办,直到销项"
    [000 §篇1 5(5)1②c]. The registering desk member unless another is named; the reason is
    one the tenant's industry lists (422 ``reason``)."""
    check_desk_word((await plugin_of(scope)).taxonomy(), "reason", body.reason)
    if body.owner is not None:
        user = await _desk_user(scope, body.owner, "owner")
    else:
        user = await scope.session.get(User, p.user_id)
    assert user is not None
    ticket.owner_user_id = user.id
    set_committed_value(ticket, "owner", user)  # shown in this response; no reload
    return {"owner": user.username}


async def reassign(
    scope: TenantScope, p: Principal, ticket: Ticket, body: s.Reassign
) -> dict[str, Any]:
    """Hand the ticket to another named owner; the history keeps who had it."""
    user = await _desk_user(scope, body.owner, "owner")
    if user.id == ticket.owner_user_id:
        raise Invalid("the ticket already has this owner", field="owner", rule="a new owner")
    was = ticket.owner.username if ticket.owner is not None else None
    ticket.owner_user_id = user.id
    set_committed_value(ticket, "owner", user)  # shown in this response; no reload
    return {"owner": user.username, "owner_was": was}


# ---------------------------------------------------------------- reply


async def reply(scope: TenantScope, p: Principal, ticket: Ticket, body: s.Reply) -> None:
    """[000 §篇8 3(4)] 对有责任的,要代表公司向乘客赔礼道歉: when any staff member's current grade
    is full, main or secondary, the reply must carry the company's apology (422
    ``apology``) — where the plugin keeps that duty."""
    if body.apology or not (await duties_of(scope)).apology_when_at_fault:
        return
    at_fault = await scope.scalar(
        select(TicketGrade.id)
        .where(
            TicketGrade.ticket_id == ticket.id,
            TicketGrade.superseded_at.is_(None),
            TicketGrade.grade.in_(AT_FAULT),
        )
        .limit(1)
    )
    if at_fault is not None:
        raise Invalid(
            "a staff member was graded at fault: the reply must apologise on behalf of the "
            "company (apology: true) [000 §篇8 3(4)]",
            field="apology",
            rule="apology when staff at fault",
        )


async def review_reply(
    scope: TenantScope, p: Principal, ticket: Ticket, body: s.ReplyReview
) -> dict[str, Any]:
    """The reviewing department passes the unit's reply [002 《考核办法》第十六条]; whoever
    gave the reply does not review it."""
    last = await _last(scope, ticket, "reply")
    refuse_own(p, "reply_review", last.actor_user_id if last else None)
    passed = await _last(scope, ticket, "reply", "review_reply", "rework_reply")
    if passed is not None and passed.action == "review_reply":
        raise Conflict("this reply has already passed review", rule="decided once")
    return {"review": "passed", "reply_seq": last.seq if last else None}


async def rework_reply(
    scope: TenantScope, p: Principal, ticket: Ticket, body: s.ReplyRework
) -> dict[str, Any]:
    """Return the reply to the unit for rework with a reason [002 《考核办法》第十六条]. When
    the reply was falsified the responsible unit's charge is derived now, at the review
    [002 《考核办法》第二十六条: 每件500元, 通报批评] — not only at the first grading."""
    last = await _last(scope, ticket, "reply")
    refuse_own(p, "reply_review", last.actor_user_id if last else None)
    out: dict[str, Any] = {"review": "returned", "reply_seq": last.seq if last else None}
    if body.falsified:
        from core.penalties import service as penalties

        ticket.facts = {**(ticket.facts or {}), "falsified_reply": True}
        rows = await penalties.propose_units(scope, ticket, utcnow(), by=p.user_id)
        out["falsified"] = True
        out["penalties_proposed"] = [r.rule for r in rows]
    return out


async def reply_reviewed(scope: TenantScope, ticket: Ticket) -> None:
    """409 when the plugin reviews replies and the latest reply has not passed review."""
    if not (await duties_of(scope)).reply_review:
        return
    last = await _last(scope, ticket, "reply", "review_reply", "rework_reply")
    if last is not None and last.action != "review_reply":
        raise Conflict(
            "the unit's reply must pass review before the ticket is archived "
            "[002 《客户投诉管理考核办法》第十六条]",
            rule="reply reviewed before archiving",
            field="verification",
        )


# ---------------------------------------------------------------- close


def quarter_of(moment: dt.datetime, zone: str) -> tuple[int, int]:
    local = moment.astimezone(ZoneInfo(zone))
    return local.year, (local.month - 1) // 3 + 1


async def close(scope: TenantScope, p: Principal, ticket: Ticket, body: s.Close) -> dict[str, Any]:
    """Checks of 销项 beyond the verification: reply review, related ticket, unresolvable.

    Returns what the close event records (``related_ticket_id``, ``quarter``)."""
    extra: dict[str, Any] = {}
    # A duty the seed attaches to the case (a referral to discipline inspection …) is owed
    # before the ticket closes, suspended or not [002 《考核办法》第十八条; issue 23 §1].
    await seed_duties.check_close(scope, await plugin_of(scope), ticket)
    if ticket.state == State.SUSPENDED:
        extra |= await _close_unresolvable(scope, p, ticket)
    else:
        await reply_reviewed(scope, ticket)
    if body.related_ticket is not None:
        extra["related_ticket_id"] = await _related_registered(scope, ticket, body.related_ticket)
    return extra


async def _related_registered(scope: TenantScope, ticket: Ticket, number: str) -> int:
    """[000 §篇1 5(5)2①c] 如新问题已上报立项,原案件已处理完毕,可以销项; ①d 又无法重新立项,
    此案件不能销项: the related ticket must be registered — at or past registration, and
    not closed as invalid or settled without registration."""
    related = await scope.scalar(select(Ticket).where(Ticket.number == number))
    if related is None:
        raise Invalid(
            "related ticket {number} not found",
            field="related_ticket",
            rule="must be a ticket of this tenant",
            params={"number": repr(number)},
        )
    if related.id == ticket.id:
        raise Invalid(
            "the related problem needs its own ticket",
            field="related_ticket",
            rule="another ticket",
        )
    if related.state in NOT_REGISTERED or (
        related.state == State.CLOSED and related.resolution in NOT_REGISTERED_RESOLUTIONS
    ):
        # [000 §篇1 5(5)2①c–d]
        template = (
            N_(
                "the related problem's ticket must be registered before the original closes; "
                "it is {state} ({resolution})"
            )
            if related.resolution
            else N_(
                "the related problem's ticket must be registered before the original closes; "
                "it is {state}"
            )
        )
        raise Invalid(
            template,
            field="related_ticket",
            rule="registered before the original closes",
            params={"state": related.state, "resolution": related.resolution},
        )
    return related.id


async def _close_unresolvable(scope: TenantScope, p: Principal, ticket: Ticket) -> dict[str, Any]:
    """[000 §篇1 5(5)2②c] 立项案件如因种种原因而无法处理…可作好记录,每季度一次经管理处负责人
    协调同意后才能销项; ③b 无法处理案件销项,要由审批人签名.

    Who: the plugin's ``close_unresolvable`` approvers (checked with the roles); never the
    person who recorded it as unresolvable (separation of duties). When: decision (domain
    §9, the seed gives no date) — with ``Duties.unresolvable_close == "quarterly"`` the
    quarterly review closes what was recorded in an earlier calendar quarter of the
    tenant's zone; a ticket recorded this quarter waits for the next review. The approver
    and the quarter are recorded on the close event (the 审批人's signature)."""
    suspended = await _last(scope, ticket, "suspend")
    refuse_own(p, "close_unresolvable", suspended.actor_user_id if suspended else None)
    zone = (await tenant_data.tenant_info(scope)).timezone
    now = utcnow()
    year, q = quarter_of(now, zone)
    # the approver is the event's actor (and role); the quarter is the review's
    out: dict[str, Any] = {"quarter": f"{year}-Q{q}"}
    if (await duties_of(scope)).unresolvable_close == "quarterly" and suspended is not None:
        if quarter_of(suspended.at, zone) >= (year, q):
            raise Conflict(
                "recorded as unresolvable in {quarter}: it closes at the next quarterly "
                "review with the approver's consent [000 §篇1 5(5)2②c]",
                rule="closed once a quarter",
                field="verification",
                params={"quarter": out["quarter"]},
            )
    return out


__all__ = [
    "AT_FAULT",
    "check_available",
    "close",
    "reassign",
    "register",
    "reply",
    "review_reply",
    "rework_reply",
    "step_roles",
    "unavailable",
]
