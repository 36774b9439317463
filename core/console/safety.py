"""Safe pages (issue 20 §5): response headers for every answer, and an action's address
opened directly.

:func:`security_headers` (ASGI middleware, wired first in :func:`core.app.create_app`) adds
to every response (each header only where the handler did not set it already: the
attachment download's stricter ``sandbox`` policy is kept, and no header is sent twice):

- ``Content-Security-Policy``: scripts, styles, images and connections from this origin
  only, no inline script (the console's behaviour lives in ``/static/js/console.js``), no
  plugins, no framing (``frame-ancestors 'none'``), forms posted here only. The API docs
  (``/docs``) run Swagger UI's own inline start-up script and get a policy allowing it;
- ``X-Frame-Options: DENY`` (older browsers), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin`` (ticket numbers in paths never leave the site);
- ``Cache-Control: no-store`` on everything but ``/static/``: console pages, API answers
  and downloads (exports, attachments, charts) hold personal data, and after 退出 the
  browser's Back must not show the previous user's queue from its cache.

:data:`ROUTES`: a GET of a penalty's, appeal's or extension's action address (a bookmark,
a reload after a failed post) goes to its ticket's page; ``/tickets/{id}/…`` action
addresses go there through the 405 handler (:func:`core.console._console_aware`).
"""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.enums import ScopeType
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import select

from core.context import PrincipalDep, TenantScopeDep
from core.db import TenantScope
from core.deadlines.models import Extension
from core.penalties.models import Appeal, Penalty
from core.principal import Principal
from core.tickets.reading import visible

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
CSP_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
_COMMON = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def security_headers(app: ASGIApp) -> ASGIApp:
    """Adds the headers above to each HTTP response (a handler's own Cache-Control on a
    static file is kept; anywhere else ``no-store`` wins)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        path: str = scope["path"]
        static = path.startswith("/static/")
        csp = (CSP_DOCS if path.startswith(("/docs", "/schema")) else CSP).encode()

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"cache-control", b"pragma") or static
                ]
                # A header the handler set itself stays its own (the attachment download's
                # sandbox CSP and nosniff): each is sent once, never "nosniff, nosniff".
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _COMMON if k not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp))
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, wrapped)

    return middleware


async def _to_ticket(
    tenant: TenantScope, principal: Principal, model: Any, row_id: int
) -> Redirect:
    """To the ticket the row belongs to, if the reader sees it; else to the approvals."""
    from core.tickets.models import Ticket

    tid = None
    if 0 < row_id <= 2**31 - 1:
        tid = await tenant.scalar(
            select(model.ticket_id)
            .join(Ticket, Ticket.id == model.ticket_id)
            .where(model.id == row_id, visible(principal))
        )
    return Redirect(f"/tickets/{tid}" if tid else "/approvals", status_code=303)


@get("/penalties/{penalty_id:int}/{verb:str}", include_in_schema=False, name="console:penalty-get")
async def penalty_address(
    tenant: TenantScopeDep, principal: PrincipalDep, penalty_id: FromPath[int]
) -> Redirect:
    return await _to_ticket(tenant, principal, Penalty, penalty_id)


@get("/appeals/{appeal_id:int}/decide", include_in_schema=False, name="console:appeal-get")
async def appeal_address(
    tenant: TenantScopeDep, principal: PrincipalDep, appeal_id: FromPath[int]
) -> Redirect:
    return await _to_ticket(tenant, principal, Appeal, appeal_id)


@get(
    "/extensions/{extension_id:int}/{verb:str}",
    include_in_schema=False,
    name="console:extension-get",
)
async def extension_address(
    tenant: TenantScopeDep, principal: PrincipalDep, extension_id: FromPath[int]
) -> Redirect:
    return await _to_ticket(tenant, principal, Extension, extension_id)


ROUTES = [penalty_address, appeal_address, extension_address]
