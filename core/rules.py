"""Value types that industry plugins exchange with the core about a ticket's rules:
the facts a plugin reads, its classification, grades, the penalty schedule and proposals.

All frozen msgspec Structs: a plugin receives values and returns values, never rows or
sessions, so a plugin cannot reach the database (or another tenant) by accident.
Money is integer **fen** (1 yuan = 100 fen) everywhere; never float.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec

FEN_PER_YUAN = 100


def yuan(amount: int | float | str) -> int:
    """Yuan → fen, for writing schedules readably (``yuan(200)`` = 20000 fen)."""
    from decimal import Decimal

    fen = Decimal(str(amount)) * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} yuan is not a whole number of fen")
    return int(fen)


class FactSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A measurable fact a plugin's rules read from a ticket (``ticket.facts[code]``).

    The core validates values against ``kind`` (and ``values`` for a choice) before any rule
    sees them, so rules can trust the types.
    """

    code: str
    label: str
    label_zh: str
    kind: Literal["bool", "int", "choice", "text", "datetime"]
    values: tuple[str, ...] = ()
    unit: str = ""
    """For int facts: 'minutes', 'working_days', 'days', 'yuan'…"""
    seed: str = ""
    escalate: bool = False
    """A bool fact that, true on intake, sends the ticket up at once (management notified,
    ``escalated`` in its history), e.g. a group complaint or a crisis."""


class Flag(msgspec.Struct, frozen=True, kw_only=True):
    """Something a rule detected in the facts, e.g. a breach of a published commitment."""

    code: str
    label: str
    detail: str = ""
    seed: str = ""


class TicketFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a plugin may know about a ticket when it classifies, grades or proposes."""

    number: str
    state: str
    channel: str
    category: str | None
    severity: str | None
    facets: dict[str, str]
    facts: dict[str, Any]
    created_at: dt.datetime
    event_time: dt.datetime | None = None
    valid: bool | None = None
    """True once triaged valid, False when triaged invalid, None before triage."""
    now: dt.datetime | None = None
    """The time the core asks at (so rules about age are testable)."""


class Classification(msgspec.Struct, frozen=True, kw_only=True):
    """A plugin's reading of a ticket's facts. Suggestions, shown to the clerk, stored on the
    ticket; the clerk's triage decides. ``None`` fields mean "no opinion"."""

    category: str | None = None
    severity: str | None = None
    valid: bool | None = None
    counts_as_complaint: bool | None = None
    """Whether the ticket counts as a complaint in statistics (one industry: only once verified
    as the supplier's responsibility [002 《客户投诉管理考核办法》第九条])."""
    flags: tuple[Flag, ...] = ()
    reasons: tuple[str, ...] = ()
    defined_severity: str | None = None
    """The severity the plugin's rules give **by definition** (e.g. one industry's 重大 when a
    promised service was not delivered and was raised before unresolved [000 §篇1 4(4)2①]):
    applied at triage; another severity needs a recorded override (core.tickets.triage).
    ``severity`` above stays a suggestion."""


class GradeFacts(msgspec.Struct, frozen=True, kw_only=True):
    """One staff member's responsibility grade as recorded by the grader."""

    staff: str
    """Staff code."""
    department: str | None
    """The staff member's department code (the unit, for per-unit penalties)."""
    grade: Literal["full", "main", "secondary", "none"]
    capacity: str = "direct"
    """In what capacity the person is accountable: ``direct`` (the person complained about)
    or one of the plugin's capacities (e.g. workshop leader, department head, unit
    leader [002 《客户投诉管理考核办法》第二十四条(四)])."""
    offence: str | None = None
    """The offence the grader picked from the plugin's schedule (e.g. tiers)."""
    findings: str = ""
    complainant_violation: str = ""


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """A rule a grade breaks: the field and the rule, shown to the grader as a 422.

    ``rule`` is an English template (``offence must be one of {offences}``) with its values in
    ``params``; the grader reads it in their language from the error catalogue (the plugin's
    own ``locale/zh_CN/LC_MESSAGES/errors.po``, docs/plugins.md)."""

    field: str
    rule: str
    params: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def filled(self) -> str:
        """The rule in English with its values filled in."""
        out = self.rule
        for name, value in self.params.items():
            out = out.replace("{" + name + "}", value)
        return out


