"""The ticket workflow: intake and every lifecycle transition.

This is the one place that composes a change's effects — the ticket row, its event, its
clocks (:mod:`core.deadlines`), penalties proposed by grading (:mod:`core.penalties`), the
duty room (:mod:`core.flow.duty`) and the outbox rows — in the scope's one transaction.
Reading tickets lives below, in :mod:`core.tickets.reading`; the areas this module composes
never call back into it.

Every function takes the tenant-bound :class:`~core.db.TenantScope` and the principal; the
scope is the only way to the data, so no function here writes a tenant filter by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from contextlib import nullcontext
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import String, case, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from core.attachments.models import Attachment
from core.clock import check_past
from core.db import TenantScope, utcnow
from core.deadlines import engine as deadlines
from core.deadlines import escalation
from core.deadlines.models import StepClock
from core.errors import N_, Conflict, Forbidden, Invalid
from core.flow import approvals, duty, handoffs, limits, seed_duties
from core.penalties import grading
from core.people import tenant_data
from core.people.guards import CONFLICT_MESSAGE, needs_role
from core.people.models import Staff
from core.people.roles import Role
from core.plugins import hooks_for
from core.principal import Principal
from core.tasks.notify import emit
from core.tickets import labels, triage
from core.tickets import schemas as s
from core.tickets.classification import (
    check_channel,
    check_classification,
    check_close_checklist,
    check_complete,
    check_desk_word,
    check_facts,
)
from core.tickets.events import add_event
from core.tickets.facts import plugin_of, reclassify_from_facts
from core.tickets.lifecycle import TRANSITIONS, State, Transition, allowed_from
from core.tickets.models import AccusedStaff, Counter, Ticket, TicketEvent
from core.tickets.reading import department_by_code, involved, load, load_with
from core.tickets.seen import note

# ---------------------------------------------------------------- intake


def _request_hash(body: s.TicketCreate) -> str:
    raw = msgspec.json.encode(msgspec.to_builtins(body), order="sorted")
    return hashlib.sha256(raw).hexdigest()


async def _assign_number(
    scope: TenantScope, tenant: tenant_data.TenantInfo, ticket: Ticket, now: dt.datetime
) -> None:
    """Give the new ticket its number, ``PREFIX-YYYY-NNNNNN``, numbered per year of the
    tenant's own calendar (its zone). On PostgreSQL the counter bump and the ticket's number
    are one statement (a data-modifying CTE); elsewhere, or for the year's first ticket, two."""
    year = now.astimezone(ZoneInfo(tenant.timezone)).year
    if scope.session.bind.dialect.name == "postgresql":
        c = (
            update(Counter)
            .where(Counter.name == f"ticket-{year}")
            .values(value=Counter.value + 1)
            .returning(Counter.value)
            .cte("bumped")
        )
        digits = func.cast(c.c.value, String)
        number = literal(f"{tenant.ticket_prefix}-{year}-") + case(
            (c.c.value < 1_000_000, func.lpad(digits, 6, "0")), else_=digits
        )
        stmt = (  # no counter row yet (the year's first ticket): the number stays pending
            update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(number=func.coalesce(select(number).scalar_subquery(), Ticket.number))
            .returning(Ticket.number)
            .execution_options(synchronize_session=False)
        )
        assigned = (await scope.execute(stmt)).scalar_one()
        if not assigned.startswith(PENDING_NUMBER):
            set_committed_value(ticket, "number", assigned)
            return
    ticket.number = await _next_number(scope, tenant, year)


