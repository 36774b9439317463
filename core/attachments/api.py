"""HTTP routes for ticket attachments: upload (multipart), list, download.

``POST /api/tickets/{ticket_id}/attachments`` takes ``multipart/form-data`` with a ``kind``
field and one ``file`` part; it is read as it streams (:mod:`core.attachments.receive`), so
the route lifts Litestar's own body limit and the tenant's ``attachment_max_mb`` applies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Stream

from core.attachments import scrub, service, storage
from core.attachments.receive import receive
from core.context import DatabaseDep, PrincipalDep, TenantScopeDep
from core.db import read_only
from core.tickets import reading as tickets
from core.tickets.redact import scrubber
from core.tickets.schemas import from_row

TAGS = ["attachments"]


def provide_store(request: Request[Any, Any, Any]) -> Any:
    """The app's object store (``app.state.store``, :mod:`core.attachments.storage`)."""
    return request.app.state.store


StoreDep = NamedDependency[Any]
"""``store: StoreDep`` — the object store the files live in (an obstore store)."""
STORE = {"store": Provide(provide_store, sync_to_thread=False)}


class AttachmentOut(msgspec.Struct, kw_only=True):
    """One file's metadata (never its bytes). ``size`` in bytes; ``content_type`` sniffed
    from the bytes; ``sha256`` hex of the stored bytes."""

    id: int
    ticket_id: int
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime


@post(
    "/api/tickets/{ticket_id:int}/attachments",
    operation_id="uploadAttachment",
    tags=TAGS,
    status_code=201,
    # roles are checked once the ticket is found (404 first)
    request_max_body_size=None,  # the tenant's limit applies while streaming
    dependencies=STORE,
)
async def upload_attachment(
    request: Request[Any, Any, Any],
    db: DatabaseDep,
    principal: PrincipalDep,
    store: StoreDep,
    ticket_id: FromPath[int],
) -> Response[AttachmentOut]:
    """Attach evidence to a ticket (``multipart/form-data``: ``kind`` = call_recording,
    service_slip, letter, photo or other; ``file`` = the file). The media type is sniffed
    from the bytes; a mismatch with the declared type, or a type the kind does not take, is
    a 422 naming ``file``; over the tenant's ``attachment_max_mb`` a 413. Writes an
    ``attach`` history event. Roles: desk, department head, management, inspector.

    Two transactions on ``db``, not the request's ``tenant``: the check (a reader's) before
    the body is read and the file stored, the row (a writer's) after, so no transaction
    stays open while the file streams in."""
    tid = principal.tenant_id
    assert tid is not None  # TENANT_API's guard, tenant_member
    token = read_only.set(True)  # only reads: SQLite need not take the write lock yet
    try:
        async with db.tenant(tid) as scope:
            limit = await service.check_upload(scope, principal, ticket_id)
    finally:
        read_only.reset(token)
    upload = await receive(request, limit)
    try:
        key = storage.new_key(tid, ticket_id)
        await storage.put(store, key, upload.file)
        try:
            async with db.tenant(tid) as scope:
                row = await service.record(scope, principal, ticket_id, upload, key)
                out = from_row(row, AttachmentOut, uploaded_by=principal.username)
        except BaseException:
            await storage.delete(store, key)  # no row, no object
            raise
    finally:
        upload.file.close()
    return Response(
        out,
        status_code=201,
        headers={"Location": f"/api/tickets/{ticket_id}/attachments/{out.id}"},
    )


@get(
    "/api/tickets/{ticket_id:int}/attachments",
    operation_id="listAttachments",
    tags=TAGS,
)
async def list_attachments(
    tenant: TenantScopeDep, principal: PrincipalDep, ticket_id: FromPath[int]
) -> list[AttachmentOut]:
    """The ticket's files the caller may have, oldest first (metadata only). Kinds that
    identify the complainant (call_recording, letter, service_slip) are left out for readers
    who may not see the complainant."""
    rows = await service.listing(tenant, principal, ticket_id)
    return [from_row(a, AttachmentOut, uploaded_by=name) for a, name in rows]


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@get(
    "/api/tickets/{ticket_id:int}/attachments/{attachment_id:int}",
    operation_id="downloadAttachment",
    tags=TAGS,
    dependencies=STORE,
)
async def download_attachment(
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    store: StoreDep,
    ticket_id: FromPath[int],
    attachment_id: FromPath[int],
) -> Stream | Response[bytes]:
    """The file's bytes, as an attachment (never rendered inline) with its stored media
    type. Writes a ``download_attachment`` history event. 403 for a kind that identifies
    the complainant when the caller may not see the complainant. Such a caller gets the file
    without its identifying metadata (EXIF/XMP/IPTC, PNG text, PDF and Office document
    properties: :mod:`core.attachments.scrub`), or a 403 when it cannot be removed; readers
    who may see the complainant get the stored bytes."""
    # The download event is a write: the scope's transaction, not begun yet (it begins at its
    # first statement, below), takes SQLite's write lock from the start although this is a GET.
    token = read_only.set(False)
    try:
        row, ticket = await service.for_download(tenant, principal, ticket_id, attachment_id)
    finally:
        read_only.reset(token)
    name = row.filename
    original = tickets.sees_complainant(principal, ticket)
    if not original:  # the name may name them; so may the file's metadata
        name = scrubber(
            ticket.complainant_name, ticket.complainant_contact, ticket.complainant_address
        )(name)
    body = await storage.open_stream(store, row.storage_key)
    if not original:  # a refusal (403) rolls the download event back with it
        data = b"".join([chunk async for chunk in body])
        # parsing and writing a PDF or HEIC is CPU work: off the event loop
        cleaned = await asyncio.to_thread(scrub.clean, row.content_type, data)
    headers = {
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store",
    }
    if not original:  # metadata removed (core.attachments.scrub): not the stored bytes
        digest = hashlib.sha256(cleaned).hexdigest()
        headers |= {"Content-Length": str(len(cleaned)), "ETag": f'"{digest}"'}
        return Response(cleaned, media_type=row.content_type, headers=headers)
    headers |= {"Content-Length": str(row.size), "ETag": f'"{row.sha256}"'}
    return Stream(body, media_type=row.content_type, headers=headers)


ROUTES = [upload_attachment, list_attachments, download_attachment]
