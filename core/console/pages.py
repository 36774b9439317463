"""The console's pages: server-rendered Jinja2 templates over the API's own handlers.

Every page reads through :func:`core.console.calls.run` (the API operation itself, its
masking; the console route carries the API route's role guard) and every form posts to a
console route that decodes the form into the API's body type and runs the same operation.
A 4xx comes back as the page again with the message next to its field; a stale version
as "此工单已被他人修改，请刷新"; never a trace.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select

from core.client_address import client_address
from core.console import i18n, labels, notices
from core.console.bulk import ROUTES as BULK_ROUTES
from core.console.calls import run
from core.console.forms import form_dict
from core.console.queue import ROUTES as QUEUE_ROUTES
from core.context import DatabaseDep, PrincipalDep, TenantScopeDep
from core.db import utcnow
from core.deadlines.models import StepClock
from core.errors import ApiError, Conflict, Invalid
from core.people.models import Staff, Tenant
from core.people.roles import DESK, MANAGEMENT, Role
from core.people.sessions import ROTATE, DatabaseStore, audit, login, set_password
from core.plugins import hooks_for
from core.principal import Principal
from core.reports.period import tenant_timezone
from core.tasks import api as tasks_api

DUE_SOON = dt.timedelta(hours=24)
STALE = "This ticket was changed by someone else — reload"


# ---------------------------------------------------------------- rendering


def _lang(request: Request[Any, Any, Any]) -> str:
    return i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))


def _principal(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


async def _tenant(request: Request[Any, Any, Any], p: Principal | None) -> Tenant | None:
    """The reader's tenant row (None before login and for the platform operator)."""
    if p is None or p.tenant_id is None:
        return None
    row: Tenant | None = await run(request, _tenant_row)
    return row


async def _tenant_row(tenant: TenantScopeDep) -> Tenant | None:
    return await tenant.session.get(Tenant, tenant.tenant_id)