async def _next_number(scope: TenantScope, tenant: tenant_data.TenantInfo, year: int) -> str:
    """``PREFIX-YYYY-NNNNNN``: bump (or create) the year's counter."""
    prefix = tenant.ticket_prefix
    name = f"ticket-{year}"
    bump = (
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    value = (await scope.execute(bump)).scalar_one_or_none()
    if value is None:
        try:
            async with scope.session.begin_nested():
                scope.add(Counter(name=name, value=1))
            value = 1
        except IntegrityError:  # another intake created the counter first
            value = (await scope.execute(bump)).scalar_one()
    return f"{prefix}-{year}-{value:06d}"


PENDING_NUMBER = "pending-"
"""A new ticket's number until the counter is bumped, last, just before commit."""


async def create(
    scope: TenantScope, principal: Principal, body: s.TicketCreate, idempotency_key: str | None
) -> tuple[Ticket, bool]:
    """Record a complaint. Returns (ticket, created); a replayed key returns the first ticket.

    Statements, in order: the accused staff (one query), the ticket and its accused rows,
    its clocks, then the per-tenant counter bump with the number, the intake event and the
    outbox row. The counter is touched last, so its row lock (one intake at a time per
    tenant) is held for three statements and the commit, not the whole intake. The tenant's
    plugin, prefix and departments come from the per-process cache (:mod:`core.cache`)."""
    digest = _request_hash(body)
    if idempotency_key is not None:
        prior = await scope.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
        if prior is not None:
            return await _replay(scope, principal, prior, digest), False

    tenant = await tenant_data.tenant_info(scope)
    hooks = hooks_for(tenant.plugin)
    tax = hooks.taxonomy()
    check_channel(tax, body.channel)
    check_classification(tax, body.category, body.severity, body.facets)
    facts = check_facts(tax, body.facts)
    accused_dept = (
        await department_by_code(scope, body.accused_department, "accused_department")
        if body.accused_department
        else None
    )
    staff = await _accused_staff(scope, body.accused_staff)
    check_past(body.event_time, "event_time")

    now = utcnow()
    try:
        # a savepoint only where a lost race on the key is answered with the first ticket
        async with scope.session.begin_nested() if idempotency_key else nullcontext():
            ticket = Ticket(
                number=f"{PENDING_NUMBER}{uuid.uuid4().hex[:20]}",
                channel=body.channel,
                complainant_name=body.complainant.name,
                complainant_contact=body.complainant.contact,
                complainant_address=body.complainant.address,
                accused_department_id=accused_dept,
                event_time=body.event_time,
                event_place=body.event_place,
                description=body.description,
                demands=body.demands,
                temper_note=body.temper_note,
                category=body.category,
                severity=body.severity,
                facets=dict(body.facets),
                facts=facts,
                state=State.RECEIVED,
                created_by=principal.user_id,
                created_at=now,
                updated_at=now,
                idempotency_key=idempotency_key,
                request_hash=digest,
                accused=[
                    AccusedStaff(staff_id=st.id, staff=st, tenant_id=scope.tenant_id)
                    for st in sorted(staff, key=lambda st: st.id)  # as a reload orders them
                ],
            )
            reclassify_from_facts(hooks, ticket)
            if body.resolve_by is not None:
                table = hooks.deadlines()
                await limits.check(
                    scope, hooks, ticket, body.resolve_by, now, "resolve_by",
                    table.own_deadline_severities,
                    N_("the complainant's own deadline applies to severities {severities} only"),
                )  # fmt: skip
                ticket.resolve_by = body.resolve_by
            scope.add(ticket)
            await scope.flush()
            set_committed_value(ticket, "grades", [])  # a new ticket has none: no query
            deadlines.no_clocks_yet(scope, ticket.id)  # nor clocks: none to read
            await deadlines.on_transition(scope, hooks, ticket, "intake", principal, now)
            await _assign_number(scope, tenant, ticket, now)
            role = principal.role_for(frozenset(principal.roles)) or "unknown"
            on_duty = await duty.on_intake(scope, hooks, ticket, principal, now)  # [004 §篇3 二1]
            fired = await seed_duties.fire(scope, hooks, ticket)  # issue 23 §1
            payload = (
                {"channel": body.channel, "number": ticket.number}
                | ({"duty": on_duty} if on_duty else {})
                | ({seed_duties.KEY: fired} if fired else {})
            )
            # the first event: version 1, from no state
            by = (principal.user_id, role)
            event = add_event(scope, ticket, "intake", payload, by=by, since=None, at=now)
            await scope.flush()
            await escalation.on_severity(scope, hooks, ticket)
            await duty.escalate_flags(scope, hooks, ticket, principal, role)
            await emit(
                scope,
                "ticket.intake",
                _event_payload(ticket, event),
                dedupe=f"ticket:{ticket.id}:1",
            )
    except IntegrityError:
        if idempotency_key is None:
            raise
        prior = await scope.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
        if prior is None:
            raise
        return await _replay(scope, principal, prior, digest), False
    note(ticket, involved(principal, ticket))  # spares the boundary a query
    return ticket, True


async def _accused_staff(scope: TenantScope, codes: list[str]) -> list[Staff]:
    """The staff members named, in the order given (one query); 422 naming the entry for an
    unknown or repeated code."""
    found = (
        {st.code: st for st in await scope.scalars(select(Staff).where(Staff.code.in_(codes)))}
        if codes
        else {}
    )
    out: list[Staff] = []
    for i, code in enumerate(codes):
        st = found.get(code)
        if st is None:
            raise Invalid(
                "unknown staff member {code}",
                field=f"accused_staff[{i}]",
                rule="must be a staff code of this tenant",
                params={"code": repr(code)},
            )
        if st in out:
            raise Invalid(
                "staff member {code} listed twice",
                field=f"accused_staff[{i}]",
                rule="unique",
                params={"code": repr(code)},
            )
        out.append(st)
    return out


async def _replay(scope: TenantScope, principal: Principal, prior: Ticket, digest: str) -> Ticket:
    if prior.request_hash != digest:
        raise Invalid(
            "this Idempotency-Key was already used with a different body",
            field="Idempotency-Key",
            rule="same key must carry the same body",
            ticket_number=None,
        )
    return await load(scope, principal, prior.id)


# ---------------------------------------------------------------- transitions


async def actions_for(scope: TenantScope, principal: Principal, ticket: Ticket) -> list[str]:
    """The actions this principal could take on the ticket now."""
    if involved(principal, ticket):  # conflict of interest: named or graded on it
        return []
    out = []
    duties = await approvals.duties_of(scope)
    for action in allowed_from(ticket.state):
        if approvals.unavailable(duties, ticket, action):
            continue
        t = TRANSITIONS[action]
        role = principal.role_for(await approvals.step_roles(scope, ticket, t))
        if role is None:
            continue
        if _department_blocks(principal, role, ticket, t):
            continue
        if await approvals.requested_by_self(scope, principal, ticket, action):
            continue  # separation of duties (core.people.duties): refused if tried
        out.append(action)
    return out


def _department_blocks(principal: Principal, role: str, ticket: Ticket, t: Transition) -> bool:
    return (
        t.own_department
        and role == Role.DEPARTMENT_HEAD
        and (
            principal.department_id is None
            or ticket.assigned_department_id != principal.department_id
        )
    )


async def transition(
    scope: TenantScope, principal: Principal, ticket_id: int, action: str, body: s.Transition
) -> Ticket:
    t = TRANSITIONS[action]
    # the ticket, its people and its open clocks in one statement
    ticket, clocks = await load_with(
        scope, principal, ticket_id, StepClock, deadlines.OPEN_OF_TICKET
    )
    deadlines.hold(scope, ticket.id, clocks)
    if involved(principal, ticket):  # first, as the app-wide guard would (IN_SERVICE)
        raise Forbidden(CONFLICT_MESSAGE, rule="conflict of interest")
    allowed_roles = await approvals.step_roles(scope, ticket, t)
    role = principal.role_for(allowed_roles)
    if role is None:
        raise needs_role(allowed_roles, f"“{labels.word('action', action)}”操作")
    if _department_blocks(principal, role, ticket, t):
        raise Forbidden(
            "{action} is for the department the ticket is dispatched to",
            rule="own department",
            params={"action": action},
        )
    if ticket.state not in t.sources:
        raise Conflict(
            "{action} is not possible from state {state}",
            rule="lifecycle",
            params={"action": action, "state": repr(ticket.state)},
            state=ticket.state,
            allowed=allowed_from(ticket.state),
        )
    await approvals.check_available(scope, ticket, action)
    if body.version != ticket.version:
        raise Conflict(
            "the ticket changed since you read it; reload and retry",
            field="version",
            rule="must equal the ticket's current version",
            current_version=ticket.version,
        )
    for name in s.PAST_FIELDS:  # times of what already happened, after the ticket came in
        check_past(getattr(body, name, None), name, after=ticket.created_at)
    before = ticket.state
    target = t.target_for(ticket.resolution) if ticket.state == State.CLOSED else t.target
    payload = msgspec.to_builtins(body)
    payload.pop("version", None)
    effect = _EFFECTS.get(action)
    extra = await effect(scope, principal, ticket, body) if effect else None
    if extra:
        payload.update(extra)
    if target is not None:
        ticket.state = target
    flow = action
    if action == "reopen" and target == State.RECEIVED:
        _to_triage(ticket)
        reclassify_from_facts(await plugin_of(scope), ticket)  # read as an untriaged ticket
        flow = deadlines.RETRIAGE
        payload["returned_to_triage"] = True
    # The change and its version move together: one conditional UPDATE … WHERE version =
    # :seen (0 rows → 409), written first, so every transition locks the ticket row before
    # its clocks (one lock order: no deadlock with another path); then clocks and event.
    now = utcnow()
    ticket.version, ticket.updated_at = ticket.version + 1, now
    await scope.flush()
    hooks = await plugin_of(scope)
    severity_was = (extra or {}).get("severity_was", ticket.severity)
    clocks = await deadlines.on_transition(scope, hooks, ticket, flow, principal)
    if severity_was != ticket.severity:
        clocks += await deadlines.retime(scope, hooks, ticket)
        await escalation.on_severity(scope, hooks, ticket)
    elif "resolve_by" in (extra or {}):  # a per-ticket limit shortens the running clocks
        clocks += await deadlines.retime(scope, hooks, ticket)
    if clocks:
        payload["deadlines"] = clocks
    if action not in _NO_DUTIES:  # channel-, fact-, severity-, offence-triggered duties
        offences = (
            {g.offence for g in body.grades if g.offence} if isinstance(body, s.Grade) else None
        )
        if fired := await seed_duties.fire(scope, hooks, ticket, offences):
            payload[seed_duties.KEY] = fired  # issue 23 §1
    event = add_event(
        scope, ticket, action, payload, by=(principal.user_id, role), since=before, at=now
    )
    await scope.flush()
    if isinstance(body, s.Grade):  # the grade action's body
        await grading.record(scope, principal, ticket, body, event)
    if "facts_was" in (extra or {}):  # a crisis found after intake goes up at once too
        await duty.escalate_flags(
            scope, hooks, ticket, principal, role, was=(extra or {})["facts_was"] or {}
        )  # [004 §篇3 二1]
    await handoffs.after_transition(scope, principal, ticket, event)  # who is told (issue 19)
    await emit(
        scope,
        f"ticket.{action}",
        _event_payload(ticket, event),
        dedupe=f"ticket:{ticket.id}:{event.seq}",
    )
    return ticket


def _event_payload(ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    """What leaves the system about a change (webhooks): no complainant identity."""
    return {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "action": event.action,
        "from": event.from_state,
        "to": event.to_state,
        "at": event.at.isoformat(),
        "severity": ticket.severity,
        "category": ticket.category,
    }


_NO_DUTIES = frozenset({"close", "triage_invalid", "settle", "triage_communicative"})
"""Transitions after which no seed duty is looked for: the ticket leaves the flow (or is no
valid complaint), so nothing new can be owed."""


async def _classify(
    scope: TenantScope, p: Principal, ticket: Ticket, body: s.TriageValid | s.Reclassify
) -> dict[str, Any]:
    hooks = await plugin_of(scope)
    tax = hooks.taxonomy()
    check_classification(tax, body.category, body.severity, body.facets)
    new_facts = check_facts(tax, getattr(body, "facts", None))
    changed: dict[str, Any] = {}
    if body.category is not None and body.category != ticket.category:
        changed["category_was"] = ticket.category
        ticket.category = body.category
    if body.severity is not None and body.severity != ticket.severity:
        changed["severity_was"] = ticket.severity
        ticket.severity = body.severity
    if body.facets is not None:
        merged = {**(ticket.facets or {}), **body.facets}
        if merged != ticket.facets:
            changed["facets_was"] = ticket.facets
            ticket.facets = merged
    if new_facts:
        merged = {**(ticket.facts or {}), **new_facts}
        if merged != ticket.facts:
            changed["facts_was"] = ticket.facts
            ticket.facts = merged
    if isinstance(body, s.TriageValid):
        if isinstance(body, s.Convert):
            changed["communicative_was"] = ticket.communicative
            ticket.communicative = None
        ticket.valid = True
        reclassify_from_facts(hooks, ticket)
        severity = ticket.severity
        changed.update(triage.apply_definition(p, ticket, body.severity, body.severity_override))
        if ticket.severity != severity and "severity_was" not in changed:
            changed["severity_was"] = severity
        check_complete(tax, ticket.category, ticket.severity, ticket.facets or {})
    elif not changed:
        raise Invalid(
            "nothing to change: give a new category, severity, facets or facts",
            field="category",
            rule="reclassify must change something",
        )
    reclassify_from_facts(hooks, ticket)
    if isinstance(body, s.Reclassify):
        was = changed.get("severity_was", ticket.severity)
        changed.update(triage.check_reclassify(p, ticket, was))
        if {"facts_was", "severity_was", "facets_was"} & set(changed):
            # a fact that prices a consequence changed after grading (issue 23 §3)
            from core.penalties import service as penalties

            if done := await penalties.rederive_for_facts(scope, ticket, changed, p.user_id):
                changed["penalties_rederived"] = done
    return changed


async def _close_now(scope: TenantScope, p: Principal, ticket: Ticket, body: Any) -> None:
    if isinstance(body, s.TriageInvalid):
        ticket.valid = False
        reclassify_from_facts(await plugin_of(scope), ticket)
    ticket.closed_at = utcnow()
    if isinstance(body, s.TriageInvalid):
        ticket.resolution = "invalid"
    elif ticket.communicative is not None:  # handled with care, closed as what it was
        ticket.resolution = "communicative"
    else:
        ticket.resolution = "explained"


async def _communicative(
    scope: TenantScope, p: Principal, ticket: Ticket, body: s.TriageCommunicative
) -> dict[str, Any]:
    """Not a valid complaint [000 §篇1 1(1)2)]: no severity definitions, no one-month upgrade
    (valid stays False, so neither the plugin nor the upgrade clock treats it as valid)."""
    ticket.communicative = body.kind
    ticket.valid = False
    reclassify_from_facts(await plugin_of(scope), ticket)
    return {"kind_zh": triage.COMMUNICATIVE_KINDS[body.kind]}


def _to_triage(ticket: Ticket) -> None:
    """A reopened ticket that was never a valid complaint goes back to triage: its nature is
    decided again, so the statistics count it by its final nature [issue 12 §4]."""
    ticket.valid = None
    ticket.communicative = None


async def _answer(
    scope: TenantScope, p: Principal, ticket: Ticket, body: s.Answer
) -> dict[str, Any]:
    """明确答复 [000 §篇1 4(4)9]: the promised date must be ahead of now."""
    if body.promised_by <= utcnow():
        raise Invalid(
            "promised_by is in the past",
            field="promised_by",
            rule="the resolution is promised for a future moment",
        )
    await limits.check_promise(scope, await plugin_of(scope), ticket, body.promised_by, utcnow())
    return {}


async def _dispatch(
    scope: TenantScope, p: Principal, ticket: Ticket, body: s.Dispatch
) -> dict[str, Any]:
    tax = (await plugin_of(scope)).taxonomy()
    check_complete(tax, ticket.category, ticket.severity, ticket.facets or {})
    dept_id = await department_by_code(scope, body.department, "department")
    redispatch = await scope.scalar(
        select(func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "dispatch")
    )
    if redispatch:
        ticket.redispatch_count += 1
    ticket.assigned_department_id = dept_id
    out: dict[str, Any] = {"department_id": dept_id, "redispatch": bool(redispatch)}
    if body.resolve_by is not None:  # the leader's limit [000 §篇6 4.2.3e]
        hooks = await plugin_of(scope)
        await limits.check(
            scope, hooks, ticket, body.resolve_by, utcnow(), "resolve_by",
            hooks.deadlines().set_limit_severities,
            N_("a leader's per-ticket limit applies to severities {severities} only"),
        )  # fmt: skip
        ticket.resolve_by = body.resolve_by
        out["resolve_by"] = body.resolve_by.isoformat()
    return out


async def _return(scope: TenantScope, p: Principal, ticket: Ticket, body: Any) -> dict[str, Any]:
    was = ticket.assigned_department_id
    ticket.assigned_department_id = None
    return {"returned_by_department_id": was}


async def _refer(scope: TenantScope, p: Principal, ticket: Ticket, body: Any) -> None:
    if ticket.referred_to_inspection:
        raise Conflict("already referred to discipline inspection", rule="once")
    ticket.referred_to_inspection = True


async def _close(
    scope: TenantScope, p: Principal, ticket: Ticket, body: s.Close
) -> dict[str, Any] | None:
    tax = (await plugin_of(scope)).taxonomy()
    check_desk_word(tax, "verification", body.verification)
    check_close_checklist(tax, body.four_donts)
    from_suspended = ticket.state == State.SUSPENDED
    if from_suspended != (body.verification == "unresolvable_approved"):
        raise Invalid(
            "a suspended ticket closes as unresolvable_approved; a followed-up one closes on "
            "a signed service slip or a confirmed result",
            field="verification",
            rule="matches the ticket's state",
        )
    if body.verification == "service_slip_signed" and not await scope.scalar(
        select(Attachment.id)
        .where(Attachment.ticket_id == ticket.id, Attachment.kind == "service_slip")
        .limit(1)
    ):
        # [000 §篇1 5(5)2①a] a case closes once the complainant has signed the 《维修服务单》:
        # closing on that ground needs the signed slip on the ticket.
        raise Invalid(
            "closing on a signed service slip needs the signed slip attached "
            "(POST /api/tickets/{id}/attachments, kind service_slip)",
            field="verification",
            rule="service_slip_signed requires an attached service_slip [000 §篇1 5(5)2①a]",
        )
    extra = await approvals.close(scope, p, ticket, body) or None
    ticket.closed_at = utcnow()
    ticket.resolution = "unresolvable" if from_suspended else "resolved"
    return extra


async def _reopen(scope: TenantScope, p: Principal, ticket: Ticket, body: Any) -> dict[str, Any]:
    was = ticket.resolution
    ticket.reopen_count += 1
    ticket.closed_at = None
    ticket.resolution = None
    return {"resolution_was": was}


_EFFECTS: dict[str, Any] = {
    "triage_valid": _classify,
    "reclassify": _classify,
    "triage_invalid": _close_now,
    "triage_communicative": _communicative,
    "convert": _classify,
    "answer": _answer,
    "settle": _close_now,
    "dispatch": _dispatch,
    "return": _return,
    "refer_to_inspection": _refer,
    "grade": grading.validate,
    "close": _close,
    "reopen": _reopen,
    "register": approvals.register,
    "reassign_owner": approvals.reassign,
    "reply": approvals.reply,
    "review_reply": approvals.review_reply,
    "rework_reply": approvals.rework_reply,
}
