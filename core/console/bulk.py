"""Bulk decisions on the approvals page (``/approvals``, issue 20 §2).

Each form posts the ticked rows to a console route that decodes them into the API's body
and calls the same operation (``penaltyBulk``, ``extensionBulk``, ``ticketBulkClose``:
:mod:`core.flow.bulk`), so every item passes every rule of its single decision in its own
transaction. The page comes back with what was decided and, for each refused item, its
ticket number and why.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from sqlalchemy import select

from core.console.calls import run
from core.console.forms import convert
from core.context import TenantScopeDep, provide_principal
from core.deadlines.models import Extension
from core.errors import ApiError
from core.flow import bulk
from core.penalties.models import Penalty
from core.tickets.models import Ticket

KINDS: dict[str, tuple[Any, Any, Any]] = {
    "penalties": (bulk.decide_penalties, bulk.PenaltyBulk, Penalty),
    "extensions": (bulk.decide_extensions, bulk.ExtensionBulk, Extension),
    "closures": (bulk.close_tickets, bulk.CloseBulk, None),
}
"""Per form: the operation its API route (``penaltyBulk``, ``extensionBulk``,
``ticketBulkClose``) runs, its body type, the rows its ids name. The operation is called with
the console reader's language (cookie/``?lang``), not the browser's ``Accept-Language``, so
the refusals read as the rest of the page."""


def _ints(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit() and 0 < int(v) < 2**31]


async def _names(tenant: TenantScopeDep, model: Any, ids: list[int]) -> dict[int, str]:
    """id → the ticket number it belongs to (for the refusal summary)."""
    if not ids:
        return {}
    if model is None:
        rows = await tenant.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids)))
    else:
        rows = await tenant.execute(
            select(model.id, Ticket.number)
            .join(Ticket, Ticket.id == model.ticket_id)
            .where(model.id.in_(ids))
        )
    return {int(i): n for i, n in rows.all()}


def _bulk_route(kind: str) -> Any:
    async def bulk_decide(request: Request[Any, Any, Any]) -> Any:
        return await _decide(request, kind)

    bulk_decide.__name__ = f"bulk_{kind}"
    return post(
        f"/approvals/bulk/{kind}", include_in_schema=False, name=f"console:bulk-{kind}",
        status_code=200,
    )(bulk_decide)  # fmt: skip


async def _decide(request: Request[Any, Any, Any], kind: str) -> Any:
    from core.console.pages import _lang, approvals_render, message

    operation, body_type, model = KINDS[kind]
    form = await request.form()
    fields = {k: form.get(k) for k in ("decision", "reason", "verification", "note")}
    data: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    if kind == "closures":
        items = []
        for raw in form.getall("items") if "items" in form else []:
            tid, _, version = str(raw).partition(":")
            if tid.isdigit() and version.isdigit():
                items.append({"ticket_id": int(tid), "version": int(version)})
        data["items"] = items
        ids = [i["ticket_id"] for i in items]
    else:
        ids = _ints([str(v) for v in (form.getall("ids") if "ids" in form else [])])
        data["ids"] = ids
    if not ids:
        return await approvals_render(
            request, status=422, errors={kind: "Tick at least one row first"}
        )
    if kind == "closures" and not data.get("verification"):  # marked *: never a default
        return await approvals_render(
            request, status=422, errors={kind: "Choose how the closes were verified"}
        )
    try:
        body = convert(data, body_type)  # a refused value: a 422 in the reader's language
        result = await run(
            request, operation, p=provide_principal(request), body=body, lang=_lang(request)
        )
    except ApiError as exc:
        return await approvals_render(
            request, status=exc.status, errors={kind: message(request, exc)}
        )
    summary = {
        "done": result.done,
        "refused": result.refused,
        "names": await run(request, _names, model=model, ids=[r.id for r in result.refused]),
    }
    return await approvals_render(request, bulk={kind: summary})


ROUTES = [_bulk_route(kind) for kind in KINDS]
