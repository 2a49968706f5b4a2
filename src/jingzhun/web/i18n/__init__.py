"""Page language: Simplified Chinese by default (the message ids are the Chinese text), English from
``en/LC_MESSAGES/messages.po``, compiled in memory with Babel on first use (no .mo file needed).

>>> gettext_for("en")("首页"), gettext_for("zh")("首页")
('Home', '首页')
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

HERE = Path(__file__).parent
LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "lang"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The translations of ``lang`` (NullTranslations for Chinese, the source language)."""
    po = HERE / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def gettext_for(lang: str) -> Callable[[str], str]:
    return translations(lang if lang in LANGUAGES else DEFAULT).gettext


def pick(query: str | None, cookie: str | None) -> str:
    """The language of a request: ``?lang=`` first, then the cookie, else Chinese.

    >>> pick("en", None), pick(None, "en"), pick("fr", None), pick(None, None)
    ('en', 'en', 'zh', 'zh')
    """
    for value in (query, cookie):
        if value in LANGUAGES:
            return value
    return DEFAULT
