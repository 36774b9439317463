"""Query parameters are checked before a handler runs: unknown ones are refused (422 naming
them), not silently ignored, and every declared bound is enforced.

A typo such as ``?stat=closed`` would otherwise list every ticket as if no filter had been
given. The allowed names come from each route handler's own signature, so a new
parameter needs no list kept here. A parameter that takes one value and is sent twice
(``?state=closed&state=received``) is refused too (422 naming it): Litestar would use one
of them silently; a parameter annotated as a list takes every value sent.

Bounds: Litestar checks a query parameter's type but not the ``msgspec.Meta`` constraints in
its annotation (``?limit=-1`` reached ``LIMIT -1`` and answered 500 on PostgreSQL). Every
constraint a handler declares — ``Meta(ge=…, le=…, min_length=…, pattern=…)`` or the same on
``Parameter(…)`` — is applied here to every value sent, and a value out of bounds is a 422
naming ``query.<name>`` and the rule (:func:`check_bounds`).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
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
    # provided by the app (core.context: tenant, principal, settings, db), never by the caller
    provided = set(handler.resolve_dependencies())
    names: set[str] = set()
    provided = set(handler.resolve_dependencies())  # tenant, principal, … (core.context)
    for name, fd in handler.parsed_fn_signature.parameters.items():
        if name in _RESERVED or name in path_params or name in provided:
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
        allowed = ", ".join(sorted(allowed_query(handler)))
        if not allowed:
            raise Invalid(
                "unknown query parameter {name} (this route takes none)",
                field=unknown[0],
                rule="known query parameter",
                params={"name": repr(unknown[0])},
            )
        raise Invalid(
            "unknown query parameter {name} (this route takes: {allowed})",
            field=unknown[0],
            rule="known query parameter",
            params={"name": repr(unknown[0]), "allowed": allowed},
        )
    for name in sorted(single_query(handler)):
        sent = len(connection.query_params.getall(name, []))
        if sent > 1:
            raise Invalid(
                "query parameter {field} is given {n} times; it takes one value",
                field=f"query.{name}",
                rule="one value",
                params={"field": name, "n": sent},
            )
    check_bounds(connection, handler)


@cache
def single_query(handler: BaseRouteHandler) -> frozenset[str]:
    """The query parameters of ``handler`` that take one value (not annotated as a list)."""
    allowed = allowed_query(handler)
    out = set()
    for name, fd in handler.parsed_fn_signature.parameters.items():
        kw = fd.kwarg_definition
        query = (getattr(kw, "query", None) or getattr(kw, "name", None) or name) if kw else name
        kind = _strip_optional(fd.annotation)
        if get_origin(kind) is Annotated:
            kind = _strip_optional(get_args(kind)[0])
        if query in allowed and get_origin(kind) not in (list, tuple, set, frozenset):
            out.add(query)
    return frozenset(out)


_BOUNDS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")


def _meta_of(fd: Any) -> dict[str, Any]:
    """The constraints declared on one parameter: msgspec ``Meta`` in the annotation and
    Litestar's ``Parameter(ge=…)``."""
    found: dict[str, Any] = {}
    for meta in fd.metadata:
        if isinstance(meta, msgspec.Meta):
            found.update({k: getattr(meta, k) for k in _BOUNDS if getattr(meta, k) is not None})
    kw = fd.kwarg_definition
    for k in _BOUNDS:
        value = getattr(kw, k, None)
        if value is not None:
            found[k] = value
    return found


def _strip_optional(kind: Any) -> Any:
    if get_origin(kind) is Union or type(kind).__name__ == "UnionType":
        rest = [a for a in get_args(kind) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return kind


@cache
def bounded_query(handler: BaseRouteHandler) -> tuple[tuple[str, Any, bool], ...]:
    """(query name, type carrying its bounds, whether it takes several values) for every
    query parameter of ``handler`` that declares a bound."""
    out = []
    allowed = allowed_query(handler)
    for name, fd in handler.parsed_fn_signature.parameters.items():
        kw = fd.kwarg_definition
        query = (getattr(kw, "query", None) or name) if kw is not None else name
        if query not in allowed:
            continue
        kind = _strip_optional(fd.annotation)
        many = get_origin(kind) in (list, tuple, set, frozenset)
        if many:
            inner = get_args(kind)[0] if get_args(kind) else str
            inner_meta = {
                k: getattr(m, k)
                for m in getattr(inner, "__metadata__", ())
                if isinstance(m, msgspec.Meta)
                for k in _BOUNDS
                if getattr(m, k) is not None
            }
            meta = _meta_of(fd) | inner_meta
            kind = get_args(inner)[0] if inner_meta else inner
        else:
            meta = _meta_of(fd)
        if meta:
            out.append((query, Annotated[kind, msgspec.Meta(**meta)], many))
    return tuple(out)


def check_bounds(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Raise :class:`~core.errors.Invalid` (422, ``field`` ``query.<name>``, the rule) for a
    value outside a declared bound."""
    params = connection.query_params
    for name, kind, many in bounded_query(handler):
        values = params.getall(name, [])
        for value in values if many else values[-1:]:
            try:
                msgspec.convert(value, kind, strict=False)
            except msgspec.ValidationError as exc:
                rule = str(exc).split(" - at ", 1)[0]
                raise Invalid(
                    "query parameter {field}: {rule}",
                    field=f"query.{name}",
                    rule=rule,
                    # msgspec's rule, read in Chinese from the catalogue's library section
                    params={"field": name, "rule": rule},
                ) from None
