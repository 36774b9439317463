"""Decide in bulk (issue 20 §2): penalties, extensions and closures, many at once.

Each item is decided exactly as its single route decides it — the same service function
(:func:`core.penalties.service.decide`, :func:`core.deadlines.service.decide_extension`,
:func:`core.flow.service.transition` with ``close``), the same visibility, the same
conflict-of-interest rule (nobody acts on a complaint that names or grades them, domain §7)
— in **its own transaction**, so its audit event lands with it and a refused item changes
nothing and stops nothing else. The answer lists what was done and, for each refused item,
the status, field, rule and message its single route would have answered.

Routes: ``POST /api/penalties/bulk`` (``penaltyBulk``), ``POST /api/extensions/bulk``
(``extensionBulk``), ``POST /api/tickets/bulk/close`` (``ticketBulkClose``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, post
from litestar.params import JSONBody
from msgspec import Meta
from sqlalchemy import select

from core.context import DatabaseDep, PrincipalDep
from core.db import Database, TenantScope
from core.deadlines import service as deadlines
from core.errors import ApiError, Forbidden, NotFound, language
from core.flow import service
from core.penalties import service as penalties
from core.penalties.models import Penalty
from core.people.guards import CONFLICT_MESSAGE
from core.principal import Principal
from core.tickets import reading
from core.tickets import schemas as ts
from core.tickets.models import Ticket

MAX_ITEMS = 200
"""One request decides at most this many (each is its own transaction)."""

Reason = Annotated[str, Meta(max_length=2000)]
Id = Annotated[int, Meta(ge=1, le=reading.MAX_ID)]
Ids = Annotated[list[Id], Meta(min_length=1, max_length=MAX_ITEMS)]


class PenaltyBulk(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    decision: Literal["confirm", "waive"]
    ids: Ids
    reason: Reason = ""
    """One reason for every item (a waiver needs one, as the single decision does)."""


class ExtensionBulk(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    decision: Literal["approve", "reject"]
    ids: Ids
    reason: Reason = ""


class CloseItem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    ticket_id: Id
    version: Annotated[int, Meta(ge=1)]
    """The version the decider saw: a ticket changed since is refused (409), as one is."""


class CloseBulk(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    items: Annotated[list[CloseItem], Meta(min_length=1, max_length=MAX_ITEMS)]
    verification: Literal["service_slip_signed", "result_confirmed", "unresolvable_approved"]
    note: Reason = ""


class Refused(msgspec.Struct, kw_only=True):
    """The error document its single route would have answered (:meth:`ApiError.body`),
    with the item's id."""

    id: int
    """The penalty, extension or ticket id."""
    status: int
    code: str
    field: str | None
    rule: str | None
    message: str
    """In the reader's language (Chinese by default)."""


class BulkResult(msgspec.Struct, kw_only=True):
    done: list[int]
    refused: list[Refused]


async def run(
    db: Database,
    p: Principal,
    ids: list[int],
    one: Callable[[TenantScope, int], Awaitable[None]],
    lang: str = "zh_CN",
) -> BulkResult:
    """``one(scope, id)`` for each id (duplicates once), each in its own transaction; an
    :class:`ApiError` refuses that item only (rolled back) and is reported."""
    tenant_id = p.require_tenant()
    out = BulkResult(done=[], refused=[])
    for item in dict.fromkeys(ids):
        try:
            async with db.tenant(tenant_id) as scope:
                await one(scope, item)
        except ApiError as exc:
            out.refused.append(refused(item, exc, lang))
        else:
            out.done.append(item)
    return out


def refused(item: int, exc: ApiError, lang: str) -> Refused:
    """``exc`` as its single route's error document shows it, for item ``item``."""
    err = exc.body(lang)["error"]
    return Refused(
        id=item,
        status=err["status"],
        code=err["code"],
        field=err.get("field"),
        rule=err.get("rule"),
        message=err["message"],
    )


