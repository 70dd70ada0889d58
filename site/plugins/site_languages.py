"""The site's languages and the theme's translation catalogs, shared by the build plugins."""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from form_service.languages import Language, load_languages

THEME = Path(__file__).resolve().parents[2] / "theme"


def languages() -> tuple[Language, ...]:
    """Return the site's languages in menu order, from theme/languages.json."""
    return load_languages(THEME)


def language(code: str) -> Language:
    """Return the language whose URL segment is `code` (Pelican lowercases it)."""
    for lang in languages():
        if lang.code == code.lower():
            return lang
    raise KeyError(f"unknown language {code!r}; add it to theme/languages.json")


@functools.cache
def translations(code: str) -> NullTranslations:
    """Compile the theme catalog for a language in memory (no .mo file needed to build)."""
    po_path = THEME / "translations" / language(code).locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(code: str, message: str) -> str:
    """Translate a theme string into the language with URL segment `code`."""
    return translations(code).gettext(message)
