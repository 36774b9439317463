"""The OpenAPI document, completed in one place after Litestar generates it.

Litestar documents each operation's success and its own 400 shape, which is not this API's.
:func:`document` adds, to every operation:

- the one error format (:class:`core.errors.ApiError`) as the ``Error`` component, with the
  statuses the API answers — 400 (malformed JSON), 401, 403, 404, 409, 413, 422, 429,
  500, 503 — replacing Litestar's generic 400;
- the second success status of operations that have one (an idempotent replay is 200);
- the real media types of files (CSV, XLSX, PNG, SVG, Markdown) instead of "a JSON string".

Nothing here is per route: a new route is documented by the same rules.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from core.attachments.kinds import AUDIO, IMAGES, KINDS, PDF
from core.reports.charts import FORMATS as CHART_TYPES
from core.reports.exports import MEDIA_TYPES as EXPORT_TYPES

ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="Every error: the HTTP status, a stable code, a message for people naming "
    "the field, and where it applies the field (dotted path) and the rule broken.",
    required=["error"],
    additional_properties=False,
    properties={
        "error": Schema(
            type=OpenAPIType.OBJECT,
            required=["status", "code", "message"],
            properties={
                "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
                "code": Schema(type=OpenAPIType.STRING, examples=["invalid"]),
                "message": Schema(type=OpenAPIType.STRING),
                "field": Schema(type=OpenAPIType.STRING, examples=["complainant.name"]),
                "rule": Schema(type=OpenAPIType.STRING),
            },
            additional_properties=True,
        )
    },
)

ERRORS: dict[str, str] = {
    "400": "The body is not valid JSON.",
    "401": "No valid bearer token.",
    "403": "The caller's role or relation to the ticket does not allow this.",
    "404": "No such resource in the caller's tenant.",
    "409": "The state or version changed, or the change conflicts with existing data.",
    "413": "The request body is too large.",
    "422": "A field breaks a rule; `field` and `rule` say which.",
    "429": "Too many failed attempts; retry after `Retry-After` seconds.",
    "500": "Unexpected; logged, and the body reveals nothing.",
    "503": "A dependency (the database) is unavailable; retry after `Retry-After` seconds.",
}
PUBLIC_ERRORS = {"500", "503"}
"""What an unauthenticated operation (``/health``, ``/ready``, ``/metrics``) can answer."""
PUBLIC_PATHS = ("/health", "/ready", "/metrics")
"""Operations that take no credentials: documented with an empty ``security``."""

ALSO: dict[str, dict[str, str]] = {
    "createTicket": {"200": "Replayed: the same Idempotency-Key and body; the same ticket."},
    "runLedger": {"200": "The month was already run; nothing changed."},
}
"""Operations answering a second success status."""

BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
FILES: dict[str, dict[str, Schema]] = {
    "reportExport": dict.fromkeys(EXPORT_TYPES.values(), BINARY),
    "reportChart": dict.fromkeys(CHART_TYPES.values(), BINARY),
    "reportBulletin": {"text/markdown; charset=utf-8": Schema(type=OpenAPIType.STRING)},
    "metrics": {"text/plain": Schema(type=OpenAPIType.STRING)},
    "downloadAttachment": dict.fromkeys(IMAGES + PDF + AUDIO, BINARY),
}
"""Operations answering files, by media type (a bulletin is JSON or Markdown)."""

BODIES: dict[str, RequestBody] = {
    "uploadAttachment": RequestBody(
        required=True,
        description="One evidence file, streamed; the tenant's `attachment_max_mb` applies.",
        content={
            "multipart/form-data": OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    required=["kind", "file"],
                    properties={
                        "kind": Schema(type=OpenAPIType.STRING, enum=list(KINDS)),
                        "file": BINARY,
                    },
                )
            )
        },
    )
}
"""Request bodies a handler reads itself (a streamed upload) rather than through ``data``."""

_METHODS = ("get", "put", "post", "delete", "patch")
ERROR_REF = Reference("#/components/schemas/Error")


def _error(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={"application/json": OpenAPIMediaType(schema=ERROR_REF)},
    )


def _retry_after() -> dict[str, Any]:
    seconds = Schema(type=OpenAPIType.INTEGER)
    return {"Retry-After": OpenAPIHeader(schema=seconds, description="seconds")}


def _operation(op: Operation, public: bool) -> None:
    responses = op.responses if op.responses is not None else {}
    success = next((c for c in responses if c.startswith("2")), None)
    for code in ALSO.get(op.operation_id or "", {}):
        if success and code not in responses:
            ok = responses[success]
            assert isinstance(ok, OpenAPIResponse)
            responses[code] = OpenAPIResponse(
                description=ALSO[op.operation_id or ""][code], content=ok.content
            )
    files = FILES.get(op.operation_id or "")
    if files and success:
        ok = responses[success]
        assert isinstance(ok, OpenAPIResponse)
        content = dict(ok.content or {}) if op.operation_id == "reportBulletin" else {}
        content |= {media: OpenAPIMediaType(schema=schema) for media, schema in files.items()}
        ok.content = content
    if op.operation_id in BODIES:
        op.request_body = BODIES[op.operation_id]
    for code, text in ERRORS.items():
        if public and code not in PUBLIC_ERRORS and not (code == "422" and op.parameters):
            continue  # a public operation with a query parameter (/ready?scope=) can 422
        response = _error(text)
        if code in ("429", "503"):
            response.headers = _retry_after()
        responses[code] = response
    op.responses = responses
    if public:
        op.security = []  # no credentials needed, whatever the document-wide default


def document(app: Litestar) -> OpenAPI:
    """Complete the app's generated OpenAPI in place (Litestar caches and serves this very
    object at ``/docs/openapi.json``); call once all routes are registered."""
    openapi = app.openapi_schema
    if openapi.components is None:
        openapi.components = Components()
    openapi.components.schemas = dict(openapi.components.schemas or {})
    openapi.components.schemas["Error"] = ERROR_SCHEMA
    public = set(PUBLIC_PATHS)
    for path, item in (openapi.paths or {}).items():
        for method in _METHODS:
            op = getattr(item, method, None)
            if op is not None:
                _operation(op, public=path in public)
    return openapi
