"""Give the theme's base.html what it needs, so the form looks like the rest of the site."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, g, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from form_service.frame import Alternate, Crumb, frame_context
from form_service.intake.state import intake_state
from form_service.languages import Language

SECTION = "request-for-information"


def current_language() -> Language:
    """Return the language of this request (English when the URL named none we know)."""
    language: Language | None = g.get("language")
    return language or intake_state().languages[0]


def form_url(language: Language, *, absolute: bool) -> str:
    """Return the form's URL in a language, absolute (for hreflang) or root-relative."""
    path = url_for("intake.new_tip", lang=language.code)
    return intake_state().settings.site_url.rstrip("/") + path if absolute else path


def page_context(title: str, *, indexable: bool) -> dict[str, Any]:
    """Build the variables base.html expects for an intake page."""
    language = current_language()
    languages = intake_state().languages
    return frame_context(
        language=language,
        title=title,
        description=_(
            "Send information about the abductions safely: encrypted on arrival, "
            "no IP address kept, works without JavaScript."
        ),
        canonical_url=form_url(language, absolute=True) if indexable else None,
        robots=None if indexable else "noindex",
        alternates=[
            Alternate(
                other,
                url=form_url(other, absolute=True),
                href=form_url(other, absolute=False),
                current=other == language,
            )
            for other in languages
        ],
        x_default_url=form_url(languages[0], absolute=True),
        breadcrumbs=[
            Crumb(_("Request for Information"), f"/{language.code}/{SECTION}/"),
            Crumb(title),
        ],
        section=SECTION,
        stylesheet=intake_state().stylesheet_url,
    )


def render_page(
    template: str, title: str, *, status: int = 200, indexable: bool = False, **context: Any
) -> Response:
    """Render an intake page inside the site's frame, never cached anywhere."""
    html = render_template(template, **page_context(title, indexable=indexable), **context)
    return Response(html, status=status, mimetype="text/html")


def render_cached(
    name: str,
    template: str,
    title: Callable[[], str],
    slots: dict[str, str],
    context: Callable[[], dict[str, Any]],
) -> Response:
    """Render a page once per language with placeholder slots, then fill the slots.

    Only for pages that hold no request data (the blank form, the confirmation): the
    slot values (a fresh CSRF token, the receipt code) are digits or URL-safe base64.
    Title and context are built only when the page is not cached yet.
    """
    cache = intake_state().page_cache
    key = (name, current_language().code)
    html = cache.get(key)
    if html is None:
        frame = page_context(title(), indexable=name == "form")
        html = cache[key] = render_template(template, **frame, **context())
    for slot, value in slots.items():
        html = html.replace(slot, value)
    return Response(html, mimetype="text/html")


def format_day(day: object) -> str:
    """Write a day in the page's language (the only date a tipster is ever shown)."""
    return str(format_date(day, "long"))
