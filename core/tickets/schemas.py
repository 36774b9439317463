"""Request and response bodies for tickets (msgspec Structs, decoded at the boundary).

Inputs forbid unknown fields: a typo'd field is an error naming the field, not silently
dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import Meta

from core.errors import N_
from core.strict import fits, free_json
from core.tickets.models import Ticket, TicketGrade

Text = Annotated[str, Meta(min_length=1, max_length=4000)]
OptText = Annotated[str, Meta(max_length=4000)]
CODE = r"^[A-Za-z0-9_.\-]+$"
Code = Annotated[str, Meta(min_length=1, max_length=64, pattern=CODE)]
AwareTime = Annotated[dt.datetime, Meta(tz=True)]
Facets = Annotated[dict[Code, Code], Meta(max_length=32)]
Facts = Annotated[dict[Code, Any], Meta(max_length=64)]
"""Free-form: depth and size are limited by :func:`core.strict.free_json` (422 ``facts``)."""

# Domain §1: phone, letter, visit, web, hotline/government transfer, media [000 §篇8 2];
# an industry may add more, e.g. 95598, voice mailbox, letters forwarded by the GM's office
# [002 第十二、十三条].
Channel = Literal[
    "phone",
    "letter",
    "visit",
    "web",
    "email",
    "hotline_transfer",
    "government_transfer",
    "media",
    "hotline_95598",
    "voice_mailbox",
    "management_forwarded",
]


class Input(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(?:\+?86)?(?:0\d{2,3})?[2-9]\d{6,7}(?:(?:转|ext\.?|x|#)\d{1,6})?$")
_SERVICE = re.compile(r"^(?:400|800)\d{7}$|^9\d{4}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
CONTACT_MESSAGE = N_("a mobile number, a landline such as 020-12345678, or an e-mail address")
"""The decode error's rule (English template; its Chinese in errors.po)."""


def valid_contact(value: str) -> bool:
    """Whether ``value`` is a way to reach someone: a mainland mobile (``13812345678``,
    ``+86 138 1234 5678``), a landline (``020-12345678``, ``0755 8888 8888 转 123``), a
    400/800 or five-digit service number, or an e-mail address. Spaces, dashes and
    brackets between digits are ignored (domain §1: the complainant's contact, used for the
    reply and the follow-up call [000 §篇1 4(4)1])."""
    text = value.strip()
    if "@" in text:
        return bool(_EMAIL.match(text))
    digits = re.sub(r"[\s\-()（）]", "", text)
    return any(p.match(digits) for p in (_MOBILE, _LANDLINE, _SERVICE))


class Complainant(Input, kw_only=True):
    name: Annotated[str, fits(Ticket.complainant_name, min_length=1)]
    contact: Annotated[str, fits(Ticket.complainant_contact, min_length=1)]
    """A mobile, a landline or an e-mail address (:func:`valid_contact`); anything else is a
    422 naming ``complainant.contact``."""
    address: Annotated[str, fits(Ticket.complainant_address)] = ""

    def __post_init__(self) -> None:
        if not valid_contact(self.contact):
            raise ValueError(f"contact: {CONTACT_MESSAGE}")


class TicketCreate(Input, kw_only=True):
    channel: Channel
    complainant: Complainant
    description: Text
    demands: OptText = ""
    event_time: AwareTime | None = None
    event_place: Annotated[str, fits(Ticket.event_place)] = ""
    accused_department: Code | None = None
    accused_staff: Annotated[list[Code], Meta(max_length=50)] = []
    temper_note: Annotated[str, fits(Ticket.temper_note)] = ""
    category: Annotated[str, fits(Ticket.category, min_length=1, pattern=CODE)] | None = None
    severity: Annotated[str, fits(Ticket.severity, min_length=1, pattern=CODE)] | None = None
    facets: Facets = {}
    facts: Facts = {}
    """Measurable facts the industry's rules read (see the taxonomy's ``facts``)."""
    resolve_by: AwareTime | None = None
    """The complainant's own deadline (在客户要求的期限内 [000 §篇1 4(4)3②]), for the
    severities the plugin allows it: shortens, never lengthens, the table's clock."""

    def __post_init__(self) -> None:
        free_json("facts", self.facts)


# ---------------------------------------------------------------- transition payloads
# Every transition body carries the ticket version the client last saw (optimistic lock).


