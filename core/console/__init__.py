"""The web console (``/``): Chinese first, English second, for every role of the desk.

:func:`wiring` gives :func:`core.app.create_app` what the console adds to the app: its
routes and static files, the session, CSRF and authentication middleware, the template
engine, the session store and the console-aware error handlers. See
:mod:`core.console.pages` for the pages and :mod:`core.people.sessions` for login.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from core.console import i18n
from core.db import Database
from core.errors import ApiError, handle_api_error
from core.people.sessions import COOKIE as SESSION_COOKIE
from core.people.sessions import LoginRequired, SessionOrBearerAuth, session_config
from core.people.throttle import Throttle, Throttled
from core.settings import Settings

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
UNAUTHENTICATED = ["^/login$", "^/static/"]
"""Console paths open without a session (besides the app's public ones)."""

log = logging.getLogger("tousu.console")


def secret_key(settings: Settings) -> str:
    """``TOUSU_SECRET_KEY`` signs CSRF tokens; without it each process makes its own (fine
    for one process; several API processes behind one address must share it)."""
    return settings.secret_key or _process_secret


_process_secret = secrets.token_urlsafe(32)


class CsrfUnlessBearer:
    """Litestar's CSRF middleware for browser requests. Skipped by a request carrying
    ``Authorization`` (a machine with a bearer key, which browsers never send by themselves)
    and by an API call without the session cookie (nothing ambient to forge: it answers 401)."""

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        self.app = app
        self.csrf = CSRFMiddleware(app, config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            cookie = b""
            for name, value in scope["headers"]:
                # Only a header with something in it is judged by its token alone (a bare
                # "Authorization:" beside the session cookie used to skip CSRF).
                if name == b"authorization" and value.strip():
                    await self.app(scope, receive, send)
                    return
                if name == b"cookie":
                    cookie += value
            if scope["path"].startswith("/api/") and SESSION_COOKIE.encode() not in cookie:
                await self.app(scope, receive, send)
                return
        await self.csrf(scope, receive, send)


def is_console(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return not path.startswith(("/api", "/docs", "/schema", "/health", "/metrics", "/ready"))


def _html_error(
    request: Request[Any, Any, Any],
    status: int,
    title: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """The error in the console's layout (``error.html``): its header and navigation, the
    title and message in the reader's language. Exception handlers are synchronous, so the
    page is drawn straight from the template engine; the tenant's name is left out (no
    database round trip while answering an error)."""
    lang = i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))
    tr = i18n.translations(lang)
    user = request.scope.get("user")
    from core.console import labels
    from core.principal import Principal

    me = user if isinstance(user, Principal) else None
    try:
        from core.console.pages import _nav

        engine = request.app.template_engine
        assert engine is not None  # the console configures one (template_config)
        template = engine.get_template("error.html")
        body = template.render(
            _=tr.gettext,
            lang=lang,
            L=lambda group, code: tr.gettext(labels.label(group, code)),
            me=me,
            tenant=None,
            nav=_nav(me),
            path=request.url.path,
            csrf_token_value="",
            title=title,
            message=message,
            status=status,
        )
    except Exception:  # the page must answer even if the layout cannot be drawn
        log.exception("error page")
        t = tr.gettext
        body = (
            "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
            "<link rel='stylesheet' href='/static/css/console.css'><link rel='icon' href='data:,'>"
            f"<title>{html.escape(t(title))}</title></head><body><main>"
            f"<h1>{html.escape(t(title))}</h1><p class='form-error'>{html.escape(message)}</p>"
            f"<p><a href='/'>{html.escape(t('Back to the queue'))}</a></p>"
            "</main></body></html>"
        )
    return Response(body, status_code=status, media_type="text/html", headers=headers)


_ACTION_ADDRESS = re.compile(r"^/tickets/(\d+)/.+")
"""A ticket's action address (``/tickets/7/act/close``, ``/tickets/7/clocks/reply/pause``):
opened with GET, it leads to the ticket's page."""

_MESSAGES = {
    404: "No such page, or not yours to see",
    405: "This address only takes a form; it cannot be opened directly",
}
"""English message ids; the reader sees them in their language (the console's catalogue)."""


_TITLES = {
    400: "The request could not be read",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many attempts",
}


def _t(request: Request[Any, Any, Any], message: str) -> str:
    """``message`` (an English id of the console's catalogue) in the reader's language."""
    lang = i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))
    return i18n.translations(lang).gettext(message)


def _roles_by_label(exc: ApiError, lang: str) -> str:
    """A role refusal (:class:`core.people.guards.RoleRequired`) for a console reader: the
    roles by their labels only (``此操作需要以下角色之一：接待员、班长``); the API's text adds
    each role's code for API clients. "" for any other error."""
    from core.console.labels import label
    from core.error_text import ZH, fill, translations
    from core.people.guards import RoleRequired

    if not isinstance(exc, RoleRequired):
        return ""
    gettext = i18n.translations(lang).gettext
    names = [gettext(label("role", code)) for code in exc.extra.get("allowed_roles", [])]
    if lang == ZH:
        template = translations().get(exc.template, exc.template)
        return fill(template, {"what": exc.what_zh, "roles": "、".join(names)})
    return fill(exc.template, {"what": "This", "roles": ", ".join(names)})


