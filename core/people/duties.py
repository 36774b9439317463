"""Separation of duties: nobody approves what they asked for.

Every approval path of the core — closing a ticket recorded as unresolvable, deciding a
penalty, deciding a grade appeal, deciding an extension, reviewing a unit's reply — asks
:func:`refuse_own` before it writes anything. Whoever requested the step (asked for the
extension, graded the staff member whose penalty it is or found the falsified reply, filed
the appeal, recorded the ticket as unresolvable, gave the reply) may not decide it, whatever
roles they hold; for an extension neither may the head of the department whose clock
overran ("超时需经…批准" [000 §篇1 4(4)9]: the overrun is approved above the
department that overran, domain §10 "Whoever asks for more time never approves it").

The answer is 403 ``rule="separation of duties"`` naming the step; the message is Chinese
like every message a desk reads.
"""

from __future__ import annotations

from core.error_text import label_codes
from core.errors import Forbidden
from core.people.roles import Role
from core.principal import Principal

RULE = "separation of duties"

_STEP_ZH = {
    "extension": "延期申请",
    "penalty": "处罚",
    "appeal": "申诉",
    "close_unresolvable": "无法处理案件的销项",
    "reply_review": "答复审核",
}
label_codes("approval", _STEP_ZH)  # an approver step in a Chinese message: its name


def refuse_own(
    p: Principal,
    step: str,
    requested_by: int | None,
    *,
    overran_department_id: int | None = None,
) -> None:
    """Raise 403 when ``p`` requested ``step`` (``requested_by`` is that user's id) or, for
    an extension, heads the department whose clock overran (``overran_department_id``).

    ``step`` is an approver step of :func:`core.hookspecs.tousu_approvers`. Returns None
    when ``p`` may decide.
    """
    if requested_by is not None and requested_by == p.user_id:
        raise Forbidden(
            "you asked for this {approval}; someone else with the right must decide it",
            rule=RULE,
            params={"approval": step},
            step=step,
        )
    if (
        overran_department_id is not None
        and p.has(Role.DEPARTMENT_HEAD)
        and p.department_id == overran_department_id
    ):
        raise Forbidden(
            "{approval}: the head of the overrun department cannot approve it; a superior must"
            " [000 §篇1 4(4)9]",
            rule=RULE,
            params={"approval": step},
            step=step,
        )
