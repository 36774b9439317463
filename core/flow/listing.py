"""The ticket list a desk works from: filters, sorts, pages and the total (issue 20 §1).

``GET /api/tickets`` and the console's queue (``/``) both read through :func:`list_page`.
The reader's own view comes first — :func:`core.tickets.reading.filtered` applies who may
see what (:func:`core.tickets.reading.visible`) and the base filters (state, category,
severity, department, received between, search text) — and this module adds what needs the
deadlines area or the reader:

- ``owner`` (a username of the tenant, or ``none`` for unowned), ``mine`` (owned by the
  reader), ``channel``;
- ``due``: ``overdue`` (an open clock past its due time, breached or missed) or
  ``due_soon`` (an open running clock due within :data:`DUE_SOON`);
- ``sort``: one of :data:`SORTS` (``-`` first = descending); without it, newest first,
  keyset-paged by ``cursor`` (the API's historic order, kept as fast as it was);
- ``offset``: pages of any sort; ``total``: the count of every matching ticket.

Bad values answer 422 naming the field and the rule: every filter outside its domain
(``state`` not a lifecycle state, ``category``/``severity`` not in the tenant's plugin
taxonomy, ``department``/``owner`` unknown, ``created_from`` after ``created_to``), and
``sort``, ``due``, ``channel``, ``cursor`` with a sort. Times are UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, get_args

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from core.db import TenantScope, utcnow
from core.deadlines.models import StepClock
from core.errors import N_, Invalid
from core.people.models import User
from core.principal import Principal
from core.tickets import reading
from core.tickets import schemas as s
from core.tickets.facts import plugin_of
from core.tickets.lifecycle import State
from core.tickets.models import Ticket
from core.tickets.seen import note

DUE_SOON = dt.timedelta(hours=24)
"""A running clock due within this is "due soon" (the queue's amber, the sweep's warning)."""

SORTS = (
    "due", "-due", "received", "-received", "severity", "-severity", "number", "-number",
)  # fmt: skip
"""``due``: the nearest open clock's due time, soonest first (tickets without one last);
``received``: intake time, oldest first; ``severity``: the plugin's order of severities,
lightest first (``-severity``: gravest first); ``number``: intake order. ``-`` reverses."""

DUE = ("overdue", "due_soon")
CHANNELS = frozenset(get_args(s.Channel))
STATES = tuple(x.value for x in State)
MAX_OFFSET = 100_000
"""Deeper pages are a scan of the tenant's tickets; past this, narrow the filters."""


@dataclass(frozen=True)
class Query:
    """One list request: the base filters plus what this module adds (see the module)."""

    base: reading.Filters
    owner: str | None = None
    mine: bool = False
    due: str | None = None
    channel: str | None = None
    sort: str | None = None
    offset: int = 0
    total: bool = False


@dataclass
class Page:
    rows: list[Ticket]
    next_cursor: str | None
    total: int | None


def _open_clock() -> ColumnElement[bool]:
    return and_(StepClock.ticket_id == Ticket.id, StepClock.ended_at.is_(None))


def overdue(now: dt.datetime) -> ColumnElement[bool]:
    """An open clock past due: breached, missed, or running beyond its due time."""
    return exists().where(
        _open_clock(),
        or_(
            StepClock.breached_at.is_not(None),
            StepClock.state == "missed",
            and_(StepClock.state == "running", StepClock.due_at < now),
        ),
    )


def due_soon(now: dt.datetime) -> ColumnElement[bool]:
    """An open running clock, not breached, due within :data:`DUE_SOON` from ``now``."""
    return exists().where(
        _open_clock(),
        StepClock.state == "running",
        StepClock.breached_at.is_(None),
        StepClock.due_at >= now,
        StepClock.due_at <= now + DUE_SOON,
    )


TICKING = ("running", "missed")
"""The states of a clock that gives its ticket a due time in the ``due`` sort."""


def first_clock() -> tuple[Any, ColumnElement[bool]]:
    """An alias of the ticket's nearest ticking clock and the join condition naming it: an
    open clock in :data:`TICKING` with no other such clock of the ticket due earlier (equal
    times: the lower id), so each ticket with one joins exactly one row, whose ``due_at``
    is the ticket's nearest due time.

    Sorting by it lets PostgreSQL walk ``ix_cover_step_clocks_open_due`` in due order and
    stop after a page, instead of computing every ticket's minimum (a correlated ``min()``
    took 3.3 s at 1M tickets; BENCHMARKS.md, session 6)."""
    clock = aliased(StepClock, name="first_clock")
    other = aliased(StepClock, name="earlier_clock")
    earlier = exists().where(
        other.ticket_id == clock.ticket_id,
        other.ended_at.is_(None),
        other.state.in_(TICKING),
        or_(
            other.due_at < clock.due_at,
            and_(other.due_at == clock.due_at, other.id < clock.id),
        ),
    )
    return clock, and_(
        clock.ticket_id == Ticket.id,
        clock.ended_at.is_(None),
        clock.state.in_(TICKING),
        ~earlier,
    )


