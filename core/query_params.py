"""Unknown query parameters are refused (422 naming them), not silently ignored.

A typo such as ``?stat=closed`` would otherwise list every ticket as if no filter had been
given. The allowed names come from each route handler's own signature, so a new
parameter needs no list kept here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import BodyKwarg, CookieParameter, HeaderParameter, ParameterKwarg

from core.errors import Invalid

_RESERVED = frozenset(
    {"request", "socket", "data", "state", "scope", "headers", "cookies", "query", "body"}
)


@cache
def allowed_query(handler: BaseRouteHandler) -> frozenset[str]:
    path_params = {p for path in handler.paths for p in _path_names(path)}
    names: set[str] = set()
    for name, fd in handler.parsed_fn_signature.parameters.items():
        if name in _RESERVED or name in path_params:
            continue
        kw = fd.kwarg_definition
        if isinstance(kw, BodyKwarg):
            continue
        if isinstance(kw, (HeaderParameter, CookieParameter)):
            continue
        if isinstance(kw, ParameterKwarg):
            if kw.header or kw.cookie:
                continue
            names.add(kw.query or getattr(kw, "name", None) or name)
            continue
        names.add(name)
    return frozenset(names)


def _path_names(path: str) -> list[str]:
    out = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            out.append(part[1:-1].split(":", 1)[0])
    return out


def known_query_only(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """App guard for ``/api`` routes: every query parameter must be one the route takes."""
    if not connection.url.path.startswith("/api/"):
        return
    unknown = sorted(set(connection.query_params) - allowed_query(handler))
    if unknown:
        allowed = ", ".join(sorted(allowed_query(handler))) or "none"
        raise Invalid(
            f"unknown query parameter {unknown[0]!r} (this route takes: {allowed})",
            field=unknown[0],
            rule="known query parameter",
        )
