"""Error messages in the reader's language: Chinese (zh-CN) by default, English on request.

An :class:`core.errors.ApiError` keeps its machine-readable ``code``, ``field`` and
``rule`` in every language; only ``message`` is translated, when the response is written
(:func:`localise`). Services raise their message in one language and this module finds the
other:

- an English message is matched against the catalogue ``core/locale/zh_CN/LC_MESSAGES/
  errors.po`` — gettext entries whose msgid is the English *template* (``ticket {id} not
  found``) and whose msgstr is the Chinese one (``找不到工单 {id}``); placeholders carry the
  values (ids, codes, field names) over unchanged. A ``"<field>: <rule>"`` message (decode
  errors) is translated rule by rule and keeps its field;
- a bilingual message ``中文 (english)`` gives each language its half;
- a Chinese-only message is the Chinese; its English is a generic sentence for the error's
  code, naming the field and the rule;
- an English message the catalogue lacks keeps its text after a Chinese lead for its code
  (``请求内容不正确：…``) — never an English-only answer to a Chinese reader.
  ``python -m core.error_text`` lists the raised messages the catalogue lacks.

The language: ``Accept-Language`` (the first of ``zh*`` / ``en*`` by quality; anything
else or nothing → zh-CN); in the console, its ``?lang=`` / language cookie first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).parent / "locale" / "zh_CN" / "LC_MESSAGES" / "errors.po"
ZH, EN = "zh_CN", "en"
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_BILINGUAL = re.compile(
    r"^(?P<zh>.*[\u4e00-\u9fff].*?)\s*[(（](?P<en>[A-Za-z][^()（）]* [^()（）]*)[)）]\s*$", re.S
)
_CITATION = re.compile(r"\[[^\]]*\]|《[^》]*》|“[^”]*”")
"""A seed citation (``[000 §篇8 4(3)1]``, 《考核办法》) quoted inside an English message."""
_FIELD_PREFIX = re.compile(r"^(?P<field>[A-Za-z_$][\w.\[\]$-]*): (?P<rest>.+)$", re.S)

LEAD_ZH = {
    "invalid": "请求内容不正确",
    "bad_request": "请求无法处理",
    "not_found": "找不到",
    "forbidden": "无权执行此操作",
    "conflict": "与当前状态冲突",
    "unauthorized": "需要登录或提供访问令牌",
    "unavailable": "服务暂时不可用，请稍后重试",
    "http_error": "请求无法处理",
    "internal": "内部错误，已记录",
    "too_many_attempts": "尝试次数过多，请稍后再试",
    "too_large": "文件过大",
}
"""A Chinese lead per error code, for an English message the catalogue lacks."""

GENERIC_EN = {
    "invalid": "invalid input",
    "bad_request": "the request could not be processed",
    "not_found": "not found",
    "forbidden": "not allowed",
    "conflict": "conflicts with the current state",
    "unauthorized": "authentication required",
    "unavailable": "temporarily unavailable; retry shortly",
    "http_error": "the request could not be processed",
    "internal": "internal error; it has been logged",
    "too_many_attempts": "too many attempts; try again later",
    "too_large": "the file is too large",
}
"""English for a Chinese-only message: the code's sentence, then field and rule."""


@dataclass(frozen=True)
class Entry:
    english: str
    chinese: str
    pattern: re.Pattern[str]
    literal: int
    """Characters of fixed text: the more, the more specific (tried first)."""


def _compile(template: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>.+?)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$", re.S)


@cache
def entries() -> tuple[Entry, ...]:
    """The catalogue's templates, most specific first."""
    with CATALOGUE.open("rb") as fh:
        catalog = read_po(fh, locale=ZH, domain="errors")
    found = []
    for msg in catalog:
        if not msg.id or not msg.string or not isinstance(msg.id, str):
            continue
        literal = len(_PLACEHOLDER.sub("", msg.id))
        found.append(Entry(msg.id, str(msg.string), _compile(msg.id), literal))
    return tuple(sorted(found, key=lambda e: -e.literal))


