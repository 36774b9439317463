"""HTML forms to API bodies: flat field names to nested values, then msgspec's own checks.

Field names use dots for nesting and numbers for list items (``complainant.name``,
``grades.0.staff``, ``facets.nature``); empty inputs count as not given, so a missing
required field is reported by the API's body type, naming the field.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from core.errors import N_, Invalid
from core.tickets import labels as words

_AT = re.compile(r"^(?P<rule>.*?)(?: - at `\$\.?(?P<field>[^`]*)`)?$")
_INNER = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*): (?P<rule>.+)$", re.S)
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def unflatten(form: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1, "l.0.x": 2}`` → ``{"a": {"b": 1}, "l": [{"x": 2}]}`` (empty values dropped;
    ``name[]`` collects every value of a multi-select into a list)."""
    root: dict[str, Any] = {}
    for key, value in form.items():
        if key.startswith("_"):  # _csrf_token, _idem: the console's own fields
            continue
        if isinstance(value, list):
            value = [v for v in value if v != ""]
        elif isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        parts = key.removesuffix("[]").split(".")
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


BAD_VALUE = N_("{field}: value refused: {rule}")
"""A value msgspec refused; ``rule`` is msgspec's own English (``Expected `int`, got `str```)."""


class BadValue(Invalid):
    """A form value the body type refused. In Chinese, msgspec's rule is shown through the
    error catalogue's entry for it (``Expected `{kind}`, got `{got}```) when it has one."""

    def localised(self, lang: str) -> str:
        from core.error_text import library_chinese

        if lang != "zh_CN":
            return super().localised(lang)
        rule = str(self.params.get("rule", ""))
        shown = {**self.params, "rule": library_chinese(rule) or rule}
        saved, self.params = self.params, shown
        try:
            return super().localised(lang)
        finally:
            self.params = saved


def convert(data: dict[str, Any], kind: type[Any]) -> Any:
    """Decode ``data`` into the API body type ``kind``; a bad value is a 422 naming the field."""
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        m = _AT.match(text)
        rule = m.group("rule") if m else text
        field = m.group("field") if m else None
        missing = _MISSING.search(rule or "")
        inner = _INNER.match(rule or "")
        if inner and not missing:  # "<name>: <rule>" from a Struct's __post_init__
            field = f"{field}.{inner.group(1)}" if field else inner.group(1)
            rule = inner.group(2)
        if missing:
            field = f"{field}.{missing.group(1)}" if field else missing.group(1)
            raise Invalid(
                "{field}: required", field=field, rule="required", params={"field": field}
            ) from exc
        raise BadValue(
            BAD_VALUE, field=field, rule=rule, params={"field": field or "form", "rule": rule}
        ) from exc


def form_dict(multi: Any) -> dict[str, Any]:
    """Litestar's form multidict as a dict: ``name[]`` keys keep every value."""
    out: dict[str, Any] = {}
    for key in multi:
        values = multi.getall(key) if hasattr(multi, "getall") else [multi[key]]
        out[key] = list(values) if key.endswith("[]") else values[-1]
    return out


# ---------------------------------------------------------------- forms derived from bodies
# A console form is built from the operation's body type (msgspec Struct): each field's
# widget follows its type (Literal → select, bool → checkbox, aware datetime → a
# ``datetime-local`` picker in the tenant's zone, Decimal yuan → money with its range) and
# what the page knows (the taxonomy, the people by display name). Nothing is re-typed.

LABELS: dict[str, str] = {code: en for code, (_, en) in words.FIELDS.items()}
"""Field name (or dotted path) → English message id of its label (translated by the
catalogue; the words' one home is :data:`core.tickets.labels.FIELDS`). A list item's path
(``grades.0.staff``) takes its last name's label."""

_INDEX = re.compile(r"\[(\d+)\]")


def path_of(field: str | None) -> str:
    """An API error's field as the form's input name: ``grades[0].staff`` → ``grades.0.staff``,
    ``$.x`` / ``data.x`` → ``x``."""
    if not field:
        return ""
    out = _INDEX.sub(r".\1", field).lstrip("$.")
    return out.removeprefix("data.").removeprefix("body.")


def label_id(path: str) -> str:
    """The label message id of a field path (the path itself when none is known)."""
    if path in LABELS:
        return LABELS[path]
    parts = [p for p in path.split(".") if not p.isdigit()]
    if len(parts) >= 2 and ".".join(parts[-2:]) in LABELS:
        return LABELS[".".join(parts[-2:])]
    return LABELS.get(parts[-1] if parts else path, path)


_REQUIRED_RULES = ("required", "min_length", "Expected `str` of length >= 1")
_PREFIX = re.compile(r"^\s*(?P<field>[A-Za-z_$][\w.\[\]$-]*)\s*[:：]\s*(?P<rest>.+)$", re.S)


def strip_field(text: str) -> str:
    """A message without the ``<field code>:`` prefix decode errors carry (the label is shown
    beside the field instead)."""
    m = _PREFIX.match(text)
    while m and not CJK_ONLY.match(m.group("field")):
        text = m.group("rest")
        m = _PREFIX.match(text)
    return text


CJK_ONLY = re.compile(r"^[\u3400-\u9fff]+$")


def missing_required(data: dict[str, Any], kind: Any, prefix: str = "") -> list[str]:
    """Paths of the required fields of ``kind`` absent from ``data``, nested Structs
    included — every one at once, so the page marks each empty field, not only the first."""
    out: list[str] = []
    for f in msgspec.structs.fields(kind):
        path = f"{prefix}{f.name}"
        value = data.get(f.name) if isinstance(data, dict) else None
        inner = _struct_of(f.type)
        if inner is not None and (f.required or value is not None):
            out += missing_required(value if isinstance(value, dict) else {}, inner, f"{path}.")
        elif f.required and value in (None, "", [], {}):
            out.append(path)
    return out


def _struct_of(tp: Any) -> Any:
    import typing

    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return tp
    if typing.get_origin(tp) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        for arg in typing.get_args(tp):
            if isinstance(arg, type) and issubclass(arg, msgspec.Struct):
                return arg
    return None
