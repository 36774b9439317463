"""The ticket page's forms, derived from the operations' body types and the tenant's plugin.

Each form is a list of :class:`Field` built from a msgspec body (``TRANSITIONS[action].body``,
``AppealDecision``, ``PenaltyDecision``, ``ExtensionIn``, ``PauseIn`` …): a ``Literal`` is a
select with its labels, a ``bool`` a checkbox, an aware datetime a ``datetime-local`` picker
read in the tenant's zone, a username a select of people by display name, money a yuan
input with its range. What a grade level or an appeal outcome needs besides (an offence
tier, the passenger's own violation) is found by asking the plugin's ``tousu_check_grade``
hook, so the form asks for it exactly when the plugin will.

A submitted form goes back through :func:`parse`: the console's own fields dropped, empty
inputs left out, every missing required field reported at once (named by its label), times
read in the tenant's zone, then msgspec's decode into the same body type the API decodes.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import msgspec

from core.console import labels
from core.console.forms import (
    LABELS,
    convert,
    label_id,
    missing_required,
    path_of,
    strip_field,
    unflatten,
)
from core.errors import ApiError, Conflict, Invalid
from core.plugins import hooks_for
from core.rules import GradeFacts, TicketFacts

Gettext = typing.Callable[[str], str]

SKIP = {"version", "facts", "facets", "grades", "complainant_told"}
"""Fields a generic form leaves to its own widgets (version hidden; facets and grade lines
drawn from the taxonomy; facts keep their API default)."""

TEXTAREAS = {"reason", "reply", "findings", "explanation", "note", "policy_explained", "plan"}
USERNAMES = {"owner"}
"""Fields that take a username: chosen by display name."""

STALE = "This ticket was changed by someone else — reload"


@dataclass
class Field:
    """One input: ``name`` is the form's input name (dotted for nesting)."""

    name: str
    kind: str
    """text, textarea, select, checks, bool, datetime, money, number or hidden."""
    label: str
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    hint: str = ""
    show_for: list[str] = field(default_factory=list)
    """Grade lines and appeal decisions: the grade levels (or outcomes) that need it; the
    page hides it for the others (shown to all without script)."""


@dataclass
class Context:
    """What the forms of one page read: the reader's language, the tenant's plugin and zone,
    the tenant's departments and people."""

    lang: str
    gettext: Gettext
    plugin: str
    zone: str
    departments: list[Any] = field(default_factory=list)
    staff: list[Any] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=dict)
    """Desk members who may follow a ticket: username → display name."""

    @property
    def tax(self) -> Any:
        return hooks_for(self.plugin).taxonomy() if self.plugin else None

    @property
    def schedule(self) -> Any:
        return hooks_for(self.plugin).penalty_schedule() if self.plugin else None

    def L(self, group: str, code: str) -> str:
        return self.gettext(labels.label(group, code))

    def term(self, t: Any) -> str:
        return str(t.label_zh if self.lang == "zh_CN" else t.label)


# ---------------------------------------------------------------- industry words


def register_reasons(ctx: Context) -> list[tuple[str, str]]:
    """The registration reasons the tenant's plugin names (its taxonomy's
    ``register_reasons``), else the core's list."""
    tax = ctx.tax
    words = getattr(tax, "register_reasons", ()) if tax else ()
    if words:
        return [(t.code, ctx.term(t)) for t in words]
    return [(c, ctx.L("register_reason", c)) for c in labels.REGISTER_REASONS]


def closing_conditions(ctx: Context) -> list[tuple[str, str]]:
    """How a close may be verified in this industry (taxonomy ``closing_conditions``)."""
    tax = ctx.tax
    words = getattr(tax, "closing_conditions", ()) if tax else ()
    if words:
        return [(t.code, ctx.term(t)) for t in words]
    return [(c, ctx.L("verification", c)) for c in labels.VERIFICATIONS]


def channels(ctx: Context) -> list[tuple[str, str]]:
    """The intake channels of this industry (taxonomy ``channels``), else the core's
    general ones (no industry's own hotline)."""
    tax = ctx.tax
    words = getattr(tax, "channels", ()) if tax else ()
    if words:
        return [(t.code, ctx.term(t)) for t in words]
    return [(c, ctx.L("channel", c)) for c in labels.GENERAL_CHANNELS]


