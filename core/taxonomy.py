"""The shape of an industry taxonomy, as a plugin returns it from ``tousu_taxonomy``.

Values are frozen msgspec Structs: a taxonomy is data, compared and serialised as is,
and never mutated after the plugin hands it over.
"""

from __future__ import annotations

import msgspec

from core.rules import FactSpec

GENERAL_CHANNELS: tuple[str, ...] = (
    "phone", "letter", "visit", "web", "email", "hotline_transfer", "government_transfer",
    "media",
)  # fmt: skip
"""Intake channels every industry has (domain §1, [000 §篇8 2]): what a taxonomy with no
``channels`` of its own takes. An industry's own (its hotline, a voice mailbox
[002 第十二、十三条]) come only from its plugin's taxonomy ``channels``."""


class Term(msgspec.Struct, frozen=True, kw_only=True):
    """One value of a classification axis (a category, a severity, a facet value)."""

    code: str
    """Stable machine code (lower snake case); stored on tickets, never translated."""
    label: str
    """English label."""
    label_zh: str
    """Chinese label as the seed writes it."""
    group: str | None = None
    """For categories: the code of the category group it belongs to."""
    definition: str = ""
    """What qualifies, in the seed's words (shown to the clerk who classifies)."""
    seed: str = ""
    """Where the rule comes from, e.g. ``002 《客户投诉管理考核办法》第十条``."""


class Facet(msgspec.Struct, frozen=True, kw_only=True):
    """A further classification axis an industry uses (nature, direction, mode, ...)."""

    code: str
    label: str
    label_zh: str
    values: tuple[Term, ...]
    required: bool = False
    """A required facet must be set when the ticket is triaged valid."""
    seed: str = ""


class Taxonomy(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a tenant's tickets may be classified by."""

    industry: str
    label: str
    label_zh: str
    category_groups: tuple[Term, ...]
    categories: tuple[Term, ...]
    severities: tuple[Term, ...]
    facets: tuple[Facet, ...] = ()
    grades: tuple[Term, ...] = ()
    """The responsibility grades (codes among full/main/secondary/none) this industry uses,
    with their meaning in the industry (the criteria shown to the grader)."""
    capacities: tuple[Term, ...] = ()
    """Further accountable capacities besides ``direct`` (e.g. workshop leader,
    department head, unit leader)."""
    facts: tuple[FactSpec, ...] = ()
    """Measurable facts the industry's rules read from ``ticket.facts``."""
    channels: tuple[Term, ...] = ()
    """The intake channels this industry's desk takes (codes among
    :data:`core.tickets.schemas.Channel`) in its own words; empty: the general ones."""
    closing_conditions: tuple[Term, ...] = ()
    """How a close is verified in this industry (codes among ``Close.verification``), in
    its words (e.g. a signed service slip); empty: the core's list."""
    register_reasons: tuple[Term, ...] = ()
    close_checklist: tuple[Term, ...] = ()
    """What a close confirms in this industry, ticked on the close form and recorded on the
    close event (``Close.four_donts``, e.g. the utility's 四不放过 [002 第二条]); empty: the
    close form asks for none and the API refuses any (422 ``four_donts``)."""
    """Why a complaint is registered (立项) in this industry (codes among
    ``Register.reason``), in its words; empty: the core's list."""

    def category(self, code: str) -> Term | None:
        return next((t for t in self.categories if t.code == code), None)

    def severity(self, code: str) -> Term | None:
        return next((t for t in self.severities if t.code == code), None)

    def facet(self, code: str) -> Facet | None:
        return next((f for f in self.facets if f.code == code), None)

    def fact(self, code: str) -> FactSpec | None:
        return next((f for f in self.facts if f.code == code), None)

    def channel_codes(self) -> tuple[str, ...]:
        """The channel codes this industry's desk takes: its ``channels``, else
        :data:`GENERAL_CHANNELS`."""
        return tuple(t.code for t in self.channels) or GENERAL_CHANNELS
