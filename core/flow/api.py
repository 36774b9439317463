"""HTTP routes for tickets. Thin: decode, open the tenant scope, call the service, convert.

One route per lifecycle action is generated from :data:`core.tickets.lifecycle.TRANSITIONS`,
so the OpenAPI page documents each action's body.
"""

import datetime as dt
from typing import Annotated, Any, Literal

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from core import metrics
from core.db import Database
from core.errors import Invalid
from core.flow import listing, service
from core.people.auth import Principal
from core.people.guards import IN_SERVICE, requires, tenant_member
from core.people.roles import DESK, MANAGEMENT
from core.people.web import principal as principal_of
from core.tickets import reading
from core.tickets import schemas as s
from core.tickets.lifecycle import TRANSITIONS, Transition

TAGS = ["tickets"]
ID_KEY = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", required=False, max_length=128, min_length=1),
]


async def _out(db: Database, principal: Principal, ticket_id: int) -> s.TicketOut:
    async with db.tenant(principal.tenant_id) as scope:  # type: ignore[arg-type]
        ticket = await reading.load(scope, principal, ticket_id)
        depts = await reading.department_refs(scope)
        actions = await service.actions_for(scope, principal, ticket)
        return reading.to_out(ticket, principal, depts, actions)


@post(
    "/api/tickets",
    operation_id="createTicket",
    tags=TAGS,
    status_code=201,
    guards=[tenant_member, requires(*(DESK | MANAGEMENT))],
)
async def create_ticket(
    request: Request[Any, Any, Any], data: JSONBody[s.TicketCreate], idempotency_key: ID_KEY = None
) -> Response[s.TicketOut]:
    """Record a complaint (受理). Send ``Idempotency-Key`` to make retries safe: the same key
    and body return the same ticket; the same key with another body is refused (422)."""
    principal = principal_of(request)
    db: Database = request.app.state.db
    async with db.tenant(principal.tenant_id) as scope:  # type: ignore[arg-type]
        ticket, created = await service.create(scope, principal, data, idempotency_key)
        ticket_id = ticket.id
        # answered from the same transaction: the ticket is already loaded for this reader
        depts = await reading.department_refs(scope)
        actions = await service.actions_for(scope, principal, ticket)
        out = reading.to_out(ticket, principal, depts, actions)
    if created:
        metrics.ticket_created(principal.tenant_id)
    headers = {"Location": f"/api/tickets/{ticket_id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return Response(out, status_code=201 if created else 200, headers=headers)


@get("/api/tickets", operation_id="listTickets", tags=TAGS, guards=[tenant_member])
async def list_tickets(
    request: Request[Any, Any, Any],
    ticket_state: Annotated[str | None, QueryParameter(name="state")] = None,
    category: FromQuery[str | None] = None,
    severity: FromQuery[str | None] = None,
    department: FromQuery[str | None] = None,
    created_from: FromQuery[dt.datetime | None] = None,
    created_to: FromQuery[dt.datetime | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    owner: Annotated[str | None, QueryParameter(max_length=64)] = None,
    mine: FromQuery[bool] = False,
    due: Annotated[Literal["overdue", "due_soon"] | None, QueryParameter()] = None,
    channel: Annotated[str | None, QueryParameter(max_length=32)] = None,
    sort: Annotated[
        Literal[
            "due", "-due", "received", "-received", "severity", "-severity", "number", "-number"
        ]
        | None,
        QueryParameter(),
    ] = None,
    offset: Annotated[int, QueryParameter(ge=0, le=listing.MAX_OFFSET)] = 0,
    total: FromQuery[bool] = False,
) -> s.TicketPage:
    """Tickets the caller may read; by default newest first, paged by ``cursor`` (pass
    ``next_cursor`` back).

    Filters: ``state``, ``category``, ``severity``, ``department`` (assigned or accused),
    ``created_from``/``created_to`` (timezone-aware), ``owner`` (a username, or ``none``),
    ``mine=true`` (owned by the caller), ``due=overdue|due_soon`` (an open step clock past
    due / due within 24 h), ``channel``. ``sort``: ``due`` (nearest open clock first),
    ``received``, ``severity`` (the plugin's order, lightest first), ``number``; a leading
    ``-`` reverses; page a sort with ``offset``. ``total=true`` adds the count of every
    matching ticket. ``q`` searches the number, description, demands and — for roles that
    may see it — the complainant's contact (substring, case-insensitive; trigram-indexed
    from 3 characters, shorter queries scan the tenant's tickets). Unknown query parameters
    and values are a 422 naming the field."""
    principal = principal_of(request)
    for name, value in (("created_from", created_from), ("created_to", created_to)):
        if value is not None and value.tzinfo is None:
            raise Invalid(
                f"{name} needs a timezone (e.g. 2026-11-01T00:00:00+08:00)",
                field=name,
                rule="timezone-aware datetime",
            )
    f = reading.Filters(ticket_state, category, severity, department, created_from, created_to, q)
    query = listing.Query(f, owner, mine, due, channel, sort, offset, total)
    db: Database = request.app.state.db
    async with db.tenant(principal.tenant_id) as scope:  # type: ignore[arg-type]
        page = await listing.list_page(scope, principal, query, cursor, limit)
        depts = await reading.department_refs(scope)
        items = [
            reading.to_out(t, principal, depts, await service.actions_for(scope, principal, t))
            for t in page.rows
        ]
    return s.TicketPage(items=items, next_cursor=page.next_cursor, total=page.total)


@get("/api/tickets/{ticket_id:int}", operation_id="getTicket", tags=TAGS, guards=[tenant_member])
async def get_ticket(request: Request[Any, Any, Any], ticket_id: FromPath[int]) -> s.TicketOut:
    """One ticket, with the actions the caller may take on it now."""
    return await _out(request.app.state.db, principal_of(request), ticket_id)


@get(
    "/api/tickets/{ticket_id:int}/history",
    operation_id="getTicketHistory",
    tags=TAGS,
    guards=[tenant_member],
)
async def get_history(
    request: Request[Any, Any, Any], ticket_id: FromPath[int]
) -> list[s.EventOut]:
    """Every transition of the ticket, oldest first (append-only)."""
    principal = principal_of(request)
    async with request.app.state.db.tenant(principal.tenant_id) as scope:
        rows = await reading.history(scope, principal, ticket_id)
    return [
        s.EventOut(
            seq=e.seq,
            action=e.action,
            from_state=e.from_state,
            to_state=e.to_state,
            actor=name,
            actor_role=e.actor_role,
            at=e.at,
            payload=e.payload,
        )
        for e, name in rows
    ]


@get(
    "/api/tickets/{ticket_id:int}/grades",
    operation_id="getTicketGrades",
    tags=TAGS,
    guards=[tenant_member],
)
async def get_grades(request: Request[Any, Any, Any], ticket_id: FromPath[int]) -> list[s.GradeOut]:
    """Responsibility grades recorded on the ticket (superseded ones marked not current)."""
    principal = principal_of(request)
    async with request.app.state.db.tenant(principal.tenant_id) as scope:
        rows = await reading.grades(scope, principal, ticket_id)
    return [
        s.GradeOut(
            id=g.id,
            staff=s.Ref(code=st.code, name=st.name),
            grade=g.grade,
            capacity=g.capacity,
            offence=g.offence,
            findings=g.findings,
            complainant_violation=g.complainant_violation,
            graded_at=g.graded_at,
            current=g.superseded_at is None,
        )
        for g, st in rows
    ]


def _action_route(t: Transition) -> Any:
    body_type = t.body

    async def handler(
        request: Request[Any, Any, Any], ticket_id: FromPath[int], data: JSONBody[body_type]
    ) -> s.TicketOut:  # type: ignore[valid-type]
        principal = principal_of(request)
        db: Database = request.app.state.db
        async with db.tenant(principal.tenant_id) as scope:  # type: ignore[arg-type]
            ticket = await service.transition(scope, principal, ticket_id, t.action, data)
            # Answer from the changed ticket itself: the actor may no longer see it (a
            # department head who returned it), yet the change happened.
            depts = await reading.department_refs(scope)
            actions = await service.actions_for(scope, principal, ticket)
            out = reading.to_out(ticket, principal, depts, actions)
        metrics.transition(principal.tenant_id, t.action)  # committed
        return out

    handler.__doc__ = (
        f"{t.summary}\n\nFrom: {', '.join(sorted(t.sources))}. Roles: {', '.join(sorted(t.roles))}."
    )
    handler.__name__ = f"action_{t.action}"
    camel = "".join(w.capitalize() for w in t.action.split("_"))
    return post(
        f"/api/tickets/{{ticket_id:int}}/{t.action.replace('_', '-')}",
        operation_id=f"ticket{camel}",
        tags=["ticket lifecycle"],
        status_code=200,
        guards=[tenant_member],
        summary=t.summary,
        # conflict of interest: checked by service.transition in the request's transaction
        opt={IN_SERVICE: "service.transition refuses a named or graded principal first"},
    )(handler)


ACTION_ROUTES = [_action_route(t) for t in TRANSITIONS.values()]
ROUTES = [create_ticket, list_tickets, get_ticket, get_history, get_grades, *ACTION_ROUTES]
