"""Structured logs (structlog): one JSON object per line unless on a terminal.

* Every line carries ``timestamp`` (UTC), ``level``, ``logger``, ``event`` and whatever is
  bound to the context: ``request_id``, ``tenant``, ``user`` in the API (bound by
  :func:`request_context` and the authentication middleware), ``request_id`` and
  ``tenant`` in workers (bound from the message by :class:`ContextMiddleware`).
* The request id is taken from the ``X-Request-ID`` header when it is a sane token
  (1–64 of ``A-Za-z0-9._-``), else made up; it is echoed on the response, stored on the
  outbox rows and outbound messages the request writes, and passed to the jobs they cause.
* :func:`redact` runs last on every line, from any library: values under keys that name a
  secret or a person (token, password, authorization, complainant, contact, phone, email,
  name, address…) are replaced, bearer tokens and mobile numbers inside text are masked,
  and SQL parameter dumps in error messages are dropped.

Standard-library loggers (uvicorn, dramatiq, ``logging.getLogger("tousu…")``) go through
the same processors, so the whole process speaks one format.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any, TextIO

import structlog

from core.client_address import client_address

REQUEST_ID: ContextVar[str | None] = ContextVar("tousu_request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

SENSITIVE_KEYS = re.compile(
    r"(token|password|passwd|secret|authorization|cookie|api_key|apikey|complainant|contact"
    r"|phone|mobile|email|recipient|address|name_of|id_number|display_name|^name$|^to$)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s'\",]+")
_TOKEN = re.compile(r"\btsu_[A-Za-z0-9_-]{8,}")
_SQL_PARAMS = re.compile(r"\[parameters: .*?\](?=\s|$|\n)", re.DOTALL)
MASK = "***"

# Personal data in free text: the one home of these patterns (log lines here; complaint text
# and report cells in core.tickets.redact, which reads them after NFKC and digit folding).
# Digits may be separated by a space, a hyphen or a dot.
_SEP = r"[\s\-.]?"
_MOBILE = r"(?:(?:\+|00)?86" + _SEP + r")?1[3-9](?:" + _SEP + r"\d){9}"
_LANDLINE = (
    r"(?:\(0\d{2,3}\)|0\d{2,3})" + _SEP + r"[2-9](?:" + _SEP + r"\d){6,7}"
    r"(?:\s*(?:-|转|ext\.?|x)\s*\d{1,6})?"
)
_ID_CARD = r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx]"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
"""An e-mail address."""
NUMBERS = re.compile(
    r"(?=[\d(+])(?<![\dA-Za-z])(?:" + "|".join((_ID_CARD, _MOBILE, _LANDLINE)) + r")(?![\dA-Za-z])"
)
"""A Chinese mobile or landline number, or an identity-card number."""
PERSONAL = re.compile(NUMBERS.pattern + "|" + EMAIL.pattern)
"""Phone numbers, identity-card numbers and e-mail addresses, whoever's."""


def _scrub_text(text: str) -> str:
    text = _SQL_PARAMS.sub("[parameters: ***]", text)
    text = _BEARER.sub(r"\1" + MASK, text)
    text = _TOKEN.sub("tsu_" + MASK, text)
    return PERSONAL.sub(MASK, text)  # phones, identity-card numbers, e-mail addresses


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 5:
        return MASK
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and SENSITIVE_KEYS.search(k) else _scrub(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v, depth + 1) for v in value]
    return value


SQL_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg")
"""Loggers whose debug lines carry statements with their parameters (people's data)."""


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: no token, password or personal identity leaves in a log line."""
    event_dict.pop("color_message", None)  # uvicorn's ANSI duplicate of the event
    logger = str(event_dict.get("logger", ""))
    if logger.startswith(SQL_LOGGERS) and event_dict.get("level") in ("debug", "info"):
        # Statement traces carry bound values (names, phone numbers): say that one ran.
        event_dict["event"] = "sql statement (parameters not logged)"
    for key in list(event_dict):
        if key in ("request_id", "tenant", "user", "level", "logger", "timestamp"):
            continue
        if SENSITIVE_KEYS.search(key):
            event_dict[key] = MASK
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def _pid(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The process id: with ``tousu serve --workers N`` several processes write one log."""
    event_dict.setdefault("pid", os.getpid())
    return event_dict


def _shared(json: bool) -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        _pid,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        *([structlog.processors.format_exc_info] if json else []),  # the console renderer prints it
        redact,
    ]


