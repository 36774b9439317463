"""The desk's pages: intake and the ticket page with every action and side action.

Every form is derived (:mod:`core.console.ticket_forms`) and posts to a route here that
decodes it into the operation's body type and runs the API's own handler
(:func:`core.console.calls.run`; the tables below name each by reference). A refusal
comes back as the same page with the message beside its field — in the reader's
language, named by its label — and the typed values kept; a stale version says so at
the top. Attachments are uploaded through the API's own service (:mod:`core.console.files`).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select

from core.console import i18n, labels
from core.console import ticket_forms as tf
from core.console.calls import run
from core.console.forms import form_dict
from core.context import TenantScopeDep
from core.db import utcnow
from core.deadlines import api as deadlines_api
from core.deadlines.models import Extension
from core.errors import ApiError
from core.flow import api as flow_api
from core.penalties import api as penalties_api
from core.penalties.models import Appeal, Penalty
from core.people import api as people_api
from core.people.guards import EXEMPT
from core.people.models import User
from core.people.roles import DESK, MANAGEMENT
from core.plugins import hooks_for
from core.principal import Principal
from core.tasks.notify import SYSTEM_USER
from core.tickets import schemas as ts
from core.tickets.lifecycle import TRANSITIONS

SYSTEM_NAME = "系统自动操作"
"""The console's name for the tenant's system user (its stored display name is English)."""


def _by_name(routes: list[Any]) -> dict[str, Any]:
    """An API module's route handlers by their function's name (for the handlers it builds
    in a loop and keeps only in its ``ROUTES``)."""
    return {h.fn.__name__: h for h in routes}


ACTIONS: dict[str, Any] = dict(zip(TRANSITIONS, flow_api.ACTION_ROUTES, strict=True))
"""Lifecycle action → the API route handler that performs it (core.flow.api)."""
PENALTY_DECISIONS: dict[str, Any] = {
    verb: _by_name(penalties_api.ROUTES)[f"penalty_{verb}"]
    for verb in ("confirm", "adjust", "waive")
}
EXTENSION_DECISIONS: dict[str, Any] = {
    verb: _by_name(deadlines_api.ROUTES)[f"extension_{verb}"] for verb in ("approve", "reject")
}
CLOCK_ACTIONS: dict[str, tuple[Any, Any, set[str]]] = {
    "pause": (deadlines_api.pause_clock, deadlines_api.PauseIn, {"reason", "note"}),
    "resume": (deadlines_api.resume_clock, None, set()),
    "extend": (
        deadlines_api.request_extension,
        deadlines_api.ExtensionIn,
        {"amount", "unit", "reason", "complainant_informed"}
        | {f"complainant_told.{k}" for k in ("by", "at", "how")},
    ),
}
"""Clock verb → the API handler, its body type, the form fields it knows."""


def _p(request: Request[Any, Any, Any]) -> Principal:
    user = request.scope.get("user")
    assert isinstance(user, Principal)
    return user


def lang_of(request: Request[Any, Any, Any]) -> str:
    return i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))


async def people(tenant: TenantScopeDep) -> dict[str, dict[str, Any]]:
    """The tenant's users by username: display name and roles (history, owners, uploaders,
    the queue's owner filter); the system user by its Chinese name."""
    # the tenant scope's own criteria keep other tenants' users out (core.db)
    rows = await tenant.execute(
        select(User.username, User.display_name, User.roles, User.active).order_by(User.username)
    )
    return {
        u: {
            "name": SYSTEM_NAME if u == SYSTEM_USER else d or u,
            "roles": list(r or []),
            "active": a,
        }
        for u, d, r, a in rows.all()
    }


async def context(request: Request[Any, Any, Any]) -> tf.Context:
    from core.console.pages import _zone

    p = _p(request)
    lang = lang_of(request)
    everyone = await run(request, people)
    desk = {r.value for r in DESK}
    return tf.Context(
        lang=lang,
        gettext=i18n.translations(lang).gettext,
        plugin=p.plugin or "",
        zone=await _zone(request),
        departments=list(await run(request, people_api.departments)),
        staff=[s for s in await run(request, people_api.staff) if s.active],
        people={
            u: v["name"] for u, v in everyone.items() if v["active"] and desk & set(v["roles"])
        },
    )


