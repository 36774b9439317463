"""The ticket lifecycle of domain §2 as data: states, and the transitions between them.

Each transition names the states it starts from, the state it leads to (``None`` = the
state does not change), the roles that may take it, and the body it takes. Preconditions
that need the ticket or the tenant's plugin live in :mod:`core.flow.service`, one
function per action; who may close a ticket of a given severity is the plugin's answer
(hook ``tousu_approvers`` with step ``close``).

    received ─triage_valid→ valid ─register→ registered ─review→ ready ─dispatch→ dispatched
       │                      └─settle→ closed                      ↑   ←return─┘  │
       ├─triage_invalid→ closed                                     │      first_contact
       └─triage_communicative→ communicative ─settle→ closed        │              ↓
                                     └─convert→ valid               │              ↓
    closed ←close─ followed_up ←follow_up─ replied ←reply─ graded ←grade─ in_progress
                                             └─follow_up_unsatisfied→ ready
    suspend (manager): any handling state → suspended ─close→ closed; reopen → ready
    answer (明确答复) while dispatched, in progress or graded; hand_back once graded.
    reopen of a ticket closed as invalid or communicative → received (triage again)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.people.roles import DESK, MANAGEMENT, Role
from core.tickets import schemas as s


class State(StrEnum):
    RECEIVED = "received"  # 受理: recorded at the desk
    VALID = "valid"  # triaged as a valid complaint, registration not yet decided
    COMMUNICATIVE = "communicative"  # 沟通性投诉 (求助/咨询/发泄): handled with care
    REGISTERED = "registered"  # 立项: someone owns it until closed
    READY = "ready"  # reviewed by the supervisor, waiting for (re)dispatch
    DISPATCHED = "dispatched"  # 派单: with the handling department
    IN_PROGRESS = "in_progress"  # 首日联系 made; investigating and handling
    GRADED = "graded"  # 定责 done
    REPLIED = "replied"  # 答复 given to the complainant
    FOLLOWED_UP = "followed_up"  # 回访: complainant satisfied
    SUSPENDED = "suspended"  # unresolvable, recorded with a manager's approval
    CLOSED = "closed"  # 销项


HANDLING = frozenset(
    {
        State.REGISTERED,
        State.READY,
        State.DISPATCHED,
        State.IN_PROGRESS,
        State.GRADED,
        State.REPLIED,
    }
)
OPEN = frozenset(State) - {State.CLOSED}

# Default closers; the plugin may narrow them by severity (tousu_approvers).
DEFAULT_CLOSE_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.GENERAL_MANAGER})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[State]
    target: State | None
    roles: frozenset[str]
    body: type[s.Transition]
    summary: str
    own_department: bool = False
    """A department head may take it only for a ticket dispatched to their department."""
    target_by_resolution: tuple[tuple[str, State], ...] = ()
    """A different target when the ticket was closed with this resolution (reopen)."""

    def target_for(self, resolution: str | None) -> State | None:
        return next((st for r, st in self.target_by_resolution if r == resolution), self.target)


HANDLER = frozenset({Role.DEPARTMENT_HEAD}) | MANAGEMENT


def _t(
    action: str,
    sources: Iterable[State],
    target: State | None,
    roles: Iterable[str],
    *rest: Any,
    **options: Any,
) -> Transition:
    """A :class:`Transition` from any collections of source states and roles."""
    return Transition(action, frozenset(sources), target, frozenset(roles), *rest, **options)


# Closed without ever being a valid complaint: a reopen triages it again, so the month's
# statistics count it by its final nature [issue 12 §4; 000 §篇1 1(1)2)].
RETRIAGED = (("invalid", State.RECEIVED), ("communicative", State.RECEIVED))
ANSWERABLE = {State.DISPATCHED, State.IN_PROGRESS, State.GRADED}
# A breach of discipline may surface at grading or later (a seed duty: 凡涉及违纪的,应及时移交
# 纪检监察部门 [002 《考核办法》第十八条]): the referral stays possible until the close.
REFERABLE = {State.IN_PROGRESS, State.GRADED, State.REPLIED, State.FOLLOWED_UP}


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("triage_valid", {State.RECEIVED}, State.VALID, DESK | MANAGEMENT, s.TriageValid,
           "Triage as a valid complaint; category and severity must be set [000 §篇1 1(1)1]; "
           "a severity the plugin gives by definition applies unless overridden with a "
           "reason by someone entitled [000 §篇1 4(4)2]."),
        _t("triage_invalid", {State.RECEIVED}, State.CLOSED, DESK, s.TriageInvalid,
           "Invalid complaint: explain to the complainant and close [004 §篇3 二1]."),
        _t("triage_communicative", {State.RECEIVED}, State.COMMUNICATIVE, DESK,
           s.TriageCommunicative,
           "Communicative complaint (求助/咨询/发泄): no valid complaint, handle with care "
           "[000 §篇1 1(1)2), 4(2)]."),
        _t("convert", {State.COMMUNICATIVE}, State.VALID, DESK | MANAGEMENT, s.Convert,
           "A communicative complaint became a valid one: triage it valid, with a reason "
           "[000 §篇1 1(1)2)]."),
        _t("settle", {State.VALID, State.COMMUNICATIVE}, State.CLOSED, DESK, s.Settle,
           "Not registered: an explanation satisfied the complainant [000 §篇1 5(5)1]."),
        _t("register", {State.VALID}, State.REGISTERED, DESK, s.Register,
           "Register (立项) the complaint; it now has an owner until closed [000 §篇1 5(5)1]."),
        _t("review", {State.REGISTERED}, State.READY, {Role.SUPERVISOR}, s.Note,
           "Supervisor (班长) reviews the ticket before dispatch [002 第十四条]."),
        # From registered only where the plugin makes the review optional (Duties).
        _t("dispatch", {State.READY, State.REGISTERED}, State.DISPATCHED, DESK, s.Dispatch,
           "Dispatch to the responsible department [002 第十四条; 000 §篇1 4(4)4]."),
        _t("return", {State.DISPATCHED}, State.READY, HANDLER, s.Reasoned,
           "Not our responsibility: send back with a reason [002 第十七条].", True),
        _t("first_contact", {State.DISPATCHED}, State.IN_PROGRESS, HANDLER, s.FirstContact,
           "The department contacted the complainant [002 第十五条].", True),
        _t("refer_to_inspection", REFERABLE, None, HANDLER, s.Reasoned,
           "Misconduct found: refer to discipline inspection (纪检监察) [002 第十八条].", True),
        _t("grade", {State.IN_PROGRESS}, State.GRADED, HANDLER, s.Grade,
           "Record each involved staff member's responsibility grade (定责) with findings.", True),
        _t("answer", ANSWERABLE, None, DESK | HANDLER, s.Answer,
           "Interim answer (明确答复): tell the complainant what will happen and by when "
           "[000 §篇1 4(4)9; 004 §篇3 二1].", True),
        _t("hand_back", {State.GRADED}, None, HANDLER, s.Note,
           "Return the form to the desk the day handling finishes [000 §篇1 4(4)5①].", True),
        _t("reply", {State.GRADED}, State.REPLIED, DESK | HANDLER, s.Reply,
           "Reply to the complainant with the result [000 §篇8 3(4)].", True),
        # Where the plugin reviews replies (Duties.reply_review): 回复…应经…审核后归档
        # [002 《客户投诉管理考核办法》第十六条]; roles: tousu_approvers("reply_review").
        _t("review_reply", {State.REPLIED, State.FOLLOWED_UP}, None, MANAGEMENT, s.ReplyReview,
           "Review the unit's reply: it passes and may be archived [002 第十六条]."),
        _t("rework_reply", {State.REPLIED, State.FOLLOWED_UP}, State.GRADED, MANAGEMENT,
           s.ReplyRework, "Return the unit's reply for rework, with a reason [002 第十六条]."),
        _t("follow_up", {State.REPLIED}, State.FOLLOWED_UP, DESK, s.FollowUp,
           "Follow-up (回访): complainant satisfied [002 第二十条]."),
        _t("follow_up_unsatisfied", {State.REPLIED}, State.READY, DESK, s.FollowUp,
           "Follow-up: complainant unsatisfied, back for redispatch [002 第二十一条]."),
        _t("close", {State.FOLLOWED_UP, State.SUSPENDED}, State.CLOSED, DEFAULT_CLOSE_ROLES,
           s.Close, "Close (销项) once handling is verified [000 §篇1 5(5)2]."),
        _t("suspend", HANDLING, State.SUSPENDED, MANAGEMENT, s.Reasoned,
           "Record as unresolvable, with a manager's approval [000 §篇1 5(5)2]."),
        _t("reopen", {State.CLOSED, State.SUSPENDED}, State.READY,
           {Role.SUPERVISOR} | MANAGEMENT, s.Reasoned,
           "Reopen for redispatch; a ticket closed as invalid or communicative returns to "
           "triage.", target_by_resolution=RETRIAGED),
        _t("reassign_owner", HANDLING | {State.FOLLOWED_UP, State.SUSPENDED}, None,
           {Role.SUPERVISOR} | MANAGEMENT, s.Reassign,
           "Hand the ticket to another named owner, with a reason [000 §篇1 5(5)1②c]."),
        _t("reclassify", OPEN, None, DESK | MANAGEMENT, s.Reclassify,
           "Change category, severity or facets, with a reason."),
    ]
}  # fmt: skip


def allowed_from(state: str) -> list[str]:
    """Actions whose source states include ``state`` (named in 409 answers)."""
    return [a for a, t in TRANSITIONS.items() if state in t.sources]
