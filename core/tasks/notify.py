"""In-app notifications and outbox events, written inside the change's own transaction.

Both are idempotent by key: notifying twice for the same reason, or emitting the same event
twice, writes one row (a unique constraint, not a read-before-write), which is what makes
"the right people are notified once, not once per sweep" hold with several sweepers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.db import TenantScope, utcnow
from core.notify import outbound
from core.people.models import User
from core.people.roles import Role
from core.tasks.models import Notification, OutboxEvent

SYSTEM_USER = "system"
"""Each tenant's user for automated actions (sweeps, auto-upgrades); it has no keys."""


async def system_user_id(scope: TenantScope) -> int:
    uid = await scope.scalar(select(User.id).where(User.username == SYSTEM_USER))
    if uid is None:
        raise RuntimeError("tenant has no system user; run `tousu tenants sync`")
    return int(uid)


async def recipients(
    scope: TenantScope, roles: frozenset[str] | set[str], department_id: int | None = None
) -> list[int]:
    """Active users holding any of ``roles``; department heads only of ``department_id``."""
    rows = await scope.execute(
        select(User.id, User.roles, User.department_id).where(User.active.is_(True))
    )
    return choose(rows.all(), roles, department_id)


def choose(
    users: Any, roles: frozenset[str] | set[str], department_id: int | None = None
) -> list[int]:
    """:func:`recipients` over rows ``(id, roles, department_id)`` already read (the sweep
    reads the tenant's users once per batch)."""
    out = []
    for uid, user_roles, dept in users:
        held = set(user_roles or []) & set(roles)
        if not held:
            continue
        # Department heads hear only of their own department's steps (none when no
        # department owns the step yet).
        if held == {Role.DEPARTMENT_HEAD} and dept != department_id:
            continue
        out.append(int(uid))
    return out


async def notify(
    scope: TenantScope,
    user_ids: list[int],
    *,
    kind: str,
    dedupe: str,
    params: dict[str, Any] | None = None,
    ticket_id: int | None = None,
    message: str = "",
) -> int:
    """Notify each user once per ``dedupe`` key, in-app and on the channels each chose for
    ``kind``; returns how many in-app rows were new.

    ``kind`` is one of :data:`core.notify.kinds.KINDS` and ``params`` its parameters (codes,
    ids, ISO instants, typed text): the text is written in the reader's language when it
    is read or sent, never stored. ``message`` is for callers not yet converted: stored and
    shown as is (a sentence in one language)."""
    now = utcnow()
    rows = [
        {
            "user_id": uid,
            "ticket_id": ticket_id,
            "kind": kind,
            "message": message if params is None else "",
            "params": params,
            "dedupe_key": dedupe,
            "created_at": now,
            "read_at": None,
        }
        for uid in sorted(set(user_ids))
    ]
    new = await scope.insert_ignore(Notification, rows)
    if params is not None:  # e-mail/SMS on the channels each recipient chose (core.notify)
        await outbound.for_staff(
            scope, user_ids, kind=kind, params=params, dedupe=dedupe, ticket_id=ticket_id
        )
    return new


async def staff_messages(scope: TenantScope, notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The e-mail/SMS rows for in-app notification rows ``notes`` written in bulk (the
    deadline sweep's set-based path): insert them with the notes, in the same statement
    or transaction (:func:`core.notify.outbound.staff_rows`)."""
    return await outbound.staff_rows(scope, notes)


async def emit(
    scope: TenantScope,
    topic: str,
    payload: dict[str, Any],
    dedupe: str,
    at: dt.datetime | None = None,
) -> None:
    """Write an outbox event for background work (webhooks) in the current transaction,
    stamped ``at`` (default: now; the sweep passes the instant it evaluates)."""
    await scope.insert_ignore(
        OutboxEvent,
        [
            {
                "topic": topic,
                "payload": payload,
                "dedupe_key": dedupe,
                "created_at": at or utcnow(),
                "sent_at": None,
                "attempts": 0,
                "last_error": "",
            }
        ],
    )
    # The complainant's SMS for the events the tenant turned on (core.notify).
    await outbound.for_event(scope, topic, payload, dedupe)
