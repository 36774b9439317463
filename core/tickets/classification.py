"""Checking a ticket's category, severity and facets against the tenant plugin's taxonomy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.error_text import fill
from core.errors import N_, Invalid, Named
from core.taxonomy import Taxonomy


def _industry(tax: Taxonomy) -> Named:
    """The industry in a message: its plugin's code in English, its Chinese label
    (``Taxonomy.label_zh``) in Chinese."""
    return Named(tax.industry, tax.label_zh)


def check_classification(
    tax: Taxonomy,
    category: str | None,
    severity: str | None,
    facets: dict[str, str] | None,
    prefix: str = "",
) -> None:
    """Raise :class:`Invalid` naming the field when a code is not in the plugin's taxonomy."""
    for field, code, found, known, template in (
        ("category", category, tax.category, tax.categories,
         N_("unknown category {code} for industry {industry}")),
        ("severity", severity, tax.severity, tax.severities,
         N_("unknown severity {code} for industry {industry}")),
    ):  # fmt: skip
        if code is not None and found(code) is None:
            raise Invalid(
                template,
                field=prefix + field,
                rule=f"must be a {field} of the tenant's taxonomy",
                params={"code": repr(code), "industry": _industry(tax)},
                allowed=[c.code for c in known],
            )
    for key, value in (facets or {}).items():
        facet = tax.facet(key)
        if facet is None:
            raise Invalid(
                "unknown facet {key}",
                field=f"{prefix}facets.{key}",
                rule="must be a facet of the tenant's taxonomy",
                params={"key": repr(key)},
                allowed=[f.code for f in tax.facets],
            )
        if value not in {v.code for v in facet.values}:
            raise Invalid(
                "unknown value {value} for facet {key}",
                field=f"{prefix}facets.{key}",
                rule="must be one of the facet's values",
                params={"value": repr(value), "key": Named(key, facet.label_zh)},
                allowed=[v.code for v in facet.values],
            )


def check_channel(tax: Taxonomy, channel: str) -> None:
    """Raise :class:`Invalid` (422 ``channel``) when the tenant's industry does not take
    ``channel``: its plugin's taxonomy ``channels``, else the general ones
    (:data:`core.taxonomy.GENERAL_CHANNELS`) — one industry's hotline (95598
    [002 第十二条]) is no channel of another's."""
    allowed = tax.channel_codes()
    if channel not in allowed:
        raise Invalid(
            "unknown channel {code} for industry {industry}",
            field="channel",
            rule="must be a channel of the tenant's taxonomy",
            params={"code": repr(channel), "industry": _industry(tax)},
            allowed=list(allowed),
        )


def check_close_checklist(tax: Taxonomy, ticked: list[str]) -> None:
    """Raise :class:`Invalid` (422 ``four_donts``) for a ticked code the tenant's industry
    does not list in its ``close_checklist`` — every code where it lists none."""
    allowed = [t.code for t in tax.close_checklist]
    for i, code in enumerate(ticked):
        if code not in allowed:
            raise Invalid(
                "unknown close check {code} for industry {industry}",
                field=f"four_donts[{i}]",
                rule="must be a check of the tenant's close checklist",
                params={"code": repr(code), "industry": _industry(tax)},
                allowed=allowed,
            )


def check_desk_word(tax: Taxonomy, field: str, code: str) -> None:
    """Raise :class:`Invalid` (422 naming ``field``) when the industry lists its own words
    for ``field`` — ``verification``: its ``closing_conditions``, ``reason``: its
    ``register_reasons`` — and ``code`` is not among them (one industry's way to verify a
    close is no way to close another's complaint). An industry that lists none takes the
    core's codes (the body's own ``Literal``)."""
    terms = tax.closing_conditions if field == "verification" else tax.register_reasons
    allowed = [t.code for t in terms]
    if allowed and code not in allowed:
        if field == "verification":
            what, template = (
                "closing condition",
                N_("unknown closing condition {code} for industry {industry}"),
            )
        else:
            what, template = (
                "registration reason",
                N_("unknown registration reason {code} for industry {industry}"),
            )
        raise Invalid(
            template,
            field=field,
            rule=f"must be a {what} of the tenant's taxonomy",
            params={"code": repr(code), "industry": _industry(tax)},
            allowed=allowed,
        )


def check_complete(
    tax: Taxonomy, category: str | None, severity: str | None, facets: dict[str, str]
) -> None:
    """A valid complaint needs its category, severity and required facets before dispatch."""
    if category is None:
        raise Invalid("a valid complaint needs a category", field="category", rule="required")
    if severity is None:
        raise Invalid("a valid complaint needs a severity", field="severity", rule="required")
    for facet in tax.facets:
        if facet.required and facet.code not in facets:
            raise Invalid(
                "facet {key} is required by the industry",
                field=f"facets.{facet.code}",
                rule="required",
                params={"key": Named(facet.code, facet.label_zh)},
                allowed=[v.code for v in facet.values],
            )


_FACT_RULES = {
    "bool": N_("fact {key}: must be true or false"),
    "int": N_("fact {key}: must be a whole number >= 0"),
    "choice": N_("fact {key}: must be one of {values}"),
    "text": N_("fact {key}: must be text of at most 4000 characters"),
    "datetime": N_("fact {key}: must be an ISO 8601 time with a timezone"),
}
"""A fact's message by its kind; its ``rule`` is the text after ``fact {key}: ``."""


def check_facts(
    tax: Taxonomy, facts: dict[str, Any] | None, prefix: str = "facts"
) -> dict[str, Any]:
    """Validate measurable facts against the plugin's :class:`~core.rules.FactSpec` list.

    Returns the normalised dict (datetimes as ISO strings, so the JSON column round-trips).
    """
    out: dict[str, Any] = {}
    for key, value in (facts or {}).items():
        spec = tax.fact(key)
        field = f"{prefix}.{key}"
        if spec is None:
            raise Invalid(
                "unknown fact {key}",
                field=field,
                rule="must be a fact of the tenant's taxonomy",
                params={"key": repr(key)},
                allowed=[f.code for f in tax.facts],
            )
        if value is None:
            continue
        ok = True
        if spec.kind == "bool":
            ok = isinstance(value, bool)
        elif spec.kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        elif spec.kind == "choice":
            ok = value in spec.values
        elif spec.kind == "text":
            ok = isinstance(value, str) and len(value) <= 4000
        elif spec.kind == "datetime":
            try:
                parsed = dt.datetime.fromisoformat(str(value))
                ok = parsed.tzinfo is not None
                value = parsed.isoformat()
            except ValueError:
                ok = False
        if not ok:
            template = _FACT_RULES[spec.kind]
            values = ", ".join(spec.values)
            rule = fill(template.removeprefix("fact {key}: "), {"values": values})
            raise Invalid(
                template, field=field, rule=rule, params={"key": repr(key), "values": values}
            )
        out[key] = value
    return out
