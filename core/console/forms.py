"""HTML forms to API bodies: flat field names to nested values, then msgspec's own checks.

Field names use dots for nesting and numbers for list items (``complainant.name``,
``grades.0.staff``, ``facets.nature``); empty inputs count as not given, so a missing
required field is reported by the API's body type, naming the field.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from core.errors import Invalid

_AT = re.compile(r"^(?P<rule>.*?)(?: - at `\$\.?(?P<field>[^`]*)`)?$")
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
        if missing:
            field = f"{field}.{missing.group(1)}" if field else missing.group(1)
            raise Invalid(f"{field}: 必填 (required)", field=field, rule="required") from exc
        raise Invalid(f"{field or 'form'}: {rule}", field=field, rule=rule) from exc


def form_dict(multi: Any) -> dict[str, Any]:
    """Litestar's form multidict as a dict: ``name[]`` keys keep every value."""
    out: dict[str, Any] = {}
    for key in multi:
        values = multi.getall(key) if hasattr(multi, "getall") else [multi[key]]
        out[key] = list(values) if key.endswith("[]") else values[-1]
    return out
