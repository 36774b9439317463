"""Decisions are taken once: every decision is a conditional state change.

A decision (a penalty confirmed, adjusted or waived; an appeal upheld or overturned; an
extension approved or rejected) moves a row out of its waiting status. Reading the row,
checking ``status`` in Python and writing it back lets two concurrent requests both see the
waiting status and both write their decision and their history event. :func:`claim` closes
that window: it is ``UPDATE … SET status = :new … WHERE id = :id AND status = :expected
RETURNING id``. On PostgreSQL the second writer waits on the first one's row lock and then
re-checks the ``WHERE`` against the committed row (0 rows); on SQLite writers are serialised
by the database lock and the ``UPDATE`` reads the latest committed row. Exactly one request
succeeds; every other one gets 409 before it writes anything else, so no second event is
written.

Call :func:`claim` before any other write of the decision's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from core.db import TenantScope
from core.error_text import ZH, label_codes, render
from core.errors import N_, Conflict


async def claim(
    scope: TenantScope,
    model: type[Any],
    row: Any,
    expected: str,
    what: str,
    values: dict[str, Any],
) -> None:
    """Move ``row`` (an instance of ``model`` with ``id`` and ``status``) from ``expected`` to
    ``values["status"]`` (and the other ``values``) only if it still is ``expected``.

    ``what`` names the thing in the message (e.g. ``"该处罚"``). Raises :class:`Conflict`
    (409, ``rule="decided once"``, ``current_status``) when another decision got there first;
    the loaded ``row`` is refreshed with what is stored either way.
    """
    stmt = (
        update(model)
        .where(model.id == row.id, model.status == expected)
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    won = (await scope.execute(stmt)).scalar_one_or_none()
    if won is None:
        current = await scope.scalar(select(model.status).where(model.id == row.id))
        raise already_decided(what, current)
    for key, value in values.items():  # the row in the session now matches the stored one
        set_committed(row, key, value)


def already_decided(what: str, current: str | None) -> Conflict:
    """The 409 for a decision on something no longer waiting (``what``: e.g. ``"该处罚"``)."""
    return AlreadyDecided(what, current)


# The status a decided penalty, extension, appeal or appraisal now has, as a Chinese reader
# sees it in "{current}" (已确认, not ``confirmed``).
label_codes(
    "current",
    {
        "proposed": "待确认",
        "confirmed": "已确认",
        "adjusted": "已调整",
        "waived": "已免除",
        "superseded": "已被替代",
        "approved": "已批准",
        "rejected": "已驳回",
        "upheld": "维持原判",
        "overturned": "改判",
        "pending": "待处理",
    },
)


class AlreadyDecided(Conflict):
    """409 ``rule="decided once"``; ``what`` (Chinese, e.g. ``"该处罚"``) names the thing in
    the Chinese message, "this" in the English one."""

    def __init__(self, what: str, current: str | None) -> None:
        super().__init__(
            N_(
                "{what} was already decided (status now {current}); it cannot be decided "
                "again: reload to see it"
            ),
            field="status",
            rule="decided once",
            params={"what": "this", "current": current},
            current_status=current,
        )
        self.what = what

    def localised(self, lang: str) -> str:
        params = {**self.params, "what": self.what} if lang == ZH else self.params
        return render(self.template, params, lang, self.code, self.field, self.rule)


def set_committed(obj: Any, key: str, value: Any) -> None:
    """Set an attribute as already stored (no second UPDATE at flush)."""
    from sqlalchemy.orm.attributes import set_committed_value

    set_committed_value(obj, key, value)
