"""Every message id the console shows, found in its templates and label tables.

Used by the catalogue test (every id has a Chinese translation) and by
``python -m core.console.messages`` to list ids missing from a catalogue.
"""

from __future__ import annotations

import re
import sys

from core.console import _TITLES, TEMPLATES, i18n, labels

_CALL = re.compile(r"""\b_\(\s*(?:"([^"]+)"|'([^']+)')\s*\)""")
EXTRA = [
    "Wrong tenant, username or password",
    "Too many failed attempts; locked for a while. Try again later",
    "Required",
    "Back to the queue",
    "Something went wrong",
    "Error",
    "“Only mine” takes 1 (yes) or 0 (no), not “%s”",  # the queue's address (core.console.queue)
    "Rows a page",
    "Page number",
    "Choose how the closes were verified",  # the approvals page's bulk close
    "%s takes a whole number from 1 to %d, not “%s”",
]


def used_msgids() -> set[str]:
    from core.console.forms import LABELS
    from core.console.notices import MSGIDS
    from core.console.pages import STALE, _nav
    from core.console.ticket_forms import MSGIDS as FORM_MSGIDS

    ids: set[str] = set(EXTRA) | {STALE} | set(_TITLES.values()) | set(MSGIDS)
    for path in TEMPLATES.glob("*.html"):
        for m in _CALL.finditer(path.read_text(encoding="utf-8")):
            ids.add(m.group(1) or m.group(2))
    for group in labels.GROUPS.values():
        ids |= set(group.values())
    ids |= set(LABELS.values()) | set(FORM_MSGIDS)
    from core.console.admin import BREAKDOWNS, KPI_LABELS

    ids |= set(KPI_LABELS.values()) | set(BREAKDOWNS.values()) | {"Rate"}
    ids |= {w.capitalize() for w in ("stats", "kpis", "tickets", "ledger")}
    from core.principal import Principal

    everyone = Principal(
        user_id=0,
        username="",
        roles=frozenset(labels.ROLES) - {"platform_operator"},
        tenant_id=1,
        tenant_slug="",
        plugin="",
        department_id=None,
        staff_id=None,
    )
    ids |= {text for _, text in _nav(everyone)} | {"Tenants"}
    return ids


def missing(locale: str = "zh_CN") -> list[str]:
    tr = i18n.translations(locale)
    translate = tr.gettext
    return sorted(m for m in used_msgids() if translate(m) == m)


if __name__ == "__main__":  # pragma: no cover - a maintainer's helper
    for m in missing(sys.argv[1] if len(sys.argv) > 1 else "zh_CN"):
        print(m)