async def _ticket_for(scope: TenantScope, p: Principal, ticket_id: int) -> Ticket:
    ticket = await reading.load(scope, p, ticket_id)
    if reading.involved(p, ticket):  # the app-wide guard's rule, per item
        raise Forbidden(CONFLICT_MESSAGE, rule="conflict of interest")
    return ticket


async def decide_penalties(db: Database, p: Principal, body: PenaltyBulk, lang: str) -> BulkResult:
    """Each penalty as ``penaltyConfirm`` / ``penaltyWaive`` would decide it."""

    async def one(scope: TenantScope, penalty_id: int) -> None:
        penalty = await scope.scalar(select(Penalty).where(Penalty.id == penalty_id))
        if penalty is None:
            raise NotFound("penalty {id} not found", field="penalty_id", params={"id": penalty_id})
        ticket = await _ticket_for(scope, p, penalty.ticket_id)
        decision = penalties.Decision(body.decision, None, body.reason)
        await penalties.decide(scope, p, penalty, ticket, decision)

    return await run(db, p, body.ids, one, lang)


async def decide_extensions(
    db: Database, p: Principal, body: ExtensionBulk, lang: str
) -> BulkResult:
    """Each extension as ``extensionApprove`` / ``extensionReject`` would decide it."""

    async def one(scope: TenantScope, extension_id: int) -> None:
        ext = await deadlines.extension(scope, extension_id)
        ticket = await _ticket_for(scope, p, ext.ticket_id)
        await deadlines.decide_extension(
            scope, p, ticket, ext, body.decision == "approve", body.reason
        )

    return await run(db, p, body.ids, one, lang)


async def close_tickets(db: Database, p: Principal, body: CloseBulk, lang: str) -> BulkResult:
    """Each ticket as ``ticketClose`` would close it (its rules, its version check)."""
    versions = {i.ticket_id: i.version for i in body.items}

    async def one(scope: TenantScope, ticket_id: int) -> None:
        close = ts.Close(
            version=versions[ticket_id], verification=body.verification, note=body.note
        )
        await service.transition(scope, p, ticket_id, "close", close)

    return await run(db, p, list(versions), one, lang)


# Each item is its own transaction (a refused one changes nothing and stops nothing else), so
# these handlers take the database (``db``), not the request's one tenant scope; ``request``
# only for the reader's language of the refusals' messages.


@post("/api/penalties/bulk", operation_id="penaltyBulk", tags=["penalties"], status_code=200)
async def penalty_bulk(
    request: Request[Any, Any, Any],
    db: DatabaseDep,
    principal: PrincipalDep,
    data: JSONBody[PenaltyBulk],
) -> BulkResult:
    """Confirm or waive many proposed penalties with one reason. Each passes every rule of
    the single decision in its own transaction; refused ones are listed with why."""
    return await decide_penalties(db, principal, data, language(request))


@post("/api/extensions/bulk", operation_id="extensionBulk", tags=["deadlines"], status_code=200)
async def extension_bulk(
    request: Request[Any, Any, Any],
    db: DatabaseDep,
    principal: PrincipalDep,
    data: JSONBody[ExtensionBulk],
) -> BulkResult:
    """Approve or reject many extension requests with one reason (each as the single one)."""
    return await decide_extensions(db, principal, data, language(request))


@post(
    "/api/tickets/bulk/close",
    operation_id="ticketBulkClose",
    tags=["ticket lifecycle"],
    status_code=200,
)
async def ticket_bulk_close(
    request: Request[Any, Any, Any],
    db: DatabaseDep,
    principal: PrincipalDep,
    data: JSONBody[CloseBulk],
) -> BulkResult:
    """Close many tickets with one verification and note; each item names the version the
    decider saw. Each passes every rule of ``ticketClose`` in its own transaction."""
    return await close_tickets(db, principal, data, language(request))


ROUTES = [penalty_bulk, extension_bulk, ticket_bulk_close]
