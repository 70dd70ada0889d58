"""Pelican plugin: per-page translation of theme strings, language alternates and URL rules.

Pelican builds all four languages in one run (its own translation support links pages
that share a slug). This plugin supplies what the theme needs on top of that:
`_()` that follows each page's language, `alternates_for(page)` for the language
switcher and hreflang links, and the fixed URLs of the home and "not found" pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from pelican import signals
from pelican.contents import Page
from site_languages import gettext, language, languages, translations

from form_service.languages import stylesheet_url


@pass_context
def context_gettext(context: Context, message: str, **variables: Any) -> str:
    """Translate a theme string into the language of the page being rendered."""
    text = gettext(context.get("lang_code") or "en", message)
    return text % variables if variables else text


@pass_context
def context_ngettext(context: Context, singular: str, plural: str, n: int, **variables: Any) -> str:
    """Translate a plural theme string (the site has none yet; kept for Jinja's i18n API)."""
    code = context.get("lang_code") or "en"

    text = translations(code).ngettext(singular, plural, n)
    return text % ({"num": n} | variables)


def set_page_urls(page: Any) -> None:
    """Give the home and "not found" pages their fixed addresses in each language."""
    if not isinstance(page, Page):
        return
    code = language(page.lang).code
    if page.slug == "home":
        page.override_url = f"{code}/"
        page.override_save_as = f"{code}/index.html"
    elif page.slug == "not-found":
        page.override_url = f"{code}/404.html"
        page.override_save_as = f"{code}/404.html"


def make_alternates(origin: str) -> Any:
    """Return the theme functions listing a page's versions and its x-default target.

    x-default is where a reader whose language the site lacks should land: for the home
    pages that is the language chooser at the site root (so the root and the four home pages
    name the same target), for every other page its English version.
    """

    def alternates_for(page: Page) -> list[dict[str, Any]]:
        by_lang = {language(p.lang).code: p for p in [page, *page.translations]}
        return [
            {
                "code": lang.code,
                "html_lang": lang.html_lang,
                "name": lang.name,
                "url": f"{origin}/{by_lang[lang.code].url}" if lang.code in by_lang else None,
                "href": f"/{by_lang[lang.code].url}" if lang.code in by_lang else None,
            }
            for lang in languages()
        ]

    def home_alternates() -> list[dict[str, Any]]:
        return [
            {
                "code": lang.code,
                "html_lang": lang.html_lang,
                "name": lang.name,
                "url": f"{origin}/{lang.code}/",
                "href": f"/{lang.code}/",
                "current": False,
            }
            for lang in languages()
        ]

    def x_default_for(page: Page | None) -> str:
        if page is None or page.slug == "home":
            return f"{origin}/"
        return str(alternates_for(page)[0]["url"])

    return alternates_for, home_alternates, x_default_for


def configure_jinja(generator: Any) -> None:
    """Install the page-aware gettext and the theme helpers in each generator's Jinja env."""
    settings = generator.settings
    env = generator.env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(context_gettext, context_ngettext, newstyle=True)
    alternates_for, home_alternates, x_default_for = make_alternates(settings["SITE_ORIGIN"])
    theme_url = settings["SITEURL"] + "/" + settings["THEME_STATIC_DIR"]
    env.globals.update(
        alternates_for=alternates_for,
        home_alternates=home_alternates,
        x_default_for=x_default_for,
        html_lang=lambda code: language(code).html_lang,
        translate=gettext,
        theme_url=theme_url,
        # The form and the desk link the same fingerprinted URL: one cached file for all.
        stylesheet_url=stylesheet_url(Path(settings["THEME"]), theme_url),
        site_root=settings["SITEURL"],
    )


def register() -> None:
    """Connect the plugin to Pelican's signals."""
    signals.content_object_init.connect(set_page_urls)
    signals.generator_init.connect(configure_jinja)
