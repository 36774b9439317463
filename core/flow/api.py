"""HTTP routes for tickets. Thin: decode, call the service in the request's tenant scope
(``tenant``, :mod:`core.context`), convert.

One route per lifecycle action is generated from :data:`core.tickets.lifecycle.TRANSITIONS`,
so the OpenAPI page documents each action's body.
"""

import datetime as dt
from typing import Annotated, Any, Literal

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from core import metrics
from core.context import PrincipalDep, TenantScopeDep
from core.flow import listing, service
from core.people.guards import IN_SERVICE, requires
from core.people.roles import DESK, MANAGEMENT
from core.tickets import reading
from core.tickets import schemas as s
from core.tickets.lifecycle import TRANSITIONS, Transition

TAGS = ["tickets"]
INTAKE_GUARDS = [requires(*(DESK | MANAGEMENT))]  # createTicket (and the console's intake)
ID_KEY = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", required=False, max_length=128, min_length=1),
]


async def _out(tenant: TenantScopeDep, principal: PrincipalDep, ticket: Any) -> s.TicketOut:
    """The ticket as this reader sees it, with the actions they may take on it now."""
    depts = await reading.department_refs(tenant)
    actions = await service.actions_for(tenant, principal, ticket)
    return reading.to_out(ticket, principal, depts, actions)


@post(
    "/api/tickets",
    operation_id="createTicket",
    tags=TAGS,
    status_code=201,
    guards=INTAKE_GUARDS,
)
async def create_ticket(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    data: JSONBody[s.TicketCreate],
    idempotency_key: ID_KEY = None,
) -> Response[s.TicketOut]:
    """Record a complaint (受理). Send ``Idempotency-Key`` to make retries safe: the same key
    and body return the same ticket; the same key with another body is refused (422)."""
    ticket, created = await service.create(tenant, principal, data, idempotency_key)
    # answered from the same transaction: the ticket is already loaded for this reader
    out = await _out(tenant, principal, ticket)
    if created:
        tenant.after_commit(lambda: metrics.ticket_created(tenant.tenant_id))
    headers = {"Location": f"/api/tickets/{ticket.id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return Response(out, status_code=201 if created else 200, headers=headers)


@get("/api/tickets", operation_id="listTickets", tags=TAGS)
async def list_tickets(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
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
    f = reading.Filters(ticket_state, category, severity, department, created_from, created_to, q)
    query = listing.Query(f, owner, mine, due, channel, sort, offset, total)
    page = await listing.list_page(tenant, principal, query, cursor, limit)
    depts = await reading.department_refs(tenant)
    items = [
        reading.to_out(t, principal, depts, await service.actions_for(tenant, principal, t))
        for t in page.rows
    ]
    return s.TicketPage(items=items, next_cursor=page.next_cursor, total=page.total)


@get("/api/tickets/{ticket_id:int}", operation_id="getTicket", tags=TAGS)
async def get_ticket(
    tenant: TenantScopeDep, principal: PrincipalDep, ticket_id: FromPath[int]
) -> s.TicketOut:
    """One ticket, with the actions the caller may take on it now."""
    return await _out(tenant, principal, await reading.load(tenant, principal, ticket_id))


@get(
    "/api/tickets/{ticket_id:int}/history",
    operation_id="getTicketHistory",
    tags=TAGS,
)
async def get_history(
    tenant: TenantScopeDep, principal: PrincipalDep, ticket_id: FromPath[int]
) -> list[s.EventOut]:
    """Every transition of the ticket, oldest first (append-only)."""
    rows = await reading.history(tenant, principal, ticket_id)
    return [s.from_row(e, s.EventOut, actor=name) for e, name in rows]


@get(
    "/api/tickets/{ticket_id:int}/grades",
    operation_id="getTicketGrades",
    tags=TAGS,
)
async def get_grades(
    tenant: TenantScopeDep, principal: PrincipalDep, ticket_id: FromPath[int]
) -> list[s.GradeOut]:
    """Responsibility grades recorded on the ticket (superseded ones marked not current)."""
    rows = await reading.grades(tenant, principal, ticket_id)
    return [
        s.from_row(
            g, s.GradeOut, staff=s.Ref(code=st.code, name=st.name), current=g.superseded_at is None
        )
        for g, st in rows
    ]


def _action_route(t: Transition) -> Any:
    body_type = t.body

    async def handler(
        tenant: TenantScopeDep,
        principal: PrincipalDep,
        ticket_id: FromPath[int],
        # the action's body type, chosen at import: mypy takes no variable as a type
        data: JSONBody[body_type],  # type: ignore[valid-type]
    ) -> s.TicketOut:
        ticket = await service.transition(tenant, principal, ticket_id, t.action, data)
        # Answer from the changed ticket itself: the actor may no longer see it (a
        # department head who returned it), yet the change happened.
        tenant.after_commit(lambda: metrics.transition(tenant.tenant_id, t.action))
        return await _out(tenant, principal, ticket)

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
        summary=t.summary,
        # conflict of interest: checked by service.transition in the request's transaction
        opt={IN_SERVICE: "service.transition refuses a named or graded principal first"},
    )(handler)


ACTION_ROUTES = [_action_route(t) for t in TRANSITIONS.values()]
ROUTES = [create_ticket, list_tickets, get_ticket, get_history, get_grades, *ACTION_ROUTES]