def no_ticking_clock() -> ColumnElement[bool]:
    """The ticket has no open clock in :data:`TICKING` (last in the ``due`` sort)."""
    return ~exists().where(_open_clock(), StepClock.state.in_(TICKING))


def check(query: Query, cursor: str | None) -> None:
    """Raises Invalid (422) for a value no list can take."""
    base = query.base
    for name, at in (("created_from", base.created_from), ("created_to", base.created_to)):
        if at is not None and at.tzinfo is None:
            raise Invalid(
                "{field} needs a timezone (e.g. 2026-11-01T00:00:00+08:00)",
                field=name,
                rule="timezone-aware datetime",
                params={"field": name},
            )
    if base.state and base.state not in STATES:
        raise Invalid(
            "unknown state {value}",
            field="state",
            rule="one of " + ", ".join(STATES),
            params={"value": repr(base.state)},
        )
    if base.created_from and base.created_to and base.created_from > base.created_to:
        raise Invalid(
            "created_from is later than created_to",
            field="created_from",
            rule="created_from <= created_to",
        )
    for field, value, known, template in (
        ("sort", query.sort, SORTS, N_("unknown sort {value}")),
        ("due", query.due, DUE, N_("unknown due {value}")),
        ("channel", query.channel, sorted(CHANNELS), N_("unknown channel {value}")),
    ):
        if value is not None and value not in known:
            raise Invalid(
                template,
                field=field,
                rule="one of " + ", ".join(known),
                params={"value": repr(value)},
            )
    if not 0 <= query.offset <= MAX_OFFSET:
        raise Invalid("offset out of range", field="offset", rule=f"0 to {MAX_OFFSET}")
    if cursor and (query.sort not in (None, "-number") or query.offset):
        raise Invalid(
            "cursor pages only the default order",
            field="cursor",
            rule="use offset with sort",
        )


MAX_LIMIT = 200
_BOOLS = {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}


