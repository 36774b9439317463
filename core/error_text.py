"""Error messages in the reader's language: Chinese (zh-CN) by default, English on request.

An :class:`core.errors.ApiError` carries an English *template* and its parameters; its
``code``, ``field`` and ``rule`` stay the same machine words in every language. Only
``message`` is written in the reader's language, when the response is written
(:func:`render`):

- Chinese: the template's entry in ``core/locale/zh_CN/LC_MESSAGES/errors.po`` (gettext: the
  English template is the msgid, the Chinese the msgstr; a plugin may add its own catalogue
  with :func:`add_catalogue`), filled with the same parameters — a code in a placeholder
  registered with :func:`label_codes` shows as its Chinese label, and a parameter that is
  itself a message (a plugin's rule, a library's decode error) is translated too.
  ``tests/test_error_catalogue.py`` extracts every template with Babel and fails on one
  without an entry;
- English: the template filled.

What a *library* says (msgspec's decode errors, Litestar's HTTP reasons) is not ours to
template: ``library.po`` holds its sentences as patterns (``Expected `{kind}`, got
`{got}```), matched by :func:`library_chinese`. A message found nowhere keeps its text after
a Chinese lead for its code (``请求内容不正确：…``) — never an English-only answer to a
Chinese reader; a Chinese-only message (a third-party plugin's) is given to English
readers as the code's sentence.

The language: ``Accept-Language`` (the first of ``zh*`` / ``en*`` by quality; anything
else or nothing → zh-CN); in the console, its ``?lang=`` / language cookie first.

A time in a message is a parameter of its own — a ``datetime`` (aware, or naive UTC as
SQLite hands it back) or a ``date`` — never text formatted at the raise: :func:`fill` writes
it in the reader's tenant's zone to the minute (``2026-12-18 03:40``, no seconds, no zone
name), as every console page shows times. The zone: :data:`READER_ZONE`, set where the
request's principal is resolved (:mod:`core.people.auth`); outside a request (a worker, a
test) :data:`core.settings.DEFAULT_TIMEZONE`.

A field's code in a Chinese message is its label: a ``{field}`` placeholder (and the codes
registered for a placeholder with :func:`label_codes`) shows the label of the field's last
name (``grades[0].staff`` → 员工, ``query.state`` → 状态); the labels have one home,
:data:`core.tickets.labels.FIELDS`.
"""

from __future__ import annotations

import datetime as dt
import re
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

LOCALE = Path(__file__).parent / "locale" / "zh_CN" / "LC_MESSAGES"
CATALOGUE = LOCALE / "errors.po"
LIBRARY = LOCALE / "library.po"
ZH, EN = "zh_CN", "en"
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_CITATION = re.compile(r"\[[^\]]*\]|《[^》]*》|“[^”]*”")
"""A seed citation (``[000 §篇8 4(3)1]``, 《考核办法》) quoted inside an English message."""

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


def _read(path: Path) -> list[tuple[str, str]]:
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=ZH, domain=path.stem)
    return [(m.id, str(m.string)) for m in catalog if m.id and m.string and isinstance(m.id, str)]


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
        out.update(_read(path))
    return out


READER_ZONE: ContextVar[str | None] = ContextVar("tousu_reader_zone", default=None)
"""The IANA zone of the tenant whose member reads the message (set per request where the
principal is resolved: :mod:`core.people.auth`); None: :data:`core.settings.DEFAULT_TIMEZONE`."""


def moment(value: dt.datetime | dt.date, zone: str | None = None) -> str:
    """A time as a message shows it: a ``datetime`` (aware; naive is UTC) in ``zone`` (else
    :data:`READER_ZONE`, else the default zone) to the minute, ``2026-12-18 03:40``; a
    ``date`` as ``2026-12-18``."""
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    from core.settings import DEFAULT_TIMEZONE

    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    local = aware.astimezone(ZoneInfo(zone or READER_ZONE.get() or DEFAULT_TIMEZONE))
    return f"{local:%Y-%m-%d %H:%M}"


def _text(value: object) -> str:
    return moment(value) if isinstance(value, dt.date) else str(value)


def fill(template: str, params: dict[str, object]) -> str:
    """``template`` with each ``{name}`` replaced by ``params[name]`` (an unknown name stays;
    a time as :func:`moment` writes it)."""
    return _PLACEHOLDER.sub(
        lambda m: _text(params[m.group(1)]) if m.group(1) in params else m.group(0), template
    )


CODE_LABELS: dict[str, dict[str, str]] = {}
"""Placeholder name → code → Chinese label (``action`` → ``close`` → ``销项``), filled by the
areas that own the codes (:mod:`core.tickets.labels`, :mod:`core.attachments.kinds`) with
:func:`label_codes` — the kernel names no area."""


def label_codes(placeholder: str, labels: dict[str, str]) -> None:
    """Show a code in a ``{placeholder}`` of a Chinese message as its label."""
    CODE_LABELS.setdefault(placeholder, {}).update(labels)


FIELD = "field"
"""The placeholder that holds a field's code (``{field} is in the past``): its Chinese is the
field's label, registered with ``label_codes("field", ...)``
(:data:`core.tickets.labels.FIELDS`)."""
_SOURCES = frozenset({"query", "path", "body", "data", "header", "cookie"})
_PATH_PART = re.compile(r"[.\[\]$]+")


