"""Removing a complainant's identity from free text.

Domain §7: the complainant's identity is confidential (对投诉举报者严格保密
[002 《供电局客户投诉举报管理办法》第二条]); the staff member complained about must not see
who complained, and circulated bulletins carry no identity [002 第二十二条].

What is removed (each occurrence becomes ``***``):

- **Phone numbers by pattern**, whoever's they are: mainland mobiles (``13900001111``,
  ``+86 139-0000-1111``, ``139 0000 1111``), landlines with an area code
  (``0755-12345678``, ``(010) 8765 4321``, with an extension), identity-card numbers and
  e-mail addresses. Full-width digits count (text is compared after NFKC normalisation).
  Short service numbers (12345, 95598) are left alone: they are nobody's identity.
  **Chinese numerals** count as digits wherever digits are matched (a number read aloud and
  written down: ``一三九八七六五四三二一``, ``幺三九…``, ``壹叁玖…``, ``〇七五五…``), with the
  same separators as Arabic digits — see :data:`CHINESE_DIGITS`.
- **The complainant's own contact** in any spelling: its digits with any separators
  between them, and a landline's local part without the area code.
- **The complainant's name by normalised matching**: whitespace, punctuation and
  full-width/half-width differences are ignored and Latin letters compared case-free, so
  ``张 某某``, ``张·某某`` and ``ＺＨＡＮＧ san`` match ``张某某`` / ``Zhang San``.
  For a Chinese name the usual partial forms are removed too: surname + a placeholder or
  form of address (``张某``, ``张某某``, ``张先生``, ``张女士``, ``张师傅``, ``老张`` …) and
  the given name alone when it has two or more characters (``三丰`` for ``张三丰``). A
  surname on its own is not removed (it would blank every 张 in the text).
- **The complainant's address** by the same normalised matching (the whole address).

Over-removal is the accepted failure: a staff member who shares the complainant's surname
and is called ``张师傅`` in a finding is masked too.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

# The patterns' one home is core.logs (log lines use them too); here they run on folded
# text (NFKC, Chinese numerals as digits), so full-width forms and 一三九… are caught.
from core.logs import EMAIL, NUMBERS

MASK = "***"

CHINESE_DIGITS: dict[int, int] = str.maketrans(
    "〇零一二三四五六七八九壹贰貳叁參肆伍陆陸柒捌玖两兩幺",
    "00123456789122334566789221",
)
"""Chinese numerals read as the digit they stand for when a number is matched (one
character for one, so positions in the text are kept): the ordinary 〇零一…九, the
financial 壹贰叁… (simplified and traditional), and 两 / 幺 as a number is read aloud
(幺 for 1, 两 for 2). Applied by :func:`_fold`, hence to the text *and* to the identity it
is compared with; a name or address is matched by its forms taken before this mapping
(:func:`_name_forms`) and then mapped, so ``王二`` still has its ``王先生`` form."""

# Surname + placeholder / form of address, and 老/小 + surname (domain §7's "who complained"
# is as plain in 张先生 as in 张三).
_AFTER_SURNAME = (
    "某某", "某", "先生", "女士", "小姐", "老师", "师傅", "阿姨", "大爷", "大妈", "大姐",
    "大哥", "老伯", "同学", "xx", "x",
)  # fmt: skip
_BEFORE_SURNAME = ("老", "小")
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 独孤 南宫 "
    "西门 轩辕 呼延 万俟 闻人 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 钟离 赫连".split()
)


_WORD_RUN = re.compile(r"[^\W_]+")
"""Runs of letters and digits; everything between them (spacing, punctuation, symbols such
as the middle dot of 少数民族 and foreign names) is ignored when names, addresses and the
contact's digits are compared."""


def _fold(raw: str) -> tuple[str, list[int] | None]:
    """``raw`` folded for comparison (NFKC: full-width → half-width; case-free), and for each
    folded character its index in ``raw`` (``None`` when they line up one to one, which is
    the common case and saves the per-character walk)."""
    folded = unicodedata.normalize("NFKC", raw).casefold().translate(CHINESE_DIGITS)
    if len(folded) == len(raw):
        return folded, None
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(raw):
        for f in unicodedata.normalize("NFKC", ch).casefold().translate(CHINESE_DIGITS):
            chars.append(f)
            origin.append(i)
    return "".join(chars), origin


def _compact(value: str) -> str:
    return "".join(_WORD_RUN.findall(_fold(value)[0]))


def _compact_map(folded: str) -> tuple[str, list[int]]:
    """``folded`` without what lies between letter/digit runs, and each kept character's
    index in ``folded``."""
    parts: list[str] = []
    origin: list[int] = []
    for m in _WORD_RUN.finditer(folded):
        parts.append(m.group())
        origin.extend(range(m.start(), m.end()))
    return "".join(parts), origin


def _han(value: str) -> bool:
    return bool(value) and all("\u3400" <= c <= "\u9fff" for c in value)