if not structlog.is_configured():
    # Until configure() runs (tests, library use), structlog hands its events to the
    # standard library like any other logger, instead of printing them to stdout.
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            redact,
            structlog.stdlib.render_to_log_kwargs,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def configure(fmt: str, level: str, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library's logging through one JSON (or console)
    renderer at ``level``. ``fmt``: ``json``, ``console`` or ``auto`` (JSON unless the
    stream is a terminal); the caller passes its settings' TOUSU_LOG_FORMAT / TOUSU_LOG_LEVEL."""
    out = stream or sys.stderr
    json = fmt == "json" or (fmt == "auto" and not (hasattr(out, "isatty") and out.isatty()))
    shared = _shared(json)
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    root = logging.getLogger()
    if root.handlers and stream is None:
        # dramatiq's worker processes log through handlers of their own (a pipe to the
        # parent): keep them, speak our format.
        for handler in root.handlers:
            handler.setFormatter(formatter)
    else:
        handler = logging.StreamHandler(out)
        handler.setFormatter(formatter)
        root.handlers = [handler]
    numeric = getattr(logging, level.upper(), logging.INFO)
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq", "tousu"):
        lib = logging.getLogger(name)
        lib.handlers = []
        lib.propagate = True
    logging.getLogger("tousu").setLevel(numeric)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # start-up noise
    logging.getLogger("aiosqlite").setLevel(max(numeric, logging.INFO))  # per-statement noise


def get(name: str = "tousu") -> Any:
    return structlog.stdlib.get_logger(name)


# -- the request id ------------------------------------------------------------------------


def current_request_id() -> str | None:
    return REQUEST_ID.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, else a new one."""
    if value and _SANE_ID.fullmatch(value):
        return value
    return new_request_id()


def bind(**values: Any) -> None:
    structlog.contextvars.bind_contextvars(**values)


_ID_KEY = "tousu.request_id"
_STARTED_KEY = "tousu.started"


def _header(scope: Any) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            return str(value.decode("latin-1"))
    return None


def request_context(app: Any) -> Any:
    """ASGI middleware: a request id per request (from/as ``X-Request-ID``), bound for
    every log line of the request. :func:`before_send` echoes it and writes the access
    line, so responses made from exceptions (a 401 from authentication) carry it too."""
    import time

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            request_id = accept_request_id(_header(scope))
            scope[_ID_KEY], scope[_STARTED_KEY] = request_id, time.perf_counter()
            # A request runs in a task of its own: bindings made here and below (tenant,
            # user) last until its response is sent, and go with it.
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(request_id=request_id)
            REQUEST_ID.set(request_id)
        await app(scope, receive, send)

    return middleware


async def before_send(message: Any, scope: Any) -> None:
    """Litestar ``before_send`` hook: every response gets ``X-Request-ID``, and every
    request one access line (method, route template, status, duration)."""
    import time

    if message["type"] != "http.response.start" or scope.get("type") != "http":
        return
    request_id = scope.get(_ID_KEY)
    if request_id is None:  # not routed (404/405): no middleware ran
        request_id = accept_request_id(_header(scope))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
    headers.append((b"x-request-id", request_id.encode()))
    message["headers"] = headers
    started = scope.get(_STARTED_KEY)
    get("tousu.access").info(
        "request",
        client=client_address(scope),  # the trusted-proxy rule, as throttles and audit see it
        method=scope.get("method"),
        route=scope.get("path_template") or scope.get("path"),
        status=message["status"],
        duration_ms=round((time.perf_counter() - started) * 1000, 2) if started else None,
    )


# -- dramatiq ------------------------------------------------------------------------------


def context_middleware() -> Any:
    """A dramatiq middleware binding the message's request id and tenant for its logs (and
    for the outbox rows its work writes)."""
    import dramatiq

    class ContextMiddleware(dramatiq.Middleware):
        def before_process_message(self, broker: Any, message: Any) -> None:
            request_id = message.options.get("request_id") or new_request_id()
            structlog.contextvars.clear_contextvars()
            values: dict[str, Any] = {"request_id": request_id, "job": message.actor_name}
            if len(message.args) >= 2 and isinstance(message.args[1], int):
                values["tenant"] = message.args[1]  # actors take (row id, tenant id)
            structlog.contextvars.bind_contextvars(**values)
            REQUEST_ID.set(request_id)

        def after_process_message(
            self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
        ) -> None:
            structlog.contextvars.clear_contextvars()
            REQUEST_ID.set(None)

        after_skip_message = after_process_message

    return ContextMiddleware()
