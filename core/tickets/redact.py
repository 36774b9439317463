"""Removing a complainant's identity from free text (domain §7: the accused must not see who
complained; circulated bulletins carry no identity)."""

from __future__ import annotations

import re
from collections.abc import Callable

MASK = "***"

_PHONE = re.compile(
    r"(?<!\d)(?:\+?86[\s-]?)?(?:1[3-9]\d(?:[\s-]?\d){8}|0\d{2,3}[\s-]?\d{7,8}|\d{7,})(?!\d)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def scrubber(*identity: str) -> Callable[[str], str]:
    """A function that removes the given identity strings (and phone- or e-mail-shaped
    text) from free text."""
    patterns = []
    for value in sorted({v.strip() for v in identity if v and v.strip()}, key=len, reverse=True):
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 5 and len(digits) >= len(value.strip()) // 2:
            patterns.append(r"[\s-]?".join(re.escape(d) for d in digits))
        patterns.append(re.escape(value))
    combined = re.compile("|".join(patterns)) if patterns else None

    def scrub(text: str | None) -> str:
        out = text or ""
        if combined is not None:
            out = combined.sub(MASK, out)
        out = _EMAIL.sub(MASK, out)
        return _PHONE.sub(MASK, out)

    return scrub
