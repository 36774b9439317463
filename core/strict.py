"""Strict decoding at the boundary: what a request says is taken as typed, never coerced.

Litestar converts the request into the handler's arguments with msgspec's *lax* rules
(``"1"`` becomes ``1``, ``0`` becomes ``false``, ``"0.5"`` becomes a Unix-epoch datetime).
This module runs before that conversion (:func:`check_request`, the app's
``before_request``) and refuses, as a 422 naming the field and the rule:

- a JSON body that does not decode *strictly* into the handler's ``data`` type;
- a body nested so deep that decoding it would raise ``RecursionError``;
- a NUL character anywhere in the body or the query (PostgreSQL cannot store it in text,
  and a NUL hidden in a JSON payload would otherwise be stored on SQLite only);
- a query value that is not the plain text form of its type (integers as digits, booleans
  as ``true``/``false``, times as RFC 3339 with a zone);
- a date in the path that is no date (``/api/config/calendar/2026-02-30``): Litestar's router
  answers it 404 as if no route matched; :func:`bad_path_date` names the field instead.

Free-form JSON fields (a ticket's ``facts``) get their own depth and size limits through
:func:`free_json`, checked where the Struct is decoded.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Iterator
from typing import Any, Literal, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar.enums import ParamType, RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import BodyKwarg, ParameterKwarg
from msgspec import Meta

FREE_JSON_DEPTH = 6
"""Deepest nesting inside a free-form JSON field such as ``facts``."""
FREE_JSON_BYTES = 16_384
"""Largest free-form JSON field, encoded as JSON."""

_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_OWN = re.compile(r"^(?P<field>[A-Za-z_][\w.]*): (?P<rule>.*?)(?: - at `\$\.?(?P<at>[^`]*)`)?$")
_INT = re.compile(r"-?[0-9]{1,18}")
_PLAN = "strict_plan"
_SKIP = {"request", "data", "headers", "state", "scope", "socket", "cookies", "query"}


def _invalid(field: str | None, rule: str, source: str = "body") -> ValidationException:
    where = f" - at `$.{field}`" if field else ""
    return ValidationException(
        detail=f"{field or 'request'}: {rule}",
        extra=[{"message": f"{rule}{where}", "source": source}],
    )


def _path(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _walk(value: Any, parts: list[str | int]) -> Iterator[tuple[list[str | int], Any]]:
    """Every (path, value) of decoded JSON, keys included, without recursion."""
    stack: list[tuple[list[str | int], Any]] = [(parts, value)]
    while stack:
        where, v = stack.pop()
        yield where, v
        if isinstance(v, dict):
            for k, item in v.items():
                yield [*where, str(k)], str(k)
                stack.append(([*where, str(k)], item))
        elif isinstance(v, list):
            stack.extend(([*where, i], item) for i, item in enumerate(v))


def depth_of(value: Any) -> int:
    """Nesting depth of decoded JSON: a scalar is 0, ``{}`` and ``[]`` are 1."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            stack.extend((item, d + 1) for item in v.values())
            deepest = max(deepest, d + 1)
        elif isinstance(v, list):
            stack.extend((item, d + 1) for item in v)
            deepest = max(deepest, d + 1)
    return deepest


def free_json(field: str, value: Any) -> None:
    """Refuse a free-form JSON value nested deeper than :data:`FREE_JSON_DEPTH` or larger
    than :data:`FREE_JSON_BYTES` (call it from a Struct's ``__post_init__``: msgspec turns
    the ``ValueError`` into a 422 at the Struct's path)."""
    if value is None:
        return
    if depth_of(value) > FREE_JSON_DEPTH:
        raise ValueError(f"{field}: nested deeper than {FREE_JSON_DEPTH} levels")
    if len(msgspec.json.encode(value)) > FREE_JSON_BYTES:
        raise ValueError(f"{field}: larger than {FREE_JSON_BYTES} bytes as JSON")


def _check_body(body: bytes, annotation: Any) -> None:
    if not body.strip():
        return
    if _NUL.search(body):
        try:
            decoded = msgspec.json.decode(body)
        except (msgspec.DecodeError, RecursionError):
            decoded = None  # reported below
        for where, v in _walk(decoded, []):
            if isinstance(v, str) and "\x00" in v:
                raise _invalid(_path(where) or None, "text must not contain a NUL character")
    try:
        msgspec.json.decode(body, type=annotation, strict=True)
    except msgspec.ValidationError as exc:
        try:  # msgspec stops at the first bad field: malformed JSON after it is still a 400
            msgspec.json.decode(body)
        except (msgspec.DecodeError, RecursionError):
            return
        # msgspec says "<rule> - at `$.<field>`" (handle_validation splits it); a check in
        # __post_init__ says "<field>: <rule>" at the Struct's path instead.
        msg = str(exc)
        own = _OWN.match(msg)
        if own:
            field = ".".join(x for x in (own["at"], own["field"]) if x)
            msg = f"{own['rule']} - at `$.{field}`"
        raise ValidationException(detail=msg, extra=[{"message": msg, "source": "body"}]) from exc
    except msgspec.DecodeError:
        return  # malformed JSON: Litestar's own 400 names it
    except RecursionError as exc:
        # Only a free-form field can nest this deep; its own limit (free_json) is far lower.
        raise _invalid(None, "JSON nested too deeply") from exc


