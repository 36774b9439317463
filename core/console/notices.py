"""Notification texts on screen: the reader's language, labels instead of codes.

Notifications are stored with a plain message written by the code that raised them
(``GW-2026-0001: step reply overdue since 2026-11-30T02:00:00+00:00``); the console shows
each known kind from its parts — the step's label, the severity's label, the due time in
the tenant's zone — through the catalogue. A message of an unknown shape is shown as
stored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "deadline_breached": (
        re.compile(r"^(?P<number>\S+): step (?P<step>\w+) overdue since (?P<due>\S+)$"),
        "{number}: {step} is overdue (due {due})",
    ),
    "deadline_due_soon": (
        re.compile(r"^(?P<number>\S+): step (?P<step>\w+) is due at (?P<due>\S+)$"),
        "{number}: {step} is due at {due}",
    ),
    "extension_requested": (
        re.compile(
            r"^(?P<number>\S+): more time asked for step (?P<step>\w+): (?P<reason>.*)$", re.S
        ),
        "{number}: more time asked for {step}: {reason}",
    ),
    "escalation": (
        re.compile(
            r"^(?P<number>\S+): (?P<severity>\w+) complaint — "
            r"(?:report within (?P<minutes>\d+) minutes|report at once)"
        ),
        "{number}: {severity} complaint — report within {minutes} minutes",
    ),
}
AT_ONCE = "{number}: {severity} complaint — report at once"
MSGIDS = [template for _, template in PATTERNS.values()] + [AT_ONCE]
"""The catalogue entries these texts use (checked by the catalogue test)."""


def notice_text(
    kind: str,
    message: str,
    gettext: Callable[[str], str],
    label: Callable[[str, str], str],
    term: Callable[[str, str], str],
    when: Callable[[dt.datetime], str],
) -> str:
    """The notification's text for the reader (``message`` unchanged when not recognised).
    ``label``/``term``/``when`` are the page's ``L``, ``T`` and ``when`` helpers."""
    found = PATTERNS.get(kind)
    m = found[0].match(message) if found else None
    if found is None or m is None:
        return message
    parts = {k: v for k, v in m.groupdict().items() if v is not None}
    if "step" in parts:
        parts["step"] = label("step", parts["step"])
    if "severity" in parts:
        parts["severity"] = term("severity", parts["severity"])
    if "due" in parts:
        try:
            parts["due"] = when(dt.datetime.fromisoformat(parts["due"]))
        except ValueError:
            pass
    template = found[1] if kind != "escalation" or "minutes" in parts else AT_ONCE
    return gettext(template).format(**parts)
