"""Attachments in the console: pick or drop several files, list, preview, download.

Uploads go through the API's own attachment service (:mod:`core.attachments.service`):
the same role, conflict-of-interest and closed-ticket checks, the same sniffing of the
bytes against the kind (:func:`core.attachments.receive.sniff`), the tenant's size limit,
and one ``attach`` history event per file in the transaction that records it. The list is
the API's ``listAttachments``, which leaves out the kinds the reader may not see.
"""

from __future__ import annotations

import hashlib
import tempfile
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Stream

from core.attachments import api as attachments_api
from core.attachments import service, storage
from core.attachments.kinds import KINDS
from core.attachments.receive import HEAD, Received, _check_filename, _check_kind, sniff
from core.console import desk
from core.console.calls import run
from core.console.ticket_forms import Context, errors_of
from core.context import PrincipalDep, TenantScopeDep
from core.db import read_only
from core.errors import ApiError, Forbidden
from core.principal import Principal
from core.tickets import reading as tickets

PREVIEW = ("image/jpeg", "image/png", "image/webp")
"""Media types a browser shows inline (HEIC is not)."""


def kind_options(ctx: Context, p: Principal, *, masked: bool) -> list[tuple[str, str]]:
    """The kinds this reader may attach (a reader who may not see the complainant is not
    offered the kinds that identify them; the signed service slip only where the industry
    closes on one — its taxonomy's ``closing_conditions``)."""
    from core.console.ticket_forms import closing_conditions

    slip = "service_slip_signed" in dict(closing_conditions(ctx))
    return [
        (k.code, k.label_zh if ctx.lang == "zh_CN" else k.label)
        for k in KINDS.values()
        if not (masked and k.identifies_complainant) and (slip or k.code != "service_slip")
    ]