def _name_forms(name: str) -> list[str]:
    """The folded forms a Chinese name may take in free text (full name first)."""
    # The forms are built from the name as written (``王二`` is a Chinese name; its folded
    # ``王2`` is not), then folded like the text they are looked for in.
    compact = "".join(_WORD_RUN.findall(unicodedata.normalize("NFKC", name).casefold()))
    if not compact:
        return []
    forms = [compact]
    if _han(compact) and 2 <= len(compact) <= 6:
        surname_len = 2 if compact[:2] in _COMPOUND_SURNAMES and len(compact) > 2 else 1
        surname, given = compact[:surname_len], compact[surname_len:]
        forms += [surname + _compact(s) for s in _AFTER_SURNAME]
        forms += [p + surname for p in _BEFORE_SURNAME]
        if len(given) >= 2 and given not in ("某某",):
            forms.append(given)
    forms = [f.translate(CHINESE_DIGITS) for f in forms]
    return sorted(set(forms), key=len, reverse=True)


def _contact_forms(contact: str) -> tuple[list[str], list[str]]:
    """(digit strings, folded non-digit forms) that identify the contact."""
    digits = re.sub(r"\D", "", _fold(contact)[0])
    numbers: list[str] = []
    if len(digits) >= 5:
        numbers.append(digits)
        if digits.startswith("86") and len(digits) == 13:
            numbers.append(digits[2:])
        if digits.startswith("0") and len(digits) >= 10:  # a landline: its local part too
            numbers.append(digits[-8:] if len(digits) >= 11 else digits[-7:])
    texts = [] if numbers and len(digits) * 2 >= len(contact.strip()) else [_compact(contact)]
    return numbers, [t for t in texts if len(t) >= 2]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _replace(raw: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return raw
    parts, at = [], 0
    for start, end in _merge(spans):
        parts.append(raw[at:start])
        parts.append(MASK)
        at = end
    parts.append(raw[at:])
    return "".join(parts)


def _pattern_spans(folded: str, origin: list[int] | None) -> list[tuple[int, int]]:
    """Spans of :data:`PATTERN` (the e-mail part only where there is an ``@``: cheap)."""
    spans = _spans(NUMBERS, folded, origin)
    if "@" in folded:
        spans += _spans(EMAIL, folded, origin)
    return spans


def _spans(
    pattern: re.Pattern[str], folded: str, origin: list[int] | None
) -> list[tuple[int, int]]:
    if origin is None:
        return [m.span() for m in pattern.finditer(folded)]
    return [
        (origin[m.start()], origin[m.end() - 1] + 1)
        for m in pattern.finditer(folded)
        if m.end() > m.start()
    ]


def scrub_patterns(text: str) -> str:
    """Remove phone numbers, identity-card numbers and e-mail addresses, whoever's."""
    if not text:
        return text or ""
    folded, origin = _fold(text)
    return _replace(text, _pattern_spans(folded, origin))


@functools.lru_cache(maxsize=16384)
def _identity_words(
    name: str, contact: str, address: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(literals, short numbers) the identity is matched by in compacted folded text.
    Numbers of seven digits or more match inside longer digit runs too, since compaction
    joins digit groups a writer separated; shorter ones only as whole digit runs."""
    words = _name_forms(name)
    if contact:
        nums, texts = _contact_forms(contact)
        words += texts
        words += [n for n in nums if len(n) >= 7]
        short = [n for n in nums if len(n) < 7]
    else:
        short = []
    if address and len(_compact(address)) >= 2:
        words.append(_compact(address))
    literal = tuple(w for w in sorted(set(words), key=len, reverse=True) if w)
    return literal, tuple(n for n in short if n)


@functools.lru_cache(maxsize=4096)
def _identity_pattern(name: str, contact: str, address: str) -> re.Pattern[str] | None:
    """One pattern of the identity's literals (:func:`_identity_words`), compiled only for a
    text that holds one of them (a compile costs ~100 µs; most texts hold none)."""
    words, short = _identity_words(name, contact, address)
    alternatives = [re.escape(w) for w in words]
    alternatives += [r"(?<!\d)" + re.escape(n) + r"(?!\d)" for n in short]
    return re.compile("|".join(alternatives)) if alternatives else None


def scrubber(*identity: str) -> Callable[[str], str]:
    """A function removing the complainant's identity from free text.

    ``identity`` is (name, contact, address) — any may be empty. The function takes text
    (``None`` reads as ``""``) and returns it with every match of :data:`PATTERN` and every
    normalised occurrence of the identity replaced by :data:`MASK`.
    """
    name, contact, address = ([*identity, "", "", ""])[:3]
    key = (name or "", contact or "", address or "")
    words, short = _identity_words(*key)
    needles = words + short

    def scrub(text: str | None) -> str:
        if not text:
            return ""
        folded, origin = _fold(text)
        spans = _pattern_spans(folded, origin)
        # Most texts hold no identity: look for its literals in the compacted text first (C
        # speed, no pattern), then match the pattern and build the per-character map back
        # to the original only when something matched.
        compacted = "".join(_WORD_RUN.findall(folded)) if needles else ""
        ident = _identity_pattern(*key) if any(n in compacted for n in needles) else None
        if ident is not None and ident.search(compacted):
            compact, kept = _compact_map(folded)
            for m in ident.finditer(compact):
                start, end = kept[m.start()], kept[m.end() - 1] + 1
                if origin is not None:
                    start, end = origin[start], origin[end - 1] + 1
                spans.append((start, end))
        return _replace(text, spans)

    return scrub
