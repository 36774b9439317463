"""The confidentiality boundary: every response body leaves through here.

Domain §7: the complainant's identity is confidential (对投诉举报者严格保密
[002 《供电局客户投诉举报管理办法》第二条]); the staff member complained about must not see
who complained. The ticket's ``complainant`` block is masked where it is built
(:func:`core.tickets.reading.to_out`); *free text* — reasons, findings, notes, replies,
demands, messages, event payloads — can repeat the name or number anywhere, in any
endpoint. Instead of each endpoint scrubbing its own fields, one Litestar ``after_request``
hook (:func:`after_request`, wired for the whole app in :mod:`core.app`) rewrites the
response content before it is serialised:

1. it finds the tickets the body is about: the route's ``{ticket_id}``, every ``ticket_id``
   field, and a :class:`~core.tickets.schemas.TicketOut`'s ``id``;
2. it asks the database, in the reader's tenant scope, for each of those tickets'
   complainant and whether the reader is a staff member named or graded on it;
3. for every ticket whose complainant the reader may not see
   (:func:`core.tickets.complainant.level`, the one rule: the named or graded staff member
   never, other roles by need), every text field of the objects belonging to that ticket is
   passed through :func:`core.tickets.redact.scrubber` (phone numbers by pattern, name,
   contact and address by normalised matching). Text with no ticket is scrubbed of
   phone-shaped text for readers whose roles never see a complainant.

Which fields are text: every ``str`` value in the body (struct fields, dict values, list
items, nested) except the field names in :data:`STRUCTURAL` — identifiers, codes, states,
amounts, URLs, secrets, people's and departments' names. A new field is therefore redacted
unless someone declares it structural; ``tests/test_confidential.py`` enumerates every
response schema's string fields from the OpenAPI document and requires each to be listed in
:data:`STRUCTURAL` or :data:`FREE_TEXT`, and proves each free-text one redacted.

A template response (an HTML page) is rewritten through its context the same way. Bodies
that are bytes (CSV, XLSX, PNG exports) are not rewritten: their builders carry no
free text (``core/reports/exports.py`` masks the complainant columns itself).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from litestar import Response
from litestar.response import Template
from litestar.types import ASGIApp, Scope
from sqlalchemy import exists, false, select

from core.context import open_scope, request_values
from core.db import TenantScope
from core.principal import Principal
from core.tickets import complainant
from core.tickets.models import AccusedStaff, Ticket, TicketGrade
from core.tickets.redact import scrub_patterns, scrubber
from core.tickets.schemas import TicketOut
from core.tickets.seen import SEEN

Scrub = Callable[[str], str]

STRUCTURAL: frozenset[str] = frozenset(
    {
        # identifiers, references and machine codes
        # notification settings (a tenant's channels and templates; a user's own contacts)
        "channels", "defaults", "kinds", "placeholders", "email", "phone", "language", "link",
        "department_name",  # a unit's name (unit bulletins), not a person's
        "id", "ticket_id", "outbox_id", "number", "seq", "code", "key", "entity", "entity_key",
        "slug", "ticket_prefix", "plugin", "industry", "tenant", "scope", "kind", "action",
        "state", "status", "from_state", "to_state", "channel", "category", "severity",
        "resolution", "grade", "capacity", "offence", "rule", "step", "source", "unit",
        "limit", "per", "range", "period", "owner_department", "department", "staff",
        "pause_reason", "allowed_actions", "next_cursor", "topics", "sanctions", "roles",
        "earlier", "group", "values", "timezone", "calendar_fallback", "verification",
        "day", "half", "communicative",
        # a refusal's field name (bulk decisions); a saved view's filters (its URL query,
        # the user's own or the tenant admin's: filter codes, no ticket's text)
        "field", "query",
        # attachments: the sniffed media type and the bytes' digest
        "content_type", "sha256", "uploaded_by",
        # amounts (decimal yuan strings)
        "proposed_yuan", "minimum_yuan", "final_yuan", "min_yuan", "max_yuan", "default_yuan",
        "current_yuan", "amount_yuan", "owed_yuan", "pay_yuan", "deducted_yuan", "fines_yuan",
        "carried_yuan", "written_off_yuan", "forfeited_yuan", "credited_yuan",
        # who did it (usernames, role codes) and where things are sent
        "actor", "actor_role", "set_by", "proposed_by", "decided_by", "issued_by", "username",
        "url", "secret", "owner",
        # labels and rule texts of the product and its plugins, not of people in a case
        "label", "label_zh", "definition", "seed", "position",
        # people's and departments' names (staff, departments; the complainant's block is
        # masked where it is built, see core.tickets.reading.to_out)
        "name", "contact", "address", "display_name",
    }
)  # fmt: skip
"""Field (and payload key) names whose string values are never rewritten."""

FREE_TEXT: frozenset[str] = frozenset(
    {
        "description", "demands", "event_place", "temper_note", "reason", "decision_reason",
        "opinion",
        "findings", "complainant_violation", "note", "message", "reply", "explanation",
        "policy_explained", "payload", "facts", "facets", "classification", "error", "text",
        "what_happened", "cause", "measures", "breakdowns", "trend",
        # outbound email/SMS: the complainant's number may be the recipient
        "recipient", "last_error", "audience", "complainant",
        # a notification's parameters (an extension's reason is typed text)
        "params",
        # an attachment's name as the uploader gave it ("张三丰的来信.pdf")
        "filename",
    }
)  # fmt: skip
"""Fields that carry text people (or the system, quoting people) write: rewritten for a
reader who may not see the complainant. Documentation and the test's checklist — at run
time every string outside :data:`STRUCTURAL` is rewritten."""


# ---------------------------------------------------------------- the request behind a body

_SCOPE: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("tousu_scope", default=None)


def remember_scope(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: keep the request's scope for :func:`after_request` (Litestar hands
    that hook the response only), with an empty :data:`core.tickets.seen.SEEN`."""
    return request_values(app, lambda scope: {_SCOPE: scope, SEEN: {}})