# ---------------------------------------------------------------- fields from a body type


def _literal(tp: Any) -> tuple[str, ...] | None:
    tp = _plain(tp)
    if typing.get_origin(tp) is Literal:
        return tuple(str(a) for a in typing.get_args(tp))
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if len(args) == 1 and typing.get_origin(_plain(args[0])) is Literal:
        return tuple(str(a) for a in typing.get_args(_plain(args[0])))
    return None


def _plain(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is(tp: Any, kind: type) -> bool:
    tp = _plain(tp)
    if tp is kind:
        return True
    return any(_plain(a) is kind for a in typing.get_args(tp))


def _list_literal(tp: Any) -> tuple[str, ...] | None:
    tp = _plain(tp)
    if typing.get_origin(tp) is list:
        return _literal(typing.get_args(tp)[0])
    return None


def fields_of(body: Any, ctx: Context, *, skip: set[str] | None = None) -> list[Field]:
    """The generic fields of ``body`` (see the module text), labelled for the reader."""
    out: list[Field] = []
    hints = typing.get_type_hints(body, include_extras=True)
    for f in msgspec.structs.fields(body):
        if f.name in (skip if skip is not None else SKIP):
            continue
        tp = hints.get(f.name, f.type)
        label = ctx.gettext(label_id(f.name))
        default = None if f.default is msgspec.NODEFAULT else f.default
        one = Field(f.name, "text", label, f.required, value=default)
        many = _list_literal(tp)
        lit = _literal(tp)
        if f.name == "four_donts":  # the industry's close checklist, or no field at all
            checks = getattr(ctx.tax, "close_checklist", ()) if ctx.tax else ()
            if not checks:
                continue
            one.kind, one.options = "checks", [(t.code, ctx.term(t)) for t in checks]
        elif many is not None:
            one.kind = "checks"
            group = labels.OPTION_GROUP.get(f.name, f.name)
            one.options = [(o, ctx.L(group, o)) for o in many]
        elif f.name == "verification":
            one.kind, one.options = "select", closing_conditions(ctx)
        elif f.name == "reason" and lit is not None:
            one.kind, one.options = "select", register_reasons(ctx)
        elif lit is not None:
            group = labels.OPTION_GROUP.get(f.name, f.name)
            one.kind, one.options = "select", [(o, ctx.L(group, o)) for o in lit]
            if f.name == "grade":
                one.options = grade_options(ctx)
        elif f.name in USERNAMES:
            one.kind = "select"
            one.options = sorted(ctx.people.items(), key=lambda kv: kv[1])
            one.hint = ctx.gettext("Yourself when left empty") if not f.required else ""
        elif f.name == "department":
            one.kind = "select"
            one.options = [(d.code, d.name) for d in ctx.departments]
        elif f.name in ("category", "severity"):
            one.kind, one.options = "select", taxonomy_options(ctx, f.name)
        elif f.name == "offence":
            one.kind, one.options = "select", offence_options(ctx)
        elif _is(tp, dt.datetime):
            one.kind = "datetime"
            one.hint = ctx.gettext("Local time of the tenant")
        elif _is(tp, bool):
            one.kind = "bool"
        elif _is(tp, Decimal):
            one.kind = "money"
        elif _is(tp, int):
            one.kind = "number"
        elif f.name in TEXTAREAS:
            one.kind = "textarea"
        out.append(one)
    return out


def taxonomy_options(ctx: Context, what: str) -> list[tuple[str, str]]:
    tax = ctx.tax
    if tax is None:
        return []
    terms = tax.categories if what == "category" else tax.severities
    return [(t.code, ctx.term(t)) for t in terms]


def grade_options(ctx: Context) -> list[tuple[str, str]]:
    tax = ctx.tax
    if tax is not None and tax.grades:
        return [(g.code, ctx.term(g)) for g in tax.grades]
    return [(c, ctx.L("grade", c)) for c in labels.GRADE_LEVELS]


def offence_options(ctx: Context) -> list[tuple[str, str]]:
    schedule = ctx.schedule
    if schedule is None:
        return []
    return [(r.code, ctx.term(r)) for r in schedule.rules if r.pickable]


def capacity_options(ctx: Context) -> list[tuple[str, str]]:
    tax = ctx.tax
    extra = [(c.code, ctx.term(c)) for c in tax.capacities] if tax is not None else []
    return [("direct", ctx.L("capacity", "direct")), *extra]


# ---------------------------------------------------------------- what the plugin needs


def grade_needs(plugin: str, severity: str | None = None) -> dict[str, list[str]]:
    """Per extra field of a grade line (``offence``, ``complainant_violation``): the grade
    levels for which the plugin's ``tousu_check_grade`` refuses a line without it. Found by
    asking the hook with the field left empty, once per level — the plugin's own rules, not
    a copy of them."""
    hooks = hooks_for(plugin)
    tax = hooks.taxonomy()
    levels = [g.code for g in tax.grades] if tax is not None and tax.grades else []
    levels = levels or list(labels.GRADE_LEVELS)
    sev = severity or (tax.severities[0].code if tax is not None and tax.severities else None)
    facts = TicketFacts(
        number="-",
        state="in_progress",
        channel="phone",
        category=None,
        severity=sev,
        facets={},
        facts={},
        created_at=dt.datetime.now(dt.UTC),
    )
    out: dict[str, list[str]] = {"offence": [], "complainant_violation": []}
    for level in levels:
        line = GradeFacts(staff="-", department=None, grade=level, findings="-")  # type: ignore[arg-type]
        try:
            problems = hooks.check_grade(facts, line) or []
        except Exception:  # a plugin's bug must not take the page down
            problems = []
        for p in problems:
            if p.field in out and level not in out[p.field]:
                out[p.field].append(level)
    return out


def grade_line(ctx: Context, i: int, needs: dict[str, list[str]]) -> list[Field]:
    """One staff member's line of a grading: who, which level, and what that level needs."""
    g = ctx.gettext
    line = [
        Field(
            f"grades.{i}.staff",
            "select",
            g(LABELS["staff"]),
            True,
            [(s.code, s.name + (f" · {s.position}" if s.position else "")) for s in ctx.staff],
        ),
        Field(f"grades.{i}.grade", "select", g(LABELS["grade"]), True, grade_options(ctx)),
    ]
    caps = capacity_options(ctx)
    if len(caps) > 1:
        line.append(
            Field(f"grades.{i}.capacity", "select", g(LABELS["capacity"]), False, caps, "direct")
        )
    if needs.get("offence"):
        line.append(
            Field(
                f"grades.{i}.offence",
                "select",
                g(LABELS["offence"]),
                True,
                offence_options(ctx),
                show_for=needs["offence"],
                hint=_levels_hint(ctx, needs["offence"]),
            )
        )
    if needs.get("complainant_violation"):
        line.append(
            Field(
                f"grades.{i}.complainant_violation",
                "textarea",
                g(LABELS["complainant_violation"]),
                True,
                show_for=needs["complainant_violation"],
                hint=_levels_hint(ctx, needs["complainant_violation"]),
            )
        )
    line.append(Field(f"grades.{i}.findings", "textarea", g("Findings for this person"), True))
    return line


def _levels_hint(ctx: Context, levels: list[str]) -> str:
    names = dict(grade_options(ctx))
    return ctx.gettext("Needed for: %s") % "、".join(names.get(x, x) for x in levels)


def appeal_decision_fields(ctx: Context, severity: str | None) -> list[Field]:
    """Upheld or overturned; when overturned, the new grade and what that grade needs."""
    from core.tickets.schemas import AppealDecision

    needs = grade_needs(ctx.plugin, severity)
    out = fields_of(AppealDecision, ctx, skip={"offence", "complainant_violation", "findings"})
    for f in out:
        if f.name == "grade":
            f.show_for = ["overturned"]
            f.hint = ctx.gettext("When overturned")
    if needs.get("offence"):
        out.append(
            Field(
                "offence",
                "select",
                ctx.gettext(LABELS["offence"]),
                False,
                offence_options(ctx),
                show_for=["overturned"],
                hint=_levels_hint(ctx, needs["offence"]),
            )
        )
    if needs.get("complainant_violation"):
        out.append(
            Field(
                "complainant_violation",
                "textarea",
                ctx.gettext(LABELS["complainant_violation"]),
                False,
                show_for=["overturned"],
                hint=_levels_hint(ctx, needs["complainant_violation"]),
            )
        )
    out.append(
        Field(
            "findings",
            "textarea",
            ctx.gettext(LABELS["findings"]),
            False,
            show_for=["overturned"],
        )
    )
    return out


def told_fields(ctx: Context, everyone: dict[str, str]) -> list[Field]:
    """Who told the complainant, when and how — asked on an extension request where the
    industry tells the complainant first (``Duties.extension_notice_first``,
    :mod:`core.deadlines.notice`)."""
    from core.deadlines.notice import HOW

    g = ctx.gettext
    return [
        Field(
            "complainant_told.by",
            "select",
            g("Told by"),
            True,
            sorted(everyone.items(), key=lambda kv: kv[1]),
        ),
        Field(
            "complainant_told.at",
            "datetime",
            g("Told at"),
            True,
            hint=g("Local time of the tenant"),
        ),
        Field(
            "complainant_told.how",
            "select",
            g("Told how"),
            True,
            [(h, ctx.L("told_how", h)) for h in HOW],
        ),
    ]


def penalty_range(ctx: Context, rule_code: str) -> str:
    """The rule's range in yuan for the reader (``30.00–100.00 元``, ``≥ 800.00 元``), or ""."""
    schedule = ctx.schedule
    rule = schedule.rule(rule_code) if schedule is not None else None
    if rule is None:
        return ""

    def y(fen: int) -> str:
        return f"{Decimal(fen) / 100:.2f}"

    lo, hi = rule.min_fen, rule.max_fen
    if lo is not None and hi is not None:
        return ctx.gettext("Range %s–%s yuan") % (y(lo), y(hi))
    if lo is not None:
        return ctx.gettext("At least %s yuan") % y(lo)
    if hi is not None:
        return ctx.gettext("At most %s yuan") % y(hi)
    return ""


# ---------------------------------------------------------------- reading a submitted form


def local_times(data: dict[str, Any], body: Any, zone: str) -> dict[str, Any]:
    """``datetime-local`` values of ``body``'s datetime fields (nested ones included), read
    in the tenant's zone."""
    from core.console.forms import _struct_of

    hints = typing.get_type_hints(body, include_extras=True)
    for name, tp in hints.items():
        value = data.get(name)
        inner = _struct_of(_plain(tp))
        if inner is not None and isinstance(value, dict):
            local_times(value, inner, zone)
            continue
        if _is(tp, dt.datetime) and isinstance(value, str) and "T" in value:
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                raise Invalid("pick a date and a time", field=name, rule="datetime") from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=ZoneInfo(zone))
            data[name] = parsed.isoformat()
    return data


