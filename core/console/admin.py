"""Console pages for tenant admins, the monthly reports and the platform operator.

As everywhere in the console, pages read and write through the API's own handlers
(:func:`core.console.calls.run`): the admin forms post to ``/admin/do/<form>``, one route
per form (:data:`FORMS`: the API handler, its body type, its path parameters and the API
route's role guard, which Litestar runs on the console route too).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select

from core.client_address import client_address
from core.console.calls import run
from core.console.forms import convert, form_dict, unflatten
from core.console.i18n import COOKIE, pick, translations
from core.console.pages import _principal, _zone, message, render
from core.context import DatabaseDep, TenantScopeDep
from core.deadlines import api as deadlines_api
from core.error_text import field_label
from core.errors import ApiError, Invalid, NotFound
from core.penalties import api as penalties_api
from core.people import api as people_api
from core.people.guards import Guard
from core.people.models import User
from core.people.sessions import set_password
from core.provisioning import api as provisioning_api
from core.reports import api as reports_api
from core.tasks import api as tasks_api


def _path_date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(
            "{field}: YYYY-MM-DD", field=field, rule="ISO date", params={"field": field}
        ) from exc


@dataclass(frozen=True)
class Form:
    """One admin form: the API handler it runs, its body type, its path parameters (taken
    from these form fields) and the API route's role guard."""

    operation: Any
    body: Any
    path: dict[str, str]
    guards: list[Guard]


ADMIN_PAGE = tasks_api.ADMIN_GUARDS
"""The admin page's own guard (tenant admins): its webhook list is ``listWebhooks``'s."""

FORMS: dict[str, Form] = {
    "fine": Form(
        penalties_api.set_fine, penalties_api.FineSet, {"rule": "_rule"},
        penalties_api.ADMIN_GUARDS,
    ),
    "deadline": Form(
        deadlines_api.set_deadline, deadlines_api.DeadlineIn, {}, deadlines_api.ADMIN_GUARDS
    ),
    "calendar": Form(
        deadlines_api.set_calendar_day, deadlines_api.CalendarDayIn, {"day": "_day"},
        deadlines_api.CALENDAR_GUARDS,
    ),
    "calendar-remove": Form(
        deadlines_api.remove_calendar_day, None, {"day": "_day"}, deadlines_api.CALENDAR_GUARDS
    ),
    "pay": Form(
        penalties_api.set_pay, penalties_api.PaySet, {"staff_code": "_staff", "period": "_period"},
        penalties_api.ADMIN_GUARDS,
    ),
    "ledger": Form(
        penalties_api.run_ledger, penalties_api.RunRequest, {}, penalties_api.LEDGER_GUARDS
    ),
    "webhook": Form(tasks_api.create_webhook, tasks_api.WebhookIn, {}, tasks_api.ADMIN_GUARDS),
    "webhook-disable": Form(
        tasks_api.disable_webhook, None, {"webhook_id": "_webhook"}, tasks_api.ADMIN_GUARDS
    ),
    "webhook-enable": Form(
        tasks_api.enable_webhook, None, {"webhook_id": "_webhook"}, tasks_api.ADMIN_GUARDS
    ),
    "webhook-redeliver": Form(
        tasks_api.redeliver, None, {"webhook_id": "_webhook", "delivery_id": "_delivery"},
        tasks_api.ADMIN_GUARDS,
    ),
}  # fmt: skip
"""Each form posts to the API operation itself, so the console's webhook changes are checked
and audited exactly as the API's (``disable``/``enable``/``redeliver`` audit events)."""


def _path_value(param: str, field: str, value: str) -> Any:
    if param == "day":
        return _path_date(value, field)
    if param.endswith("_id"):
        if not value.isdigit() or int(value) > 2**31 - 1:
            raise Invalid(
                "{field}: a positive integer",
                field=field,
                rule="integer id",
                params={"field": field.lstrip("_")},
            )
        return int(value)
    return value