# ---------------------------------------------------------------- the walk


def _ticket_of(value: Any, current: int | None) -> int | None:
    if isinstance(value, TicketOut):
        return value.id
    if isinstance(value, msgspec.Struct):
        tid = getattr(value, "ticket_id", None)
        return tid if isinstance(tid, int) else current
    if isinstance(value, dict):
        tid = value.get("ticket_id")
        return tid if isinstance(tid, int) and not isinstance(tid, bool) else current
    return current


def ticket_ids(value: Any, current: int | None = None) -> set[int]:
    """Every ticket whose text a body carries (see the module docstring, step 1). Values
    under a :data:`STRUCTURAL` field are never rewritten, so the walk does not enter them."""
    found: set[int] = set()

    def walk(v: Any, cur: int | None) -> None:
        cur = _ticket_of(v, cur)
        if cur is not None:
            found.add(cur)
        if isinstance(v, msgspec.Struct):
            for f in v.__struct_fields__:
                if f not in STRUCTURAL:
                    walk(getattr(v, f), cur)
        elif isinstance(v, dict):
            for k, x in v.items():
                if k not in STRUCTURAL:
                    walk(x, cur)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x, cur)

    walk(value, current)
    return found


def rewrite(
    value: Any, scrub_for: Callable[[int | None], Scrub | None], current: int | None = None
) -> Any:
    """``value`` with every non-structural string passed through the scrubber of the ticket it
    belongs to (``scrub_for(ticket_id)``; ``None`` leaves that ticket's text as it is).
    Never mutates ``value``: structs may be shared (a plugin's cached taxonomy)."""
    cur = _ticket_of(value, current)
    if isinstance(value, str):
        scrub = scrub_for(cur)
        return scrub(value) if scrub is not None else value
    if isinstance(value, msgspec.Struct):
        changes = {}
        for f in value.__struct_fields__:
            if f in STRUCTURAL:
                continue
            old = getattr(value, f)
            new = rewrite(old, scrub_for, cur)
            if new is not old:
                changes[f] = new
        return msgspec.structs.replace(value, **changes) if changes else value
    if isinstance(value, dict):
        out = {k: (v if k in STRUCTURAL else rewrite(v, scrub_for, cur)) for k, v in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    if isinstance(value, (list, tuple)):
        items = [rewrite(v, scrub_for, cur) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items) if isinstance(value, tuple) else items
    return value


# ---------------------------------------------------------------- who may see what


def sees_all(principal: Principal) -> bool:
    """A reader who may see every complainant they can read: a role that needs the identity
    and no staff record that could be named in a complaint."""
    return complainant.role_sees(principal) and principal.staff_id is None


class View:
    """What one reader may see of the tickets of one response.

    ``hidden`` maps each ticket the reader may *not* see the complainant of to (name,
    contact, address); ``shown`` holds the tickets whose complainant they may see. Text of a
    ticket in neither (which the lookup did not find) is still scrubbed of phone-shaped text:
    the boundary fails closed."""

    def __init__(
        self,
        principal: Principal,
        hidden: dict[int, tuple[str, str, str]],
        shown: Iterable[int] = (),
    ) -> None:
        self._pattern_only = not complainant.role_sees(principal)
        self._shown = frozenset(shown)
        self._scrubbers: dict[int, Scrub] = {
            tid: scrubber(*identity) for tid, identity in hidden.items()
        }

    def changes_nothing(self, ids: Iterable[int]) -> bool:
        """Whether :func:`rewrite` would leave a body about ``ids`` as it is: the reader sees
        every one of these complainants and text outside a ticket is not scrubbed (then
        :meth:`scrub_for` is None wherever the rewrite looks)."""
        return not self._pattern_only and self._shown.issuperset(ids)

    def scrub_for(self, ticket_id: int | None) -> Scrub | None:
        if ticket_id is None:
            return scrub_patterns if self._pattern_only else None
        if ticket_id in self._shown:
            return None
        return self._scrubbers.get(ticket_id, scrub_patterns)


async def view_for(
    principal: Principal, db: Any, ids: Iterable[int], open_scope: TenantScope | None = None
) -> View:
    """Load the complainants the reader may not see among ``ids`` (one query, tenant-scoped;
    in the request's ``open_scope`` when it has one)."""
    wanted = sorted(set(ids))
    if not wanted or sees_all(principal):
        return View(principal, {}, wanted)
    hidden: dict[int, tuple[str, str, str]] = {}
    shown: set[int] = set()
    seen = SEEN.get() or {}
    for tid in [t for t in wanted if t in seen]:
        identity, inv = seen[tid]
        if complainant.level(principal, inv) != complainant.FULL:
            hidden[tid] = identity
        else:
            shown.add(tid)
    wanted = [t for t in wanted if t not in seen]
    if not wanted:
        return View(principal, hidden, shown)
    sid = principal.staff_id
    involved = (
        exists().where(AccusedStaff.ticket_id == Ticket.id, AccusedStaff.staff_id == sid)
        | exists().where(TicketGrade.ticket_id == Ticket.id, TicketGrade.staff_id == sid)
        if sid is not None
        else false()
    )
    query = select(
        Ticket.id,
        Ticket.complainant_name,
        Ticket.complainant_contact,
        Ticket.complainant_address,
        involved.label("involved"),
    ).where(Ticket.id.in_(wanted))
    if open_scope is not None:
        rows = (await open_scope.execute(query)).all()
    else:
        async with db.tenant(principal.tenant_id) as scope:
            rows = (await scope.execute(query)).all()
    for tid, name, contact, address, inv in rows:
        if complainant.level(principal, bool(inv)) != complainant.FULL:
            hidden[int(tid)] = (name or "", contact or "", address or "")
        else:
            shown.add(int(tid))
    return View(principal, hidden, shown)


async def after_request(response: Response[Any]) -> Response[Any]:
    """The app's one ``after_request`` hook: rewrite the body for its reader (see above)."""
    scope = _SCOPE.get()
    if isinstance(response, Template):  # console pages: their context is the body
        content = response.context
    else:
        # static files and streams carry no person's text (exports mask their own columns)
        content = getattr(response, "content", None)
    if scope is None or content is None or isinstance(content, (bytes, bytearray)):
        return response
    principal = scope.get("user")
    if not isinstance(principal, Principal) or principal.tenant_id is None:
        return response
    if sees_all(principal):
        return response
    raw = (scope.get("path_params") or {}).get("ticket_id")
    current = raw if isinstance(raw, int) else None
    ids = ticket_ids(content, current)
    db = scope["litestar_app"].state.db
    view = await view_for(principal, db, ids, open_scope(scope, principal.tenant_id))
    if view.changes_nothing(ids):
        return response  # e.g. the desk reading its own queue: nothing to walk again
    new = rewrite(content, view.scrub_for, current)
    if new is not content:
        if isinstance(response, Template):
            response.context = new
        else:
            response.content = new
    return response