async def render(
    request: Request[Any, Any, Any], name: str, status: int = 200, **ctx: Any
) -> Template:
    """Render ``name`` with the helpers every template uses: ``_`` (translate), ``L``
    (label of a core code), ``T`` (the plugin's label of an industry code), ``when``
    (a UTC time in the tenant's zone) and the reader."""
    lang = _lang(request)
    tr = i18n.translations(lang)
    translate = tr.gettext
    p = _principal(request)
    tenant = await _tenant(request, p)
    zone = ZoneInfo(zone_of(tenant))
    tax = hooks_for(p.plugin).taxonomy() if p and p.plugin else None

    def L(group: str, code: str | None) -> str:
        return translate(labels.label(group, code))

    def T(kind: str, code: str | None, facet: str | None = None) -> str:
        if not code:
            return "—"
        term: Any = None  # a taxonomy term, facet, grade or penalty rule: each has label(_zh)
        if tax is not None:
            if kind == "category":
                term = tax.category(code) or next(
                    (g for g in tax.category_groups if g.code == code), None
                )
            elif kind == "severity":
                term = tax.severity(code)
            elif kind == "facet" and facet:
                f = tax.facet(facet)
                term = next((v for v in f.values if v.code == code), None) if f else None
            elif kind == "facet_name":
                term = tax.facet(code)
            elif kind == "grade":
                term = next((g for g in tax.grades if g.code == code), None)
            elif kind == "capacity":
                term = next((g for g in tax.capacities if g.code == code), None)
            elif kind == "rule" and p and p.plugin:
                schedule = hooks_for(p.plugin).penalty_schedule()
                term = schedule.rule(code) if schedule else None
        if term is None:
            if kind in ("grade", "capacity"):
                return L(kind, code)
            return "—"
        return str(term.label_zh if lang == "zh_CN" else term.label)

    def rule_parts(code: str | None) -> tuple[str, str]:
        """A penalty rule's label as (heading, the rest): ``第2档 警告处分,200元/次…`` and the
        offences it covers, so a table on a phone shows the heading."""
        head, *rest = re.split(r"[:：]", T("rule", code), maxsplit=1)
        return head.strip(), "".join(rest).strip()

    def when(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return "—"
        return value.astimezone(zone).strftime(fmt)

    def csrf() -> str:
        from litestar.utils.scope.state import ScopeState

        token = ScopeState.from_scope(request.scope).csrf_token
        return "" if token is None or token is msgspec.UNSET else str(token)

    context = {
        "_": tr.gettext,
        "lang": lang,
        "L": L,
        "T": T,
        "rule_parts": rule_parts,
        "when": when,
        "me": p,
        "tenant": tenant,
        "tax": tax,
        "csrf_token_value": csrf(),
        "nav": _nav(p),
        "path": request.url.path,
        "zone": str(zone),
        **ctx,
    }
    response = Template(
        template_name=name, context=context, status_code=status, media_type="text/html"
    )
    if request.query_params.get("lang") in i18n.LOCALES:
        response.set_cookie(i18n.COOKIE, lang, httponly=True, samesite="lax", max_age=31536000)
    return response


def _nav(p: Principal | None) -> list[tuple[str, str]]:
    if p is None:
        return []
    if p.has(Role.PLATFORM_OPERATOR):
        return [("/platform", "Tenants")]
    items = [("/", "Queue")]
    if p.has(*(DESK | MANAGEMENT)):
        items.append(("/tickets/new", "New complaint"))
    if p.has(*(MANAGEMENT | {Role.SUPERVISOR})):  # who the core or a plugin names approvers
        items.append(("/approvals", "Approvals"))
    if p.has(*(DESK | MANAGEMENT | {Role.TENANT_ADMIN, Role.DEPARTMENT_HEAD, Role.INSPECTOR})):
        items.append(("/reports", "Reports"))
    if p.has(Role.TENANT_ADMIN):
        items.append(("/admin", "Administration"))
    items.append(("/notifications", "Notifications"))
    return items


def message(request: Request[Any, Any, Any], exc: ApiError) -> str:
    """The API error's message in the console reader's language (:mod:`core.error_text`)."""
    return exc.localised(_lang(request))


def _errors(exc: ApiError, request: Request[Any, Any, Any]) -> dict[str, str]:
    """An API error as {field: message} (``_form`` when it names no field)."""
    if isinstance(exc, Conflict) and (exc.field == "version" or exc.rule == "lifecycle"):
        # the form was built from the ticket as it was read: someone changed it since
        return {"_form": STALE}
    return {exc.field or "_form": message(request, exc)}


# ---------------------------------------------------------------- login


@get("/login", include_in_schema=False, name="console:login")
async def login_page(request: Request[Any, Any, Any]) -> Template:
    target = _safe_next(request.query_params.get("next") or "/")
    return await render(request, "login.html", next=target, errors={}, values={})


def _safe_next(value: str) -> str:
    """Only local paths: never redirect a login to another site."""
    return value if value.startswith("/") and not value.startswith("//") else "/"


@post("/login", include_in_schema=False, name="console:login-post", status_code=303)
async def login_post(request: Request[Any, Any, Any], db: DatabaseDep) -> Any:
    """Password login (before any tenant scope: the tenant is what the form names)."""
    form = form_dict(await request.form())
    values = {k: form.get(k, "") for k in ("tenant", "username")}
    try:
        if not form.get("username"):
            raise Invalid(
                "{field}: required", field="username", rule="required", params={"field": "username"}
            )
        if not form.get("password"):
            raise Invalid(
                "{field}: required", field="password", rule="required", params={"field": "password"}
            )
        _, data = await login(
            db,
            request.app.state.throttle,
            form.get("tenant", ""),
            form["username"],
            form["password"],
            client_address(request),
        )
    except ApiError as exc:
        text = message(request, exc)
        if exc.status == 401:
            text = "Wrong tenant, username or password"
        elif exc.status == 429:
            text = "Too many failed attempts; locked for a while. Try again later"
        elif exc.rule == "required":
            text = "Required"
        response = await render(
            request,
            "login.html",
            status=exc.status,
            next=_safe_next(form.get("next", "/")),
            errors={exc.field or "_form": text},
            values=values,
        )
        if exc.status == 429:
            response.headers["Retry-After"] = str(exc.extra.get("retry_after", 60))
        return response
    store = request.app.stores.get("sessions")
    if isinstance(store, DatabaseStore):  # Redis expires its keys; the table is swept here
        await store.delete_expired()
    request.clear_session()
    request.set_session(data)
    request.scope[ROTATE] = True  # type: ignore[literal-required]  # a fresh id: no fixation
    return Redirect(_safe_next(form.get("next", "/")), status_code=303)


@post("/logout", include_in_schema=False, name="console:logout", status_code=303)
async def logout(request: Request[Any, Any, Any], db: DatabaseDep) -> Redirect:
    p = _principal(request)
    if p is not None:
        await audit(
            db,
            "logout",
            username=p.username,
            tenant_id=p.tenant_id,
            user_id=p.user_id,
            address=client_address(request),
        )
    request.clear_session()
    return Redirect("/login", status_code=303)


@get("/account", include_in_schema=False, name="console:account")
async def account(request: Request[Any, Any, Any]) -> Template:
    return await render(request, "account.html", errors={}, done=False)


@post("/account/password", include_in_schema=False, name="console:password", status_code=200)
async def change_password(request: Request[Any, Any, Any], db: DatabaseDep) -> Any:
    """The reader's own password; the user row is read across tenants (a platform operator
    has none) and set_password opens its own transaction (the row and every session)."""
    from core.people import passwords
    from core.people.models import User

    p = _principal(request)
    assert p is not None
    form = form_dict(await request.form())
    try:
        async with db.cross_tenant() as session:
            user = await session.get(User, p.user_id)
            stored = user.password_hash if user else None
        if not await passwords.verify_async(form.get("current", ""), stored):
            raise Invalid("wrong current password", field="current", rule="must match")
        if form.get("new", "") != form.get("repeat", ""):
            raise Invalid("the two new passwords differ", field="repeat", rule="must match")
        passwords.check_policy(form.get("new", ""), field="new")
        await set_password(
            db,
            p.user_id,
            form["new"],
            f"user:{p.user_id}",
            client_address(request),
        )
    except ApiError as exc:
        return await render(
            request, "account.html", status=exc.status, errors=_errors(exc, request), done=False
        )
    request.clear_session()  # the new password ends every session, this one included
    return Redirect("/login", status_code=303)


# ---------------------------------------------------------------- queue


async def _clock_summary(tenant: TenantScopeDep, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per ticket: the nearest running clock's due time and its colour."""
    if not ids:
        return {}
    now = utcnow()
    out: dict[int, dict[str, Any]] = {}
    rows = await tenant.scalars(
        select(StepClock).where(StepClock.ticket_id.in_(ids), StepClock.ended_at.is_(None))
    )
    for c in rows:
        status = _clock_colour(c.state, c.due_at, c.breached_at, now)
        prior = out.get(c.ticket_id)
        if prior is None or c.due_at < prior["due_at"]:
            out[c.ticket_id] = {"due_at": c.due_at, "status": status, "step": c.step}
    return out


def _clock_colour(
    state: str, due_at: dt.datetime, breached_at: dt.datetime | None, now: dt.datetime
) -> str:
    if state == "paused":
        return "paused"
    if breached_at is not None or state == "missed" or (state == "running" and now > due_at):
        return "overdue"
    if state == "running" and due_at - now <= DUE_SOON:
        return "due_soon"
    if state in ("met", "stopped", "cancelled"):
        return "done"
    return "on_time"


# ---------------------------------------------------------------- intake


def _local_time(value: Any, zone: str) -> Any:
    """A ``datetime-local`` input (tenant zone) as an aware ISO time; other values unchanged."""
    if isinstance(value, str) and len(value) in (16, 19) and "T" in value:
        return dt.datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(zone)).isoformat()
    return value


def zone_of(tenant: Tenant | None) -> str:
    """The tenant's time zone, as everything on screen shows times (the reports' rule:
    :func:`core.reports.period.tenant_timezone`)."""
    return tenant_timezone(tenant.config if tenant else None)


async def _zone(request: Request[Any, Any, Any]) -> str:
    return zone_of(await _tenant(request, _principal(request)))


# ---------------------------------------------------------------- the ticket page


async def _staff_code(tenant: TenantScopeDep, principal: PrincipalDep) -> str | None:
    """The reader's own staff code (None for a user who is no staff member)."""
    if principal.staff_id is None:
        return None
    return await tenant.scalar(select(Staff.code).where(Staff.id == principal.staff_id))


def _may_appeal(p: Principal, code: str | None, grades: list[Any], appeals: list[Any]) -> bool:
    """Offer the appeal form to a staff member holding a current responsibility grade of
    their own on the ticket and no appeal yet (one per grade [000 §篇8 4(3)1]); the API
    decides, this only spares a form that would be refused."""
    if not p.has(Role.STAFF) or code is None:
        return False
    mine = [g for g in grades if g.current and g.staff.code == code and g.grade != "none"]
    return bool(mine) and not any(a.staff == code for a in appeals)


# ---------------------------------------------------------------- approvals


async def approvals_render(
    request: Request[Any, Any, Any],
    status: int = 200,
    errors: dict[str, str] | None = None,
    bulk: dict[str, Any] | None = None,
) -> Template:
    """The reader's own inbox (:func:`core.console.inbox.inbox`): only what they may decide."""
    from core.console.ticket_forms import Context, closing_conditions

    box, staff = await run(request, _inbox)
    p = _principal(request)
    lang = _lang(request)
    words = Context(lang, i18n.translations(lang).gettext, (p.plugin if p else "") or "", "")
    return await render(
        request,
        "approvals.html",
        status=status,
        penalties=box.penalties,
        extensions=box.extensions,
        appeals=box.appeals,
        closable=box.closable,
        # how a close may be verified in this industry (the ticket's close form offers these)
        verifications=closing_conditions(words),
        staff=staff,
        numbers=box.numbers,
        ext_clocks=box.clocks,
        errors=errors or {},
        bulk=bulk or {},  # a bulk decision's summary (core.console.bulk)
    )


async def _inbox(tenant: TenantScopeDep, principal: PrincipalDep) -> tuple[Any, dict[int, Staff]]:
    from core.console.inbox import inbox

    box = await inbox(tenant, principal)
    return box, {s.id: s for s in await tenant.scalars(select(Staff))}


@get("/approvals", include_in_schema=False, name="console:approvals")
async def approvals(request: Request[Any, Any, Any]) -> Template:
    return await approvals_render(request)


# ---------------------------------------------------------------- notifications


@get("/notifications", include_in_schema=False, name="console:notifications")
async def notifications(request: Request[Any, Any, Any]) -> Template:
    rows = await run(request, tasks_api.my_notifications, unread=False, limit=100)
    return await render(request, "notifications.html", rows=rows, notice=notices.notice_text)


@get("/notifications/count", include_in_schema=False, name="console:notification-count")
async def notification_count(request: Request[Any, Any, Any]) -> Template:
    rows = await run(request, tasks_api.my_notifications, unread=True, limit=100)
    return await render(request, "badge.html", count=len(rows))


@post(
    "/notifications/{nid:int}/read",
    include_in_schema=False,
    name="console:notification-read",
    status_code=303,
)
async def notification_read(request: Request[Any, Any, Any], nid: FromPath[int]) -> Redirect:
    try:
        await run(request, tasks_api.read_notification, notification_id=nid)
    except ApiError:
        pass  # already read or gone: the list shows the truth either way
    return Redirect("/notifications", status_code=303)


ROUTES = [
    login_page,
    login_post,
    logout,
    account,
    change_password,
    *QUEUE_ROUTES,
    approvals,
    *BULK_ROUTES,
    notifications,
    notification_count,
    notification_read,
]