def _fill(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


CODE_LABELS: dict[str, dict[str, str]] = {}
"""Placeholder name → code → Chinese label (``action`` → ``close`` → ``销项``), filled by the
areas that own the codes (:mod:`core.tickets.labels`, :mod:`core.attachments.kinds`) with
:func:`label_codes` — the kernel names no area."""


def label_codes(placeholder: str, labels: dict[str, str]) -> None:
    """Show a code in a ``{placeholder}`` of a Chinese message as its label."""
    CODE_LABELS.setdefault(placeholder, {}).update(labels)


def _label(name: str, value: str) -> str:
    """A code (bare or quoted) registered for placeholder ``name`` as its quoted Chinese
    label; any other value unchanged."""
    found = CODE_LABELS.get(name, {}).get(value.strip("'\""))
    return f"“{found}”" if found is not None else value


def chinese_of(english: str) -> str | None:
    """The catalogue's Chinese for an English message, or None. A placeholder holding a
    state, action or attachment-kind code takes the code's Chinese label."""
    text = english.strip()
    for e in entries():
        m = e.pattern.match(text)
        if m:
            values = {k: _label(k, _nested(v)) for k, v in m.groupdict().items()}
            return _fill(e.chinese, values)
    m = _FIELD_PREFIX.match(text)  # "<field>: <rule>"
    if m:
        rest = chinese_of(m.group("rest"))
        if rest is not None:
            return f"{m.group('field')}：{rest}"
    return None


def _nested(value: str) -> str:
    """A placeholder's value that is itself a message (``fact x: <rule>``) is translated."""
    if " " in value and not CJK.search(value):
        inner = next((e for e in entries() if e.pattern.match(value)), None)
        if inner is not None:
            return chinese_of(value) or value
    return value


def _generic_english(
    code: str, field: str | None, rule: str | None, roles: list[str] | None = None
) -> str:
    if roles:
        return f"this needs one of the roles: {', '.join(roles)}"
    text = GENERIC_EN.get(code, "the request could not be processed")
    details = [x for x in (field, rule if rule and not CJK.search(rule) else None) if x]
    return f"{text} ({'; '.join(details)})" if details else text


def localise(
    message: str,
    lang: str,
    code: str,
    field: str | None = None,
    rule: str | None = None,
    roles: list[str] | None = None,
) -> str:
    """``message`` in ``lang`` (``zh_CN`` or ``en``); the error's code, field and rule stay.
    ``roles``: the error's ``allowed_roles``, named in English for a Chinese-only 403."""
    bilingual = _BILINGUAL.match(message)
    if bilingual:
        return bilingual.group("zh").strip() if lang == ZH else bilingual.group("en").strip()
    if CJK.search(message):
        if lang != ZH:
            return _generic_english(code, field, rule, roles)
        # An English rule citing a Chinese seed (a plugin's "… [000 §篇7 六]") is English
        # all the same: the catalogue's Chinese when it has one.
        return chinese_of(message) or message
    if lang != ZH:
        return message
    found = chinese_of(message)
    if found is not None:
        return found
    return f"{LEAD_ZH.get(code, '请求无法处理')}：{message}"


_EXTRA_CATALOGUES: list[Path] = []


def add_catalogue(path: Path) -> None:
    """Add a plugin's ``errors.po`` (English template → Chinese) to the lookup; the core's
    own catalogue wins a msgid both hold."""
    if path not in _EXTRA_CATALOGUES:
        _EXTRA_CATALOGUES.append(path)
        translations.cache_clear()


@cache
def translations() -> dict[str, str]:
    """Template (msgid) → Chinese (msgstr), from the core's catalogue and the plugins'."""
    out: dict[str, str] = {}
    for path in (*reversed(_EXTRA_CATALOGUES), CATALOGUE):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=ZH, domain="errors")
        for msg in catalog:
            if msg.id and msg.string and isinstance(msg.id, str):
                out[msg.id] = str(msg.string)
    return out


def fill(template: str, params: dict[str, object]) -> str:
    """``template`` with each ``{name}`` replaced by ``params[name]`` (an unknown name stays)."""
    return _PLACEHOLDER.sub(
        lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), template
    )


def _inner(value: str) -> str:
    """A parameter that is itself a message (a plugin's rule, a library's decode error) in
    Chinese when the catalogue has it."""
    if " " not in value or CJK.search(_CITATION.sub("", value)):
        return value  # a code, a number, or already Chinese (a seed citation aside)
    return translations().get(value) or chinese_of(value) or value


def render(
    template: str,
    params: dict[str, object],
    lang: str,
    code: str,
    field: str | None = None,
    rule: str | None = None,
    roles: list[str] | None = None,
) -> str:
    """An error's message in ``lang``: the template's catalogue entry filled with ``params``
    (a code registered for its placeholder shown as its Chinese label), or the English
    template filled. A template the catalogue lacks falls back to :func:`localise`."""
    if lang == ZH:
        chinese = translations().get(template)
        if chinese is not None:
            return fill(chinese, {k: _label(k, _inner(str(v))) for k, v in params.items()})
    elif not CJK.search(template):
        return fill(template, params)
    return localise(fill(template, params), lang, code, field, rule, roles)


def pick(accept_language: str | None) -> str:
    """``en`` when the client prefers English to Chinese in ``Accept-Language``; else zh-CN."""
    if not accept_language:
        return ZH
    best: tuple[float, str] | None = None
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        lang = EN if tag.startswith("en") else ZH if tag.startswith("zh") else None
        if lang is not None and q > 0 and (best is None or q > best[0]):
            best = (q - i * 1e-6, lang)  # equal weights: the first listed wins
    return best[1] if best else ZH


def uncovered(root: Path | None = None) -> list[str]:
    """Literal English messages raised in ``core/`` (``Invalid("...")``, ``NotFound(f"...")``,
    ...) that the catalogue cannot translate, as ``path:line: message`` — f-strings are
    tried with ``X`` in every placeholder."""
    import ast

    names = {"Invalid", "NotFound", "Forbidden", "Conflict", "Unauthorized", "ApiError"}
    names |= {"RenderBusy", "NoCJKFont", "TooLarge"}
    base = root or Path(__file__).parent
    out = []
    for path in sorted(base.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
            if name not in names:
                continue
            text = _sample(node.args[0])
            if text is None or CJK.search(text) or re.fullmatch(r"[X\W]*", text):
                continue  # "X: X" is "<field>: <rule>", translated rule by rule
            if chinese_of(text) is not None:
                continue
            out.append(f"{path.relative_to(base.parent)}:{node.lineno}: {text}")
    return out


def _sample(node: object) -> str | None:
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else "X" for v in node.values]
        return "".join(str(p) for p in parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _sample(node.left), _sample(node.right)
        return a + b if a is not None and b is not None else None
    return None  # built elsewhere (a variable): checked where it is built


if __name__ == "__main__":  # pragma: no cover - a maintainer's helper
    print("\n".join(uncovered()))