class Transition(Input, kw_only=True):
    version: Annotated[int, Meta(ge=1)]


class Note(Transition, kw_only=True):
    note: OptText = ""


class Reasoned(Transition, kw_only=True):
    reason: Text


class TriageValid(Transition, kw_only=True):
    note: OptText = ""
    category: Annotated[str, fits(Ticket.category, min_length=1, pattern=CODE)] | None = None
    severity: Annotated[str, fits(Ticket.severity, min_length=1, pattern=CODE)] | None = None
    facets: Facets = {}
    severity_override: OptText = ""
    """Why the severity differs from the one the plugin's rules give by definition
    [000 §篇1 4(4)2]; only a role entitled to decide it (manager, general manager) may."""


class TriageCommunicative(Transition, kw_only=True):
    kind: Literal["help", "inquiry", "venting"]
    """沟通性投诉: 求助 help, 咨询 inquiry, 发泄 venting [000 §篇1 1(1)2)]."""
    note: OptText = ""


class Convert(TriageValid, kw_only=True):
    reason: Text
    """Why the communicative complaint became a valid one (mishandled, or found to be one)."""


class Answer(Transition, kw_only=True):
    """明确答复 [000 §篇1 4(4)9]: what will happen, and the moment it is promised by."""

    plan: Text
    promised_by: AwareTime
    """When the complainant is promised the resolution (UTC or with an offset)."""


class TriageInvalid(Transition, kw_only=True):
    reason: Text
    """The explanation given to the complainant [000 §篇1 1(1); 004 §篇3 二1]."""
    complainant_informed: bool = True


class Settle(Transition, kw_only=True):
    explanation: Text
    """Why no registration is needed: the explanation satisfied the complainant [000 §篇1 5(5)1]."""


class Register(Transition, kw_only=True):
    # [000 §篇1 5(5)1]: on-site work needed, found by management, needs follow-up,
    # emergency, outside scope but the complainant wants help.
    reason: Literal[
        "on_site", "found_by_management", "needs_follow_up", "emergency", "outside_scope_help"
    ]
    note: OptText = ""
    owner: Username | None = None
    """The username of the desk member who follows the ticket until it is closed
    [000 §篇1 5(5)1②c]; the registering desk member when not given."""


Username = Annotated[str, Meta(min_length=1, max_length=64)]


class Reassign(Transition, kw_only=True):
    owner: Username
    reason: Text


class ReplyReview(Transition, kw_only=True):
    note: OptText = ""


class ReplyRework(Transition, kw_only=True):
    reason: Text
    """Why the reply goes back to the unit for rework [002 《客户投诉管理考核办法》第十六条]."""
    falsified: bool = False
    """The reply was falsified, concealed the truth or misreported (弄虚作假、隐瞒真相、不如实
    上报): the responsible unit is charged per case [002 《客户投诉管理考核办法》第二十六条]."""


class Dispatch(Transition, kw_only=True):
    department: Code
    note: OptText = ""
    resolve_by: AwareTime | None = None
    """The leader's limit for a more serious complaint [000 §篇6 4.2.3e]: shortens, never
    lengthens, the table's resolution and reply clocks."""


PAST_FIELDS: tuple[str, ...] = ("contacted_at",)
"""Transition body fields that record when something already happened: refused in the
future or before the ticket was received (:func:`core.clock.check_past`, applied by
:func:`core.flow.service.transition`). A new such field is added here."""


class FirstContact(Transition, kw_only=True):
    contacted_at: AwareTime | None = None
    note: Text


class GradeLine(Input, kw_only=True):
    staff: Code
    grade: Literal["full", "main", "secondary", "none"]
    findings: Text
    complainant_violation: OptText = ""
    capacity: Annotated[str, fits(TicketGrade.capacity, min_length=1, pattern=CODE)] = "direct"
    """``direct``, or one of the industry's further accountable capacities."""
    offence: Annotated[str, fits(TicketGrade.offence, min_length=1, pattern=CODE)] | None = None
    """The offence picked from the industry's penalty schedule (e.g. a tier)."""


class Grade(Transition, kw_only=True):
    grades: Annotated[list[GradeLine], Meta(min_length=1, max_length=100)]
    """At least one line: a grading decides someone's responsibility (none included)."""
    findings: Text
    """The investigation's overall findings (cause, facts established)."""