class FormErrors(Exception):
    """Several fields at once: ``errors`` maps input names to messages."""

    def __init__(self, errors: dict[str, str], status: int = 422) -> None:
        super().__init__(errors)
        self.errors = errors
        self.status = status


def parse(
    form: dict[str, Any],
    body: Any,
    zone: str,
    gettext: Gettext,
    marked: list[Field] | None = None,
) -> Any:
    """The submitted ``form`` as ``body`` (see the module text). Raises :class:`FormErrors`
    naming every empty required field by its label — the body's required fields and the
    form's own fields ``marked`` required (``*``), even where the API has a default for
    them: what the reader was told to fill is never filled in for them — or the API's 422
    for a bad value."""
    data = unflatten(form)
    if isinstance(data.get("grades"), list):  # rows left blank are not lines
        data["grades"] = [
            g for g in data["grades"] if isinstance(g, dict) and (g.get("grade") or g.get("staff"))
        ]
    data = local_times(data, body, zone)
    missing = missing_required(data, body)
    for f in marked or []:
        name = f.name.removesuffix("[]")
        if f.required and not f.show_for and name not in missing and _empty(data, name):
            missing.append(name)
    if missing:
        raise FormErrors({m: required_text(m, gettext) for m in missing if m != "version"})
    return convert(data, body)


