"""What both apps share around their views: state, the theme's frame, logging and catalogs.

The intake and the desk are two Flask apps that render inside the site's one `base.html`.
This module sets up each of them the same way: the app's state object, a Jinja loader that
finds the app's templates before the theme's (with Pelican's whitespace rules), the
variables `base.html` expects (in one shape for both), a log without timestamps, and the
check that the translation catalogs are compiled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from form_service import logs
from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.db import check_engine, make_engine, make_session_factory
from form_service.languages import Language, load_languages, stylesheet_url
from form_service.settings import Settings

PACKAGE_DIR = Path(__file__).resolve().parent
# One catalog tree for the service: intake.po (all four languages) and desk.po (Japanese).
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
THEME_URL = "/theme"
STATE_KEY = "form_service"


@dataclass(frozen=True, kw_only=True)
class AppState:
    """What one app holds for its whole life; each app extends it with its own parts."""

    settings: Settings
    languages: tuple[Language, ...]
    engine: Engine
    session_factory: sessionmaker[Session]
    stylesheet_url: str
    clock: Clock = field(default=SYSTEM_CLOCK)


State = TypeVar("State", bound=AppState)


def open_database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """Create the engine, check its SQLite pragmas (no connection stays open) and a factory."""
    engine = make_engine(settings)
    check_engine(engine)
    return engine, make_session_factory(engine, settings)


def install_state(app: Flask, state: AppState) -> None:
    """Keep the app's state where current_state() finds it."""
    app.extensions[STATE_KEY] = state


def current_state(kind: type[State]) -> State:
    """Return the current app's state, checked to be of the expected kind."""
    state = current_app.extensions[STATE_KEY]
    if not isinstance(state, kind):
        raise TypeError(f"this app holds a {type(state).__name__}, not a {kind.__name__}")
    return state


def configure_jinja(app: Flask, templates_dir: Path, theme_dir: Path) -> None:
    """Find the app's templates first, then the theme's, with Pelican's whitespace rules."""
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(templates_dir), FileSystemLoader(theme_dir / "templates")]
    )


def configure_babel(app: Flask, settings: Settings, domain: str, default_locale: str) -> None:
    """Point Flask-Babel at the app's catalog domain and at the theme's catalog."""
    app.config.update(
        BABEL_DEFAULT_LOCALE=default_locale,
        BABEL_TRANSLATION_DIRECTORIES=f"{TRANSLATIONS_DIR};{settings.theme_dir / 'translations'}",
        BABEL_DOMAIN=f"{domain};messages",
    )


def check_catalogs(settings: Settings, domain: str, locales: Sequence[str]) -> None:
    """Refuse to start without compiled catalogs: the pages would fall back to English."""
    missing = [
        str(path)
        for locale in locales
        for path in (
            TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{domain}.mo",
            settings.theme_dir / "translations" / locale / "LC_MESSAGES" / "messages.mo",
        )
        if not path.exists()
    ]
    if missing:
        raise RuntimeError(
            "compile the catalogs first (python -m tools.catalogs compile): " + ", ".join(missing)
        )


def configure_logging(settings: Settings) -> None:
    """Log the service's own messages to stderr; no request data is ever logged."""
    logger = logging.getLogger("form_service")
    logger.setLevel(settings.log_level)
    if not logger.handlers:
        # No timestamp and no form path: a log line next to a tip must not date it (logs.py).
        logger.addHandler(logs.plain_handler())


def theme_stylesheet(settings: Settings) -> str:
    """Return the fingerprinted stylesheet URL the static site links too."""
    return stylesheet_url(settings.theme_dir, THEME_URL)


def site_languages(settings: Settings) -> tuple[Language, ...]:
    """Return the site's languages from the theme, the first being the default."""
    return load_languages(settings.theme_dir)


@dataclass(frozen=True)
class Alternate:
    """This page in one language, for the language switcher and hreflang links."""

    language: Language
    url: str | None
    href: str | None = None
    current: bool = False


@dataclass(frozen=True)
class Crumb:
    """One step of the breadcrumb trail; the current page has no URL."""

    title: str
    url: str | None = None


def frame_context(
    *,
    language: Language,
    alternates: Sequence[Alternate],
    stylesheet: str,
    title: str | None = None,
    description: str | None = None,
    canonical_url: str | None = None,
    robots: str | None = None,
    x_default_url: str | None = None,
    breadcrumbs: Sequence[Crumb] = (),
    section: str | None = None,
) -> dict[str, Any]:
    """Build the variables theme/templates/base.html documents, the same for both apps."""
    context: dict[str, Any] = {
        "page_lang": language.html_lang,
        "lang_code": language.code,
        "page_description": description,
        "canonical_url": canonical_url,
        "robots": robots,
        "alternates": [
            {
                "code": item.language.code,
                "html_lang": item.language.html_lang,
                "name": item.language.name,
                "url": item.url,
                "href": item.href,
                "current": item.current,
            }
            for item in alternates
        ],
        "x_default_url": x_default_url,
        "breadcrumbs": [{"title": crumb.title, "url": crumb.url} for crumb in breadcrumbs],
        "current_section": section,
        "theme_url": THEME_URL,
        "stylesheet_url": stylesheet,
        "site_root": "",
    }
    if title is not None:
        context["page_title"] = title
    return context