def parse(params: dict[str, str]) -> tuple[Query, str | None, int]:
    """A list query string's parameters (``{"state": "dispatched", "sort": "due"}``) as the
    list reads them: (query, cursor, limit). Raises Invalid (422, ``field`` the parameter)
    for a value outside its domain, as ``GET /api/tickets`` does — saved views
    (:mod:`core.flow.views`) are checked with it."""

    def when(name: str) -> dt.datetime | None:
        raw = params.get(name)
        if not raw:
            return None
        try:
            return dt.datetime.fromisoformat(raw)  # a naive one is refused by check()
        except ValueError:
            raise Invalid(
                "{field} is not a date and time",
                field=name,
                rule="ISO 8601 with timezone",
                params={"field": name},
            ) from None

    def number(name: str, default: int, low: int, high: int) -> int:
        raw = params.get(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise Invalid(
                "{field} must be a whole number from {low} to {high}",
                field=name,
                rule=f"{low} to {high}",
                params={"field": name, "low": low, "high": high},
            )
        return value

    def flag(name: str) -> bool:
        raw = params.get(name, "false").lower()
        if raw not in _BOOLS:
            raise Invalid(
                "{field} must be true or false",
                field=name,
                rule="true or false",
                params={"field": name},
            )
        return _BOOLS[raw]

    q = params.get("q") or None
    if q is not None and len(q) > 100:
        raise Invalid("q is longer than 100 characters", field="q", rule="at most 100")
    base = reading.Filters(
        params.get("state") or None,
        params.get("category") or None,
        params.get("severity") or None,
        params.get("department") or None,
        when("created_from"),
        when("created_to"),
        q,
    )
    query = Query(
        base,
        owner=params.get("owner") or None,
        mine=flag("mine"),
        due=params.get("due") or None,
        channel=params.get("channel") or None,
        sort=params.get("sort") or None,
        offset=number("offset", 0, 0, MAX_OFFSET),
        total=flag("total"),
    )
    cursor = params.get("cursor") or None
    check(query, cursor)
    return query, cursor, number("limit", 50, 1, MAX_LIMIT)


async def validate(scope: TenantScope, query: Query) -> None:
    """The checks that need the tenant: category, severity, department and owner exist.
    Raises Invalid (422) naming the parameter."""
    await _check_taxonomy(scope, query.base)
    if query.base.department:
        await reading.department_by_code(scope, query.base.department, "department")
    if query.owner and query.owner != "none":
        await _owner_id(scope, query.owner)


async def _check_taxonomy(scope: TenantScope, base: reading.Filters) -> None:
    """422 for a category or severity the tenant's plugin does not define."""
    if not base.category and not base.severity:
        return
    taxonomy = (await plugin_of(scope)).taxonomy()
    for field, value, known in (
        ("category", base.category, [t.code for t in taxonomy.categories]),
        ("severity", base.severity, [t.code for t in taxonomy.severities]),
    ):
        if value and value not in known:
            raise Invalid(
                "unknown {field} {value}",
                field=field,
                rule="one of " + ", ".join(known),
                params={"field": field, "value": repr(value)},
            )


async def _owner_id(scope: TenantScope, username: str) -> int:
    uid = await scope.scalar(select(User.id).where(User.username == username))
    if uid is None:
        raise Invalid(
            "unknown owner {value}",
            field="owner",
            rule="a username of this tenant or none",
            params={"value": repr(username)},
        )
    return int(uid)


async def list_page(
    scope: TenantScope, principal: Principal, query: Query, cursor: str | None, limit: int
) -> Page:
    """A page of the tickets ``principal`` may read, narrowed and ordered by ``query``.

    Returns the tickets (accused staff and grades loaded), the next cursor (default order
    only) and, when ``query.total``, how many match in all. Raises Invalid (422) as
    :func:`check` does and for an unknown department or owner."""
    check(query, cursor)
    await _check_taxonomy(scope, query.base)
    q = await reading.filtered(scope, principal, query.base)
    now = utcnow()
    if query.owner == "none":
        q = q.where(Ticket.owner_user_id.is_(None))
    elif query.owner:
        q = q.where(Ticket.owner_user_id == await _owner_id(scope, query.owner))
    if query.mine:
        q = q.where(Ticket.owner_user_id == principal.user_id)
    if query.channel:
        q = q.where(Ticket.channel == query.channel)
    if query.due == "overdue":
        q = q.where(overdue(now))
    elif query.due == "due_soon":
        q = q.where(due_soon(now))
    total = None
    if query.total:
        total = int(await scope.scalar(select(func.count()).select_from(q.subquery())) or 0)
    sort = query.sort or "-number"
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "due":
        rows = await _due_page(scope, q, desc, query.offset, limit + 1)
        return _page(principal, rows, limit, None, total)
    if key == "number":
        order: list[Any] = [Ticket.id.desc() if desc else Ticket.id.asc()]
    elif key == "received":
        col = Ticket.created_at
        order = [col.desc() if desc else col.asc(), Ticket.id.desc() if desc else Ticket.id]
    else:  # severity, in the plugin's order
        hooks = await plugin_of(scope)
        codes = [t.code for t in hooks.taxonomy().severities]
        rank = case(
            {c: i for i, c in enumerate(codes)}, value=Ticket.severity, else_=-1 if desc else 99
        )
        order = [rank.desc() if desc else rank.asc(), Ticket.id.desc()]
    keyset = query.sort in (None, "-number") and not query.offset
    if keyset and cursor:
        q = q.where(Ticket.id < reading.decode_cursor(cursor))
    rows = await _fetch(scope, q.order_by(*order), query.offset, limit + 1)
    return _page(principal, rows, limit, keyset, total)


def _page(
    principal: Principal, rows: list[Ticket], limit: int, keyset: bool | None, total: int | None
) -> Page:
    for t in rows:
        note(t, reading.involved(principal, t))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = reading.encode_cursor(rows[-1].id) if keyset and more and rows else None
    return Page(rows, next_cursor, total)


async def _due_page(scope: TenantScope, q: Any, desc: bool, offset: int, n: int) -> list[Ticket]:
    """``n`` tickets from ``offset`` in the ``due`` sort: those with a ticking clock by
    their nearest due time (``desc``: latest first; equal times: newest ticket first), then
    those without one, newest first — the order of ``min(due_at) NULLS LAST, id DESC``, in
    two statements that each stop after a page (:func:`first_clock`)."""
    clock, joined = first_clock()
    head = q.join(clock, joined).order_by(
        clock.due_at.desc() if desc else clock.due_at.asc(), Ticket.id.desc()
    )
    rows = await _fetch(scope, head, offset, n)
    if len(rows) == n:
        return rows
    if rows or not offset:
        ahead = offset + len(rows)  # every ticket with a ticking clock is behind us
    else:  # the offset is past them all: how many were there?
        ahead = int(await scope.scalar(select(func.count()).select_from(head.subquery())) or 0)
    tail = q.where(no_ticking_clock()).order_by(Ticket.id.desc())
    return rows + await _fetch(scope, tail, max(0, offset - ahead), n - len(rows))


async def _fetch(scope: TenantScope, q: Any, offset: int, n: int) -> list[Ticket]:
    q = q.options(*reading._WITH_PEOPLE).limit(n)
    if offset:
        q = q.offset(offset)
    return list((await scope.execute(q)).unique().scalars())
