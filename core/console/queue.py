"""The console's queue (``/``): the reader's tickets, filtered, sorted, paged, live.

The page reads through the API's own ``listTickets`` (:mod:`core.flow.listing`), so it
shows exactly what the reader may see, with the same filters; every filter is a query
parameter, so a view is a URL that can be bookmarked or shared. Saved views
(:mod:`core.flow.views`) are those URLs by name.

**Live**: htmx polling, not SSE. Every ``TOUSU_CONSOLE_POLL_SECONDS`` (15 s) the page asks
``/queue/changed?since=<stamp>`` — one indexed ``max(updated_at)`` over the reader's
tickets — which answers 204 when nothing changed, and otherwise 200 with the
``HX-Trigger: queue-changed`` header; only then are the rows (``#queue-rows``, never the
filter form, so nothing typed is lost) fetched again. Polling was chosen over SSE because
it holds no connection per open tab through proxies and worker processes (several API
processes behind one address, no pub/sub needed), costs one cheap statement per tab per
15 s, and degrades to a static page without JavaScript. The ticket page does the same
with ``/tickets/{id}/changed?version=N`` (:func:`ticket_changed`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import func, select

from core import error_text
from core.console import labels
from core.console.calls import run
from core.console.forms import form_dict
from core.console.i18n import translations
from core.console.ticket_forms import Context, channels
from core.context import PrincipalDep, TenantScopeDep
from core.db import TenantScope, utcnow
from core.errors import ApiError, Invalid
from core.flow import api as flow_api
from core.flow import views
from core.flow.listing import SORTS
from core.people import api as people_api
from core.people.models import User
from core.people.roles import DESK, Role
from core.principal import Principal
from core.tickets.models import Ticket, TicketEvent
from core.tickets.reading import visible

PAGE_SIZE = 50
"""Rows a page unless the address gives ``limit`` (1–200, as ``listTickets`` takes)."""
MAX_LIMIT, MAX_PAGE = 200, 2000
FLAGS = {"1": True, "true": True, "on": True, "0": False, "false": False, "off": False}
"""What ``mine`` may say (a checkbox sends ``1``; a link may say ``true`` or ``0``)."""
FILTERS = (
    "state", "severity", "category", "department", "owner", "due", "channel", "q",
    "created_from", "created_to",
)  # fmt: skip
DAY_NAMES = ("created_from", "created_to")
error_text.label_codes("day", {"created_from": "受理日期起", "created_to": "受理日期止"})
DEFAULT_SORT = "due"
"""The desk's default: the nearest due time first, so overdue work is on top."""
SORT_LABELS = {
    "due": "Due time, soonest first",
    "-due": "Due time, latest first",
    "-received": "Received, newest first",
    "received": "Received, oldest first",
    "-severity": "Severity, gravest first",
    "severity": "Severity, lightest first",
    "-number": "Number, newest first",
    "number": "Number, oldest first",
}


def _principal(request: Request[Any, Any, Any]) -> Principal:
    user = request.scope.get("user")
    assert isinstance(user, Principal)
    return user


