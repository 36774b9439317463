"""What the complainant is told by SMS: events, default texts, placeholders.

The complainant hears of the three steps of the closed loop that face them (domain §2,
"受理→处理→回访的流程运行,形成闭环管理" [002 第四条]): that the complaint was
**received** (受理, step 1, ``ticket.intake``), **answered** (答复, step 9, the result told
to the complainant [000 §篇8 3(4)], ``ticket.reply``) and **followed up** (回访, step 10,
"投诉100%回访" [002 第二十条], ``ticket.follow_up``). A tenant may replace each text;
placeholders are ``{name}`` fields from :data:`PLACEHOLDERS` only — the ticket number, the
company's name, the date — so a template can never carry a staff member's or anyone
else's identity (complainants' identity is confidential, domain §7).
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

EVENTS = {
    "received": "ticket.intake",
    "answered": "ticket.reply",
    "followed_up": "ticket.follow_up",
}
"""Complainant event → the outbox topic that triggers it."""

TOPIC_EVENT = {topic: event for event, topic in EVENTS.items()}

DEFAULTS = {
    "received": "【{company}】您的投诉已受理，编号{number}。我们将尽快处理并答复您。",
    "answered": "【{company}】您的投诉（编号{number}）已处理并答复。如有疑问，请来电并提供编号。",
    "followed_up": "【{company}】您的投诉（编号{number}）已完成回访，感谢您的监督与支持。",
}

PLACEHOLDERS = {
    "number": "the ticket number, e.g. GW-2026-000123",
    "company": "the tenant's name",
    "date": "the event's date in the tenant's zone, YYYY-MM-DD",
}
MAX_LENGTH = 300


def problems(template: str) -> list[str]:
    """Why a template cannot be used (empty when it can): unknown placeholders, attribute
    or index access, bad braces, too long."""
    if not template.strip():
        return ["must not be empty"]
    if len(template) > MAX_LENGTH:
        return [f"at most {MAX_LENGTH} characters"]
    try:
        parsed = list(string.Formatter().parse(template))
        fields = [f for _, f, _, _ in parsed if f is not None]
    except ValueError as exc:
        return [f"braces: {exc}"]
    out = []
    for name in fields:
        if name not in PLACEHOLDERS:
            out.append(
                f"unknown placeholder {{{name}}}; allowed: "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )
    for _, name, spec, conv in parsed:
        if name is not None and (spec or conv):
            out.append(f"placeholder {{{name}}} takes no format or conversion")
    return out


def render(template: str, values: dict[str, Any]) -> str:
    """Fill a checked template with the allowed values only."""
    return template.format_map({k: str(values.get(k, "")) for k in PLACEHOLDERS})


def values_for(number: str, company: str, at: dt.datetime, zone: str) -> dict[str, str]:
    from zoneinfo import ZoneInfo

    local = at.astimezone(ZoneInfo(zone))
    return {"number": number, "company": company, "date": f"{local:%Y-%m-%d}"}