def _empty(data: dict[str, Any], path: str) -> bool:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return True
        node = node[part]
    return node in (None, "", [], {})


def required_text(path: str, gettext: Gettext) -> str:
    return gettext("Please fill in %s") % gettext(label_id(path))


def errors_of(exc: ApiError | FormErrors, lang: str, gettext: Gettext) -> dict[str, str]:
    """An error as {input name: message}; ``_form`` when it names no field. The message is
    in the reader's language without the field's code (its label stands beside it)."""
    if isinstance(exc, FormErrors):
        return dict(exc.errors)
    if isinstance(exc, Conflict) and (exc.field == "version" or exc.rule == "lifecycle"):
        return {"_form": gettext(STALE)}
    text = _API_HINT.sub("", strip_field(exc.localised(lang))).strip()
    name = path_of(exc.field)
    if exc.rule == "required" and name:
        text = required_text(name, gettext)
    typed = type_text(exc.rule or "", gettext)
    if typed:
        text = typed
    return {name or "_form": text}


_API_HINT = re.compile(r"\s*[(（][^()（）]*(?:/api/|POST |GET )[^()（）]*[)）]")
"""A hint for API clients ("（POST /api/tickets/{id}/attachments…）"): the console has a form."""

_TYPE_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Invalid decimal"), "Enter an amount in yuan, e.g. 200 or 200.50"),
    (re.compile(r"^Expected `int`"), "Enter a whole number"),
    (re.compile(r"^Expected `(?:int|number)` >= (\d+)"), "Enter a number of at least %s"),
    (re.compile(r"^Expected `(?:int|number)` <= (\d+)"), "Enter a number of at most %s"),
    (re.compile(r"^(?:Invalid RFC 3339|Expected `datetime`)"), "Pick a date and a time"),
    (re.compile(r"^Expected `str` of length <= (\d+)"), "At most %s characters"),
    (re.compile(r"^Expected `str` of length >= 1"), "Required"),
    (re.compile(r"^Invalid enum value|^Expected one of"), "Choose one of the options"),
    (re.compile(r"^Expected `str` matching regex"), "Use letters, digits, - and _ only"),
]
"""msgspec's decode rules (English, technical) as what the reader should do."""


