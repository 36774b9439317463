"""The console's languages: zh-CN (default) and English, from gettext catalogues.

Message ids are English; ``locale/<lang>/LC_MESSAGES/console.po`` holds the translations
and is compiled with Babel when the app starts (no compiled ``.mo`` in the repository to
drift from its source). A reader picks English with ``?lang=en`` (remembered in a cookie).
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("zh_CN", "en")
DEFAULT = "zh_CN"
COOKIE = "tousu_lang"


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "console.po"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """Compiled translations for ``locale`` (English message ids fall through as they are)."""
    path = catalogue_path(locale)
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def pick(query_lang: str | None, cookie_lang: str | None) -> str:
    for lang in (query_lang, cookie_lang):
        if lang in LOCALES:
            return lang
        if lang in ("zh", "zh-CN", "zh_cn"):
            return "zh_CN"
    return DEFAULT
