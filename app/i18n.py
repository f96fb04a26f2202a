"""gettext catalogs for Vietnamese (default) and English, chosen per request.

The active language lives in a context variable set by the request middleware, so services,
error handlers and templates all translate into the caller's language without passing it.
"""

import gettext as _gettext
import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT_LANGUAGE = "vi"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@lru_cache
def translations(lang: str) -> _gettext.NullTranslations:
    """English is the source language; other catalogs are read from their .po file.

    Reading the .po (compiled in memory) means there is no .mo to forget to rebuild.
    """
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def gettext(message: str) -> str:
    return translations(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


_ = gettext


def format_number(value: float | None, digits: int = 2, *, empty: str = "—") -> str:
    """A score or points as people read them: ``digits`` decimals, Vietnamese separators in
    Vietnamese (85,50; 1.234,00), English ones otherwise; ``empty`` for none."""
    if value is None:
        return empty
    text = f"{value + 0.0:,.{digits}f}"
    if current_language.get() == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    """Query parameter, then the saved choice, then Accept-Language, then Vietnamese."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    if accept:
        first = accept.split(",")[0].split(";")[0].strip().lower()
        if first[:2] in LANGUAGES:
            return first[:2]
    return DEFAULT_LANGUAGE
