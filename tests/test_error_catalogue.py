"""Every error message is a template with a Chinese catalogue entry.

Babel extracts the templates exactly as ``pybabel extract`` would (the error classes and
``N_`` as keywords) from core/ and plugins/; each needs a msgstr in
``core/locale/zh_CN/LC_MESSAGES/errors.po`` (or its plugin's catalogue). A template is
English (a seed citation in brackets may quote the Chinese) and a string literal: an
f-string would be a different msgid on every raise, so its values go in ``params``.
One test per source file, so an area's owner can run theirs (``-k flow``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract

from core.error_text import translations

ROOT = Path(__file__).resolve().parent.parent
ERRORS = {
    "ApiError", "Invalid", "NotFound", "Forbidden", "Conflict", "Unauthorized",
    "StorageUnavailable", "TooLarge", "NotCleanable", "RenderBusy", "NoCJKFont",
    "LoginRequired", "Throttled", "Phrase",
}  # fmt: skip
KEYWORDS = {name: None for name in ERRORS} | {"N_": None}
CJK_OUTSIDE_CITATION = re.compile(r"[\u3400-\u9fff]")
FILES = sorted(
    p for area in ("core", "plugins") for p in (ROOT / area).rglob("*.py") if ".venv" not in p.parts
)


def _strip_citations(text: str) -> str:
    return re.sub(r"\[[^\]]*\]|《[^》]*》|“[^”]*”", "", text)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_error_template_has_a_chinese_entry(path: Path) -> None:
    source = path.read_bytes()
    if not any(name.encode() in source for name in KEYWORDS):
        return
    known = translations()
    missing, english_only = [], []
    with path.open("rb") as fh:
        for lineno, message, _comments, _context in extract(
            "python", fh, keywords=KEYWORDS, comment_tags=()
        ):
            text = message if isinstance(message, str) else message[0]
            if not text:
                continue
            if CJK_OUTSIDE_CITATION.search(_strip_citations(text)):
                english_only.append(f"{lineno}: {text!r} (a template is English)")
            elif text not in known:
                missing.append(f"{lineno}: {text!r}")
    assert not english_only, "templates that are not English:\n" + "\n".join(english_only)
    assert not missing, "templates without a Chinese entry in errors.po:\n" + "\n".join(missing)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_error_is_raised_with_a_formatted_message(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    if not any(name in source for name in ERRORS):
        return
    bad = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
        if name not in ERRORS:
            continue
        first = node.args[0]
        if isinstance(first, ast.JoinedStr | ast.BinOp) or (
            isinstance(first, ast.Call) and getattr(first.func, "attr", None) == "format"
        ):
            bad.append(f"{node.lineno}: {ast.unparse(first)[:80]}")
    assert not bad, "messages built at the raise (use a template and params=):\n" + "\n".join(bad)