def _kinds(annotation: Any) -> set[Any]:
    """The scalar types a query annotation accepts (Optional and Annotated unwrapped)."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return set().union(*(_kinds(a) for a in get_args(annotation)))
    if origin is not None and hasattr(annotation, "__metadata__"):
        return _kinds(get_args(annotation)[0])
    if origin in (list, tuple, set, frozenset):
        return set().union(*(_kinds(a) for a in get_args(annotation)))
    if origin is Literal:
        return {str}
    return {annotation}


def _check_query_value(name: str, raw: str, kinds: set[Any]) -> None:
    if "\x00" in raw:
        raise _invalid(name, "text must not contain a NUL character", "query")
    if str in kinds or not kinds - {type(None)}:
        return
    if bool in kinds:
        if raw not in ("true", "false"):
            raise _invalid(name, "Expected `bool` written as true or false", "query")
        return
    if int in kinds:
        if not _INT.fullmatch(raw):
            raise _invalid(name, "Expected `int` written as digits", "query")
        return
    for kind in (dt.datetime, dt.date):
        if kind in kinds:
            try:
                msgspec.convert(raw, kind, strict=True)
            except msgspec.ValidationError as exc:
                # msgspec's sentence; its Chinese (library.po) shows an example
                raise _invalid(name, str(exc), "query") from exc
            return


def _plan(handler: Any) -> tuple[Any, list[tuple[str, set[Any]]]]:
    """The handler's body type and its query parameters (alias, accepted kinds), cached in
    the handler's ``opt`` (handlers are per app; an ``id()`` could be reused)."""
    if _PLAN not in handler.opt:
        body, query = None, []
        for name, fd in handler.parsed_fn_signature.parameters.items():
            kwarg = fd.kwarg_definition
            if name == "data" or isinstance(kwarg, BodyKwarg):
                media = getattr(kwarg, "media_type", RequestEncodingType.JSON)
                if media == RequestEncodingType.JSON:  # forms and uploads are not JSON
                    body = fd.annotation
                continue
            if name in _SKIP or name in handler.dependency_name_set:
                continue
            if isinstance(kwarg, ParameterKwarg):
                if kwarg.param_type is not ParamType.QUERY:
                    continue
                alias = kwarg.name or kwarg.query or name
            elif kwarg is None:
                alias = name
            else:
                continue
            if f"{{{name}:" in "".join(handler.paths) or f"{{{name}}}" in "".join(handler.paths):
                continue
            query.append((alias, _kinds(fd.annotation)))
        handler.opt[_PLAN] = (body, query)
    plan: tuple[Any, list[tuple[str, set[Any]]]] = handler.opt[_PLAN]
    return plan


async def check_request(request: Request[Any, Any, Any]) -> None:
    """The app's ``before_request``: strict query values and a strict JSON body."""
    body_type, query = _plan(request.route_handler)
    for alias, kinds in query:
        for raw in request.query_params.getall(alias, []):
            _check_query_value(alias, raw, kinds)
    for key, raw in request.query_params.items():
        if "\x00" in key or "\x00" in raw:
            name = key.replace("\x00", "")
            raise _invalid(name, "text must not contain a NUL character", "query")
    for key, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            raise _invalid(key, "text must not contain a NUL character", "path")
    if body_type is not None and request.method in ("POST", "PUT", "PATCH"):
        _check_body(await request.body(), body_type)


def fits(column: Any, *, min_length: int = 0, **meta: Any) -> Meta:
    """A text field's constraint taken from the column that stores it: ``max_length`` is
    the column's length, so the API never accepts what the database cannot hold (a
    ``varchar(200)`` counts characters on PostgreSQL; SQLite would store anything).
    ``tests/test_contract_limits.py`` checks every request field against the models."""
    col = column.prop.columns[0] if hasattr(column, "prop") else column  # mapped attribute → Column
    length = getattr(col.type, "length", None)
    if length is None:
        raise TypeError(f"{col} has no length; give the field its own max_length")
    extra = {"column": f"{col.table.name}.{col.name}"}
    return Meta(min_length=min_length, max_length=length, extra=extra, **meta)


def bad_path_date(request: Request[Any, Any, Any]) -> Exception | None:
    """For a 404 Litestar's router raised because a path parameter did not parse: a 422
    :class:`core.errors.Invalid` naming the ``date``/``datetime`` parameter that is not a real
    one (field: its name, rule ``a real date``), or None (no such parameter: a real 404)."""
    from core.errors import Invalid

    parts = [p for p in request.url.path.split("/") if p]
    for route in request.app.routes:
        components = getattr(route, "path_components", ())
        if len(components) != len(parts):
            continue
        for part, component in zip(parts, components, strict=True):
            if isinstance(component, str):
                if component != part:
                    break
                continue
            if component.type not in (dt.date, dt.datetime):
                continue
            try:
                component.parser(part)
            except ValueError:
                return Invalid(
                    "{field} {value} is not a real date (year-month-day, e.g. 2026-02-28)",
                    field=component.name,
                    rule="a real date",
                    params={"field": component.name, "value": part[:32]},
                )
    return None
