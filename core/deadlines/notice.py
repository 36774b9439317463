"""The complainant is told before a step is extended, where the industry requires it.

[002 《客户投诉管理考核办法》第十五条] 情况复杂的,在向客户说明原因并报公司同意后,时限可以
适当延长: the customer is told *first*, then the company agrees. Where the plugin's
:class:`core.rules.Duties` sets ``extension_notice_first``, an extension request must record
who told the complainant, when and how; a bare "informed" flag is not enough.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.clock import SKEW, check_past, now
from core.errors import Invalid
from core.rules import Duties

HOW = ("phone", "sms", "visit", "letter", "in_person", "other")
"""How the complainant was told (the channels of domain §1)."""


def check_told_first(
    duties: Duties, told: dict[str, Any] | None, received: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The ``complainant_told`` record as stored (``at`` as ISO text), or None.

    Raises 422 ``complainant_told`` when the duty applies and nothing was recorded, and 422
    ``complainant_told.at`` when the telling is dated after the request (not "first") or
    before the ticket was ``received`` (:func:`core.clock.check_past`).
    """
    if told is None:
        if duties.extension_notice_first:
            raise Invalid(
                "tell the complainant why more time is needed before asking for it: record "
                "who told them, when and how (complainant_told: by, at, how) "
                "[002 《客户投诉管理考核办法》第十五条]",
                field="complainant_told",
                rule="complainant told before an extension",
            )
        return None
    at = told["at"]
    if isinstance(at, dt.datetime):
        if at > now() + SKEW:  # the duty's own words: told *before* asking
            raise Invalid(
                "the complainant must have been told already: the time is in the future",
                field="complainant_told.at",
                rule="told before the request",
            )
        check_past(at, "complainant_told.at", after=received)
    return {
        "by": told["by"],
        "at": at.isoformat() if isinstance(at, dt.datetime) else str(at),
        "how": told["how"],
    }
