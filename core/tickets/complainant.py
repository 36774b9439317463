"""What one reader is shown of a ticket's complainant: the one rule, used everywhere.

Domain §7: the complainant's identity is confidential (对投诉举报者严格保密
[002 《供电局客户投诉举报管理办法》第二条]). Three levels, decided only by :func:`level`:

- :data:`FULL` — roles that need the identity to do their work
  (:data:`core.people.roles.SEES_COMPLAINANT`: the desk that follows up, the handling
  department that calls back, management, discipline inspection).
- :data:`PARTIAL` — roles that merely do not need it (the tenant admin, a staff member
  reading a ticket that does not name or grade them): the surname, the first three and last
  four digits of a long contact, the address as ``***``. Partial, because such readers
  have no reason to look for the person.
- :data:`NONE` — the staff member the ticket names or grades, whatever other roles they
  hold: nothing at all (name, contact and address each ``***``, whatever their length or
  presence). In one housing estate or bus route ``李** · 137****1111`` names the person.

Every surface reads it through here: the ticket API (:func:`core.tickets.reading.to_out`),
the ticket exports (:mod:`core.reports.exports`), the console (which renders the API's
block), search (:mod:`core.tickets.search` matches over the text as masked for the reader)
and attachments (:mod:`core.attachments.service`: files and their metadata).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.people.roles import SEES_COMPLAINANT
from core.principal import Principal

Level = Literal["full", "partial", "none"]
FULL: Level = "full"
PARTIAL: Level = "partial"
NONE: Level = "none"

HIDDEN = "***"
"""What a reader who may see nothing of the complainant is shown for each field."""


def role_sees(principal: Principal) -> bool:
    """Whether the reader's roles need the identity (before involvement is considered)."""
    return principal.has(*SEES_COMPLAINANT)


def level(principal: Principal, involved: bool) -> Level:
    """How much of the complainant ``principal`` sees on a ticket; ``involved``: the reader
    is a staff member the ticket names or grades (:func:`core.tickets.reading.involved`)."""
    if involved:
        return NONE
    return FULL if role_sees(principal) else PARTIAL


def mask(value: str, keep_head: int = 1, keep_tail: int = 0) -> str:
    """``value`` with all but ``keep_head`` leading and ``keep_tail`` trailing characters
    replaced by ``*`` (all of it when it is that short)."""
    if len(value) <= keep_head + keep_tail:
        return "*" * len(value)
    tail = value[len(value) - keep_tail :] if keep_tail else ""
    return value[:keep_head] + "*" * (len(value) - keep_head - keep_tail) + tail


@dataclass(frozen=True)
class Shown:
    """The complainant as one reader sees them; ``masked`` when anything was withheld."""

    name: str
    contact: str
    address: str
    masked: bool


def shown(name: str, contact: str, address: str, how: Level) -> Shown:
    """The complainant's (name, contact, address) at level ``how`` (see the module text)."""
    if how == FULL:
        return Shown(name, contact, address, False)
    if how == NONE:
        return Shown(HIDDEN, HIDDEN, HIDDEN, True)
    long = len(contact) >= 8
    return Shown(
        mask(name),
        mask(contact, 3 if long else 0, 4 if long else 0),
        HIDDEN if address else "",
        True,
    )
