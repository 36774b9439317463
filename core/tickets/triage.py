"""Triage decisions the plugin's rules constrain (issue 12 §2, §4).

**Severity by definition.** When the plugin's rules say a complaint *is* of a severity by
definition (``Classification.defined_severity``; e.g. 重大 when a promised service was
not delivered and the complainant raised it before without result [000 §篇1 4(4)2①]), that
severity is applied at triage. Another severity is an override: it needs a reason and a role
entitled to decide it (:data:`OVERRIDE_ROLES`), and both are recorded in the event. Raising
the severity to major notifies the general manager the same day through the ordinary
escalation path (:func:`core.deadlines.escalation.on_severity`, [000 §篇1 4(4)3②]).

Decision (domain §9): the core knows no order of severities (an industry may define none), so *any*
severity other than the defined one is an override, not only a lower one.

**Communicative complaints** (沟通性投诉: 求助 help, 咨询 inquiry, 发泄 venting) are not valid
complaints [000 §篇1 1(1)2)]; the severity definitions and the one-month upgrade apply only
to valid ones [000 §篇1 4(2)]. They get their own triage outcome and are counted apart.
"""

from __future__ import annotations

from typing import Any

from core.errors import Forbidden, Invalid
from core.people.guards import needs_role
from core.people.roles import MANAGEMENT
from core.principal import Principal
from core.tickets.models import Ticket

OVERRIDE_ROLES = MANAGEMENT
"""Who may decide a severity other than the one by definition: the managers who decide on
serious complaints and their overruns [000 §篇1 4(4)3②, 4(4)9]."""

COMMUNICATIVE_KINDS = {"help": "求助", "inquiry": "咨询", "venting": "发泄"}


def defined_severity(ticket: Ticket) -> str | None:
    """The severity the plugin's last reading gives by definition (None: no definition met)."""
    return (ticket.classification or {}).get("defined_severity")


def _entitled(principal: Principal, field: str) -> None:
    """403 naming ``field`` unless ``principal`` may decide another severity than the one by
    definition (:data:`OVERRIDE_ROLES`)."""
    if principal.role_for(OVERRIDE_ROLES) is None:
        err: Forbidden = needs_role(OVERRIDE_ROLES, "改变按定义的投诉等级")
        err.field = field
        raise err


def apply_definition(
    principal: Principal, ticket: Ticket, asked: str | None, override: str
) -> dict[str, Any]:
    """Apply the defined severity at triage, or record an entitled override.

    ``asked`` is the severity given in the triage body (None: not given), ``override`` its
    reason. Returns what the event records. Raises :class:`Invalid` (field
    ``severity_override``) for another severity without a reason, :class:`Forbidden` for a
    caller not entitled to override, :class:`Invalid` for a reason with nothing to override.
    """
    defined = defined_severity(ticket)
    if defined is None or ticket.severity == defined:
        if override:
            raise Invalid(
                "nothing to override: the severity is the one by definition, or none applies",
                field="severity_override",
                rule="an override departs from the severity by definition",
            )
        return {"severity_by_definition": defined} if defined else {}
    if asked is None:  # no severity chosen at triage: the definition decides
        ticket.severity = defined
        return {"severity_by_definition": defined, "severity_applied": True}
    if not override:
        raise Invalid(
            "the plugin's rules make this complaint {defined} by definition; "
            "{asked} needs an override reason from someone entitled to decide it",
            field="severity_override",
            rule="a severity other than the one by definition is a recorded override",
            params={"defined": repr(defined), "asked": repr(asked)},
            defined_severity=defined,
        )
    _entitled(principal, "severity_override")
    return {
        "severity_by_definition": defined,
        "severity_override": {"severity": asked, "reason": override},
    }


def check_reclassify(
    principal: Principal, ticket: Ticket, severity_was: str | None
) -> dict[str, Any]:
    """A reclassification may not undo a severity by definition without an entitled role.

    Called after the plugin re-read the ticket: when a valid ticket's severity changed to
    one other than the defined severity, the caller must hold :data:`OVERRIDE_ROLES` (the
    reclassification's reason is the recorded override). Raises :class:`Forbidden` naming
    ``severity``; returns what the event records.
    """
    defined = defined_severity(ticket)
    if not ticket.valid or defined is None or ticket.severity in (defined, severity_was):
        return {}
    _entitled(principal, "severity")
    return {"severity_by_definition": defined, "severity_override": {"severity": ticket.severity}}