# ---------------------------------------------------------------- intake


def intake_fields(ctx: tf.Context) -> list[tf.Field]:
    """The intake form: :class:`core.tickets.schemas.TicketCreate` as the desk fills it."""
    g = ctx.gettext
    channels = tf.channels(ctx)
    fields = [
        # the first of the industry's channels (the phone) is how most complaints arrive
        tf.Field(
            "channel", "select", g("Channel"), True, channels, channels[0][0] if channels else None
        ),
        tf.Field("complainant.name", "text", g("Complainant name"), True),
        tf.Field(
            "complainant.contact",
            "text",
            g("Complainant contact"),
            True,
            hint=g("Mobile, landline with area code, or e-mail"),
        ),
        tf.Field("complainant.address", "text", g("Complainant address")),
        tf.Field(
            "accused_department",
            "select",
            g("Department complained about"),
            options=[(d.code, d.name) for d in ctx.departments],
        ),
        tf.Field(
            "accused_staff[]",
            "multi",
            g("Staff complained about"),
            options=[
                (s.code, s.name + (f" · {s.position}" if s.position else "")) for s in ctx.staff
            ],
        ),
        tf.Field("event_time", "datetime", g("Event time"), hint=g("Local time of the tenant")),
        tf.Field("event_place", "text", g("Event place")),
        tf.Field("description", "textarea", g("Description"), True),
        tf.Field("demands", "textarea", g("Demands")),
        tf.Field("temper_note", "text", g("Temper note")),
    ]
    return fields