class PenaltyRule(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an industry's penalty schedule.

    ``min_fen``/``max_fen`` give the range a tenant admin may set the amount in: a range
    (``30–100``), a minimum with no ceiling (``≥ 800``: max None), or no seed amount at all
    (both None: the tenant sets it). ``default_fen`` is the amount used until a tenant sets
    one (None: the manager sets it when confirming).
    """

    code: str
    label: str
    label_zh: str
    min_fen: int | None = None
    max_fen: int | None = None
    default_fen: int | None = None
    sanctions: tuple[str, ...] = ()
    """Non-monetary consequences, in the seed's words (warning, notice, one month off duty…)."""
    appraisal_points: int = 0
    """Points off the monthly appraisal."""
    whole_month_pay: bool = False
    """Also forfeits that month's performance pay (e.g. a tier 4 offence [000 §篇7 六])."""
    per: Literal["person", "unit"] = "person"
    pickable: bool = False
    """The grader picks it as the offence (e.g. tiers); otherwise rules derive it."""
    seed: str = ""

    def in_range(self, fen: int) -> bool:
        if self.min_fen is not None and fen < self.min_fen:
            return False
        return not (self.max_fen is not None and fen > self.max_fen)


class PenaltySchedule(msgspec.Struct, frozen=True, kw_only=True):
    rules: tuple[PenaltyRule, ...]
    carry_over: bool = False
    """Whether fines that do not fit a month's pay carry over to later months by default
    (one industry: yes [002 《客户投诉管理考核办法》第二十八条]); a tenant may override."""
    seed: str = ""

    def rule(self, code: str) -> PenaltyRule | None:
        return next((r for r in self.rules if r.code == code), None)


class PenaltyProposal(msgspec.Struct, frozen=True, kw_only=True):
    """A penalty the rules propose; a manager confirms, adjusts or waives it."""

    rule: str
    staff: str | None = None
    """Staff code, for a personal penalty."""
    unit: str | None = None
    """Department code, for a penalty charged to an organisational unit."""
    amount_fen: int | None = None
    """The proposed amount (tenant-configured, multiplied where the rules say); None = the
    manager sets it."""
    minimum_fen: int | None = None
    """A floor the amount may not go below without a recorded reason ("≥ N")."""
    multiplier: int = 1
    sanctions: tuple[str, ...] = ()
    appraisal_points: int = 0
    whole_month_pay: bool = False
    reason: str = ""
    """Why, citing the seed (shown to the manager and the staff member)."""


# ---------------------------------------------------------------- deadlines

Unit = Literal["minutes", "hours", "calendar_days", "working_days", "months", "same_day"]
"""``months``: a period ends at 24:00 of the same day number N months later (or that
month's last day), as China's Civil Code counts months (民法典 第二百零一条–二百零三条).
``same_day``: the step ends at 24:00 of the tenant's day on which it started (当天; the
amount is ignored, write 0)."""
Step = Literal[
    "dispatch",
    "first_contact",
    "return",
    "answer",
    "reply",
    "resolution",
    "hand_back",
    "tell",
    "follow_up",
    "invalid_notice",
]
"""``answer`` (明确答复): the complainant is told what will happen and by when, before the
result; ``hand_back``: the department returns the form to the desk once handling is
finished; ``tell``: the desk tells the complainant the result after the hand-back."""


class DeadlineRule(msgspec.Struct, frozen=True, kw_only=True):
    """The time limit of one lifecycle step, for one severity (None: any severity).

    A rule for a specific severity wins over the rule for any severity.
    """

    step: Step
    amount: int
    unit: Unit
    severity: str | None = None
    seed: str = ""


class EscalationRule(msgspec.Struct, frozen=True, kw_only=True):
    """Who hears of a ticket of a severity at once, and within how long (domain §2)."""

    severity: str
    notify_roles: tuple[str, ...]
    within_minutes: int = 0
    seed: str = ""


class UpgradeRule(msgspec.Struct, frozen=True, kw_only=True):
    """A valid ticket still open after ``amount`` ``unit`` becomes ``to_severity``."""

    amount: int
    unit: Unit
    to_severity: str
    seed: str = ""


class DeadlineTable(msgspec.Struct, frozen=True, kw_only=True):
    rules: tuple[DeadlineRule, ...]
    pause_reasons: tuple[str, ...] = ()
    """Codes of the reasons a step's clock may be paused (e.g. complainant_unreachable)."""
    escalations: tuple[EscalationRule, ...] = ()
    upgrade: UpgradeRule | None = None
    urgent_severities: tuple[str, ...] = ()
    """Due-soon warnings for these severities go out at any hour, others in working hours."""
    warn_before_percent: int = 25
    """A due-soon warning goes out when this share of the step's time is left."""
    clock_starts: tuple[tuple[str, str], ...] = ()
    """``(step, action)`` pairs: the step's clock starts at that transition instead of where
    the core starts it (:mod:`core.deadlines.starts`), e.g. ``("resolution", "dispatch")``."""
    own_deadline_severities: tuple[str, ...] = ()
    """Severities for which the complainant may set their own, shorter deadline at intake
    (one desk's minor complaints: 在客户要求的期限内解决 [000 §篇1 4(4)3②])."""
    set_limit_severities: tuple[str, ...] = ()
    """Severities for which the leader may set a per-ticket limit when dispatching (a more
    serious complaint gets a deadline from the leader in charge [000 §篇6 4.2.3e])."""

    def limit(self, step: str, severity: str | None) -> DeadlineRule | None:
        exact = next((r for r in self.rules if r.step == step and r.severity == severity), None)
        return exact or next((r for r in self.rules if r.step == step and r.severity is None), None)


class SeedDuty(msgspec.Struct, frozen=True, kw_only=True):
    """A duty that hangs on how a complaint arrived or what it turned out to be, not on a
    transition (issue 23 §1): a notice to a leader, a report the same day, a referral.

    It applies to a ticket when **every** criterion given matches (within one criterion any
    value does): ``channels`` (intake channel), ``severities``, ``facets`` (``(facet,
    value)`` pairs), ``facts`` (codes of facts that are true) and ``offences`` (the offence
    of a current grade). ``kind``:

    - ``notify``: happens by itself the first time it applies — the roles in
      ``notify_roles`` are notified and the ticket's history records ``seed_duty``;
    - ``refer``: somebody must act — the roles are told, the history records it as
      pending, and the ticket does not close until the action ``done_by`` was taken.
    """

    code: str
    label_zh: str
    kind: Literal["notify", "refer"] = "notify"
    channels: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    facets: tuple[tuple[str, str], ...] = ()
    facts: tuple[str, ...] = ()
    offences: tuple[str, ...] = ()
    notify_roles: tuple[str, ...] = ()
    done_by: str | None = None
    seed: str = ""


class Duties(msgspec.Struct, frozen=True, kw_only=True):
    """Which optional steps and duties an industry's desks keep (hook ``tousu_duties``).

    Every field has the core's default; a plugin returns only what its seeds say. Who takes
    a step is still :func:`~core.hookspecs.tousu_approvers`'s answer (steps ``reply_review``
    and ``close_unresolvable``).
    """

    review_before_dispatch: bool = True
    """A supervisor reviews every registered ticket before it is dispatched; False lets the
    desk dispatch straight from registration (the review stays available)."""
    reply_review: bool = False
    """The handling unit's reply is reviewed (passed, or returned for rework with a reason)
    before the ticket may close; a return may find the reply falsified (unit charge)."""
    apology_when_at_fault: bool = False
    """A reply must carry an apology on behalf of the company when any staff member was
    graded at fault (full, main or secondary)."""
    extension_notice_first: bool = False
    """An extension request must record that the complainant was told first: who told
    them, when and how."""
    duty_room: bool = False
    """Out of working time the duty room registers the complaint and the most senior
    manager on duty handles it (:mod:`core.flow.duty`). Off by default: a desk that
    answers round the clock, or whose seeds name no duty room, keeps its usual intake."""
    unresolvable_close: Literal["any_time", "quarterly"] = "any_time"
    """``quarterly``: a ticket recorded as unresolvable closes at the quarterly review, i.e.
    only in a later calendar quarter (tenant's zone) than the one it was recorded in."""
    seed_duties: tuple[SeedDuty, ...] = ()
    """Notices, reports and referrals that hang on the channel, a fact, the severity or a
    grade's offence (:class:`SeedDuty`; :mod:`core.flow.seed_duties`)."""
    half_year_appraisal: bool = False
    """The half-yearly appraisal of units is owed and reminded (:mod:`core.penalties.
    reminders`): the proposers are told of every ended half-year with no live proposal."""
    unit_bulletin: bool = False
    """Each unit owes a monthly 《投诉事件通报》 of its cases, reminded to the unit's head
    (:mod:`core.reports.unit_bulletins`)."""
    seeds: tuple[str, ...] = ()
    """The seed sections each choice comes from, for the record."""


__all__ = [
    "FEN_PER_YUAN",
    "Classification",
    "DeadlineRule",
    "DeadlineTable",
    "Duties",
    "EscalationRule",
    "FactSpec",
    "Flag",
    "GradeFacts",
    "PenaltyProposal",
    "PenaltyRule",
    "PenaltySchedule",
    "Problem",
    "SeedDuty",
    "TicketFacts",
    "UpgradeRule",
    "yuan",
]
