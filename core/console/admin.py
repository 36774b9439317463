"""Console pages for tenant admins, the monthly reports and the platform operator.

As everywhere in the console, pages read and write through the API's own handlers
(:func:`core.console.calls.call`): the admin forms post to ``/admin/do/<form>`` and each
form name maps to one API operation, its body type and its path parameters.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select

from core.client_address import client_address
from core.console.calls import call
from core.console.forms import convert, form_dict, unflatten
from core.console.pages import _principal, _tenant, message, render
from core.errors import ApiError, Forbidden, Invalid
from core.people.models import User
from core.people.roles import Role
from core.people.sessions import set_password


def _path_date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"{field}: YYYY-MM-DD", field=field, rule="ISO date") from exc


def _body(kind: str) -> Any:
    from core.deadlines.api import CalendarDayIn, DeadlineIn
    from core.penalties.api import FineSet, PaySet, RunRequest
    from core.tasks.api import WebhookIn

    return {
        "fine": FineSet,
        "deadline": DeadlineIn,
        "calendar": CalendarDayIn,
        "pay": PaySet,
        "ledger": RunRequest,
        "webhook": WebhookIn,
    }.get(kind)


# form name → (operation id, path parameters taken from these form fields)
FORMS: dict[str, tuple[str, dict[str, str]]] = {
    "fine": ("setFine", {"rule": "_rule"}),
    "deadline": ("setDeadline", {}),
    "calendar": ("setCalendarDay", {"day": "_day"}),
    "calendar-remove": ("removeCalendarDay", {"day": "_day"}),
    "pay": ("setPay", {"staff_code": "_staff", "period": "_period"}),
    "ledger": ("runLedger", {}),
    "webhook": ("createWebhook", {}),
    "webhook-disable": ("disableWebhook", {"webhook_id": "_webhook"}),
    "webhook-enable": ("enableWebhook", {"webhook_id": "_webhook"}),
    "webhook-redeliver": (
        "redeliverWebhookDelivery",
        {"webhook_id": "_webhook", "delivery_id": "_delivery"},
    ),
}
"""Each form posts to the API operation itself, so the console's webhook changes are checked
and audited exactly as the API's (``disable``/``enable``/``redeliver`` audit events)."""


def _path_value(param: str, field: str, value: str) -> Any:
    if param == "day":
        return _path_date(value, field)
    if param.endswith("_id"):
        if not value.isdigit() or int(value) > 2**31 - 1:
            raise Invalid(f"{field.lstrip('_')}: 应为正整数", field=field, rule="integer id")
        return int(value)
    return value


