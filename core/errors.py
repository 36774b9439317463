"""The one error format: ``{"error": {"status", "code", "message", "field"?, "rule"?, ...}}``.

Client mistakes are 4xx naming the field and the rule; ``message`` is in the reader's language
(Chinese by default, English for ``Accept-Language: en``: :mod:`core.error_text`) while
``code``, ``field`` and ``rule`` stay the same machine-readable words in every language; a
database that cannot be reached (stopped, restarting, out of connections, a SQLite file
locked by another writer) is a 503 with ``Retry-After`` — the request may simply be sent
again; anything unexpected is a logged 500 whose body reveals nothing.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Mapping
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError

log = logging.getLogger("tousu.errors")


class ApiError(Exception):
    """A client-facing error; raise it from services and handlers.

    ``message`` is an English *template* — the catalogue's msgid — with ``{name}``
    placeholders filled from ``params`` (ids, codes, numbers: never free text typed by a
    user that should be translated). The reader's language is chosen when the response is
    written: the Chinese msgstr of ``core/locale/zh_CN/LC_MESSAGES/errors.po`` (or a
    plugin's catalogue) formatted with the same ``params``, a code in a placeholder shown as
    its Chinese label (:func:`core.error_text.label_codes`). ``tests/test_error_catalogue.py``
    extracts every template with Babel and fails on one without a Chinese entry, and on an
    f-string template (its text would differ on every raise).

        raise NotFound("ticket {id} not found", field="ticket_id", rule="exists",
                       params={"id": ticket_id})

    ``field`` and ``rule`` are machine words, the same in every language; any other keyword
    is an extra member of the error document (``allowed_roles=[...]``, ``state=...``).
    """

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        params: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        from core.error_text import fill

        self.template = message
        self.params: dict[str, Any] = dict(params or {})
        self.message = fill(message, self.params) if self.params else message
        super().__init__(self.message)
        self.field = field
        self.rule = rule
        self.extra = extra

    def body(self, lang: str | None = None) -> dict[str, Any]:
        """The error document; ``message`` in ``lang`` (``zh_CN`` when None, ``en``)."""
        err: dict[str, Any] = {
            "status": self.status,
            "code": self.code,
            "message": self.localised(lang or "zh_CN"),
        }
        if self.field is not None:
            err["field"] = self.field
        if self.rule is not None:
            err["rule"] = self.rule
        err.update(self.extra)
        return {"error": err}

    def localised(self, lang: str) -> str:
        """The message in ``lang``; code, field and rule are never translated."""
        from core.error_text import render

        roles = self.extra.get("allowed_roles")
        return render(
            self.template,
            self.params,
            lang,
            self.code,
            self.field,
            self.rule,
            roles if isinstance(roles, list) else None,
        )


def language(request: Request[Any, Any, Any] | None) -> str:
    """The reader's language for error messages: ``en`` or ``zh_CN`` (the default)."""
    from core.error_text import pick

    if request is None:
        return "zh_CN"
    return pick(request.headers.get("accept-language"))


class Invalid(ApiError):
    status, code = 422, "invalid"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


def _json(err: ApiError, request: Request[Any, Any, Any] | None = None) -> Response[dict[str, Any]]:
    headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else {}
    headers["Content-Language"] = "en" if language(request) == "en" else "zh-CN"
    headers["Vary"] = "Accept-Language"
    return Response(err.body(language(request)), status_code=err.status, headers=headers)


def handle_api_error(request: Request[Any, Any, Any], exc: ApiError) -> Response[dict[str, Any]]:
    return _json(exc, request)


_NAMED = re.compile(r"(?:unknown|missing required) field `([^`]+)`")
_NULL_BODY = "Expected `object`, got `null`"
_AT = re.compile(r"^(?P<rule>.*?)(?: - at `\$\.?(?P<field>[^`]*)`)?$")


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Litestar/msgspec decode errors → 422 naming the field and the rule."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    field, rule = None, exc.detail
    for item in extra:
        if isinstance(item, dict):
            msg = str(item.get("message", ""))
            m = _AT.match(msg)
            rule = m.group("rule") if m else msg
            at = m.group("field") if m else None
            src = item.get("source")
            src = getattr(src, "value", src)
            named = _NAMED.search(rule or "")
            key = item.get("key")
            parent = at or (str(key) if key not in (None, "", "data") else None)
            if named:  # a missing or unknown field: msgspec names it in the rule
                field = f"{parent}.{named.group(1)}" if parent else named.group(1)
            elif at:
                field = at
            elif parent:  # Litestar's own "data" key is never reported as a field
                field = parent
            if src and src not in ("body", None) and field and not field.startswith(f"{src}."):
                field = f"{src}.{field}"
            break
    if "JSON is malformed" in str(rule) or "malformed" in str(exc.detail).lower():
        return _json(
            ApiError("the request body is not valid JSON", field="body", rule=str(rule)), request
        )
    if re.fullmatch(r"'\w+'", str(rule)) or (field is None and rule == _NULL_BODY):
        # a bare key name, or null where the object goes: there is no body to read
        body = Invalid("the request body must be a JSON object", field="body", rule="a JSON object")
        return _json(body, request)
    # msgspec's rule is a library's sentence: its Chinese comes from the catalogue's
    # section for library messages (core.error_text.render translates a parameter too)
    where = field or "request"
    return _json(
        Invalid("{field}: {rule}", field=field, rule=rule, params={"field": where, "rule": rule}),
        request,
    )


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    mapping: dict[type[HTTPException], type[ApiError]] = {
        NotAuthorizedException: Unauthorized,
        PermissionDeniedException: Forbidden,
        NotFoundException: NotFound,
    }
    if isinstance(exc, NotFoundException) and isinstance(exc.__cause__, ValueError):
        from core.strict import bad_path_date

        refusal = bad_path_date(request)  # a path that matched but for its date: a 422
        if isinstance(refusal, ApiError):
            return _json(refusal, request)
    for klass, api in mapping.items():
        if isinstance(exc, klass):
            return _json(api(exc.detail), request)
    if exc.status_code == 400:  # Litestar's own "body is not valid JSON"
        # msgspec's sentence says what is wrong and at which byte; library.po has its Chinese
        return _json(
            ApiError(exc.detail, field="body", rule="the body must be valid JSON"), request
        )
    err = ApiError(exc.detail)
    err.status, err.code = exc.status_code, "http_error"
    if exc.status_code == 503:
        return Response(
            err.body(language(request)),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    response = _json(err, request)
    for name, value in (exc.headers or {}).items():  # a 405's Allow (RFC 9110 §15.5.6)
        response.headers.setdefault(name, value)
    return response


def handle_integrity(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[Any]:
    log.info("integrity error: %s", exc.orig)
    return _json(
        Conflict("the change conflicts with existing data (a duplicate or a stale reference)"),
        request,
    )


def handle_stale(request: Request[Any, Any, Any], exc: StaleDataError) -> Response[Any]:
    return _json(
        Conflict(
            "the record changed since you read it; reload and retry",
            field="version",
            rule="must equal the current version",
        ),
        request,
    )


def _unstorable(exc: Exception) -> bool:
    orig = getattr(exc, "orig", exc)
    return (
        isinstance(exc, (DataError, OverflowError))
        or isinstance(orig, OverflowError)
        or "DataError" in type(orig).__name__
        or "out of int32 range" in str(orig)
        or "invalid byte sequence" in str(orig)
    )


RETRY_AFTER_SECONDS = 5
"""What a 503 for an unreachable database tells the client to wait."""
_LOCKED = ("database is locked", "database is busy", "database table is locked")
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "25006")
"""PostgreSQL classes: connection exception, insufficient resources (too many
connections), operator intervention (admin/crash shutdown, cannot connect now); and a write
refused because the server is read-only (25006: a hot standby, or a primary demoted by a
failover) — the next connection finds the new primary (docs/deployment.md)."""


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out and len(out) < 10:
        out.append(cur)
        cur = getattr(cur, "orig", None) or cur.__cause__ or cur.__context__
    return out


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached or used just now — not that
    the request or our SQL is wrong. Connection refused/reset, the server shutting down or
    refusing connections, a connection dropped mid-statement, the pool exhausted, SQLite's
    "database is locked"."""
    for e in _chain(exc):
        if isinstance(e, PoolTimeout):
            return True
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, (ConnectionError, TimeoutError, socket.gaierror)):
            return True
        sqlstate = str(getattr(e, "sqlstate", "") or getattr(e, "pgcode", "") or "")
        if sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        module = type(e).__module__
        name = type(e).__name__
        if module.startswith("asyncpg") and (
            "Connection" in name
            or name in ("InterfaceError", "InternalClientError", "TargetServerAttributeNotMatched")
        ):
            return True
        if name in ("OperationalError", "InterfaceError") and any(
            m in str(e).lower() for m in (*_LOCKED, "connection", "closed", "unable to open")
        ):
            return True
    return False


def handle_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """503 + ``Retry-After``: nothing was changed (the transaction did not commit); the same
    request may be sent again (with the same ``Idempotency-Key`` for an intake)."""
    locked = any(m in str(e).lower() for e in _chain(exc) for m in _LOCKED)
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    rule = "retry after the Retry-After header's seconds"
    if locked:
        err = ApiError("the database is busy; retry shortly", rule=rule)
    else:
        err = ApiError("the database is unavailable; retry shortly", rule=rule)
    err.status, err.code = 503, "unavailable"
    retry = 1 if locked else RETRY_AFTER_SECONDS
    return Response(
        err.body(language(request)), status_code=503, headers={"Retry-After": str(retry)}
    )


def handle_os_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if database_unavailable(exc):
        return handle_unavailable(request, exc)
    return handle_unexpected(request, exc)


def handle_data_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A value the database cannot store (an id beyond its integer type, a NUL character,
    a date outside its range) is the client's mistake, not a server error; a database that
    cannot be reached is a 503; anything else that fails inside a statement is ours (500,
    logged)."""
    if database_unavailable(exc):
        return handle_unavailable(request, exc)
    if not _unstorable(exc):
        return handle_unexpected(request, exc)
    log.info("unstorable value: %s", getattr(exc, "orig", exc))
    return _json(
        Invalid(
            "a value is out of range or cannot be stored (an id, a date, or "
            "text with a NUL character)",
            rule="storable value",
        ),
        request,
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if database_unavailable(exc):  # e.g. wrapped by a middleware or a library
        return handle_unavailable(request, exc)
    log.exception("unhandled error", exc_info=exc)
    err = ApiError("internal error; it has been logged")
    err.status, err.code = 500, "internal"
    return _json(err, request)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: handle_api_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    IntegrityError: handle_integrity,
    StaleDataError: handle_stale,
    StatementError: handle_data_error,
    PoolTimeout: handle_unavailable,
    OSError: handle_os_error,
    OverflowError: handle_data_error,
    Exception: handle_unexpected,
}


def N_(template: str) -> str:
    """Mark an error template kept in a table (raised later through a variable) for Babel's
    extraction; returns it unchanged. ``tests/test_error_catalogue.py`` checks it has a
    Chinese entry like a template written in the raise itself."""
    return template


class Named:
    """A code in a message (an industry, a facet): quoted in English (``'nature'``), its
    Chinese label in Chinese (``“投诉性质”``) — pass it as a parameter of an
    :class:`ApiError` (``params={"key": Named(facet.code, facet.label_zh)}``)."""

    def __init__(self, code: str, label_zh: str) -> None:
        self.code = code
        self.label_zh = label_zh

    def localised(self, lang: str) -> str:
        from core.error_text import ZH

        return f"“{self.label_zh}”" if lang == ZH else repr(self.code)

    def __str__(self) -> str:
        return repr(self.code)


class Phrase:
    """A message that is not an error of its own — a part of one (a range, a reason) — kept
    as its English template and parameters, written in the reader's language where it is
    shown: pass it as a parameter of an :class:`ApiError` (``params={"range": Phrase(...)}``).
    Its template needs a catalogue entry like an error's."""

    def __init__(self, template: str, params: Mapping[str, Any] | None = None) -> None:
        self.template = template
        self.params = dict(params or {})

    def localised(self, lang: str) -> str:
        from core.error_text import render

        return render(self.template, self.params, lang, "invalid")

    def __str__(self) -> str:
        from core.error_text import fill

        return fill(self.template, self.params)
