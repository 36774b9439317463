"""Default time limits for a bus operator's complaint desk.

000 §篇8 (the bus operator's seed) sets no time limits, so every value here is a product
default a tenant overrides in its file (``[config.deadlines]``) or through the admin API:
dispatch within 2 hours of intake; first contact with the passenger and any return within 1
working day; an answer in 3 working days (2 for serious, 1 for major, because complaints
through the mayor's hotline or the media need a fast answer — 000 §篇8 2, 4(1)3 "从严处理");
resolved in 5 working days; the follow-up call within 3 working days of the answer.
"""

from __future__ import annotations

from core.rules import DeadlineRule, DeadlineTable, EscalationRule

_DEFAULT = "product default; 000 §篇8 sets no time limits"

RULES: tuple[DeadlineRule, ...] = (
    DeadlineRule(step="dispatch", amount=2, unit="hours", seed=_DEFAULT),
    DeadlineRule(step="invalid_notice", amount=1, unit="working_days", seed=_DEFAULT),
    DeadlineRule(step="first_contact", amount=1, unit="working_days", seed=_DEFAULT),
    DeadlineRule(step="return", amount=1, unit="working_days", seed=_DEFAULT),
    # 000 §篇8 sets no limits at all, so nothing separates an interim answer from the result:
    # no ``answer`` step, and no same-day hand-offs (issue 12 §1).
    DeadlineRule(step="reply", amount=3, unit="working_days", seed=_DEFAULT),
    DeadlineRule(step="reply", severity="serious", amount=2, unit="working_days", seed=_DEFAULT),
    DeadlineRule(
        step="reply",
        severity="major",
        amount=1,
        unit="working_days",
        seed=f"{_DEFAULT}; strict handling of major cases, 000 §篇8 4(1)3",
    ),
    DeadlineRule(step="resolution", amount=5, unit="working_days", seed=_DEFAULT),
    DeadlineRule(step="follow_up", amount=3, unit="working_days", seed=_DEFAULT),
)

TABLE = DeadlineTable(
    rules=RULES,
    pause_reasons=("complainant_unreachable", "waiting_third_party", "waiting_video_footage"),
    escalations=(
        EscalationRule(
            severity="major",
            notify_roles=("general_manager", "manager"),
            within_minutes=0,
            seed=_DEFAULT,
        ),
        EscalationRule(
            severity="serious", notify_roles=("manager",), within_minutes=60, seed=_DEFAULT
        ),
    ),
    upgrade=None,
    urgent_severities=("major",),
)
