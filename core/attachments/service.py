"""Attachment use cases: who may add or read which evidence, and the history they leave.

Every upload and every download is a ticket history event written in the same transaction
as the metadata row (upload) or before any byte leaves (download), through
:func:`core.attachments.history.append`: like any event, each moves the ticket's version on
by one, but without checking the version the caller read (they send none), so parallel
uploads and downloads never conflict with each other (issue 21 item 5).

Who may see what (domain §7): a reader sees the files of the tickets they may read
(:func:`core.tickets.reading.visible`; another tenant's or an unseen ticket answers 404).
Kinds that identify the complainant — the call recording [002 《客户投诉管理考核办法》第十四条],
the letter, the signed service slip — are left out of the list and refused (403) for
readers who may not see the complainant (:func:`core.tickets.reading.sees_complainant`):
above all the staff member complained about [002 《供电局客户投诉举报管理办法》第二条].
"""

from __future__ import annotations

from sqlalchemy import select

from core.attachments import history
from core.attachments.kinds import DEFAULT_MAX_MB, KINDS
from core.attachments.models import Attachment
from core.attachments.receive import Received
from core.db import TenantScope, utcnow
from core.errors import Conflict, Forbidden, NotFound
from core.people.guards import needs_role
from core.people.models import Tenant, User
from core.people.roles import DESK, MANAGEMENT, Role
from core.principal import Principal
from core.tickets import reading as tickets
from core.tickets.lifecycle import State
from core.tickets.models import Ticket

UPLOADERS = DESK | MANAGEMENT | {Role.DEPARTMENT_HEAD, Role.INSPECTOR}
"""The handling roles: the desk that takes the call, the department that visits and gets
the slip signed, management, discipline inspection collecting evidence."""


def may_see(principal: Principal, ticket: Ticket, kind: str) -> bool:
    """Whether the reader may have a file of ``kind`` on ``ticket`` (see the module text)."""
    spec = KINDS.get(kind)
    if spec is None or spec.identifies_complainant:
        return tickets.sees_complainant(principal, ticket)
    return True


def _role(principal: Principal) -> str:
    role = principal.role_for(frozenset(UPLOADERS))
    if role is None:
        raise needs_role(UPLOADERS, "上传附件")
    return role


async def limit_bytes(scope: TenantScope) -> int:
    """The tenant's largest attachment in bytes (tenant file ``attachment_max_mb``)."""
    tenant = await scope.session.get(Tenant, scope.tenant_id)
    mb = (tenant.config or {}).get("attachment_max_mb") if tenant else None
    return int(mb or DEFAULT_MAX_MB) * 1024 * 1024


async def _ticket_for_upload(scope: TenantScope, principal: Principal, ticket_id: int) -> Ticket:
    # the ticket first: one out of sight answers 404 whatever the caller's roles
    ticket = await tickets.load(scope, principal, ticket_id)
    _role(principal)
    if tickets.involved(principal, ticket):  # the route guard says so too; never rely on one
        raise Forbidden(
            "you are named in this complaint; someone else must handle it",
            rule="conflict of interest",
        )
    if ticket.state == State.CLOSED:
        # Decision: a closed record (销项) is final [000 §篇1 5(5)2]; evidence found later
        # goes on after a reopen, so the close stays backed by what it was closed on.
        raise Conflict(
            "the ticket is closed; reopen it to add evidence",
            field="ticket_id",
            rule="lifecycle",
            state=ticket.state,
        )
    return ticket


async def check_upload(scope: TenantScope, principal: Principal, ticket_id: int) -> int:
    """Before any byte is read: the caller may add files to this ticket (403/404/409);
    returns the tenant's size limit in bytes."""
    await _ticket_for_upload(scope, principal, ticket_id)
    return await limit_bytes(scope)


async def record(
    scope: TenantScope, principal: Principal, ticket_id: int, upload: Received, key: str
) -> Attachment:
    """The metadata row and its ``attach`` history event (payload: attachment id, kind,
    file name, size in bytes, sha256), in the scope's one transaction."""
    ticket = await _ticket_for_upload(scope, principal, ticket_id)
    row = Attachment(
        ticket_id=ticket.id,
        kind=upload.kind,
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        storage_key=key,
        uploaded_by=principal.user_id,
        uploaded_at=utcnow(),
    )
    scope.add(row)
    await scope.flush()
    await history.append(
        scope,
        ticket,
        "attach",
        principal.user_id,
        _role(principal),
        {
            "attachment_id": row.id,
            "kind": row.kind,
            "filename": row.filename,
            "size": row.size,
            "sha256": row.sha256,
        },
    )
    return row


async def listing(
    scope: TenantScope, principal: Principal, ticket_id: int
) -> list[tuple[Attachment, str]]:
    """The ticket's files the reader may have, oldest first, with the uploader's username."""
    ticket = await tickets.load(scope, principal, ticket_id)
    rows = await scope.execute(
        select(Attachment, User.username)
        .join(User, User.id == Attachment.uploaded_by)
        .where(Attachment.ticket_id == ticket.id)
        .order_by(Attachment.id)
    )
    return [(a, name) for a, name in rows.all() if may_see(principal, ticket, a.kind)]


async def for_download(
    scope: TenantScope, principal: Principal, ticket_id: int, attachment_id: int
) -> tuple[Attachment, Ticket]:
    """The file's row, once the ``download_attachment`` event is written (payload:
    attachment id and kind). 404 for another ticket's or tenant's file, 403 for a kind the
    reader may not have."""
    ticket = await tickets.load(scope, principal, ticket_id)
    row = (
        await scope.scalar(
            select(Attachment).where(
                Attachment.id == attachment_id, Attachment.ticket_id == ticket.id
            )
        )
        if 0 < attachment_id <= tickets.MAX_ID
        else None
    )
    if row is None:
        raise NotFound(
            "attachment {id} not found", field="attachment_id", params={"id": attachment_id}
        )
    if not may_see(principal, ticket, row.kind):
        raise Forbidden(
            "a {kind} identifies the complainant; it is not shown to you",
            field="attachment_id",
            params={"kind": row.kind},
            rule="complainant confidentiality",
        )
    role = principal.role_for(frozenset(principal.roles)) or "unknown"
    await history.append(
        scope,
        ticket,
        "download_attachment",
        principal.user_id,
        role,
        {"attachment_id": row.id, "kind": row.kind},
    )
    return row, ticket
