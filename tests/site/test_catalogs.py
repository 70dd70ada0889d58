"""The theme's strings are translated into every language, and the catalog template is current."""

from __future__ import annotations

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.site.conftest import LANGUAGES, ROOT

THEME_TRANSLATIONS = ROOT / "theme" / "translations"
LOCALES = [lang["locale"] for lang in LANGUAGES if lang["code"] != "en"]


def extracted_messages() -> set[str]:
    """Extract the theme strings from the templates and plugins, as `make extract` does."""
    keywords = {"_": None, "N_": None}
    sources = [
        (ROOT / "theme" / "templates", [("**.html", "jinja2")]),
        (ROOT / "site" / "plugins", [("**.py", "python")]),
    ]
    found = set()
    for folder, method_map in sources:
        for _, _, message, _, _ in extract_from_dir(folder, method_map, keywords=keywords):
            found.add(message)
    return found


def test_the_catalog_template_matches_the_templates() -> None:
    with (THEME_TRANSLATIONS / "messages.pot").open("rb") as handle:
        committed = {message.id for message in read_po(handle) if message.id}
    assert extracted_messages() == committed, "run `make extract` and translate"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_theme_string_is_translated(locale: str) -> None:
    with (THEME_TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    missing = []
    for message_id in sorted(extracted_messages()):
        message = catalog.get(message_id)
        if message is None or not message.string or message.fuzzy:
            missing.append(message_id)
        elif message.string == message_id:
            missing.append(f"{message_id} (left in English)")
    assert missing == []
