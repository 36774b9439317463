"""The console calls the API's own handlers: one implementation of every rule.

A console page or form resolves the API route by its ``operation_id`` and calls its
function with the console request (whose user is the session's principal), after running
the route's guards exactly as Litestar would. So a desk clerk filing a complaint in the
browser goes through the same intake, masking, role and version checks as ``curl``.
"""

from __future__ import annotations

import inspect
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from litestar import Request
from litestar.handlers import HTTPRouteHandler

from core.context import provide_db, provide_principal, provide_settings, provide_tenant


def _all_routes() -> list[Any]:
    from core.attachments.api import ROUTES as ATTACHMENTS
    from core.deadlines.api import ROUTES as DEADLINES
    from core.flow.api import ROUTES as TICKETS
    from core.flow.bulk import ROUTES as BULK
    from core.flow.views import ROUTES as VIEWS
    from core.penalties.api import ROUTES as PENALTIES
    from core.people.api import ROUTES as PEOPLE
    from core.provisioning.api import ROUTES as PROVISIONING
    from core.reports.api import ROUTES as REPORTS
    from core.tasks.api import ROUTES as TASKS

    return [
        *PEOPLE,
        *PROVISIONING,
        *TICKETS,
        *BULK,
        *VIEWS,
        *PENALTIES,
        *DEADLINES,
        *TASKS,
        *REPORTS,
        *ATTACHMENTS,
    ]


@cache
def handlers() -> dict[str, HTTPRouteHandler]:
    """API route handlers by operation id."""
    out: dict[str, HTTPRouteHandler] = {}
    for h in _all_routes():
        if isinstance(h, HTTPRouteHandler) and isinstance(h.operation_id, str):
            out[h.operation_id] = h
    return out


async def call(request: Request[Any, Any, Any], operation_id: str, **kwargs: Any) -> Any:
    """Run the API operation's guards, then its function, as the request's principal.

    Raises whatever the API raises (:class:`core.errors.ApiError` subclasses: 4xx with field
    and rule), which the console shows next to the field.
    """
    handler = handlers()[operation_id]
    for guard in handler.guards or []:
        result = guard(request, handler)  # type: ignore[arg-type]
        if inspect.isawaitable(result):
            await result
    fn = handler.fn
    params = inspect.signature(fn).parameters
    accepted = {k: v for k, v in kwargs.items() if k in params}
    if "request" in params:
        accepted["request"] = request
    if "principal" in params:
        accepted["principal"] = provide_principal(request)
    if "settings" in params:
        accepted["settings"] = provide_settings(request)
    if "db" in params:
        accepted["db"] = provide_db(request)
    if "tenant" not in params:
        return await _run(fn, accepted)
    async with asynccontextmanager(provide_tenant)(request) as tenant:  # the route's unit of work
        accepted["tenant"] = tenant
        return await _run(fn, accepted)


async def _run(fn: Any, kwargs: dict[str, Any]) -> Any:
    result = fn(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    return getattr(result, "content", result)  # a Response: its body
