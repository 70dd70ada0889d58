"""Every string of the form is translated into Japanese, Korean and Simplified Chinese.

A behaviour suite over the intake's catalogs, code and templates (no single module), so
it keeps a behaviour name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from form_service.settings import PROJECT_DIR
from tests.form_service.intake.helpers import post_tip

TRANSLATIONS = PROJECT_DIR / "form_service" / "translations"
LOCALES = {"ja": "ja", "ko": "ko", "zh_Hans": "zh-hans"}
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None}
METHOD_MAP = [
    ("form_service/intake/**.py", "python"),
    ("form_service/intake/templates/**.html", "jinja2"),
]
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def source_messages() -> set[str]:
    """Extract every translatable string from the intake's code and templates."""
    found = extract_from_dir(
        PROJECT_DIR, METHOD_MAP, keywords=KEYWORDS, options_map={"**.html": {}}
    )
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def catalog(locale: str) -> dict[str, Any]:
    """Read one language's catalog."""
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "intake.po"
    with Path(path).open("rb") as handle:
        return {message.id: message for message in read_po(handle) if message.id}


def test_the_sources_have_strings_to_translate() -> None:
    assert len(source_messages()) > 40


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_is_translated(locale: str) -> None:
    messages = catalog(locale)
    missing = sorted(
        text
        for text in source_messages()
        if text not in messages or not messages[text].string or messages[text].fuzzy
    )
    assert missing == [], f"untranslated in {locale}: {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_their_placeholders(locale: str) -> None:
    for text, message in catalog(locale).items():
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(message.string))


@pytest.mark.parametrize(("locale", "code"), LOCALES.items())
def test_no_english_is_left_on_the_translated_pages(client: Any, locale: str, code: str) -> None:
    english = [text for text in source_messages() if len(text) > 12 and "%" not in text]
    pages = [
        client.get(f"/form/{code}/").get_data(as_text=True),
        post_tip(client, code, message="", topic="x").get_data(as_text=True),
        post_tip(client, code).get_data(as_text=True),
    ]
    for html in pages:
        leftovers = [text for text in english if text in html]
        assert leftovers == [], f"English on the {code} page: {leftovers}"
