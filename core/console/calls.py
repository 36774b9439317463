"""The console runs the API's own operations: one implementation of every rule.

A console page or form calls :func:`run` with the function the API route itself runs (the
route handler, imported by reference) and its parameters. ``run`` gives the function what
it asks for by name — ``principal``, ``tenant`` (one unit of work: it commits when the
function returns and rolls back when it raises, so a refused form changes nothing and the
page shows the refusal beside its field), ``settings``, ``db``, ``report`` (a report's read
scope) and, for handlers not yet converted to dependencies, ``request``. So a desk clerk
filing a complaint in the browser goes through the same intake, masking and version checks
as ``curl``.

No guard is run here. Each console route that performs an operation carries the role guard
of the API route behind it, imported from that route's module (``core.flow.api.INTAKE_GUARDS``,
``core.penalties.api.ADMIN_GUARDS`` …), and Litestar runs it; a reader lacking the role gets
the console's 403 page.
"""

from __future__ import annotations

import inspect
from contextlib import asynccontextmanager
from typing import Any

from litestar import Request
from litestar.handlers import HTTPRouteHandler

from core.context import provide_db, provide_principal, provide_settings, provide_tenant
from core.reports.replica import provide_report


async def run(request: Request[Any, Any, Any], operation: Any, **kwargs: Any) -> Any:
    """Run ``operation`` (an API route handler or a plain function) as the request's
    principal, with ``kwargs`` and what its signature names from the request context.

    Raises whatever the operation raises (:class:`core.errors.ApiError` subclasses: 4xx
    with field and rule), after its unit of work rolled back; the console shows it next to
    the field. A :class:`litestar.Response` answer gives its body."""
    fn = operation.fn if isinstance(operation, HTTPRouteHandler) else operation
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
    if "report" in params:  # the reports' read scope (core.reports.replica)
        async with asynccontextmanager(provide_report)(request, provide_principal(request)) as r:
            accepted["report"] = r
            return await _answer(fn, accepted)
    if "tenant" not in params:
        return await _answer(fn, accepted)
    async with asynccontextmanager(provide_tenant)(request) as tenant:  # the route's unit of work
        accepted["tenant"] = tenant
        return await _answer(fn, accepted)


async def _answer(fn: Any, kwargs: dict[str, Any]) -> Any:
    result = fn(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    return getattr(result, "content", result)  # a Response: its body