class Reply(Transition, kw_only=True):
    reply: Text
    apology: bool = False
    policy_explained: OptText = ""


class FollowUp(Transition, kw_only=True):
    note: OptText = ""


class Close(Transition, kw_only=True):
    # [000 §篇1 5(5)2]: closed only once handling is verified.
    verification: Literal["service_slip_signed", "result_confirmed", "unresolvable_approved"]
    note: OptText = ""
    related_ticket: Annotated[str, Meta(max_length=32)] | None = None
    """A newly found related problem's own ticket; it must already be registered."""
    four_donts: Annotated[list[Code], Meta(max_length=16)] = []
    """The industry's close checklist as ticked: codes among the tenant taxonomy's
    ``close_checklist`` (the utility's 四不放过); 422 ``four_donts`` for any other code, and
    for any at all in an industry without a checklist. The name stays for compatibility."""


class AppealFile(Input, kw_only=True):
    reason: Text


class AppealDecision(Input, kw_only=True):
    decision: Literal["upheld", "overturned"]
    reason: Text
    grade: Literal["full", "main", "secondary", "none"] | None = None
    """The new grade, when overturned."""
    offence: Annotated[str, fits(TicketGrade.offence, min_length=1, pattern=CODE)] | None = None
    findings: OptText = ""
    complainant_violation: OptText = ""


class Reclassify(Transition, kw_only=True):
    reason: Text
    category: Annotated[str, fits(Ticket.category, min_length=1, pattern=CODE)] | None = None
    severity: Annotated[str, fits(Ticket.severity, min_length=1, pattern=CODE)] | None = None
    facets: Facets | None = None
    facts: Facts | None = None
    """Measurable facts to add or change (the industry's rules re-read the ticket)."""

    def __post_init__(self) -> None:
        free_json("facts", self.facts)


# ---------------------------------------------------------------- responses


class Out(msgspec.Struct, kw_only=True):
    pass


S = TypeVar("S", bound=msgspec.Struct)


def from_row(row: Any, out: type[S], **extra: Any) -> S:
    """An ``out`` response from ``row``'s attributes of the same names (what
    ``msgspec.convert(row, out, from_attributes=True)`` reads, the values taken as they are);
    ``extra`` gives the fields that are not attributes of the row (a code for an id, a
    computed flag). A field neither gives keeps its default. For a few rows: a list's hot
    path (:func:`core.tickets.reading.to_out`) names its fields."""
    fields = out.__struct_fields__
    return out(
        **{n: getattr(row, n) for n in fields if n not in extra and hasattr(row, n)}, **extra
    )


class ComplainantOut(Out, kw_only=True):
    name: str
    contact: str
    address: str
    masked: bool


class Ref(Out, kw_only=True):
    code: str
    name: str


class TicketOut(Out, kw_only=True):
    id: int
    number: str
    state: str
    version: int
    channel: str
    complainant: ComplainantOut
    description: str
    demands: str
    event_time: dt.datetime | None
    event_place: str
    temper_note: str
    accused_department: Ref | None
    accused_staff: list[Ref]
    assigned_department: Ref | None
    category: str | None
    severity: str | None
    facets: dict[str, str]
    facts: dict[str, Any]
    classification: dict[str, Any]
    """The industry plugin's reading of the facts: suggestions, flags, counts_as_complaint."""
    valid: bool | None
    communicative: str | None
    """help, inquiry or venting when triaged communicative (沟通性投诉), else null."""
    resolve_by: dt.datetime | None
    """A per-ticket limit shorter than the table's (complainant's or leader's), else null."""
    resolution: str | None
    referred_to_inspection: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    allowed_actions: list[str]
    owner: str | None = None
    """Username of the named person following the ticket until closed [000 §篇1 5(5)1②c]."""


class TicketPage(Out, kw_only=True):
    items: list[TicketOut]
    next_cursor: str | None
    total: int | None = None
    """How many tickets match in all (only when asked with ``total=true``)."""


class EventOut(Out, kw_only=True):
    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    actor_role: str
    at: dt.datetime
    payload: dict[str, object]


class GradeOut(Out, kw_only=True):
    id: int
    staff: Ref
    grade: str
    capacity: str
    offence: str | None
    findings: str
    complainant_violation: str
    graded_at: dt.datetime
    current: bool
