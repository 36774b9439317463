"""Every hook an industry plugin may implement.

Hooks that describe an industry are called **only on the tenant's own plugin**, through
:func:`core.plugins.hooks_for`; the core never names an industry. Every hook receives and
returns values (:mod:`core.taxonomy`, :mod:`core.rules`), never database rows. A hook
returning ``None`` has no opinion; single-answer hooks are declared ``firstresult=True``
and stop at the first non-None result.

A plugin is a module (or object) with functions decorated by :data:`hookimpl`, registered
through the ``tousu.plugins`` entry-point group, exactly as the built-in plugins are::

    [project.entry-points."tousu.plugins"]
    aviation = "tousu_aviation"

The full guide, with an example for each hook, is ``docs/plugins.md``; the contract suite
every plugin must pass is :mod:`core.contract`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from core.channel_types import ChannelType
    from core.rules import (
        Classification,
        DeadlineTable,
        Duties,
        GradeFacts,
        PenaltyProposal,
        PenaltySchedule,
        Problem,
        TicketFacts,
    )
    from core.taxonomy import Taxonomy

PROJECT = "tousu"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -------------------------------------------------------------------------
# Classification
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def tousu_taxonomy() -> Taxonomy | None:
    """Called when a ticket is created or reclassified, and by ``GET /api/taxonomy``.

    Return the industry's :class:`core.taxonomy.Taxonomy`: category groups, categories,
    severities, further facets (nature, direction, mode, ...), the responsibility grades it
    uses with their criteria, further accountable capacities, and the measurable facts its
    rules read. Codes are stored on tickets; keep them stable.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def tousu_classify(ticket: TicketFacts) -> Classification | None:
    """Called when a ticket is created, when its facts or classification change, and by
    the deadline sweep for open tickets whose age may change their severity.

    :param ticket: the ticket's facts (``ticket.facts`` already validated against the
        taxonomy's ``facts``; ``ticket.now`` is the time of the question).

    Return a :class:`core.rules.Classification`: suggested category / severity / validity,
    whether it counts as a complaint in statistics, and flags detected in the facts (e.g.
    a breach of a published commitment). The core stores it on the ticket and shows it; it
    applies a suggested severity only where the rule says it is definitional (e.g. "valid
    and unresolved for a month → major"). Return None for no opinion.

    Stops at first non-None result.
    """