async def _admin(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    p = _principal(request)
    assert p is not None and p.tenant_id is not None
    if not p.has(Role.TENANT_ADMIN):
        raise Forbidden("this page is for tenant administrators", rule="role")
    async with request.app.state.db.tenant(p.tenant_id) as scope:
        users = list(await scope.scalars(select(User).where(User.active).order_by(User.username)))
    ctx = {
        "fines": await call(request, "listFines"),
        "deadlines": await call(request, "listDeadlines"),
        "calendar": await call(request, "listCalendarDays"),
        "staff": await call(request, "listStaff"),
        "webhooks": await call(request, "listWebhooks"),
        "users": [u for u in users if u.username != "system"],
        "errors": {},
        "done": request.query_params.get("done"),
        "this_month": dt.date.today().strftime("%Y-%m"),
        **extra,
    }
    return await render(request, "admin.html", status=status, **ctx)


@get("/admin", include_in_schema=False, name="console:admin")
async def admin(request: Request[Any, Any, Any]) -> Template:
    return await _admin(request)


@post(
    "/admin/do/{form_name:str}", include_in_schema=False, name="console:admin-do", status_code=303
)
async def admin_do(request: Request[Any, Any, Any], form_name: FromPath[str]) -> Any:
    if form_name not in FORMS:
        raise HTTPException(status_code=404, detail="no such form")
    operation, path_fields = FORMS[form_name]
    form = form_dict(await request.form())
    try:
        kwargs: dict[str, Any] = {}
        for param, field in path_fields.items():
            value = form.get(field, "")
            if not value:
                raise Invalid(f"{field.lstrip('_')}: 必填", field=field, rule="required")
            kwargs[param] = _path_value(param, field, value)
        body_type = _body(form_name)
        if body_type is not None:
            data = unflatten(form)
            if form_name == "webhook" and isinstance(data.get("topics"), str):
                data["topics"] = [t.strip() for t in data["topics"].split(",") if t.strip()]
            kwargs["data"] = convert(data, body_type)
        result = await call(request, operation, **kwargs)
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
    hooks = [w for w in await call(request, "listWebhooks") if w.id == webhook_id]
    rows = await call(request, "webhookDeliveries", webhook_id=webhook_id)  # 404 if not ours
    return await render(
        request,
        "webhook.html",
        status=status,
        hook=hooks[0] if hooks else None,
        deliveries=rows,
        errors=errors or {},
        done=request.query_params.get("done"),
    )


@get("/admin/webhooks/{webhook_id:int}", include_in_schema=False, name="console:webhook")
async def webhook_page(request: Request[Any, Any, Any], webhook_id: FromPath[int]) -> Template:
    return await _deliveries(request, webhook_id)


@post(
    "/admin/users/{user_id:int}/password",
    include_in_schema=False,
    name="console:admin-pw",
    status_code=303,
)
async def admin_password(request: Request[Any, Any, Any], user_id: FromPath[int]) -> Any:
    """A tenant admin sets a user's password (the user's sessions end), audited."""
    p = _principal(request)
    assert p is not None and p.tenant_id is not None
    if not p.has(Role.TENANT_ADMIN):
        raise Forbidden("this needs a tenant administrator", rule="role")
    form = form_dict(await request.form())
    async with request.app.state.db.tenant(p.tenant_id) as scope:  # the admin's tenant only
        user = await scope.scalar(select(User).where(User.id == user_id))
    if user is None:
        raise HTTPException(status_code=404, detail="no such user")
    try:
        await set_password(
            request.app.state.db, user.id, form.get("password", ""), f"user:{p.user_id}",
            client_address(request),
        )  # fmt: skip
    except ApiError as exc:
        return await _admin(
            request, status=exc.status, errors={f"user-{user_id}": message(request, exc)}
        )
    return Redirect("/admin?done=password", status_code=303)


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
    p = _principal(request)
    tenant = await _tenant(request, p)
    zone = ZoneInfo((tenant.config or {}).get("timezone", "Asia/Shanghai") if tenant else "UTC")
    period = request.query_params.get("period") or dt.datetime.now(zone).strftime("%Y-%m")
    errors: dict[str, str] = {}
    stats = kpis = None
    ranged = {k: request.query_params.get(k, "") for k in ("from", "to")}
    if any(ranged.values()):  # the page reports a month: a range is never silently dropped
        late = ranged["from"] and ranged["to"] and ranged["from"] > ranged["to"]
        errors["period"] = (
            f"起始日期 {ranged['from'][:32]} 晚于截止日期 {ranged['to'][:32]}。" if late else ""
        ) + "本页按月份统计，未按起止日期筛选；以下为所选月份的数据"
    try:
        stats = await call(request, "reportStats", period=period)
        kpis = await call(request, "reportKpis", period=period)
    except ApiError as exc:
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


@get("/platform", include_in_schema=False, name="console:platform")
async def platform(request: Request[Any, Any, Any]) -> Template:
    return await render(
        request, "platform.html", tenants=await call(request, "listTenants"), errors={}, doc=""
    )


@post("/platform/tenants", include_in_schema=False, name="console:platform-create", status_code=303)
async def platform_create(request: Request[Any, Any, Any]) -> Any:
    from core.provisioning.tenant_file import TenantFile

    form = form_dict(await request.form())
    doc = form.get("document", "")
    try:
        try:
            data = tomllib.loads(doc)
        except tomllib.TOMLDecodeError as exc:
            raise Invalid(f"document: {exc}", field="document", rule="TOML") from exc
        await call(request, "createTenant", data=convert(data, TenantFile))
    except ApiError as exc:
        return await render(
            request, "platform.html", status=exc.status, tenants=await call(request, "listTenants"),
            errors={"document": message(request, exc)}, doc=doc,
        )  # fmt: skip
    return Redirect("/platform", status_code=303)


ROUTES: list[Any] = [
    admin,
    admin_do,
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
    from core.console.i18n import pick, translations
    from core.plugins import hooks_for

    lang = pick(request.query_params.get("lang"), request.cookies.get("tousu_lang"))
    text = message(request, exc)
    if lang != "zh_CN":
        return text
    text = strip_field(text)
    for pattern, repl in _MONEY:
        text = pattern.sub(repl, text)
    p = _principal(request)
    schedule = hooks_for(p.plugin).penalty_schedule() if p and p.plugin else None
    for rule in schedule.rules if schedule else ():
        text = re.sub(rf"\b{re.escape(rule.code)}\b", rule.label_zh, text)
    name = path_of(exc.field)
    if name and not name.startswith("_"):
        label = translations(lang).gettext(label_id(name))
        if label != name:
            text = f"{label}：{text}"
    return text
