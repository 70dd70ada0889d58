"""Read what the form shares with the site's theme: its languages and its stylesheet."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Language:
    """One language of the site: URL segment, HTML tag, Babel locale and own name."""

    code: str
    html_lang: str
    locale: str
    name: str


@cache
def load_languages(theme_dir: Path) -> tuple[Language, ...]:
    """Load theme/languages.json in its order; the first one is the default."""
    entries = json.loads((theme_dir / "languages.json").read_text(encoding="utf-8"))
    languages = tuple(
        Language(
            code=entry["code"],
            html_lang=entry["html_lang"],
            locale=entry["locale"],
            name=entry["name"],
        )
        for entry in entries
    )
    if not languages:
        raise ValueError(f"{theme_dir / 'languages.json'} lists no language")
    return languages


def find_language(languages: tuple[Language, ...], code: str) -> Language | None:
    """Return the language with this URL segment, or None."""
    return next((language for language in languages if language.code == code), None)


def fingerprint(path: Path) -> str:
    """Return the version of a file for its URL (`?v=`): 12 hex digits of its SHA-256.

    nginx caches any `?v=` URL for a year, so a changed file must change its URL.
    """
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def stylesheet_url(theme_dir: Path, theme_url: str = "/theme") -> str:
    """Return the stylesheet's fingerprinted URL, the one the static site links too.

    The site build (site/plugins/site_i18n.py) calls this, so a reader going from a page to
    the form fetches the stylesheet once and caches it for a year.
    """
    return f"{theme_url}/css/site.css?v={fingerprint(theme_dir / 'static' / 'css' / 'site.css')}"