# -------------------------------------------------------------------------
# Grading and penalties
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def tousu_check_grade(ticket: TicketFacts, grade: GradeFacts) -> list[Problem] | None:
    """Called for each line of a grading (and of an appeal decision) before it is stored.

    :param ticket: the ticket being graded.
    :param grade: one staff member's grade, capacity, offence and findings.

    Return the rules the line breaks (each a :class:`core.rules.Problem` naming the field
    and the rule, e.g. "grade none needs the complainant's violation recorded"); an empty
    list or None accepts it. The core has already checked the grade is one the taxonomy
    uses and the staff member exists.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def tousu_penalty_schedule() -> PenaltySchedule | None:
    """Called when penalties are proposed and when a tenant admin reads or sets fines.

    Return the industry's :class:`core.rules.PenaltySchedule`: each rule's amount range and
    default in fen, its non-monetary sanctions, whether it is charged per person or per
    unit, and whether fines carry over to later months by default. Tenant admins set
    amounts inside the ranges (outside only with a recorded reason).

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def tousu_propose_penalties(
    ticket: TicketFacts, grades: list[GradeFacts], amounts: dict[str, int | None]
) -> list[PenaltyProposal] | None:
    """Called after a ticket is graded and again when an appeal changes a grade.

    :param ticket: the graded ticket (severity and facts decide the tier).
    :param grades: the current grade of every staff member graded on the ticket.
    :param amounts: the amount in fen of each schedule rule as configured by the tenant
        **at the time of grading** (the plugin default where the tenant set none; None
        where neither set one).

    Return every penalty the schedule gives, per staff member and per unit where the
    schedule says so, with amounts from ``amounts`` (multiplied where the rules say,
    e.g. doubled on external escalation). Nothing is applied: a manager confirms, adjusts
    or waives each proposal. Return an empty list when nobody is penalised.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def tousu_breach_penalties(
    ticket: TicketFacts,
    step: str,
    staff: str | None,
    unit: str | None,
    amounts: dict[str, int | None],
) -> list[PenaltyProposal] | None:
    """Called by the deadline sweep when a step's clock runs out in the hands of whoever
    owns it (the handler's 推诿 or 处理不及时 may itself be a breach of the industry's rules).

    :param ticket: the ticket whose clock ran out.
    :param step: the step (``dispatch``, ``first_contact``, ``return``, ``reply``, …).
    :param staff: the staff code of the user who owned the step, if that user is a staff
        member; else None.
    :param unit: the code of the department that owned the step, if any.
    :param amounts: the tenant's amount in fen of each schedule rule in force now (None
        where neither the tenant nor the plugin set one).

    Return the penalties the industry's rules give for it (rules of the penalty schedule;
    ``staff`` and/or ``unit`` as received); an amount of None leaves it to the manager.
    Nothing is applied: each is a proposal a manager confirms, adjusts or waives. Return
    None or [] when a late step costs nothing.

    Stops at first non-None result.
    """


# -------------------------------------------------------------------------
# Deadlines
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def tousu_deadlines() -> DeadlineTable | None:
    """Called when a step's clock starts, when a ticket's severity changes, by the deadline
    sweep, and when a tenant admin reads or overrides deadlines.

    Return the industry's default :class:`core.rules.DeadlineTable`: the time limit of each
    lifecycle step (``dispatch``, ``first_contact``, ``return``, ``reply``, ``resolution``,
    ``follow_up``, ``invalid_notice``) per severity, in minutes, hours, calendar days or
    working days; the reasons a clock may be paused; who is notified at once of a ticket of
    a severity; the automatic upgrade of a long-open valid ticket; which severities are
    urgent enough to warn outside working hours. A step without a rule has no clock.
    Tenants override any limit.

    Stops at first non-None result.
    """


# -------------------------------------------------------------------------
# Approvals
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def tousu_approvers(step: str, ticket: TicketFacts) -> list[str] | None:
    """Called when someone takes a step that needs approval, and to list allowed actions.

    :param step: one of ``close`` (closing a ticket), ``close_unresolvable`` (closing a
        ticket recorded as unresolvable), ``penalty`` (confirming, adjusting or waiving a
        penalty), ``appeal`` (deciding a grade appeal), ``extension`` (approving more time
        for a step), ``reply_review`` (passing or returning a unit's reply),
        ``appraisal_propose`` and ``appraisal_approve`` (the half-yearly appraisal of units).
    :param ticket: the ticket concerned (severity decides for most industries); for the
        appraisal steps no ticket is concerned: a placeholder with ``state="appraisal"``.

    Return the roles allowed to take the step, or None to accept the core's default
    (close: supervisor, manager, general manager; close_unresolvable: the answer for
    close; penalty, appeal, extension, reply_review and appraisal_propose: manager, general
    manager; appraisal_approve: general manager). Whoever requested a step never approves
    it, whatever the roles (:mod:`core.people.duties`).

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def tousu_duties() -> Duties | None:
    """Called when a ticket is dispatched, replied to, reviewed or closed, and when an
    extension is requested.

    Return a :class:`core.rules.Duties`: whether the supervisor's review is mandatory before
    every dispatch, whether a unit's reply is reviewed before the ticket closes, whether a
    reply must apologise when staff were at fault, whether an extension needs the
    complainant told first, and when a ticket recorded as unresolvable may close. None
    keeps the core's defaults (review mandatory; nothing else required).

    Stops at first non-None result.
    """


# -------------------------------------------------------------------------
# Notification channels (installation-wide, not per industry)
# -------------------------------------------------------------------------


@hookspec
def tousu_notification_channels() -> list[ChannelType] | None:
    """Called when notifications are configured or sent, on **every** installed plugin
    (unlike the industry hooks): channel types belong to the installation, and
    each tenant picks among them by name in ``PUT /api/config/notifications``.

    Return :class:`core.channel_types.ChannelType` objects — ``name`` (the ``type`` a
    tenant writes), ``address`` (``"email"`` or ``"phone"``: which of a person's
    addresses it needs), ``check(settings) -> list[Problem]`` (the tenant's settings for
    it, checked when saved) and ``async send(settings, message)`` which delivers one
    :class:`core.channel_types.Outgoing` or raises
    :class:`core.channel_types.ChannelError` with a one-line reason (never the text or
    the recipient). Sending is retried with backoff; ``message.key`` is stable across
    retries, pass it to the receiver to make retries idempotent. Field names listed in
    ``secrets`` are masked when the settings are read back. The built-in types ``smtp``
    and ``http-sms`` cannot be replaced.

    All results are collected; None or [] adds nothing.
    """