def type_text(rule: str, gettext: Gettext) -> str:
    for pattern, msgid in sorted(_TYPE_RULES, key=lambda x: -len(x[0].pattern)):
        m = pattern.search(rule)
        if m:
            text = gettext(msgid)
            return text % m.group(1) if m.groups() and "%s" in text else text
    return ""


def place(errors: dict[str, str], known: set[str], gettext: Gettext) -> dict[str, str]:
    """Errors for inputs the form does not have go to the top, led by the field's label."""
    out: dict[str, str] = {}
    for name, text in errors.items():
        if name == "_form" or name in known:
            out[name] = text
            continue
        parent = next((k for k in sorted(known) if k.startswith(name + ".")), None)
        if parent is not None:  # e.g. "complainant": mark its first input
            out[parent] = text
            continue
        inner = next((k for k in known if name.endswith("." + k)), None)
        if inner is not None:  # e.g. "decision.offence" on the appeal form's "offence"
            out[inner] = text
            continue
        top = led(name, text, gettext)
        out["_form"] = f"{out['_form']}；{top}" if "_form" in out else top
    return out


def led(name: str, text: str, gettext: Gettext) -> str:
    """A refusal shown away from its field, led by the field's label (``金额（元）：…``) —
    unless the text already names it (``原因为必填项``) or the field has no label (a code such
    as ``status`` is never shown)."""
    label = gettext(label_id(name))
    if label == name or label in text:
        return text
    return f"{label}：{text}"


MSGIDS = [
    "Yourself when left empty",
    "Local time of the tenant",
    "Needed for: %s",
    "When overturned",
    "Range %s–%s yuan",
    "At least %s yuan",
    "At most %s yuan",
    "Please fill in %s",
    "Findings for this person",
    STALE,
    "Mobile, landline with area code, or e-mail",
    "Appeal overturned: %s",
    "Choose at least one file",
    "System",
    "Department",
    "Verification",
    "Decision",
    "Step",
    "File",
    "Kind",
    "Required",
    "Told by",
    "Told at",
    "Told how",
    *(msgid for _, msgid in _TYPE_RULES),
]
"""Catalogue entries the forms use outside the templates (checked by the catalogue test)."""