def countdown(due_at: dt.datetime, now: dt.datetime, lang: str) -> str:
    """ "还剩 3小时20分" / "已超时 2天3小时" (English with ``lang='en'``)."""
    seconds = int((due_at - now).total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if lang == "en":
        parts = [f"{days}d"] if days else []
        parts += [f"{hours}h"] if hours or days else []
        parts += [f"{minutes}m"] if not days else []
        text = " ".join(parts)
        return f"{text} overdue" if late else f"{text} left"
    zh = (f"{days}天" if days else "") + (f"{hours}小时" if hours or days else "")
    zh += f"{minutes}分" if not days else ""
    return f"已超时 {zh}" if late else f"还剩 {zh}"


def _params(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The queue's own query parameters, as given (empty ones dropped)."""
    qp = request.query_params
    out = {k: qp.get(k, "").strip() for k in (*FILTERS, "sort", "mine", "page", "limit")}
    return {k: v for k, v in out.items() if v}


def _href(params: dict[str, str], **change: Any) -> str:
    merged = {**params, **{k: str(v) for k, v in change.items() if v is not None}}
    for k, v in change.items():
        if v is None:
            merged.pop(k, None)
    return "/?" + urlencode(merged) if merged else "/"


async def _stamp(tenant: TenantScope, principal: Principal) -> str:
    """The newest change among the reader's tickets (ISO, UTC) and the newest ticket's id,
    or "" with none: a new ticket always changes the id, even when some other ticket's
    ``updated_at`` lies ahead (a clock set forward, a test that travelled)."""
    newest, last = (
        await tenant.execute(
            select(func.max(Ticket.updated_at), func.max(Ticket.id)).where(visible(principal))
        )
    ).one()
    return f"{newest.isoformat()}~{last}" if newest else ""


def _paging(params: dict[str, str], gettext: Any) -> tuple[bool, int, int, dict[str, str]]:
    """``mine``, ``limit`` and ``page`` of the address as the queue reads them: (mine, rows a
    page, page, {parameter: message}). A value it cannot read is named in the reader's
    language beside its filter and the queue is not drawn on a guess (``mine=yes`` would
    otherwise list everyone's tickets under a ticked "only mine")."""
    errors: dict[str, str] = {}
    mine = FLAGS.get(params.get("mine", "0").lower())
    if mine is None:
        errors["mine"] = (
            gettext("“Only mine” takes 1 (yes) or 0 (no), not “%s”") % (params["mine"][:32])
        )
    numbers = {"limit": (PAGE_SIZE, MAX_LIMIT), "page": (1, MAX_PAGE)}
    read: dict[str, int] = {}
    for name, (default, most) in numbers.items():
        raw = params.get(name, str(default))
        if raw.isdigit() and 1 <= int(raw) <= most:
            read[name] = int(raw)
            continue
        label = gettext("Rows a page") if name == "limit" else gettext("Page number")
        errors[name] = gettext("%s takes a whole number from 1 to %d, not “%s”") % (
            label,
            most,
            raw[:32],
        )
        read[name] = default
    return bool(mine), read["limit"], read["page"], errors


async def _days(request: Request[Any, Any, Any], params: dict[str, str]) -> dict[str, dt.datetime]:
    """``created_from`` / ``created_to`` (a day ``2026-11-01`` or a time, in the tenant's
    zone) as aware datetimes; ``created_to`` a day includes that day. Raises Invalid (422,
    naming the parameter) for anything else — never a silently unfiltered queue."""
    from zoneinfo import ZoneInfo

    from core.console.pages import _zone

    out: dict[str, dt.datetime] = {}
    zone = ZoneInfo(await _zone(request))
    for name in DAY_NAMES:
        raw = params.get(name)
        if not raw:
            continue
        try:
            if len(raw) == 10:
                day = dt.date.fromisoformat(raw)
                value = dt.datetime.combine(day, dt.time(), zone)
                if name == "created_to":
                    value += dt.timedelta(days=1)
            else:
                value = dt.datetime.fromisoformat(raw)
                value = value if value.tzinfo else value.replace(tzinfo=zone)
        except ValueError:
            raise Invalid(
                "{day} {value} is not a date; give year-month-day, e.g. 2026-11-01",
                field=name,
                rule="YYYY-MM-DD",
                params={"day": name, "value": raw[:32]},
            ) from None
        out[name] = value
    if len(out) == 2 and out["created_from"] >= out["created_to"]:
        raise Invalid(
            "created_from {start} is after created_to {end}",
            field="created_from",
            rule="created_from <= created_to",
            params={"start": params["created_from"][:32], "end": params["created_to"][:32]},
        )
    return out


@get("/", include_in_schema=False, name="console:queue")
async def queue(request: Request[Any, Any, Any]) -> Any:
    """The queue page, or (htmx) only its rows."""
    from core.console.desk import people
    from core.console.pages import _clock_summary, _errors, _lang, render

    p = _principal(request)
    if p.has(Role.PLATFORM_OPERATOR):
        return Redirect("/platform")
    params = _params(request)
    sort = params.get("sort", DEFAULT_SORT)
    lang = _lang(request)
    mine, size, page, errors = _paging(params, translations(lang).gettext)
    kwargs: dict[str, Any] = {
        "ticket_state": params.get("state"),
        "limit": size,
        "offset": (page - 1) * size,
        "total": True,
        "sort": sort,
        "mine": mine,
    }
    for k in ("severity", "category", "department", "owner", "due", "channel", "q"):
        if params.get(k):
            kwargs[k] = params[k]
    total = 0
    items: list[Any] = []
    try:
        if not errors:
            kwargs.update(await _days(request, params))
            result = await run(request, flow_api.list_tickets, **kwargs)
            items, total = result.items, result.total or 0
    except ApiError as exc:
        errors = _errors(exc, request)
    clocks = await run(request, _clock_summary, ids=[t.id for t in items])
    everyone = await run(request, people)
    owner_names = {u: v["name"] for u, v in everyone.items()}
    desk = {r.value for r in DESK}  # who may follow a ticket (register's owner choices)
    owners = [(u, v["name"]) for u, v in everyone.items() if desk & set(v["roles"])]
    now = utcnow()
    for c in clocks.values():
        c["countdown"] = countdown(c["due_at"], now, lang)
    first = (page - 1) * size + 1 if items else 0
    ctx = {
        "items": items,
        "clocks": clocks,
        "params": params,
        "sort": sort,
        "page": page,
        "pages": (total + size - 1) // size,
        "mine": mine,
        "total": total,
        "first": first,
        "last": first + len(items) - 1 if items else 0,
        "prev_href": _href(params, page=page - 1 if page > 2 else None) if page > 1 else None,
        "next_href": _href(params, page=page + 1)
        if items and first + len(items) - 1 < total
        else None,
        "errors": errors,
        "owner_names": owner_names,
        "stamp": await run(request, _stamp),
        "self_href": _href(params),
    }
    if request.headers.get("hx-request"):
        return await render(request, "queue_rows.html", **ctx)
    depts = await run(request, people_api.departments)
    return await render(
        request,
        "queue.html",
        states=list(labels.STATES),
        # the tenant's industry's channels with the intake form's words (no other industry's)
        channels=channels(Context(lang, translations(lang).gettext, p.plugin or "", zone="")),
        departments=depts,
        owners=owners,
        sorts=SORT_LABELS,
        views=await run(request, views.list_views),
        may_share=p.has(Role.TENANT_ADMIN),
        # a refused save (view_save), carried in the session: never text from the address
        request_view_error=(request.session.pop("_view_error", "") if request.session else ""),
        view_deleted=(request.session.pop("_view_deleted", None) if request.session else None),
        view_query=urlencode({k: v for k, v in params.items() if k != "page"}),
        **ctx,
    )


@get("/queue/changed", include_in_schema=False, name="console:queue-changed")
async def queue_changed(
    request: Request[Any, Any, Any], tenant: TenantScopeDep, principal: PrincipalDep
) -> Response[str]:
    """204 while the newest change among the reader's tickets is still ``since``; else 200
    with ``HX-Trigger: queue-changed`` (the rows reload themselves)."""
    if await _stamp(tenant, principal) == request.query_params.get("since", ""):
        return Response("", status_code=204)
    return Response("", status_code=200, headers={"HX-Trigger": "queue-changed"})


@get("/tickets/{ticket_id:int}/changed", include_in_schema=False, name="console:ticket-changed")
async def ticket_changed(
    request: Request[Any, Any, Any], tenant: TenantScopeDep, ticket_id: FromPath[int]
) -> Any:
    """204 while the ticket is still at ``version``; else the "changed by X just now"
    notice (:file:`live_ticket.html`) naming who changed it last and how."""
    from core.console.pages import render

    try:
        version = int(request.query_params.get("version", "0"))
    except ValueError:
        version = 0
    ticket = await run(request, flow_api.get_ticket, ticket_id=ticket_id)
    if ticket.version == version:
        return Response("", status_code=204)
    row = (
        await tenant.execute(
            select(TicketEvent.action, TicketEvent.at, User.display_name, User.username)
            .join(User, User.id == TicketEvent.actor_user_id)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.seq.desc())
            .limit(1)
        )
    ).first()
    who = (row.display_name or row.username) if row else ""
    return await render(
        request,
        "live_ticket.html",
        t=ticket,
        changed=True,
        who=who,
        what=row.action if row else None,
        at=row.at if row else None,
    )


@post("/queue/views", include_in_schema=False, name="console:view-save", status_code=303)
async def view_save(request: Request[Any, Any, Any]) -> Any:
    """Save the current filters under a name (shared: tenant admins) — ``createView``."""
    form = form_dict(await request.form())
    query = form.get("query", "")
    try:
        body = views.ViewIn(
            name=form.get("name", "")[:64] or "",
            query=query[:1000],
            shared=form.get("shared") in ("1", "on", "true"),
        )
        out = await run(request, views.create_view, data=body)
    except ApiError as exc:
        from core.console.pages import message

        # The refusal (in the reader's language) goes back beside the save form through the
        # session, not the address: a link cannot make the page say anything.
        request.session["_view_error"] = message(request, exc)[:300]
        return Redirect("/?" + query if query else "/", status_code=303)
    return Redirect("/?" + out.query if out.query else "/", status_code=303)


@post(
    "/queue/views/{view_id:int}/delete",
    include_in_schema=False,
    name="console:view-delete",
    status_code=303,
)
async def view_delete(request: Request[Any, Any, Any], view_id: FromPath[int]) -> Redirect:
    """Delete one of the reader's views (``deleteView``; the page asked to confirm first) and
    say so beside the list, by the view's name, or say why not."""
    from core.console.pages import _lang, message

    gettext = translations(_lang(request)).gettext
    names = {v.id: v.name for v in await run(request, views.list_views)}
    try:
        await run(request, views.delete_view, view_id=view_id)
    except ApiError as exc:  # already gone, or not the reader's to delete
        note = {"ok": False, "text": message(request, exc)[:300]}
    else:
        note = {"ok": True, "text": (gettext("View “%s” deleted") % names.get(view_id, ""))[:300]}
    request.session["_view_deleted"] = note
    return Redirect("/", status_code=303)


@get("/help", include_in_schema=False, name="console:help")
async def help_page(request: Request[Any, Any, Any]) -> Template:
    """Keyboard shortcuts and what the queue's colours mean."""
    from core.console.pages import render

    return await render(request, "help.html")


ROUTES = [queue, queue_changed, ticket_changed, view_save, view_delete, help_page]
__all__ = ["ROUTES", "SORTS", "countdown"]