def _console_aware(handler: Any) -> Any:
    from core.errors import RETRY_AFTER_SECONDS, database_unavailable

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if not is_console(request):
            return handler(request, exc)  # type: ignore[no-any-return]
        if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
            return _html_error(
                request,
                403,
                "Not allowed",
                _t(request, "The form expired; reload the page and try again"),
            )
        if isinstance(exc, ApiError):
            lang = i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))
            text = _roles_by_label(exc, lang) or exc.localised(lang)
            return _html_error(request, exc.status, _TITLES.get(exc.status, "Error"), text)
        if database_unavailable(exc):  # the same 503 + Retry-After the API gives
            return _html_error(
                request,
                503,
                "Unavailable",
                _t(request, "The database is unavailable for a moment; please retry shortly"),
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        status = getattr(exc, "status_code", 500)
        if status == 405 and request.method == "GET":
            found = _ACTION_ADDRESS.match(request.url.path)
            if found:
                return Redirect(f"/tickets/{found.group(1)}", status_code=303)
        if status in _MESSAGES and isinstance(exc, HTTPException):
            return _html_error(
                request,
                status,
                _TITLES[status],
                _t(request, _MESSAGES[status]),
                dict(getattr(exc, "headers", None) or {}),  # a 405's Allow
            )
        if status >= 500 or not isinstance(status, int):
            log.exception("console error", exc_info=exc)
            return _html_error(
                request,
                500,
                "Something went wrong",
                _t(request, "Internal error; it has been logged"),
            )
        return _html_error(
            request,
            status,
            _TITLES.get(status, "Error"),
            str(getattr(exc, "detail", "")),
            dict(getattr(exc, "headers", None) or {}),  # a 405's Allow
        )

    return handle


def _login_redirect(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = "/login" if target == "/" else f"/login?next={target}"
    if request.headers.get("hx-request"):
        return Response("", status_code=200, headers={"HX-Redirect": url})
    return Redirect(url, status_code=303)


def _throttled(request: Request[Any, Any, Any], exc: Throttled) -> Response[Any]:
    response = handle_api_error(request, exc)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@dataclass
class Wiring:
    routes: list[Any]
    middleware: list[Any]
    stores: dict[str, Store]
    template_config: TemplateConfig[Any]
    throttle: Throttle
    plugins: list[Any] = field(default_factory=list)

    def exception_handlers(self, base: dict[Any, Any]) -> dict[Any, Any]:
        out = {exc: _console_aware(h) for exc, h in base.items()}
        out[Throttled] = _console_aware(_throttled)
        out[LoginRequired] = _login_redirect
        return out


def _template_globals(settings: Settings) -> Callable[[JinjaTemplateEngine], None]:
    """What every template may read: ``live_poll``, the seconds between an open page's
    change checks (``TOUSU_CONSOLE_POLL_SECONDS``, :mod:`core.console.queue`)."""

    def callback(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals["live_poll"] = settings.console_poll_seconds

    return callback


def wiring(settings: Settings, db: Database, public: list[str]) -> Wiring:
    """The console's routes, middleware (session, CSRF, session-or-bearer auth), stores,
    templates and throttle, from the app's settings (read once, by ``create_app``)."""
    from litestar.plugins.htmx import HTMXPlugin

    from core.console.admin import ROUTES as ADMIN_ROUTES
    from core.console.bulletin_page import ROUTES as BULLETIN_ROUTES
    from core.console.desk import ROUTES as DESK_ROUTES
    from core.console.files import ROUTES as FILE_ROUTES
    from core.console.pages import ROUTES as PAGE_ROUTES
    from core.console.safety import ROUTES as SAFETY_ROUTES

    sessions, store = session_config(settings, db)  # TOUSU_REDIS_NAMESPACE
    csrf = CSRFConfig(
        secret=secret_key(settings),
        cookie_name="tousu_csrf",
        cookie_samesite="lax",
        cookie_httponly=True,
        header_name="x-csrftoken",
        exclude=["^/health", "^/docs", "^/schema", "^/static/", "^/metrics", "^/ready"],
    )
    static = create_static_files_router(path="/static", directories=[STATIC], name="static")
    return Wiring(
        routes=[
            *PAGE_ROUTES,
            *DESK_ROUTES,
            *FILE_ROUTES,
            *ADMIN_ROUTES,
            *BULLETIN_ROUTES,
            *SAFETY_ROUTES,
            static,
        ],
        middleware=[
            sessions.middleware,
            DefineMiddleware(CsrfUnlessBearer, config=csrf),
            DefineMiddleware(SessionOrBearerAuth, exclude=[*public, *UNAUTHENTICATED]),
        ],
        stores={"sessions": store},
        template_config=TemplateConfig(
            directory=TEMPLATES,
            engine=JinjaTemplateEngine,
            engine_callback=_template_globals(settings),
        ),
        throttle=Throttle.for_settings(settings.redis_url, settings.redis_namespace),
        plugins=[HTMXPlugin()],
    )