async def _intake(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    from core.console.files import kind_options
    from core.console.pages import render

    ctx = await context(request)
    values = extra.pop("values", {})
    return await render(
        request,
        "intake.html",
        status=status,
        fields=intake_fields(ctx),
        values=values,
        errors=extra.pop("errors", {}),
        idem=values.get("_idem") or secrets.token_urlsafe(16),
        kinds=kind_options(ctx, _p(request), masked=False),
        **extra,
    )


@get("/tickets/new", include_in_schema=False, name="console:intake", guards=flow_api.INTAKE_GUARDS)
async def intake_page(request: Request[Any, Any, Any]) -> Template:
    return await _intake(request)


@post(
    "/tickets/new",
    include_in_schema=False,
    name="console:intake-post",
    status_code=303,
    guards=flow_api.INTAKE_GUARDS,
    request_max_body_size=None,  # files ride along; each is held to the tenant's limit
)
async def intake_post(request: Request[Any, Any, Any]) -> Any:
    from core.console.files import save_files

    raw = await request.form()
    form = form_dict(raw)
    ctx = await context(request)
    known = {f.name for f in intake_fields(ctx)}
    try:
        body = tf.parse(
            {k: v for k, v in form.items() if k not in ("file", "kind")},
            ts.TicketCreate,
            ctx.zone,
            ctx.gettext,
            intake_fields(ctx),
        )
        out = await run(
            request, flow_api.create_ticket, data=body, idempotency_key=form.get("_idem") or None
        )
    except (ApiError, tf.FormErrors) as exc:
        errors = tf.place(tf.errors_of(exc, ctx.lang, ctx.gettext), known, ctx.gettext)
        return await _intake(request, status=exc.status, errors=errors, values=form)
    problems = await save_files(request, out.id, raw)
    if problems:  # the complaint is recorded; the files that failed are named on its page
        request.session["_flash"] = problems
    return Redirect(f"/tickets/{out.id}", status_code=303)


# ---------------------------------------------------------------- the ticket page


async def view(request: Request[Any, Any, Any], ticket_id: int) -> dict[str, Any]:
    from core.console.files import attachment_rows, kind_options
    from core.console.pages import _clock_colour, _may_appeal, _staff_code

    p = _p(request)
    ctx = await context(request)
    ticket = await run(request, flow_api.get_ticket, ticket_id=ticket_id)
    history = await run(request, flow_api.get_history, ticket_id=ticket_id)
    grades = await run(request, flow_api.get_grades, ticket_id=ticket_id)
    clocks = await run(request, deadlines_api.ticket_deadlines, ticket_id=ticket_id)
    penalties = await run(request, penalties_api.ticket_penalties, ticket_id=ticket_id)
    appeals = await run(request, penalties_api.list_appeals, ticket_id=ticket_id)
    names = await run(request, people)
    now = utcnow()
    colours = {c.id: _clock_colour(c.state, c.due_at, c.breached_at, now) for c in clocks}
    forms = {a: action_form(a, ctx, ticket) for a in ticket.allowed_actions}
    from core.deadlines.api import ExtensionIn, PauseIn

    pause = tf.fields_of(PauseIn, ctx)
    reasons = list(hooks_for(p.plugin or "").deadlines().pause_reasons)
    for f in pause:
        if f.name == "reason":
            f.kind = "select"
            f.options = [(r, ctx.L("pause_reason", r)) for r in reasons]
    extension = tf.fields_of(ExtensionIn, ctx)
    if hooks_for(p.plugin or "").duties().extension_notice_first:
        everyone = {u: v["name"] for u, v in names.items() if v["active"]}
        extension += tf.told_fields(ctx, everyone)
    staff_names = {s.code: s.name for s in await run(request, people_api.staff)}
    can_decide = p.has(*MANAGEMENT)
    may_appeal = _may_appeal(p, await run(request, _staff_code), grades, appeals)
    # the side forms this page draws: a refusal of one of them is shown inside it, not on top
    present = {"attachments"} | ({"appeal"} if may_appeal else set())
    present |= {f"appeal-{a.id}" for a in appeals if a.status == "pending" and can_decide}
    present |= {
        f"penalty-{x.id}-{verb}"
        for x in penalties
        if x.status == "proposed" and can_decide
        for verb in ("confirm", "adjust", "waive")
    }
    if not ticket.complainant.masked:
        present |= {
            f"clock-{c.step}-{verb}"
            for c in clocks
            if c.state == "running"
            for verb in ("extend", "pause")
        }
    return {
        "present": present | set(forms),
        "t": ticket,
        "history": [history_row(e, ctx, names, ctx.departments) for e in history],
        "grades": grades,
        "clocks": clocks,
        "colours": colours,
        "penalties": penalties,
        "ranges": {x.id: tf.penalty_range(ctx, x.rule) for x in penalties},
        "appeals": appeals,
        "appeal_fields": tf.appeal_decision_fields(ctx, ticket.severity),
        "appeal_file_fields": tf.fields_of(ts.AppealFile, ctx),
        "forms": forms,
        "pause_fields": pause if reasons else [],
        "extension_fields": extension,
        "can_decide_penalty": can_decide,
        "may_appeal": may_appeal,
        "staff_names": staff_names,
        "owner_name": names.get(ticket.owner or "", {}).get("name") if ticket.owner else None,
        "attachments": await attachment_rows(request, ticket_id, names),
        "kinds": kind_options(ctx, p, masked=ticket.complainant.masked),
        "may_attach": may_attach(p, ticket),
        "departments": ctx.departments,
        "staff": ctx.staff,
        "channel_label": dict(tf.channels(ctx)).get(ticket.channel)
        or ctx.L("channel", ticket.channel),
        "communicative_label": ctx.L("communicative", ticket.communicative)
        if ticket.communicative
        else None,
    }


def may_attach(p: Principal, ticket: Any) -> bool:
    """Offer the upload form to whoever the API lets upload (it decides again)."""
    from core.attachments.service import UPLOADERS

    return (
        ticket.state != "closed"
        and not ticket.complainant.masked
        and p.role_for(frozenset(UPLOADERS)) is not None
    )


def action_form(action: str, ctx: tf.Context, ticket: Any) -> dict[str, Any]:
    """One lifecycle action's form: its body's fields, plus taxonomy widgets."""
    body = TRANSITIONS[action].body
    names = {f.name for f in __import__("msgspec").structs.fields(body)}
    tax = ctx.tax
    form: dict[str, Any] = {
        "fields": tf.fields_of(body, ctx),
        # the facets' input names (``facets.nature``): their refusals go beside them
        "facets": [f"facets.{f.code}" for f in tax.facets] if tax and "facets" in names else [],
    }
    if "grades" in names:
        needs = tf.grade_needs(ctx.plugin, ticket.severity)
        involved = [s.code for s in ticket.accused_staff]
        lines = []
        for i in range(max(len(involved), 1) + 1):
            line = tf.grade_line(ctx, i, needs)
            if i < len(involved):
                line[0].value = involved[i]
            lines.append(line)
        form["lines"] = lines
    classifies = issubclass(body, ts.TriageValid)  # triage_valid, convert: check_complete
    # an industry's required facet is required there; reclassify keeps one left empty
    form["facets_required"] = classifies
    for f in form["fields"]:
        if f.name == "department" and ticket.accused_department:
            f.value = ticket.accused_department.code
        elif f.name in ("category", "severity"):
            f.value = getattr(ticket, f.name)
            f.required = f.required or classifies  # a valid complaint needs both
        if f.name == "severity" and classifies and not f.value:  # the industry's definition
            f.value = (ticket.classification or {}).get("defined_severity")
    return form


def known_fields(form: dict[str, Any]) -> set[str]:
    names = {f.name for f in form.get("fields", [])}
    for line in form.get("lines", []):
        names |= {f.name for f in line}
    if form.get("facets"):
        names |= {"facets", *form["facets"]}
    return names


_OVERTURNED = re.compile(r"^appeal (\d+) overturned: (.*)$", re.S)
TEXT_KEYS = ("note", "explanation", "reply", "findings", "policy_explained", "plan", "reason")


def history_row(
    e: Any, ctx: tf.Context, names: dict[str, dict[str, Any]], departments: list[Any]
) -> dict[str, Any]:
    """One timeline entry for the reader: labels for the action, the actor's display name,
    codes in the payload (a registration reason, an outcome, a kind) as their labels."""
    payload = e.payload or {}
    lines: list[tuple[str, str]] = []
    g = ctx.gettext
    for key in TEXT_KEYS:
        value = payload.get(key)
        if not isinstance(value, str) or not value:
            continue
        if key == "reason" and e.action == "register":
            value = dict(tf.register_reasons(ctx)).get(value, value)
        elif key == "reason" and e.action in ("deadline_paused",):
            value = ctx.L("pause_reason", value) if value in labels.PAUSE_REASONS else value
        m = _OVERTURNED.match(value) if key == "reason" else None
        if m:
            value = g("Appeal overturned: %s") % m.group(2)
        lines.append(
            (g(labels.label("payload", key)) if key in labels.PAYLOAD_TEXT else key, value)
        )
    if isinstance(payload.get("department"), str):
        dept = next((d.name for d in departments if d.code == payload["department"]), "—")
        lines.append((g("Department"), dept))
    if isinstance(payload.get("verification"), str):
        words = dict(tf.closing_conditions(ctx))
        lines.append((g("Verification"), words.get(payload["verification"], "—")))
    if e.action in ("attach", "download_attachment") and isinstance(payload.get("kind"), str):
        lines.append((g("Kind"), ctx.L("attachment_kind", payload["kind"])))
        if isinstance(payload.get("filename"), str):
            lines.append((g("File"), payload["filename"]))
    if e.action == "triage_communicative" and isinstance(payload.get("kind"), str):
        lines.append((g("Kind"), ctx.L("communicative", payload["kind"])))
    if e.action == "appeal_decided" and isinstance(payload.get("decision"), str):
        lines.append((g("Decision"), ctx.L("appeal_status", payload["decision"])))
    if isinstance(payload.get("step"), str) and payload["step"] in labels.STEPS:
        lines.append((g("Step"), ctx.L("step", payload["step"])))
    who = names.get(e.actor, {}).get("name") if e.actor else None
    if e.actor_role == "system" or (e.actor or "").startswith("system"):
        who = g("System")
    return {
        "action": ctx.L("action", e.action),
        "to_state": e.to_state if e.to_state and e.from_state != e.to_state else None,
        "at": e.at,
        "actor": who or "—",
        "role": ctx.L("role", e.actor_role),
        "lines": lines,
    }


async def page(
    request: Request[Any, Any, Any], ticket_id: int, status: int = 200, **extra: Any
) -> Template:
    from core.console.pages import render

    ctx = await view(request, ticket_id)
    ctx.setdefault("errors", {})
    ctx.setdefault("open_form", None)
    ctx.setdefault("values", {})
    flash = request.session.pop("_flash", None) if request.session else None
    if flash:
        ctx["errors"] = {**ctx["errors"], "attachments": "；".join(flash)}
        ctx["open_form"] = ctx["open_form"] or "attachments"
    ctx.update(extra)
    return await render(request, "ticket.html", status=status, **ctx)


@get("/tickets/{ticket_id:int}", include_in_schema=False, name="console:ticket")
async def ticket_page(request: Request[Any, Any, Any], ticket_id: FromPath[int]) -> Template:
    return await page(request, ticket_id)


async def _refused(
    request: Request[Any, Any, Any],
    ticket_id: int,
    exc: ApiError | tf.FormErrors,
    form_name: str,
    form: dict[str, Any],
    known: set[str],
) -> Template:
    ctx = await context(request)
    errors = facet_labels(
        tf.place(tf.errors_of(exc, ctx.lang, ctx.gettext), known, ctx.gettext), ctx
    )
    return await page(
        request, ticket_id, status=exc.status, errors=errors, open_form=form_name, values=form
    )


def facet_labels(errors: dict[str, str], ctx: tf.Context) -> dict[str, str]:
    """Refusals with a facet's input name (``facets.nature``, which no label catalogue knows:
    facets are the plugin's) written as the facet's label (投诉性质)."""
    tax = ctx.tax
    if tax is None:
        return errors
    out = {}
    for name, text in errors.items():
        for facet in tax.facets:
            text = text.replace(f"facets.{facet.code}", ctx.term(facet))
        out[name] = text
    return out


@post(
    "/tickets/{ticket_id:int}/act/{action:str}",
    include_in_schema=False,
    name="console:act",
    status_code=303,
)
async def act(
    request: Request[Any, Any, Any], ticket_id: FromPath[int], action: FromPath[str]
) -> Any:
    if action not in ACTIONS:
        raise HTTPException(status_code=404, detail="no such action")
    form = form_dict(await request.form())
    ctx = await context(request)
    ticket = await run(request, flow_api.get_ticket, ticket_id=ticket_id)
    drawn = action_form(action, ctx, ticket)
    known = known_fields(drawn) | {"version"}
    try:
        body = tf.parse(form, TRANSITIONS[action].body, ctx.zone, ctx.gettext, drawn["fields"])
        await run(request, ACTIONS[action], ticket_id=ticket_id, data=body)
    except (ApiError, tf.FormErrors) as exc:
        return await _refused(request, ticket_id, exc, action, form, known)
    return Redirect(f"/tickets/{ticket_id}", status_code=303)


async def side_action(
    request: Request[Any, Any, Any],
    page_ticket: int,
    operation: Any,
    body_type: Any,
    form_name: str,
    known: set[str],
    **kw: Any,
) -> Any:
    """A side action (penalty, appeal, clock, extension) from the ticket page or the
    approvals inbox; a refusal comes back to the page it was sent from."""
    from core.console.pages import _safe_next, approvals_render

    form = form_dict(await request.form())
    ctx = await context(request)
    try:
        args = dict(kw)
        if body_type is not None:
            args["data"] = tf.parse(form, body_type, ctx.zone, ctx.gettext)
        await run(request, operation, **args)
    except (ApiError, tf.FormErrors) as exc:
        if page_ticket:
            errors = tf.place(tf.errors_of(exc, ctx.lang, ctx.gettext), known, ctx.gettext)
            return await page(
                request,
                page_ticket,
                status=exc.status,
                errors=errors,
                open_form=form_name,
                values=form,
            )
        errors = tf.errors_of(exc, ctx.lang, ctx.gettext)
        text = "；".join(
            v if k == "_form" else tf.led(k, v, ctx.gettext) for k, v in errors.items()
        )
        return await approvals_render(request, status=exc.status, errors={form_name: text})
    back = form.get("_back") or (f"/tickets/{page_ticket}" if page_ticket else "/approvals")
    return Redirect(_safe_next(back), status_code=303)


async def _ticket_of(request: Request[Any, Any, Any], model: Any, row_id: int) -> int:
    return int(await run(request, _ticket_id, model=model, row_id=row_id) or 0)


async def _ticket_id(tenant: TenantScopeDep, model: Any, row_id: int) -> int | None:
    tid = await tenant.scalar(select(model.ticket_id).where(model.id == row_id))
    return None if tid is None else int(tid)


@post(
    "/penalties/{penalty_id:int}/{verb:str}",
    include_in_schema=False,
    name="console:penalty",
    status_code=303,
)
async def penalty_decide(
    request: Request[Any, Any, Any], penalty_id: FromPath[int], verb: FromPath[str]
) -> Any:
    if verb not in PENALTY_DECISIONS:
        raise HTTPException(status_code=404, detail="no such decision")
    tid = await _ticket_of(request, Penalty, penalty_id)
    return await side_action(
        request,
        tid if request.query_params.get("from") == "ticket" else 0,
        PENALTY_DECISIONS[verb],
        penalties_api.PenaltyDecision,
        f"penalty-{penalty_id}-{verb}",
        {"amount_yuan", "reason"},
        penalty_id=penalty_id,
    )


@post(
    "/appeals/{appeal_id:int}/decide",
    include_in_schema=False,
    name="console:appeal-decide",
    status_code=303,
)
async def appeal_decide(request: Request[Any, Any, Any], appeal_id: FromPath[int]) -> Any:
    tid = await _ticket_of(request, Appeal, appeal_id)
    return await side_action(
        request,
        tid if request.query_params.get("from") == "ticket" else 0,
        penalties_api.decide_appeal,
        ts.AppealDecision,
        f"appeal-{appeal_id}",
        {"decision", "reason", "grade", "offence", "complainant_violation", "findings"},
        appeal_id=appeal_id,
    )


@post(
    "/tickets/{ticket_id:int}/appeal",
    include_in_schema=False,
    name="console:appeal-file",
    status_code=303,
    # The graded staff member's own right on the ticket [000 §篇8 4(3)1], as on the API's
    # fileAppeal route: the one console form the conflict-of-interest guard lets the person
    # named in the complaint send. The operation it calls files only the caller's own grade.
    opt={EXEMPT: "appealing one's own grade"},
)
async def appeal_file(request: Request[Any, Any, Any], ticket_id: FromPath[int]) -> Any:
    """A graded staff member appeals their own grade through the API's ``fileAppeal``."""
    return await side_action(
        request,
        ticket_id,
        penalties_api.file_appeal,
        ts.AppealFile,
        "appeal",
        {"reason"},
        ticket_id=ticket_id,
    )


@post(
    "/extensions/{extension_id:int}/{verb:str}",
    include_in_schema=False,
    name="console:extension",
    status_code=303,
)
async def extension_decide(
    request: Request[Any, Any, Any], extension_id: FromPath[int], verb: FromPath[str]
) -> Any:
    if verb not in EXTENSION_DECISIONS:
        raise HTTPException(status_code=404, detail="no such decision")
    tid = await _ticket_of(request, Extension, extension_id)
    return await side_action(
        request,
        tid if request.query_params.get("from") == "ticket" else 0,
        EXTENSION_DECISIONS[verb],
        deadlines_api.DecisionIn,
        f"extension-{extension_id}",
        {"reason"},
        extension_id=extension_id,
    )


@post(
    "/tickets/{ticket_id:int}/clocks/{step:str}/{verb:str}",
    include_in_schema=False,
    name="console:clock",
    status_code=303,
)
async def clock_action(
    request: Request[Any, Any, Any],
    ticket_id: FromPath[int],
    step: FromPath[str],
    verb: FromPath[str],
) -> Any:
    if verb not in CLOCK_ACTIONS:
        raise HTTPException(status_code=404, detail="no such clock action")
    op, body, known = CLOCK_ACTIONS[verb]
    return await side_action(
        request, ticket_id, op, body, f"clock-{step}-{verb}", known, ticket_id=ticket_id, step=step
    )


ROUTES = [
    intake_page,
    intake_post,
    ticket_page,
    act,
    penalty_decide,
    appeal_decide,
    appeal_file,
    extension_decide,
    clock_action,
]