def field_label(path: str) -> str | None:
    """The Chinese label of a field path (``grades[0].staff`` → the label of ``staff``,
    ``complainant.name`` → its own when registered, ``query.state`` → ``state``'s), or None."""
    labels = CODE_LABELS.get(FIELD, {})
    parts = [p for p in _PATH_PART.split(path) if p and not p.isdigit()]
    while parts and parts[0] in _SOURCES and len(parts) > 1:
        parts = parts[1:]
    for i in range(len(parts)):
        found = labels.get(".".join(parts[i:]))
        if found is not None:
            return found
    return None


def _label(name: str, value: str) -> str:
    """A code (bare or quoted) registered for placeholder ``name`` as its quoted Chinese
    label; any other value unchanged."""
    found = CODE_LABELS.get(name, {}).get(value.strip("'\""))
    return f"“{found}”" if found is not None else value


@dataclass(frozen=True)
class _Pattern:
    chinese: str
    regex: re.Pattern[str]
    literal: int
    """Characters of fixed text: the more, the more specific (tried first)."""


@cache
def _library() -> tuple[_Pattern, ...]:
    found = []
    for english, chinese in _read(LIBRARY):
        parts, pos = [], 0
        for m in _PLACEHOLDER.finditer(english):
            parts.append(re.escape(english[pos : m.start()]))
            parts.append(f"(?P<{m.group(1)}>.+?)")
            pos = m.end()
        parts.append(re.escape(english[pos:]))
        regex = re.compile("^" + "".join(parts) + "$", re.S)
        found.append(_Pattern(chinese, regex, len(_PLACEHOLDER.sub("", english))))
    return tuple(sorted(found, key=lambda p: -p.literal))


KINDS = {
    "str": "文本",
    "int": "整数",
    "float": "数字",
    "number": "数字",
    "decimal": "数字",
    "bool": "布尔值（true 或 false）",
    "object": "对象",
    "array": "数组",
    "null": "空值（null）",
    "datetime": "日期时间",
    "date": "日期",
    "time": "时间",
    "uuid": "编号",
    "bytes": "字节串",
}
"""msgspec's type names (``Expected `int`, got `str```) in Chinese words."""


def _kind(value: str) -> str:
    """A msgspec type (``str | null``) in Chinese (``文本或空值（null）``); an unknown one as it
    is."""
    parts = [KINDS.get(p.strip()) for p in value.split("|")]
    return "或".join(p for p in parts if p) if all(parts) else value


def library_chinese(text: str) -> str | None:
    """A library's sentence (``Expected `int`, got `str```) in Chinese, or None; a type name
    in it as its Chinese word (:data:`KINDS`)."""
    text = text.strip()
    for p in _library():
        m = p.regex.match(text)
        if m:
            params = {k: _kind(v) if k in ("kind", "got") else v for k, v in m.groupdict().items()}
            return fill(p.chinese, params)
    return None


def _inner(value: str) -> str:
    """A parameter that is itself a message (a plugin's rule, a library's decode error) in
    Chinese when a catalogue has it."""
    if " " not in value:
        return value  # a code or a number
    found = translations().get(value)
    if found is not None:
        return found
    if CJK.search(_CITATION.sub("", value)):
        return value  # already Chinese (a seed citation aside)
    return library_chinese(value) or value


def _generic_english(
    code: str, field: str | None, rule: str | None, roles: list[str] | None = None
) -> str:
    if roles:
        return f"this needs one of the roles: {', '.join(roles)}"
    text = GENERIC_EN.get(code, "the request could not be processed")
    details = [x for x in (field, rule if rule and not CJK.search(rule) else None) if x]
    return f"{text} ({'; '.join(details)})" if details else text


def _chinese_param(name: str, value: object) -> str:
    """A parameter in a Chinese message: a nested error in Chinese, a time in the reader's
    zone, a field's code as its label, a message a catalogue has in Chinese, a registered
    code as its label; anything else as it is."""
    localised = getattr(value, "localised", None)
    if callable(localised):  # an ApiError carried inside another (its own template)
        return str(localised(ZH))
    if isinstance(value, dt.date):
        return moment(value)
    if name == FIELD and isinstance(value, str):
        return field_label(value) or value
    return _label(name, _inner(str(value)))


def render(
    template: str,
    params: dict[str, object],
    lang: str,
    code: str,
    field: str | None = None,
    rule: str | None = None,
    roles: list[str] | None = None,
) -> str:
    """An error's message in ``lang`` (``zh_CN`` or ``en``): see the module's docstring.
    ``roles``: the error's ``allowed_roles``, named in English for a Chinese-only 403."""
    chinese = translations().get(template)
    chinese_only = chinese is None and CJK.search(_CITATION.sub("", template)) is not None
    if lang != ZH:
        if chinese_only:
            return _generic_english(code, field, rule, roles)
        return fill(template, params)
    if chinese is not None:
        return fill(chinese, {k: _chinese_param(k, v) for k, v in params.items()})
    if chinese_only:
        return fill(template, params)
    text = fill(template, params)
    return library_chinese(text) or f"{LEAD_ZH.get(code, '请求无法处理')}：{text}"


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