def size_text(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


async def attachment_rows(
    request: Request[Any, Any, Any], ticket_id: int, names: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The files the reader may have, with the uploader's display name and a preview link
    for an image that identifies nobody."""
    lang = desk.lang_of(request)
    rows = await run(request, attachments_api.list_attachments, ticket_id=ticket_id)
    out = []
    for a in rows:
        spec = KINDS.get(a.kind)
        out.append(
            {
                "id": a.id,
                "kind": (spec.label_zh if lang == "zh_CN" else spec.label) if spec else "—",
                "filename": a.filename,
                "size": size_text(a.size),
                "by": names.get(a.uploaded_by, {}).get("name", a.uploaded_by),
                "at": a.uploaded_at,
                "download": f"/api/tickets/{ticket_id}/attachments/{a.id}",
                "preview": f"/tickets/{ticket_id}/attachments/{a.id}/preview"
                if a.content_type in PREVIEW
                and spec is not None
                and not spec.identifies_complainant
                else None,
            }
        )
    return out


def _received(kind: str, upload: UploadFile, limit: int) -> Received:
    """An uploaded form file as the API's :class:`Received`: checked, hashed, sniffed."""
    from core.attachments.receive import too_large

    kind = _check_kind(kind)
    name = _check_filename(upload.filename, 1)
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    hasher, size, head = hashlib.sha256(), 0, b""
    src = upload.file
    src.seek(0)
    while chunk := src.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            spool.close()
            raise too_large(limit)
        hasher.update(chunk)
        spool.write(chunk)
        if len(head) < HEAD:
            head += chunk[: HEAD - len(head)]
    try:
        content_type = sniff(kind, head, (upload.content_type or "").lower(), size)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return Received(
        kind=kind,
        filename=name,
        content_type=content_type,
        size=size,
        sha256=hasher.hexdigest(),
        file=spool,
    )


async def save_files(request: Request[Any, Any, Any], ticket_id: int, form: Any) -> list[str]:
    """Attach every file of ``form`` (fields ``kind`` and ``file``, several files allowed)
    to the ticket; returns one message per file refused (the others are kept)."""
    p = desk._p(request)
    lang = desk.lang_of(request)
    from core.console.i18n import translations

    gettext = translations(lang).gettext
    uploads = [
        f for f in (form.getall("file", []) if hasattr(form, "getall") else []) if _has_file(f)
    ]
    if not uploads:
        return []
    kind = str(form.get("kind") or "")
    problems: list[str] = []
    for upload in uploads:
        try:
            token = read_only.set(True)  # the check only reads: no write lock while it runs
            try:
                limit = await run(request, _check, ticket_id=ticket_id)
            finally:
                read_only.reset(token)
            received = _received(kind, upload, limit)
            try:
                assert p.tenant_id is not None  # the check above ran in the reader's tenant
                key = storage.new_key(p.tenant_id, ticket_id)
                await storage.put(request.app.state.store, key, received.file)
                try:  # the file's row and its history event: one unit of work
                    await run(request, _record, ticket_id=ticket_id, received=received, key=key)
                except BaseException:
                    await storage.delete(request.app.state.store, key)
                    raise
            finally:
                received.file.close()
        except ApiError as exc:
            text = "；".join(errors_of(exc, lang, gettext).values())
            problems.append(f"{upload.filename or '—'}：{text}")
    return problems


async def _check(tenant: TenantScopeDep, principal: PrincipalDep, ticket_id: int) -> int:
    return await service.check_upload(tenant, principal, ticket_id)


async def _record(
    tenant: TenantScopeDep, principal: PrincipalDep, ticket_id: int, received: Received, key: str
) -> None:
    await service.record(tenant, principal, ticket_id, received, key)


def _has_file(f: Any) -> bool:
    return isinstance(f, UploadFile) and bool(f.filename)


@post(
    "/tickets/{ticket_id:int}/attachments",
    include_in_schema=False,
    name="console:attach",
    status_code=303,
    request_max_body_size=None,  # each file is held to the tenant's limit as it is read
)
async def attach(request: Request[Any, Any, Any], ticket_id: FromPath[int]) -> Any:
    """Upload one or more files of one kind; a refusal is shown beside the upload form."""
    form = await request.form()
    lang = desk.lang_of(request)
    from core.console.i18n import translations

    gettext = translations(lang).gettext
    problems: list[str] = []
    if not any(_has_file(f) for f in form.getall("file", [])):
        problems = [gettext("Choose at least one file")]
    elif not form.get("kind"):
        problems = [gettext("Please fill in %s") % gettext("Kind")]
    else:
        problems = await save_files(request, ticket_id, form)
    if problems:
        return await desk.page(
            request,
            ticket_id,
            status=422,
            errors={"attachments": "；".join(problems)},
            open_form="attachments",
            values={"kind": form.get("kind") or ""},
        )
    return Redirect(f"/tickets/{ticket_id}#attachments", status_code=303)


@get(
    "/tickets/{ticket_id:int}/attachments/{attachment_id:int}/preview",
    include_in_schema=False,
    name="console:attachment-preview",
)
async def preview(
    request: Request[Any, Any, Any],
    tenant: TenantScopeDep,
    principal: PrincipalDep,
    ticket_id: FromPath[int],
    attachment_id: FromPath[int],
) -> Stream:
    """An image that identifies nobody (a site photo, other evidence), shown inline on the
    ticket page. Kinds that identify the complainant are only downloaded (each download
    is recorded); an image of another kind is refused here."""
    from sqlalchemy import select

    from core.attachments.models import Attachment

    ticket = await tickets.load(tenant, principal, ticket_id)
    row = await tenant.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.ticket_id == ticket.id)
    )
    spec = KINDS.get(row.kind) if row is not None else None
    if row is None or spec is None or spec.identifies_complainant:
        raise Forbidden(
            "only a photo that identifies nobody can be previewed",
            rule="preview",
            field="attachment_id",
        )
    if row.content_type not in PREVIEW or not service.may_see(principal, ticket, row.kind):
        raise Forbidden("this file cannot be previewed", rule="preview", field="attachment_id")
    body = await storage.open_stream(request.app.state.store, row.storage_key)
    return Stream(
        body,
        media_type=row.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
        },
    )


ROUTES = [attach, preview]
_ = Redirect