async def _admin(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    """The admin page (its routes carry the tenant-admin guard). Read in a scope of its own:
    a form's refused unit of work has rolled back before the page is drawn again."""
    users = await run(request, _active_users)
    ctx = {
        "fines": await run(request, penalties_api.list_fines),
        "deadlines": await run(request, deadlines_api.list_deadlines),
        "calendar": await run(request, deadlines_api.list_calendar),
        "staff": await run(request, people_api.staff),
        "webhooks": await run(request, tasks_api.list_webhooks),
        "users": [u for u in users if u.username != "system"],
        "errors": {},
        "done": request.query_params.get("done"),
        "this_month": dt.date.today().strftime("%Y-%m"),
        **extra,
    }
    return await render(request, "admin.html", status=status, **ctx)


async def _active_users(tenant: TenantScopeDep) -> list[User]:
    rows = await tenant.scalars(select(User).where(User.active).order_by(User.username))
    return [u for u in rows if u.username != "system"]


@get("/admin", include_in_schema=False, name="console:admin", guards=ADMIN_PAGE)
async def admin(request: Request[Any, Any, Any]) -> Template:
    return await _admin(request)


def _form_route(form_name: str, spec: Form) -> Any:
    async def admin_do(request: Request[Any, Any, Any]) -> Any:
        return await _admin_do(request, form_name, spec)

    admin_do.__name__ = "admin_do_" + form_name.replace("-", "_")
    return post(
        f"/admin/do/{form_name}",
        include_in_schema=False,
        name=f"console:admin-do-{form_name}",
        status_code=303,
        # the API route's guard, and the admin page's own (a refusal draws that page again)
        guards=[*spec.guards, *ADMIN_PAGE],
    )(admin_do)


LABELS = {
    "_period": "Month",
    "period": "Month",
    "_staff": "Staff member",
    "_day": "Day",
    "kind": "Kind",
    "url": "Address (URL)",
}
"""An admin form's input name → the message id of the label the page shows beside it (the
month of pay and of the ledger run reads 月份, not the report's 期间); any other input: its
field's label (:data:`core.tickets.labels.FIELDS`)."""


def _label(name: str, lang: str) -> str:
    from core.console.forms import label_id

    return translations(lang).gettext(LABELS.get(name) or label_id(name.lstrip("_")))


def _missing(form: dict[str, Any], spec: Form) -> list[str]:
    """The form's inputs the page marks required and the admin left empty, in page order:
    the path parameters, then the body's required fields."""
    from core.console.forms import missing_required

    out = [name for name in spec.path.values() if not form.get(name)]
    if spec.body is not None:
        data = {k: v for k, v in unflatten(form).items() if v not in ("", None)}
        out += missing_required(data, spec.body)
    return out


async def _admin_do(request: Request[Any, Any, Any], form_name: str, spec: Form) -> Any:
    form = form_dict(await request.form())
    missing = _missing(form, spec)
    if missing:  # every empty marked field at once, by the label beside it
        lang = pick(request.query_params.get("lang"), request.cookies.get("tousu_lang"))
        said = translations(lang).gettext("Please fill in %s")
        return await _admin(
            request,
            status=422,
            errors={form_name: "；".join(said % _label(m, lang) for m in missing)},
        )
    try:
        kwargs: dict[str, Any] = {}
        for param, name in spec.path.items():
            value = form.get(name, "")
            if not value:
                raise Invalid(
                    "{field}: required",
                    field=name,
                    rule="required",
                    params={"field": name.lstrip("_")},
                )
            kwargs[param] = _path_value(param, name, value)
        if spec.body is not None:
            data = unflatten(form)
            if form_name == "webhook" and isinstance(data.get("topics"), str):
                data["topics"] = [t.strip() for t in data["topics"].split(",") if t.strip()]
            kwargs["data"] = convert(data, spec.body)
        result = await run(request, spec.operation, **kwargs)
    except ApiError as exc:
        if form_name == "webhook-redeliver" and exc.field not in ("webhook_id", "_webhook"):
            return await _deliveries(
                request,
                int(form.get("_webhook") or 0),
                exc.status,
                {form_name: message(request, exc)},
            )
        return await _admin(
            request,
            status=exc.status,
            errors={form_name: admin_message(request, exc), "_field": exc.field or ""},
        )
    secret = getattr(result, "secret", None)
    if secret:  # a webhook's signing secret is shown once
        return await _admin(request, status=201, secret=secret)
    if form_name == "webhook-redeliver":
        return Redirect(f"/admin/webhooks/{kwargs['webhook_id']}?done=1", status_code=303)
    return Redirect(f"/admin?done={form_name}", status_code=303)


async def _deliveries(
    request: Request[Any, Any, Any],
    webhook_id: int,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> Template:
    """One webhook's delivery log with a redeliver button per delivery (tenant admins)."""
    hooks = [w for w in await run(request, tasks_api.list_webhooks) if w.id == webhook_id]
    rows = await run(request, tasks_api.deliveries, webhook_id=webhook_id)  # 404 if not ours
    return await render(
        request,
        "webhook.html",
        status=status,
        hook=hooks[0] if hooks else None,
        deliveries=rows,
        errors=errors or {},
        done=request.query_params.get("done"),
    )


@get(
    "/admin/webhooks/{webhook_id:int}",
    include_in_schema=False,
    name="console:webhook",
    guards=ADMIN_PAGE,
)
async def webhook_page(request: Request[Any, Any, Any], webhook_id: FromPath[int]) -> Template:
    return await _deliveries(request, webhook_id)


@post(
    "/admin/users/{user_id:int}/password",
    include_in_schema=False,
    name="console:admin-pw",
    status_code=303,
    guards=ADMIN_PAGE,
)
async def admin_password(
    request: Request[Any, Any, Any], db: DatabaseDep, user_id: FromPath[int]
) -> Any:
    """A tenant admin sets a user's password (the user's sessions end), audited."""
    p = _principal(request)
    assert p is not None
    form = form_dict(await request.form())
    user = await run(request, _user, user_id=user_id)  # the admin's tenant only
    try:
        # set_password opens its own transaction (the user's row and their sessions)
        await set_password(
            db, user.id, form.get("password", ""), f"user:{p.user_id}", client_address(request)
        )
    except ApiError as exc:
        return await _admin(
            request, status=exc.status, errors={f"user-{user_id}": message(request, exc)}
        )
    return Redirect("/admin?done=password", status_code=303)


async def _user(tenant: TenantScopeDep, user_id: int) -> User:
    user: User | None = await tenant.scalar(select(User).where(User.id == user_id))
    if user is None:
        raise NotFound("user {id} not found", field="user_id", params={"id": user_id})
    return user


# ---------------------------------------------------------------- reports


KPI_LABELS = {
    "follow_up_rate": "Follow-up rate",
    "satisfaction": "Satisfaction rate",
    "one_time_resolution": "One-time resolution rate",
    "first_contact_on_time": "First contact on time",
    "resolved_on_time": "Resolved on time",
    "replied_on_time": "Replied on time",
}
BREAKDOWNS = {
    "category": "By category",
    "severity": "By severity",
    "channel": "By channel",
    "department": "By department",
    "staff": "By staff member",
    "grade": "By responsibility",
    "category_group": "By category group",
}
CHARTS = ["trend", "category", "severity", "department", "channel"]


@get("/reports", include_in_schema=False, name="console:reports")
async def reports(request: Request[Any, Any, Any]) -> Template:
    zone = ZoneInfo(await _zone(request))
    period = request.query_params.get("period") or dt.datetime.now(zone).strftime("%Y-%m")
    errors: dict[str, str] = {}
    stats = kpis = None
    ranged = {k: request.query_params.get(k, "") for k in ("from", "to")}
    if any(ranged.values()):  # the page reports a month: a range is never silently dropped
        late = ranged["from"] and ranged["to"] and ranged["from"] > ranged["to"]
        lang = pick(request.query_params.get("lang"), request.cookies.get(COOKIE))
        g = translations(lang).gettext
        later = g("The start date %(start)s is after the end date %(end)s. ") % {
            "start": ranged["from"][:32],
            "end": ranged["to"][:32],
        }
        errors["period"] = (later if late else "") + g(
            "This page reports a month, not a range of dates; below is the chosen month"
        )
    try:
        stats = await run(request, reports_api.get_stats, period=period)
        kpis = await run(request, reports_api.get_kpis, period=period)
    except ApiError as exc:
        if exc.status != 422:  # not the month's fault (a platform operator: no tenant's page)
            raise
        errors["period"] = message(request, exc)
        stats = kpis = None
    return await render(
        request,
        "reports.html",
        status=422 if stats is None else 200,
        period=period,
        stats=stats,
        kpis=kpis,
        errors=errors,
        kpi_labels=KPI_LABELS,
        breakdown_labels=BREAKDOWNS,
        charts=CHARTS,
    )


# ---------------------------------------------------------------- platform


@get(
    "/platform",
    include_in_schema=False,
    name="console:platform",
    guards=provisioning_api.PLATFORM_GUARDS,
)
async def platform(request: Request[Any, Any, Any]) -> Template:
    tenants = await run(request, provisioning_api.list_tenants)
    return await render(request, "platform.html", tenants=tenants, errors={}, doc="")


@post(
    "/platform/tenants",
    include_in_schema=False,
    name="console:platform-create",
    status_code=303,
    guards=provisioning_api.PLATFORM_GUARDS,
)
async def platform_create(request: Request[Any, Any, Any]) -> Any:
    from core.provisioning.tenant_file import TenantFile

    form = form_dict(await request.form())
    doc = form.get("document", "")
    try:
        try:
            data = tomllib.loads(doc)
        except tomllib.TOMLDecodeError as exc:
            raise Invalid(
                "document: {error}", field="document", rule="TOML", params={"error": str(exc)}
            ) from exc
        await run(request, provisioning_api.create_tenant, data=convert(data, TenantFile))
    except ApiError as exc:
        tenants = await run(request, provisioning_api.list_tenants)
        return await render(
            request, "platform.html", status=exc.status, tenants=tenants,
            errors={"document": message(request, exc)}, doc=doc,
        )  # fmt: skip
    return Redirect("/platform", status_code=303)


ROUTES: list[Any] = [
    admin,
    *[_form_route(name, spec) for name, spec in FORMS.items()],
    webhook_page,
    admin_password,
    reports,
    platform,
    platform_create,
]


_MONEY = [
    (re.compile(r"(\d[\d,]*(?:\.\d+)?) yuan"), r"\1 元"),
    (re.compile(r"\bat least "), "不少于 "),
    (re.compile(r"\bat most "), "不超过 "),
    (re.compile(r"any amount \(the seed gives none\)"), "未规定金额"),
]


def admin_message(request: Request[Any, Any, Any], exc: ApiError) -> str:
    """An admin form's refusal for a Chinese reader: the field named by its label, amounts
    in 元, the rule by the plugin's name instead of its code (``tier_1`` → 第1档)."""
    from core.console.forms import label_id, path_of, strip_field
    from core.plugins import hooks_for

    lang = pick(request.query_params.get("lang"), request.cookies.get("tousu_lang"))
    text = message(request, exc)
    if lang != "zh_CN":
        return text
    text = _PATTERN.sub("", strip_field(text))
    for pattern, repl in _MONEY:
        text = pattern.sub(repl, text)
    p = _principal(request)
    schedule = hooks_for(p.plugin).penalty_schedule() if p and p.plugin else None
    for rule in schedule.rules if schedule else ():
        text = re.sub(rf"\b{re.escape(rule.code)}\b", rule.label_zh, text)
    name = path_of(exc.field)
    if name:
        said = {translations(lang).gettext(label_id(name.lstrip("_"))), field_label(name)}
        for other in said - {None}:
            # a label the API's message already carries (数量：数量：…) is said once
            text = text.removeprefix(f"{other}：")
        label = _label(name, lang)
        if label != name.lstrip("_"):
            text = f"{label}：{text}"
    return text


_PATTERN = re.compile(r"[（(]应匹配 [^（）()]*[）)]")
"""The regular expression a format refusal quotes (``（应匹配 '^https?://'）``): the admin
is told the format is wrong, by the input's own picker, never shown a pattern."""
